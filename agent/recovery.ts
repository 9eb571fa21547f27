/**
 * Start-up recovery (SPEC 5.1): before any plan is taken, (1) kill what an earlier agent process left running
 * (a `kill -9` of the agent does not kill its scripts) and remove the work directories it left (in the
 * background: nothing uses them any more), (2) turn every execution that was `running` in an
 * earlier boot into `interrupted` and let its policy decide again whether it runs, and (3) leave `accepted`
 * plans queued: they were acknowledged, so the broker will not send them again. An execution an operator
 * cancelled, or one awaiting the reboot it asked for, is not interrupted: the runner finishes or resumes it.
 */
import { join } from "node:path";
import { ErrorCode } from "./errors.ts";
import { failpoint } from "./failpoint.ts";
import type { QueueEntry } from "./journal/journal.ts";
import * as machine from "./journal/record.ts";
import type { Decision } from "./mod.ts";
import { removeLeftoverWorkDirs } from "./murano/workdir_removal.ts";
import type { PipelineContext, PlanRequest } from "./pipeline/context.ts";
import { callPolicy, policyContext, settle } from "./pipeline/decide.ts";
import { decodeQueued } from "./pipeline/decode.ts";
import { errorBody, replyTo, resultPayload } from "./pipeline/reply.ts";
import { reapOrphans } from "./reaper.ts";

/** A plan interrupted this many times is not run again by itself, whatever its policy: a crash loop ends. */
const MAX_INTERRUPTIONS = 3;

export async function recover(ctx: PipelineContext): Promise<void> {
  const { journal, log } = ctx;
  const reaped = await reapOrphans(journal.path);
  if (reaped > 0) log.warn("orphans-killed", { processes: reaped });
  void removeLeftoverWorkDirs(join(ctx.config.dataDir, "work")).then(({ removed, failed }) => {
    if (removed > 0) log.info("work-dirs-removed", { count: removed });
    if (failed.length > 0)
      log.warn("work-dirs-not-removed", { count: failed.length, paths: failed.join(" ") });
  });

  // Each key's oldest queued plan is the one that may have been running: the heads of the in-memory queue by
  // key (taken before any of them is decided again), the only entries read — not the records (there may be a
  // million of those), nor the rest of the queue.
  const oldest = [...journal.queueHeads()].map((seq) => journal.queueEntry(seq));
  for (const entry of oldest) {
    if (entry === undefined) continue;
    const record = journal.record(entry.key);
    if (!record || record.queued[0] !== entry.seq) continue;
    // Neither interrupted: an operator cancelled it (it ends 102), or it awaits the reboot it asked for (it
    // resumes). The runner takes it first (`pipeline/steer.ts`).
    if (record.cancelled === entry.seq || (record.reboot?.pending && record.reboot.seq === entry.seq))
      continue;
    const wasRunning = record.state === "running" && record.bootId !== journal.bootId;
    if (!wasRunning && record.state !== "interrupted") continue;
    await interrupted(ctx, entry, record);
  }
}

async function interrupted(
  ctx: PipelineContext,
  entry: QueueEntry,
  record: machine.JournalRecord,
): Promise<void> {
  const { journal } = ctx;
  const time = new Date().toISOString();
  const at = { time, planId: entry.planId, fingerprint: entry.fingerprint };
  // A drain that ran out of time already recorded (and announced) the interruption.
  const next = record.state === "running" ? machine.interrupt(record, at) : record;
  if (record.state === "running") {
    ctx.emit({ Event: "interrupted", Key: entry.key, SourceID: entry.planId, Generation: entry.generation });
  }
  const decision = await decideAgain(ctx, entry, next);

  if (decision.kind === "run" || decision.kind === "join") {
    await journal.commit((tx) => tx.putRecord(machine.reopen(next, { time })));
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
  const code = decision.kind === "reject" ? decision.code : ErrorCode.OutcomeUnknown;
  const reply = (sourceId: string, decisionName: "reject" | "replay" | "join") =>
    stored
      ? resultPayload({
          sourceId,
          errorCode: stored.errorCode,
          body: stored.body,
          maxBytes: ctx.config.maxResultBytes,
          facts: { ...facts, decision: decisionName, ranAs: stored.ranAs, replayed: true },
        })
      : resultPayload({
          sourceId,
          errorCode: code,
          body: errorBody(
            decision.kind === "reject" ? decision.message : "Cannot replay: the key has no stored result",
          ),
          maxBytes: ctx.config.maxResultBytes,
          facts: { ...facts, decision: "reject", ranAs: null, replayed: false },
        });
  await journal.commit((tx) => {
    const given = machine.abandon(next, { ...at, seq: entry.seq, code: stored ? stored.errorCode : code });
    tx.putRecord(given.record);
    tx.dequeue(entry.seq);
    tx.addOutbox(replyTo(entry.reply, reply(entry.planId, stored ? "replay" : "reject")));
    for (const waiter of given.waiters)
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

/** The interrupted plan's policy decides again, unless the plan has crashed the agent too often. */
async function decideAgain(
  ctx: PipelineContext,
  entry: QueueEntry,
  record: machine.JournalRecord,
): Promise<Decision> {
  const interruptions = machine.interruptions(record, entry.planId);
  if (interruptions >= MAX_INTERRUPTIONS) {
    return {
      kind: "reject",
      code: ErrorCode.OutcomeUnknown,
      message: `Cannot run plan "${entry.planId}" again as it was interrupted ${interruptions} times (does it crash the agent or the VM?): check the VM, then forget key ${entry.key} to allow a new run`,
    };
  }
  const policy = ctx.policies.get(entry.policy);
  if (!policy) {
    return {
      kind: "reject",
      code: ErrorCode.PolicyError,
      message: `Cannot decide an interrupted plan: policy "${entry.policy}" is not loaded`,
    };
  }
  const queued = decodeQueued(entry.planText);
  if (queued === undefined) {
    return {
      kind: "reject",
      code: ErrorCode.InvalidPlan,
      message: `Cannot decide plan "${entry.planId}" again as the journal no longer holds it as a plan idem takes`,
    };
  }
  const { plan, exact } = queued;
  const options = plan.Idempotency?.Options ?? {};
  const request: PlanRequest = {
    planId: entry.planId,
    plan,
    text: entry.planText,
    exact,
    target: entry.reply,
    key: entry.key,
    explicitKey: entry.key !== entry.fingerprint,
    fingerprint: entry.fingerprint,
    policyName: entry.policy,
    options,
    planGeneration: entry.generation,
    generation: ctx.generation(),
    adopt: false,
    timeoutSeconds: entry.timeoutSeconds,
    received: new Date(),
  };
  const decision = await callPolicy(policy, policyContext(request, record, ctx), ctx.config.policyTimeoutMs);
  // Join means "it is pending": for the plan that was interrupted that is the same as running it again.
  return decision.kind === "join" ? decision : settle(decision, record);
}
