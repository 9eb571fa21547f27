/**
 * Start-up recovery (SPEC 5.1): before any plan is taken, (1) kill what an earlier agent process left running
 * (a `kill -9` of the agent does not kill its scripts), (2) turn every execution that was `running` in an
 * earlier boot into `interrupted` and let its policy decide again whether it runs, and (3) leave `accepted`
 * plans queued: they were acknowledged, so the broker will not send them again.
 */
import { failpoint } from "./failpoint.ts";
import type { QueueEntry } from "./journal/journal.ts";
import type { Decision, JournalRecord } from "./mod.ts";
import type { PipelineContext } from "./pipeline/context.ts";
import { callPolicy } from "./pipeline/decide.ts";
import { pushHistory } from "./pipeline/intake.ts";
import { errorBody, replyTo, resultPayload } from "./pipeline/reply.ts";
import { reapOrphans } from "./reaper.ts";

/** A plan interrupted this many times is not run again by itself, whatever its policy: a crash loop ends. */
const MAX_INTERRUPTIONS = 3;

export async function recover(ctx: PipelineContext): Promise<void> {
  const { journal, log } = ctx;
  const reaped = await reapOrphans(journal.path);
  if (reaped > 0) log.warn("orphans-killed", { processes: reaped });

  const firstOfKey = new Map<string, QueueEntry>();
  for (const entry of journal.queued()) if (!firstOfKey.has(entry.key)) firstOfKey.set(entry.key, entry);

  for (const entry of firstOfKey.values()) {
    const record = journal.record(entry.key);
    if (!record) continue;
    const wasRunning = record.state === "running" && record.bootId !== journal.bootId;
    if (!wasRunning && record.state !== "interrupted") continue;
    await interrupted(ctx, entry, record);
  }
}

async function interrupted(ctx: PipelineContext, entry: QueueEntry, record: JournalRecord): Promise<void> {
  const { journal } = ctx;
  const time = new Date().toISOString();
  const next: JournalRecord = {
    ...record,
    state: "interrupted",
    pgid: null,
    updatedAt: time,
    history: [...record.history],
  };
  // A drain that ran out of time already recorded (and announced) the interruption.
  if (record.state === "running") {
    pushHistory(next, {
      planId: entry.planId,
      fingerprint: entry.fingerprint,
      decision: "interrupted",
      time,
    });
    ctx.emit({ Event: "interrupted", Key: entry.key, SourceID: entry.planId, Generation: entry.generation });
  }

  const plan = JSON.parse(entry.planText) as Record<string, unknown>;
  const options = ((plan.Idempotency as { Options?: Record<string, unknown> } | undefined)?.Options ??
    {}) as Record<string, unknown>;
  const policy = ctx.policies.get(entry.policy);
  const interruptions = next.history.filter(
    (h) => h.planId === entry.planId && h.decision === "interrupted",
  ).length;
  const decision: Decision =
    interruptions >= MAX_INTERRUPTIONS
      ? {
          kind: "reject",
          code: 304,
          message: `Cannot run plan "${entry.planId}" again as it was interrupted ${interruptions} times (does it crash the agent or the VM?): check the VM, then forget key ${entry.key} to allow a new run`,
        }
      : policy
        ? await callPolicy(
            policy,
            {
              plan,
              planId: entry.planId,
              key: entry.key,
              explicitKey: entry.key !== entry.fingerprint,
              fingerprint: entry.fingerprint,
              record: next,
              options,
              agent: { id: ctx.config.agentId, generation: ctx.generation(), bootId: journal.bootId },
              now: new Date(),
              history: () => next.history,
            },
            ctx.config.policyTimeoutMs,
          )
        : {
            kind: "reject",
            code: 305,
            message: `Cannot decide an interrupted plan: policy "${entry.policy}" is not loaded`,
          };

  if (decision.kind === "run" || decision.kind === "join") {
    await journal.commit((tx) => tx.putRecord({ ...next, state: "accepted" }));
    ctx.emit({
      Event: "run",
      Key: entry.key,
      SourceID: entry.planId,
      Generation: entry.generation,
      Policy: entry.policy,
      Fingerprint: entry.fingerprint,
      Reason: "interrupted",
    });
    return;
  }
  const facts = {
    ...ctx.facts(),
    key: entry.key,
    fingerprint: entry.fingerprint,
    policy: entry.policy,
    attempt: record.attempts,
  };
  const stored = decision.kind === "replay" ? record.result : undefined;
  const reply = (sourceId: string, decisionName: "reject" | "replay" | "join") =>
    stored
      ? resultPayload({
          sourceId,
          errorCode: stored.errorCode,
          body: stored.body,
          facts: { ...facts, decision: decisionName, ranAs: stored.ranAs, replayed: true },
        })
      : resultPayload({
          sourceId,
          errorCode: decision.kind === "reject" ? decision.code : 304,
          body: errorBody(
            decision.kind === "reject" ? decision.message : "Cannot replay: the key has no stored result",
          ),
          facts: { ...facts, decision: "reject", ranAs: null, replayed: false },
        });
  await journal.commit((tx) => {
    tx.putRecord({ ...next, waiters: [] });
    tx.dequeue(entry.seq);
    tx.addOutbox(replyTo(entry.reply, reply(entry.planId, stored ? "replay" : "reject")));
    for (const waiter of record.waiters)
      tx.addOutbox(replyTo(waiter, reply(waiter.sourceId, stored ? "replay" : "join")));
  });
  failpoint("after-result-commit");
  ctx.emit({
    Event: decision.kind === "replay" ? "replay" : "reject",
    Key: entry.key,
    SourceID: entry.planId,
    Generation: entry.generation,
    ...(decision.kind === "reject" ? { ErrorCode: decision.code, Message: decision.message } : {}),
  });
}
