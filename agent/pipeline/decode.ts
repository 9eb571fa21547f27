/**
 * Decode: bytes off the wire → a plan object with a usable ID, or a verdict on why not.
 * A payload without a usable ID cannot be answered (there is nothing to correlate): it gets an event only.
 * The payload is parsed once (agent/json/parse.ts, Python's `json.loads` exactly); everything after reads that
 * parse: the plain view (validation, policies), the exact tree (fingerprint). A plan journaled at intake is read
 * again by {@link decodeQueued} when it runs or is decided again after a restart: one parse each time.
 */
import { ErrorCode } from "../errors.ts";
import { type JsonObject, type ParseOutcome, parseJson } from "../json/parse.ts";
import { type PlainObject, toPlainObject } from "../json/plain.ts";
import type { DecodedPlan } from "../murano/plan.ts";
import { isPlan } from "../murano/validate.ts";

/**
 * `plan` is the plain view (integers as JS numbers, null-prototype objects), not validated yet;
 * `exact` the tree as Python's `json.loads` reads it (integers as bigint, keys in order) for the fingerprint.
 */
export type Decoded =
  | {
      kind: "plan";
      plan: Readonly<PlainObject>;
      exact: JsonObject;
      planId: string;
      text: string;
      depth: number;
    }
  | {
      kind: "refused";
      plan: Readonly<PlainObject>;
      exact: JsonObject;
      planId: string;
      code: number;
      message: string;
    }
  | { kind: "unanswerable"; message: string };

export type DecodeOptions = {
  /** Payloads over this many bytes are refused (code 2). */
  maxPlanBytes: number;
  /** Plans nested deeper than this (containers around the deepest value) are refused (code 2). Default 200. */
  maxPlanDepth?: number;
  /** The payload's text and parse when an earlier stage read it already (authenticate.ts): not parsed again. */
  parsed?: PayloadParse;
};

/** A payload's UTF-8 text and its one parse. */
export interface PayloadParse {
  text: string;
  outcome: ParseOutcome;
}

/**
 * Reads one payload as murano-agent would (UTF-8, then Python's `json.loads`: SPEC 3) and gives its verdict:
 * `unanswerable` when it is not UTF-8, not JSON, not an object, or has no string ID of 1-255 characters;
 * `refused` (code 2, answerable with the ID) when it exceeds `maxPlanBytes` or `maxPlanDepth` or its ID is not
 * well-formed Unicode (a lone surrogate); else `plan`. Never throws: bad input is answered.
 */
export function decode(payload: Uint8Array, options: DecodeOptions): Decoded {
  let text: string;
  let parsed: ParseOutcome;
  if (options.parsed !== undefined) ({ text, outcome: parsed } = options.parsed);
  else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
    } catch {
      return {
        kind: "unanswerable",
        message: `Cannot decode a payload of ${payload.byteLength} bytes as UTF-8 text`,
      };
    }
    parsed = parseJson(text);
  }
  if (!parsed.ok) return { kind: "unanswerable", message: parsed.message };
  const { value, depth } = parsed;
  if (!(value instanceof Map)) {
    const shape = Array.isArray(value)
      ? "an array"
      : value === null
        ? "null"
        : typeof value === "bigint"
          ? "number"
          : typeof value;
    return { kind: "unanswerable", message: `Cannot take a plan that is ${shape}: a plan is a JSON object` };
  }
  const exact = value;
  const id = exact.get("ID");
  // Characters as Python counts them (code points): 255 emoji are 510 UTF-16 units and still one usable ID.
  if (typeof id !== "string" || id.length === 0 || id.length > 510 || [...id].length > 255) {
    return {
      kind: "unanswerable",
      message: "Cannot answer a plan without an ID: give it a string ID of 1-255 characters",
    };
  }
  const plan = toPlainObject(exact);
  const refuse = (message: string): Decoded => {
    return { kind: "refused", plan, exact, planId: id, code: ErrorCode.InvalidPlan, message };
  };
  if (payload.byteLength > options.maxPlanBytes) {
    return refuse(
      `Cannot take plan "${id}" as its ${payload.byteLength} bytes exceed maxPlanBytes (${options.maxPlanBytes})`,
    );
  }
  const maxDepth = options.maxPlanDepth ?? 200;
  if (depth > maxDepth) {
    return refuse(
      `Cannot take plan "${id}" as its nesting depth ${depth} exceeds maxPlanDepth (${maxDepth})`,
    );
  }
  if (/\p{Cs}/u.test(id)) {
    return refuse(
      `Cannot take plan ${JSON.stringify(id)} as its ID is not well-formed Unicode (a lone surrogate)`,
    );
  }
  return { kind: "plan", plan, exact, planId: id, text, depth };
}

/**
 * A plan the journal holds (its text was decoded and validated at intake), read again for its execution or a
 * new decision after a restart: one parse, its typed view and exact tree. Undefined when the text is no longer
 * a plan of the {@link Plan} shape (a damaged journal, or one written by a version with other rules).
 */
export function decodeQueued(text: string): DecodedPlan | undefined {
  const parsed = parseJson(text);
  if (!parsed.ok || !(parsed.value instanceof Map)) return undefined;
  const plan = toPlainObject(parsed.value);
  return isPlan(plan) ? { plan, exact: parsed.value } : undefined;
}
