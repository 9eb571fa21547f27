/**
 * What crosses between the agent and its Body worker (a child process, see worker.ts): one message per frame,
 * agent → worker on the worker's stdin, worker → agent on its stdout. A frame is the message's length (4 bytes,
 * big-endian) and the message in V8's serialization format (`node:v8` serialize, the structured clone of
 * worker threads): the plan's Parameters cross as the exact tree of the plan's one parse (agent/json/parse.ts
 * JsonValue: integers as bigint, floats as numbers with -0.0 and NaN, objects as Maps in the text's key order),
 * so the worker never parses the plan again.
 *
 *   agent  {t: "evaluate", source, parameters, scripts}    worker compiles and runs the Body
 *   worker {t: "call", name, commandline, input}           a script call: the worker blocks until the answer
 *   agent  {t: "return", outcome} | {t: "raise", error}    the script's outcome, or why it failed
 *   worker {t: "done", json} | {t: "fail", error}          the Body's return value as json.dumps text, or why not
 *
 * Errors cross as data and come back as the same types (SPEC 5.4 decides by type): an IdemError keeps its code,
 * message, info and Python exception name; an EnvironmentError stays one (the runner retries a plan whose
 * environment failed before any script started); anything else is an {@link InternalError}.
 */
import { deserialize, serialize } from "node:v8";
import { EnvironmentError, IdemError, type Resource } from "../../errors.ts";
import type { JsonValue } from "../../json/parse.ts";
import type { ScriptOutcome } from "../eval/script.ts";
import { InternalError } from "../runtime/internal_error.ts";

export { BODY_WORKER_ARG } from "./worker_arg.ts";

/** An error as data. `python` is the Python exception's name when the IdemError stands for one. */
export type WireError =
  | { kind: "idem"; code: number; message: string; info: unknown; python: string | null }
  | { kind: "environment"; resource: Resource; message: string }
  | { kind: "internal"; message: string; detail: string };

export interface EvaluateRequest {
  t: "evaluate";
  /** The Body's source (already checked by the agent: a refused Body never reaches a worker). */
  source: string;
  /**
   * The plan's Parameters as its one parse read them (null when absent): the Body's `args`. Nested at most
   * `maxPlanDepth` (≤ 1000) deep, which V8's serializer takes (it recurses: ~10 000 levels overflow its stack).
   */
  parameters: JsonValue;
  /** The plan's script names: each is a callable in the Body. */
  scripts: string[];
}

export type ToWorker =
  | EvaluateRequest
  | { t: "return"; outcome: ScriptOutcome }
  | { t: "raise"; error: WireError };

export type FromWorker =
  | { t: "call"; name: string; commandline: string; input: string | null }
  | { t: "done"; json: string }
  | { t: "fail"; error: WireError };

/** The data form of any thrown value; never throws. */
export function encodeError(error: unknown): WireError {
  if (error instanceof IdemError) {
    const python = typeof error.cause === "string" ? error.cause : null;
    return { kind: "idem", code: error.code, message: error.message, info: error.info, python };
  }
  if (error instanceof EnvironmentError) {
    return { kind: "environment", resource: error.resource, message: error.message };
  }
  if (error instanceof InternalError)
    return { kind: "internal", message: error.message, detail: error.detail };
  return { kind: "internal", message: InternalError.MESSAGE, detail: InternalError.describe(error) };
}

/** The error a {@link WireError} stands for, of the type it was made from. */
export function decodeError(wire: WireError): Error {
  switch (wire.kind) {
    case "idem":
      return new IdemError(wire.code, wire.message, {
        info: wire.info,
        ...(wire.python === null ? {} : { cause: wire.python }),
      });
    case "environment":
      return new EnvironmentError(wire.resource, wire.message);
    case "internal":
      return new InternalError(wire.detail, wire.message);
  }
}

/** The bytes of a frame's length prefix. */
export const FRAME_HEADER = 4;

/** A message as one frame. */
export function encodeFrame(message: ToWorker | FromWorker): Buffer {
  const body = serialize(message);
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

/** The message of a frame's body (without its length prefix). */
export function decodeFrame<T extends ToWorker | FromWorker>(body: Uint8Array): T {
  return deserialize(body) as T;
}

/** Splits a byte stream into messages: push each chunk as it arrives, get the messages it completes. */
export class FrameReader<T extends ToWorker | FromWorker> {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): T[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const messages: T[] = [];
    while (this.buffered.length >= FRAME_HEADER) {
      const end = FRAME_HEADER + this.buffered.readUInt32BE(0);
      if (this.buffered.length < end) break;
      messages.push(decodeFrame<T>(this.buffered.subarray(FRAME_HEADER, end)));
      this.buffered = this.buffered.subarray(end);
    }
    return messages;
  }
}
