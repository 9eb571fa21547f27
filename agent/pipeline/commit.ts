/**
 * Commit: one durable journal transaction per decided plan, holding the decision, the record's transition,
 * the queue entry of a run and every reply the decision promises. The transport acknowledges the plan only
 * after this resolves (SPEC 2, ack rule). Commits of several plans issued in one event-loop turn share one
 * fsync (`journal/commits.ts`); each still resolves only once durable.
 *
 * A decision rests on the record as read before the policy was asked; if an execution changed it meanwhile
 * (its revision moved), nothing is written and the caller decides again.
 */
import { failpoint } from "../failpoint.ts";
import type { JournalWriter } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import type { Decision, ReplyTarget } from "../mod.ts";
import type { Plan } from "../murano/plan.ts";
import type { AgentEventName, PipelineContext, PlanRequest } from "./context.ts";
import type { Decided } from "./decide.ts";
import { errorBody, type ResultDecision, replyTo, resultPayload } from "./reply.ts";

/**
 * Called with a commit as soon as it is issued (before it is durable): intake lets the next message be decided
 * while this commit is in flight (`pending.ts`).
 */
export type OnIssued = (committed: Promise<void>) => void;

/**
 * Commits `decision` for `request`; false (nothing written) when the record is no longer `read`. `onIssued` is
 * told of the commit once it is issued.
 */
export async function commitDecision(
  request: PlanRequest,
  decision: Decided,
  read: machine.JournalRecord | undefined,
  ctx: PipelineContext,
  onIssued?: OnIssued,
): Promise<boolean> {
  const { journal } = ctx;
  const facts = {
    ...ctx.facts(),
    generation: request.generation,
    key: request.key,
    fingerprint: request.fingerprint,
    policy: request.policyName,
  };
  let conflict = false;
  let queuedSeq = 0;
  failpoint("before-commit");
  const committed = journal.commit((tx) => {
    const current = journal.record(request.key);
    if (current?.revision !== read?.revision) {
      conflict = true;
      return;
    }
    // Never lowers the mark, whatever was decided meanwhile (only `idem fence` does that, with the agent stopped).
    if (request.adopt && request.generation > ctx.journal.highWater()) tx.setHighWater(request.generation);
    remember(tx, ctx, request, decision);
    const seq =
      decision.kind === "run"
        ? tx.enqueue({
            key: request.key,
            planId: request.planId,
            planText: request.text,
            reply: request.target,
            fingerprint: request.fingerprint,
            policy: request.policyName,
            generation: request.planGeneration,
            timeoutSeconds: request.timeoutSeconds,
          })
        : 0;
    if (seq > 0) {
      // Kept before the commit resolves: the runner may start the entry as soon as it does.
      ctx.decodedPlans.keep(seq, { plan: request.plan as Plan, exact: request.exact }, request.text.length);
      queuedSeq = seq;
    }
    const next = nextRecord(current, decision, request, seq);
    if (next) tx.putRecord(next);
    if (decision.kind === "replay") {
      const stored = (decision.result ?? current?.result) as NonNullable<machine.JournalRecord["result"]>;
      const payload = resultPayload({
        sourceId: request.planId,
        errorCode: stored.errorCode,
        body: stored.body,
        maxBytes: ctx.config.maxResultBytes,
        facts: { ...facts, decision: "replay", attempt: stored.attempt, ranAs: stored.ranAs, replayed: true },
      });
      tx.addOutbox(replyTo(request.target, payload));
    }
    if (decision.kind === "reject") {
      const payload = resultPayload({
        sourceId: request.planId,
        errorCode: decision.code,
        body: errorBody(decision.message),
        maxBytes: ctx.config.maxResultBytes,
        facts: {
          ...facts,
          decision: "reject",
          attempt: current?.attempts ?? 0,
          ranAs: null,
          replayed: false,
        },
      });
      tx.addOutbox(replyTo(request.target, payload));
    }
  });
  onIssued?.(committed);
  try {
    await committed;
  } catch (error) {
    ctx.decodedPlans.drop(queuedSeq);
    throw error;
  }
  if (conflict) {
    ctx.log.debug("redecide", { plan: request.planId, key: request.key });
    return false;
  }
  // What the commit made due goes first (a reply published, a plan started); the event and its log line after.
  ctx.afterCommit();
  ctx.emit({
    Event: decision.kind,
    Key: request.key,
    SourceID: request.planId,
    Generation: request.planGeneration,
    Policy: request.policyName,
    Fingerprint: request.fingerprint,
    ...(decision.kind === "reject" ? { ErrorCode: decision.code, Message: decision.message } : {}),
  });
  return true;
}

/**
 * The record after `decision` for `request` (pure): run → accepted with queue entry `seq`, join → one more
 * waiter, replay and reject → a history line. Undefined: no record (a key never seen, refused).
 */
export function nextRecord(
  current: machine.JournalRecord | undefined,
  decision: Decision,
  request: Pick<
    PlanRequest,
    "key" | "planId" | "fingerprint" | "policyName" | "planGeneration" | "target" | "received"
  >,
  seq: number,
): machine.JournalRecord | undefined {
  const at = {
    time: request.received.toISOString(),
    planId: request.planId,
    fingerprint: request.fingerprint,
  };
  switch (decision.kind) {
    case "run":
      return machine.accept(current, {
        ...at,
        key: request.key,
        policy: request.policyName,
        generation: request.planGeneration,
        seq,
      });
    case "join":
      return machine.join(current as machine.JournalRecord, { ...at, target: request.target });
    case "replay":
      // A result kept with the plan ID (SPEC 5.2a) may be replayed where the record has none.
      return current?.result ? machine.replay(current, at) : undefined;
    case "reject":
      return machine.reject(current, { ...at, code: decision.code });
  }
}

/** What an answer without a decision of a policy needs: a refusal before the key is known. */
export interface Refusal {
  planId: string;
  target: ReplyTarget;
  decision: ResultDecision;
  event: AgentEventName;
  code: number;
  message: string;
  planGeneration: number | null;
  /** Known when the refusal came after fingerprinting. */
  fingerprint?: string;
  deliveryHash?: string;
  /**
   * Note the plan ID as seen (SPEC 5.2a). Default true; false for an unauthenticated plan (SPEC 9a): a forged
   * plan must not claim a real plan's ID.
   */
  remember?: boolean;
}

/**
 * Answers a plan refused before any policy (invalid, stale, future, undeliverable, a bug): one commit, told to
 * `onIssued` once issued.
 */
export async function commitRefusal(
  refusal: Refusal,
  ctx: PipelineContext,
  onIssued?: OnIssued,
): Promise<void> {
  const payload = resultPayload({
    sourceId: refusal.planId,
    errorCode: refusal.code,
    body: errorBody(refusal.message),
    maxBytes: ctx.config.maxResultBytes,
    facts: {
      ...ctx.facts(),
      key: null,
      fingerprint: refusal.fingerprint ?? null,
      policy: null,
      decision: refusal.decision,
      attempt: 0,
      ranAs: null,
      replayed: false,
    },
  });
  failpoint("before-commit");
  const committed = ctx.journal.commit((tx) => {
    tx.addOutbox(replyTo(refusal.target, payload));
    if (refusal.remember !== false && refusal.planId.isWellFormed() && !ctx.journal.seen(refusal.planId)) {
      tx.markSeen(refusal.planId, { key: null, decision: refusal.decision, time: new Date().toISOString() });
    }
    if (refusal.deliveryHash) tx.clearDeliveries(refusal.deliveryHash);
  });
  onIssued?.(committed);
  await committed;
  ctx.afterCommit();
  ctx.emit({
    Event: refusal.event,
    Key: null,
    SourceID: refusal.planId,
    Generation: refusal.planGeneration,
    ErrorCode: refusal.code,
    Message: refusal.message,
  });
}

/**
 * Notes the plan ID's decision and content (SPEC 5.2a). The first content sent under an ID is the one kept:
 * a later send with other content is refused against it, not recorded over it.
 */
function remember(tx: JournalWriter, ctx: PipelineContext, request: PlanRequest, decision: Decided): void {
  if (request.deliveryHash) tx.clearDeliveries(request.deliveryHash);
  if (ctx.journal.seen(request.planId)?.fingerprint) return;
  const ranAs =
    decision.kind === "replay"
      ? (decision.result ?? ctx.journal.record(request.key)?.result)?.ranAs
      : undefined;
  tx.markSeen(request.planId, {
    key: request.key,
    decision: decision.kind,
    time: request.received.toISOString(),
    fingerprint: request.fingerprint,
    ...(ranAs === undefined ? {} : { ranAs }),
  });
}
