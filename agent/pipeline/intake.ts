/**
 * Intake: one incoming message through decode → validate → fence → fingerprint → decide → one durable
 * journal commit. The promise resolves once the decision and every reply it promises are on disk; only then
 * does the transport acknowledge the message (SPEC 2, ack rule).
 */
import { IdemError } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { JournalWriter } from "../journal/journal.ts";
import type { Decision, HistoryEntry, JournalRecord, ReplyTarget } from "../mod.ts";
import { compileBody } from "../murano/body.ts";
import { validatePlan } from "../murano/validate.ts";
import type { AgentEventName, PipelineContext } from "./context.ts";
import { callPolicy, selectPolicy } from "./decide.ts";
import { decode } from "./decode.ts";
import { fence } from "./fence.ts";
import { fingerprint } from "./fingerprint.ts";
import { errorBody, type ResultDecision, replyTo, resultPayload } from "./reply.ts";

export interface IncomingPlan {
  payload: Uint8Array;
  responseTopic?: string;
  correlationData?: Uint8Array;
}

const HISTORY_LIMIT = 50;
/** A topic a reply can be published to: no wildcards, no NUL, 1–1024 characters. */
const isReplyTopic = (topic: string) =>
  topic.length > 0 && topic.length <= 1024 && !/[#+]/.test(topic) && !topic.includes("\0");

function replyTarget(
  plan: Record<string, unknown>,
  planId: string,
  message: IncomingPlan,
  fallback: string,
): ReplyTarget {
  const topic =
    typeof plan.ReplyTo === "string" && isReplyTopic(plan.ReplyTo)
      ? plan.ReplyTo
      : (message.responseTopic ?? fallback);
  const target: ReplyTarget = { topic, sourceId: planId };
  if (message.correlationData)
    target.correlationData = Buffer.from(message.correlationData).toString("base64");
  return target;
}

export function pushHistory(record: JournalRecord, entry: HistoryEntry): void {
  record.history.push(entry);
  if (record.history.length > HISTORY_LIMIT) record.history.splice(0, record.history.length - HISTORY_LIMIT);
}

export async function intake(message: IncomingPlan, ctx: PipelineContext): Promise<void> {
  const { config, journal, log } = ctx;
  const decoded = decode(message.payload, { maxPlanBytes: config.maxPlanBytes });
  if (decoded.kind === "unanswerable") {
    ctx.emit({ Event: "invalid", Key: null, SourceID: null, Generation: null, Message: decoded.message });
    return;
  }
  const { plan, planId } = decoded;
  const target = replyTarget(plan, planId, message, ctx.defaultReplyTopic);
  const seen = journal.seen(planId);
  if (seen) {
    log.info("redelivered", { plan: planId, key: seen.key, decision: seen.decision });
    return;
  }
  const now = new Date();
  const generation = ctx.generation();
  const planGeneration = typeof plan.Generation === "number" ? plan.Generation : undefined;
  const answer = async (decision: ResultDecision, event: AgentEventName, code: number, text: string) => {
    const key = null;
    const payload = resultPayload({
      sourceId: planId,
      errorCode: code,
      body: errorBody(text),
      facts: {
        ...ctx.facts(),
        key,
        fingerprint: null,
        policy: null,
        decision,
        attempt: 0,
        ranAs: null,
        replayed: false,
      },
    });
    failpoint("before-commit");
    await journal.commit((tx) => {
      tx.addOutbox(replyTo(target, payload));
      tx.markSeen(planId, { key, decision, time: now.toISOString() });
    });
    ctx.emit({
      Event: event,
      Key: key,
      SourceID: planId,
      Generation: planGeneration ?? null,
      ErrorCode: code,
      Message: text,
    });
    ctx.afterCommit();
  };

  if (decoded.kind === "refused") return answer("invalid", "invalid", decoded.code, decoded.message);
  try {
    validatePlan(plan);
    compileBody(typeof plan.Body === "string" ? plan.Body : "");
  } catch (error) {
    if (!(error instanceof IdemError)) throw error;
    return answer("invalid", "invalid", error.code, error.message);
  }

  const verdict = fence(planId, planGeneration, {
    generation,
    strict: config.generation !== undefined,
    requireGeneration: config.requireGeneration,
  });
  if (verdict.kind !== "pass" && verdict.kind !== "adopt") {
    const future = verdict.kind === "future";
    return answer(future ? "reject" : "stale", future ? "future" : "stale", verdict.code, verdict.message);
  }

  const idempotency = (plan.Idempotency ?? {}) as {
    Policy?: string;
    Key?: string;
    Options?: Record<string, unknown>;
  };
  const print = fingerprint(plan);
  const key = idempotency.Key ?? print;
  const selected = selectPolicy(ctx.policies, idempotency.Policy, config.defaultPolicy);
  const policyName =
    "policy" in selected ? selected.policy.name : (idempotency.Policy ?? config.defaultPolicy);
  // The decision rests on the record as read here; if an execution changed it before the commit (a run
  // ended while the policy was deciding), the commit writes nothing and the plan is decided again.
  for (;;) {
    const record = journal.record(key);
    const decision: Decision =
      "decision" in selected
        ? selected.decision
        : await callPolicy(
            selected.policy,
            {
              plan,
              planId,
              key,
              explicitKey: idempotency.Key !== undefined,
              fingerprint: print,
              // A copy: whatever a plugin does to it cannot reach the journal.
              record: record === undefined ? undefined : structuredClone(record),
              options: structuredClone(idempotency.Options ?? {}),
              agent: { id: config.agentId, generation: verdict.generation, bootId: journal.bootId },
              now,
              history: () => record?.history ?? [],
            },
            config.policyTimeoutMs,
          );

    const effective = settle(decision, record);
    const facts = {
      ...ctx.facts(),
      generation: verdict.generation,
      key,
      fingerprint: print,
      policy: policyName,
    };
    const historyEntry: HistoryEntry = {
      planId,
      fingerprint: print,
      decision: effective.kind,
      time: now.toISOString(),
    };
    const write = (tx: JournalWriter) => {
      if (verdict.kind === "adopt") tx.setHighWater(verdict.generation);
      tx.markSeen(planId, { key, decision: effective.kind, time: now.toISOString() });
      if (effective.kind === "run") {
        const next: JournalRecord = record
          ? { ...record, waiters: [...record.waiters], history: [...record.history] }
          : {
              key,
              fingerprint: print,
              policy: policyName,
              state: "accepted",
              attempts: 0,
              firstPlanId: planId,
              lastPlanId: planId,
              generation: planGeneration ?? null,
              bootId: null,
              pgid: null,
              createdAt: now.toISOString(),
              updatedAt: now.toISOString(),
              waiters: [],
              history: [],
            };
        Object.assign(next, {
          fingerprint: print,
          policy: policyName,
          lastPlanId: planId,
          updatedAt: now.toISOString(),
        });
        if (next.state !== "running") next.state = "accepted";
        pushHistory(next, historyEntry);
        tx.putRecord(next);
        const timeout = typeof plan.Timeout === "number" ? plan.Timeout : null;
        tx.enqueue({
          key,
          planId,
          planText: decoded.text,
          reply: target,
          fingerprint: print,
          policy: policyName,
          generation: planGeneration ?? null,
          timeoutSeconds: timeout,
        });
        return;
      }
      if (record) {
        const next: JournalRecord = { ...record, waiters: [...record.waiters], history: [...record.history] };
        if (effective.kind === "join") next.waiters.push(target);
        pushHistory(next, {
          ...historyEntry,
          ...(effective.kind === "reject" ? { errorCode: effective.code } : {}),
        });
        next.updatedAt = now.toISOString();
        tx.putRecord(next);
      }
      if (effective.kind === "replay" && record?.result) {
        const stored = record.result;
        const payload = resultPayload({
          sourceId: planId,
          errorCode: stored.errorCode,
          body: stored.body,
          facts: {
            ...facts,
            decision: "replay",
            attempt: stored.attempt,
            ranAs: stored.ranAs,
            replayed: true,
          },
        });
        tx.addOutbox(replyTo(target, payload));
      }
      if (effective.kind === "reject") {
        const payload = resultPayload({
          sourceId: planId,
          errorCode: effective.code,
          body: errorBody(effective.message),
          facts: {
            ...facts,
            decision: "reject",
            attempt: record?.attempts ?? 0,
            ranAs: null,
            replayed: false,
          },
        });
        tx.addOutbox(replyTo(target, payload));
      }
    };
    failpoint("before-commit");
    let conflict = false;
    await journal.commit((tx) => {
      if (!sameRecord(journal.record(key), record)) {
        conflict = true;
        return;
      }
      write(tx);
    });
    if (conflict) {
      log.debug("redecide", { plan: planId, key });
      continue;
    }
    ctx.emit({
      Event: effective.kind,
      Key: key,
      SourceID: planId,
      Generation: planGeneration ?? null,
      Policy: policyName,
      Fingerprint: print,
      ...(effective.kind === "reject" ? { ErrorCode: effective.code, Message: effective.message } : {}),
    });
    ctx.afterCommit();
    return;
  }
}

/** A decision the record cannot honour becomes a refusal (a plugin asked to replay nothing, or to join nothing). */
function settle(decision: Decision, record: JournalRecord | undefined): Decision {
  if (decision.kind === "replay" && !record?.result) {
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

/** True when the record did not change between the decision and its commit. */
function sameRecord(now: JournalRecord | undefined, then: JournalRecord | undefined): boolean {
  if (now === undefined || then === undefined) return now === then;
  return (
    now.state === then.state &&
    now.updatedAt === then.updatedAt &&
    now.attempts === then.attempts &&
    now.fingerprint === then.fingerprint &&
    now.waiters.length === then.waiters.length
  );
}
