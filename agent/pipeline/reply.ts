/**
 * Reply: Murano's result message plus idem's `Idem` object (SPEC section 7). The Body is carried as JSON
 * text from execution to the wire, so a Python dict's key order survives (a JS object would reorder "8080").
 */

import { randomUUID } from "node:crypto";
import { ErrorCode } from "../errors.ts";
import type { OutboxEntry } from "../journal/journal.ts";
import { parseJson } from "../json/parse.ts";
import { toPlain } from "../json/plain.ts";
import type { ReplyTarget } from "../mod.ts";

export type ResultDecision = "run" | "replay" | "join" | "reject" | "stale" | "invalid" | "unauthenticated";

export interface ResultFacts {
  agentId: string;
  generation: number;
  key: string | null;
  fingerprint: string | null;
  policy: string | null;
  decision: ResultDecision;
  attempt: number;
  ranAs: string | null;
  replayed: boolean;
}

/** The Body of an error result, as murano-agent shapes it. */
export function errorBody(message: string, additionalInfo: unknown = null): string {
  return JSON.stringify({ Message: message, AdditionalInfo: additionalInfo ?? null });
}

/**
 * The result message as JSON text. `body` is already JSON text. With `maxBytes` (the agent's `maxResultBytes`),
 * a message that would be larger keeps its SourceID, ErrorCode, Time and Idem facts and gets the Body of
 * {@link truncatedBody} instead (SPEC 2: results are capped before they are journaled).
 */
export function resultPayload(options: {
  sourceId: string;
  errorCode: number;
  body: string;
  time?: string;
  facts: ResultFacts;
  /** Cap of the whole message in bytes of UTF-8. Default: no cap. */
  maxBytes?: number;
}): string {
  const { facts } = options;
  const parts: ResultParts = {
    sourceId: options.sourceId,
    errorCode: options.errorCode,
    time: options.time ?? new Date().toISOString(),
    idem: {
      AgentID: facts.agentId,
      Generation: facts.generation,
      Key: facts.key,
      Fingerprint: facts.fingerprint,
      Policy: facts.policy,
      Decision: facts.decision,
      Attempt: facts.attempt,
      RanAs: facts.ranAs,
      Replayed: facts.replayed,
    },
  };
  const payload = assemble(parts, options.body);
  const { maxBytes } = options;
  if (maxBytes === undefined || Buffer.byteLength(payload) <= maxBytes) return payload;
  const bytes = Buffer.byteLength(options.body);
  const message = `The result was truncated: its Body of ${bytes} bytes makes the result message larger than maxResultBytes (${maxBytes})`;
  return assemble(parts, truncatedBody(bytes, message));
}

/** The Body that stands for one left out (SPEC 2): `{Message, AdditionalInfo: {Truncated: true, Bytes}}`. */
export function truncatedBody(bytes: number, message: string): string {
  return JSON.stringify({ Message: message, AdditionalInfo: { Truncated: true, Bytes: bytes } });
}

/**
 * The reply that replaces `payload` (a result message) when the broker will not take it (SPEC 2): a fresh ID,
 * the same SourceID, ErrorCode, Time and Idem facts, and the Body of {@link truncatedBody}, whose Bytes is the
 * size of the Body it replaces (of the original one, if that Body was a truncated one already). `undefined` when `payload` is not a result message (it has no SourceID).
 */
export function replacementPayload(payload: string, options: { reason: string }): string | undefined {
  // Python's json reads it: a Body may hold NaN or Infinity, as murano-agent's results do.
  const parsed = parseJson(payload);
  if (!parsed.ok) return undefined;
  const result = toPlain(parsed.value) as Record<string, unknown>;
  if (result === null || typeof result !== "object" || typeof result.SourceID !== "string") return undefined;
  const parts: ResultParts = {
    sourceId: result.SourceID,
    errorCode: typeof result.ErrorCode === "number" ? result.ErrorCode : ErrorCode.InvalidPlan,
    time: typeof result.Time === "string" ? result.Time : new Date().toISOString(),
    idem: result.Idem ?? null,
  };
  const bytes = bodyBytes(payload, result, parts);
  const message = `The result was truncated as the broker would not take it (${options.reason}): its Body had ${bytes} bytes`;
  return assemble(parts, truncatedBody(bytes, message));
}

/** What a result message says besides its ID and Body. */
interface ResultParts {
  sourceId: string;
  errorCode: number;
  time: string;
  idem: unknown;
}

function head(parts: ResultParts, id: string): string {
  const text = JSON.stringify({
    FormatVersion: "2.0.0",
    ID: id,
    SourceID: parts.sourceId,
    Action: "Execution:Result",
    ErrorCode: parts.errorCode,
  });
  return `${text.slice(0, -1)},"Body":`;
}

function tail(parts: ResultParts): string {
  return `,${JSON.stringify({ Time: parts.time, Idem: parts.idem }).slice(1)}`;
}

/** The message with a fresh ID; `body` is JSON text, kept as it is (a Python dict's key order survives). */
function assemble(parts: ResultParts, body: string): string {
  return `${head(parts, randomUUID().replaceAll("-", ""))}${body}${tail(parts)}`;
}

/**
 * The size in bytes of the Body text inside `payload`: exact for a message {@link assemble} wrote (what surrounds
 * the Body is written again from the parsed fields and cut off), else the size of the parsed Body written again.
 */
function bodyBytes(payload: string, result: Record<string, unknown>, parts: ResultParts): number {
  const info = (result.Body as { AdditionalInfo?: { Truncated?: unknown; Bytes?: unknown } } | null)
    ?.AdditionalInfo;
  if (info?.Truncated === true && typeof info.Bytes === "number") return info.Bytes; // truncated already: keep N
  if (typeof result.ID === "string") {
    const before = head(parts, result.ID);
    const after = tail(parts);
    if (
      payload.startsWith(before) &&
      payload.endsWith(after) &&
      payload.length >= before.length + after.length
    ) {
      return Buffer.byteLength(payload) - Buffer.byteLength(before) - Buffer.byteLength(after);
    }
  }
  return Buffer.byteLength(JSON.stringify(result.Body ?? null));
}

/** An execution's outcome as its answers carry it: the result's ErrorCode, Body (JSON text), time and Idem facts. */
export interface EntryOutcome {
  errorCode: number;
  body: string;
  /** ISO time of the result; default now. */
  time?: string;
  /** The key's attempts so far (`Idem.Attempt`). */
  attempt: number;
  /** The plan ID whose execution produced it (`Idem.RanAs`); null when nothing ran. */
  ranAs: string | null;
}

/**
 * The replies that answer queue entry `entry` with `outcome`: its own plan's (decision `run`), then one per
 * waiter (`join`, in their order), each capped at `maxResultBytes` (SPEC 2) and addressed as the plan asked. The
 * one way a finished, cancelled or abandoned execution is answered (finish.ts, cancel.ts).
 */
export function entryAnswers(
  context: { facts(): { agentId: string; generation: number }; config: { maxResultBytes: number } },
  entry: { planId: string; key: string; fingerprint: string; policy: string; reply: ReplyTarget },
  waiters: readonly ReplyTarget[],
  outcome: EntryOutcome,
): Omit<OutboxEntry, "seq">[] {
  const time = outcome.time ?? new Date().toISOString();
  const answer = (sourceId: string, decision: "run" | "join") =>
    resultPayload({
      sourceId,
      errorCode: outcome.errorCode,
      body: outcome.body,
      time,
      maxBytes: context.config.maxResultBytes,
      facts: {
        ...context.facts(),
        key: entry.key,
        fingerprint: entry.fingerprint,
        policy: entry.policy,
        decision,
        attempt: outcome.attempt,
        ranAs: outcome.ranAs,
        replayed: false,
      },
    });
  return [
    replyTo(entry.reply, answer(entry.planId, "run")),
    ...waiters.map((waiter) => replyTo(waiter, answer(waiter.sourceId, "join"))),
  ];
}

/** An outbox entry answering `target`. */
export function replyTo(target: ReplyTarget, payload: string): Omit<OutboxEntry, "seq"> {
  return target.correlationData === undefined
    ? { topic: target.topic, payload }
    : { topic: target.topic, payload, correlationData: target.correlationData };
}
