/**
 * Finish: an execution's end, in one commit — the key's record (`record.ts` `finish`), the queue entry removed,
 * each plan ID's stored answer (SPEC 5.2a), and the replies to the plan and to every plan that joined it in the
 * outbox. And the give-up when an execution failed unexpectedly (a bug, SPEC 5.4): the plan and its joiners are
 * answered with code 2 and the entry leaves the queue, so that nothing waits for it for ever.
 */
import { describe, ErrorCode, failureKind } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { QueueEntry } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import type { StoredResult } from "../mod.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import type { PipelineContext } from "./context.ts";
import { durably } from "./durably.ts";
import { entryAnswers, errorBody } from "./reply.ts";

/** When the execution ended: its attempt number, the time (ISO 8601), and how long it ran (s; none: not run). */
export interface FinishAt {
  attempt: number;
  time: string;
  seconds?: number;
}

/**
 * Commits `outcome` as queue entry `entry`'s result and answers its plan and waiters; resolves once durable, then
 * calls `ctx.afterCommit` (the result is published) and emits `finished`. `written` is called as soon as the
 * commit is issued (not yet durable): the runner's next start, issued then, shares its batch and fsync
 * (`run.ts`). `onRetry` is called each time the commit failed and is tried again (the work dir's removal then
 * frees its space: `execute.ts`).
 * @throws Error when the key has no record (a bug), after {@link durably}'s retries.
 */
export async function finishEntry(
  ctx: PipelineContext,
  entry: QueueEntry,
  outcome: ExecutionOutcome,
  options: FinishAt & { written: () => void; onRetry?: () => void },
): Promise<void> {
  const { journal } = ctx;
  let waiters = 0;
  const at = { step: "finish", entry, ...(options.onRetry ? { onRetry: options.onRetry } : {}) };
  const durable = durably(ctx, at, () =>
    journal.commit((tx) => {
      const current = journal.record(entry.key);
      if (!current)
        throw new Error(`Cannot record the result of plan "${entry.planId}": key ${entry.key} has no record`);
      const finished = machine.finish(current, {
        time: options.time,
        planId: entry.planId,
        fingerprint: entry.fingerprint,
        seq: entry.seq,
        result: {
          errorCode: outcome.errorCode,
          body: outcome.body,
          time: options.time,
          ranAs: entry.planId,
          attempt: options.attempt,
        },
      });
      tx.putRecord(finished.record);
      tx.dequeue(entry.seq);
      // Each plan ID keeps what answered it (SPEC 5.2a): the same ID sent again gets this result back.
      const seen = journal.seen(entry.planId);
      if (seen) tx.markSeen(entry.planId, { ...seen, result: finished.record.result as StoredResult });
      for (const waiter of finished.waiters) {
        const joined = journal.seen(waiter.sourceId);
        if (joined) tx.markSeen(waiter.sourceId, { ...joined, ranAs: entry.planId });
      }
      const answers = entryAnswers(ctx, entry, finished.waiters, {
        errorCode: outcome.errorCode,
        body: outcome.body,
        time: options.time,
        attempt: options.attempt,
        ranAs: entry.planId,
      });
      for (const answer of answers) tx.addOutbox(answer);
      waiters = finished.waiters.length;
    }),
  );
  // The result is written (not yet durable): the next plan's start, issued now, shares its batch and fsync.
  // Both become durable together or not at all; a crash before leaves this one `running` (interrupted, as a
  // crash before its result always did) and the next one `accepted`. Its key stays busy until then.
  options.written();
  await durable;
  failpoint("after-result-commit");
  // The result goes out first (`afterCommit` flushes the outbox); the event and its log line after it.
  ctx.afterCommit();
  ctx.emit({
    Event: "finished",
    Key: entry.key,
    SourceID: entry.planId,
    Generation: entry.generation,
    ErrorCode: outcome.errorCode,
    Attempt: options.attempt,
    Waiters: waiters,
    // How long the execution took (the `idem_run_seconds` metric); none when nothing was executed.
    ...(options.seconds === undefined ? {} : { Seconds: Math.round(options.seconds * 1000) / 1000 }),
  });
}

/**
 * An execution that failed unexpectedly with `error`: answers its plan and joiners with code 2 and dequeues it,
 * durably. Resolves true when done; false when even that could not be written (logged `run-stuck`): the entry
 * stays queued and the caller must not retry it in this process (the next start decides it again).
 */
export async function giveUp(ctx: PipelineContext, entry: QueueEntry, error: unknown): Promise<boolean> {
  const { journal, log } = ctx;
  log.error("run-failed", {
    plan: entry.planId,
    key: entry.key,
    kind: failureKind(error),
    message: describe(error),
  });
  const time = new Date().toISOString();
  const message = `Cannot run plan "${entry.planId}": the agent failed on it (${describe(error)})`;
  try {
    await durably(ctx, { step: "give-up", entry }, () =>
      journal.commit((tx) => {
        failpoint("give-up");
        const record = journal.record(entry.key);
        let waiters: machine.JournalRecord["waiters"] = [];
        if (record) {
          const at = { time, planId: entry.planId, fingerprint: entry.fingerprint, seq: entry.seq };
          const interrupted = record.state === "running" ? machine.interrupt(record, at) : record;
          const given = machine.abandon(interrupted, { ...at, code: ErrorCode.InvalidPlan });
          tx.putRecord(given.record);
          waiters = given.waiters;
        }
        tx.dequeue(entry.seq);
        const answers = entryAnswers(ctx, entry, waiters, {
          errorCode: ErrorCode.InvalidPlan,
          body: errorBody(message),
          time,
          attempt: 0,
          ranAs: null,
        });
        for (const answer of answers) tx.addOutbox(answer);
      }),
    );
    ctx.afterCommit();
    return true;
  } catch (last) {
    log.error("run-stuck", { plan: entry.planId, key: entry.key, message: describe(last) });
    return false;
  }
}
