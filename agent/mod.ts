/**
 * idem's public face: the only module a policy plugin (or a program embedding the agent) imports.
 *
 * A policy decides what happens to a plan whose key the journal may already know. It is a plain object
 * made with {@link definePolicy}; the built-in policies in `plugins/` are written against exactly this API.
 */
import type { Static, TSchema } from "typebox";

/** TypeBox, for option schemas: `import { definePolicy, Type } from "idem"`. */
export { default as Type } from "typebox";
export type { ErrorCodeValue } from "./errors.ts";
export { ErrorCode, IdemError } from "./errors.ts";
export { VERSION } from "./version.ts";

/** The life of a key's record: `accepted` → `running` → `succeeded` | `failed`; `interrupted` after a crash. */
export type RecordState = "accepted" | "running" | "succeeded" | "failed" | "interrupted";

/** Where a result goes: the topic, the plan ID it answers, and MQTT 5 correlation data (base64) if any. */
export interface ReplyTarget {
  topic: string;
  sourceId: string;
  correlationData?: string;
}

/** The stored outcome of the last execution of a key. `body` is the result Body as JSON text. */
export interface StoredResult {
  errorCode: number;
  body: string;
  time: string;
  /** ID of the plan that executed. */
  ranAs: string;
  attempt: number;
}

/** One line of a key's history: every plan that reached a decision for this key, newest last. */
export interface HistoryEntry {
  planId: string;
  fingerprint: string;
  decision: DecisionKind | "stale" | "future" | "finished" | "interrupted" | "cancelled" | "reboot";
  errorCode?: number;
  time: string;
}

/**
 * A key's record as a policy sees it (SPEC 5.1 and 9): what was decided and what came of it. The journal
 * keeps more (revision, queue index, process group, waiters); that is its own business.
 */
export interface PolicyRecord {
  key: string;
  fingerprint: string;
  policy: string;
  state: RecordState;
  /** How many times this key was executed (started). */
  attempts: number;
  firstPlanId: string;
  lastPlanId: string;
  generation: number | null;
  createdAt: string;
  updatedAt: string;
  result?: StoredResult;
  history: HistoryEntry[];
}

export type DecisionKind = "run" | "replay" | "join" | "reject";

/** What a policy decides for a plan. A value, never an exception. */
export type Decision =
  | { kind: "run" }
  | { kind: "replay" }
  | { kind: "join" }
  | { kind: "reject"; code: number; message: string };

/** What a policy sees. Everything is read-only. */
export interface PolicyContext<Options = Record<string, unknown>> {
  /** The plan as received (parsed JSON). */
  readonly plan: Readonly<Record<string, unknown>>;
  readonly planId: string;
  readonly key: string;
  /** True when the key came from `Idempotency.Key`, false when it is the fingerprint. */
  readonly explicitKey: boolean;
  readonly fingerprint: string;
  /** The key's record, or undefined when the key has never been seen (or was pruned / forgotten). */
  readonly record: Readonly<PolicyRecord> | undefined;
  /** `Idempotency.Options` of the plan, validated against the policy's schema when it has one. */
  readonly options: Options;
  readonly agent: { readonly id: string; readonly generation: number; readonly bootId: string };
  readonly now: Date;
  /** Every earlier decision for this key, oldest first (bounded). */
  history(): readonly HistoryEntry[];
}

export interface Policy<Options = Record<string, unknown>> {
  readonly name: string;
  readonly description?: string;
  /** TypeBox schema for `Idempotency.Options`; a plan whose options do not match is refused with code 305. */
  readonly options?: TSchema;
  /**
   * True when this policy runs a plan again whose record is `interrupted` (a crash or a stop cut its run short):
   * the agent may then journal the plan's start in the same commit as its decision (one fsync fewer per plan,
   * docs/reliability.md "What waits for an fsync"), since a crash right after that commit shows the plan
   * interrupted although it never ran, and this policy runs it. Default false: the start is a commit of its own
   * and a crash right after the PUBACK finds the plan still `accepted`.
   */
  readonly rerunsInterrupted?: boolean;
  decide(context: PolicyContext<Options>): Decision | Promise<Decision>;
}

export interface PolicyDefinition<S extends TSchema> {
  name: string;
  description?: string;
  options?: S;
  /** See {@link Policy.rerunsInterrupted}. */
  rerunsInterrupted?: boolean;
  decide(context: PolicyContext<Static<S>>): Decision | Promise<Decision>;
}

const POLICY_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Makes a policy. Plugins default-export the value: `export default definePolicy({ name, decide })`. */
export function definePolicy<S extends TSchema>(definition: PolicyDefinition<S>): Policy<Static<S>> {
  if (!POLICY_NAME.test(definition.name)) {
    throw new TypeError(
      `Cannot define policy "${definition.name}" as its name must match ${POLICY_NAME} (lower case, digits, . _ -)`,
    );
  }
  if (typeof definition.decide !== "function") {
    throw new TypeError(`Cannot define policy "${definition.name}" as it has no decide(context) function`);
  }
  return Object.freeze({ ...definition, [POLICY_BRAND]: true }) as Policy<Static<S>>;
}

/** Marks objects made by definePolicy, so the loader can tell a policy from a stray default export. */
export const POLICY_BRAND: unique symbol = Symbol.for("idem.policy");

/** Decision constructors, for terse policies. */
export const decide = {
  run: (): Decision => ({ kind: "run" }),
  replay: (): Decision => ({ kind: "replay" }),
  join: (): Decision => ({ kind: "join" }),
  reject: (code: number, message: string): Decision => ({ kind: "reject", code, message }),
} as const;
