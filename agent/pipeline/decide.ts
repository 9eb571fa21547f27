/**
 * Decide: what happens to a plan, given its key's record. In order:
 * 1. the same plan ID sent again (SPEC 5.2a): other content → 303; same content → join the pending execution
 *    or replay its stored result;
 * 2. otherwise the plan's policy (SPEC 5.2). Every policy call goes through {@link callPolicy}, which turns a
 *    sync or async answer, a throw, garbage or a timeout into a decision: a broken plugin refuses the plan with
 *    code 305 and never stops the agent;
 * 3. a decision the record cannot honour (replay nothing, join nothing) becomes a refusal (305).
 */
import { Value } from "typebox/value";
import { describe, ErrorCode } from "../errors.ts";
import type { Journal } from "../journal/journal.ts";
import { type JournalRecord, policyView } from "../journal/record_shape.ts";
import type { Decision, Policy, PolicyContext, StoredResult } from "../mod.ts";
import type { PipelineContext, PlanRequest } from "./context.ts";

const KINDS = new Set(["run", "replay", "join", "reject"]);

/** A decision, and for a replay of another result than the record's, that result. */
export type Decided = Decision & { result?: StoredResult };

export async function decide(
  request: PlanRequest,
  record: JournalRecord | undefined,
  ctx: PipelineContext,
): Promise<Decided> {
  const resent = sameIdAgain(request, record, ctx.journal);
  if (resent) return resent;
  const policy = ctx.policies.get(request.policyName);
  if (!policy) {
    return {
      kind: "reject",
      code: ErrorCode.PolicyError,
      message: `Cannot run the plan with unknown policy "${request.policyName}": available policies are ${ctx.policies.names().join(", ")}`,
    };
  }
  const decision = await callPolicy(policy, policyContext(request, record, ctx), ctx.config.policyTimeoutMs);
  return settle(decision, record);
}

/**
 * SPEC 5.2a: the engine re-sent a plan ID it already sent (it lost the result, or it retries). Same content:
 * it joins its execution while that is pending, else gets the result that answered it — kept with the ID, so
 * that it is found even when the key has run other content since.
 */
function sameIdAgain(
  request: PlanRequest,
  record: JournalRecord | undefined,
  journal: Pick<Journal, "seen">,
): Decided | undefined {
  const seen = journal.seen(request.planId);
  if (!seen?.fingerprint) return undefined;
  if (seen.fingerprint !== request.fingerprint) {
    return {
      kind: "reject",
      code: ErrorCode.IdempotencyConflict,
      message: `Cannot run plan "${request.planId}": plan ID reused with different content (fingerprint ${seen.fingerprint} before, ${request.fingerprint} now)`,
    };
  }
  const answered = seen.result ?? (seen.ranAs === undefined ? undefined : journal.seen(seen.ranAs)?.result);
  if (answered) return { kind: "replay", result: answered };
  const same = record !== undefined && seen.key === request.key && record.fingerprint === request.fingerprint;
  if (same && (record.state === "accepted" || record.state === "running")) return { kind: "join" };
  if (same && record.result) return { kind: "replay" };
  return undefined;
}

/** What a policy sees (SPEC 9): copies, so that whatever a plugin does to them cannot reach the journal. */
export function policyContext(
  request: PlanRequest,
  record: JournalRecord | undefined,
  ctx: PipelineContext,
): PolicyContext {
  const view = record === undefined ? undefined : policyView(record);
  let plan: Readonly<Record<string, unknown>> | undefined;
  return {
    // Ordinary objects (the pipeline's have no prototype), copied only if the policy looks at the plan.
    get plan() {
      plan ??= structuredClone(request.plan);
      return plan;
    },
    planId: request.planId,
    key: request.key,
    explicitKey: request.explicitKey,
    fingerprint: request.fingerprint,
    record: view,
    options: structuredClone({ ...request.options }),
    agent: { id: ctx.config.agentId, generation: request.generation, bootId: ctx.journal.bootId },
    now: request.received,
    history: () => view?.history ?? [],
  };
}

/** A decision the record cannot honour becomes a refusal (a plugin asked to replay nothing, or to join nothing). */
export function settle(decision: Decided, record: JournalRecord | undefined): Decided {
  if (decision.kind === "replay" && !decision.result && !record?.result) {
    return { kind: "reject", code: 305, message: "Cannot replay a result: the key has no stored result" };
  }
  if (decision.kind === "join" && record?.state !== "accepted" && record?.state !== "running") {
    return {
      kind: "reject",
      code: 305,
      message: "Cannot join an execution: none is pending or running for this key",
    };
  }
  return decision;
}

function isDecision(value: unknown): value is Decision {
  if (typeof value !== "object" || value === null) return false;
  const d = value as { kind?: unknown; code?: unknown; message?: unknown };
  if (typeof d.kind !== "string" || !KINDS.has(d.kind)) return false;
  if (d.kind !== "reject") return true;
  return Number.isInteger(d.code) && typeof d.message === "string";
}

function policyError(policy: Policy, what: string): Decision {
  return {
    kind: "reject",
    code: ErrorCode.PolicyError,
    message: `Cannot decide with policy "${policy.name}": ${what}`,
  };
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export async function callPolicy(
  policy: Policy,
  context: PolicyContext,
  timeoutMs: number,
): Promise<Decision> {
  if (policy.options && !Value.Check(policy.options, context.options)) {
    const errors = [...Value.Errors(policy.options, context.options)].map(
      (e) => `${e.instancePath || "/"} ${e.message}`,
    );
    return policyError(policy, `Idempotency.Options do not fit it (${errors.join("; ")})`);
  }
  try {
    let answer: unknown = policy.decide(context);
    // Only an asynchronous answer can be waited for too long (a synchronous one is already here): no timer
    // for the built-in policies, which answer at once (issue 11: a timer per plan).
    if (isThenable(answer)) answer = await withTimeout(answer, timeoutMs);
    if (answer === TIMED_OUT) return policyError(policy, `it did not answer within ${timeoutMs} ms`);
    // Read inside the try: an answer whose fields throw when read (a getter, a Proxy) is the policy's fault too.
    if (!isDecision(answer)) return policyError(policy, `it returned ${show(answer)}, not a decision`);
    if (answer.kind !== "reject") return { kind: answer.kind };
    return { kind: "reject", code: answer.code, message: answer.message };
  } catch (cause) {
    return policyError(policy, `it threw ${describe(cause)}`);
  }
}

const TIMED_OUT = Symbol("timed out");

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** `answer`, or {@link TIMED_OUT} when it takes longer than `timeoutMs`. */
async function withTimeout(answer: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
