/**
 * Reply: Murano's result message plus idem's `Idem` object (SPEC section 7). The Body is carried as JSON
 * text from execution to the wire, so a Python dict's key order survives (a JS object would reorder "8080").
 */
import { randomUUID } from "node:crypto";
import type { OutboxEntry } from "../journal/journal.ts";
import type { ReplyTarget } from "../mod.ts";

export type ResultDecision = "run" | "replay" | "join" | "reject" | "stale" | "invalid";

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

/** The result message as JSON text. `body` is already JSON text. */
export function resultPayload(options: {
  sourceId: string;
  errorCode: number;
  body: string;
  time?: string;
  facts: ResultFacts;
}): string {
  const { facts } = options;
  const head = JSON.stringify({
    FormatVersion: "2.0.0",
    ID: randomUUID().replaceAll("-", ""),
    SourceID: options.sourceId,
    Action: "Execution:Result",
    ErrorCode: options.errorCode,
  });
  const tail = JSON.stringify({
    Time: options.time ?? new Date().toISOString(),
    Idem: {
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
  });
  return `${head.slice(0, -1)},"Body":${options.body},${tail.slice(1)}`;
}

/** An outbox entry answering `target`. */
export function replyTo(target: ReplyTarget, payload: string): Omit<OutboxEntry, "seq"> {
  return target.correlationData === undefined
    ? { topic: target.topic, payload }
    : { topic: target.topic, payload, correlationData: target.correlationData };
}
