/**
 * Execute: one queued plan's course once the runner (`run.ts`) gave it a slot —
 *
 *   steer (beforeStart) ──▶ start commit (`running`) ──▶ script (murano/execute.ts) ──▶ steer (afterRun) ──▶ finish
 *                                                                                          └──▶ interrupt (drain)
 *
 * The start is journaled durably before anything is spawned: in the commit that made the entry startable (its
 * decision, the previous plan's result: `run.ts`), or in a commit of its own after {@link beforeStart}. The
 * environment's fault before any script started (a full disk while the files are written) runs the plan again
 * after a backoff. A cancel or a reboot changes the course (`steer.ts`); a drain past its grace leaves the entry
 * `interrupted` with its queue entry, so that the next start decides it again. The end is `finish.ts`.
 */
import { join } from "node:path";
import { describe } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { JournalWriter, QueueEntry } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import { executePlan } from "../murano/execute.ts";
import type { DecodedPlan } from "../murano/plan.ts";
import { scriptUser } from "../murano/script_user.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import { retry } from "../retry.ts";
import type { PipelineContext } from "./context.ts";
import { decodeQueued } from "./decode.ts";
import { durably } from "./durably.ts";
import { finishEntry } from "./finish.ts";
import { errorBody } from "./reply.ts";
import { afterRun, beforeStart, type SteerOptions } from "./steer.ts";

/** What one execution gets from the runner. */
export interface ExecutionHooks {
  /** The execution's abort signal (cancel, drain deadline), the drain signal, durable commits, holding starts. */
  steering: SteerOptions;
  /** True once the drain's grace ran out: an aborted execution is then left `interrupted`, not finished. */
  interrupting(): boolean;
  /** The result commit is issued, not yet durable: the slot is free (`finish.ts`). */
  written(): void;
}

/**
 * Journals the start of `entry` in the transaction of `tx` (its key's record `running`, attempt + 1) and returns
 * the attempt. The record is read inside the transaction: a plan decided meanwhile (a joiner) is never
 * overwritten. @throws when the key has no record or nothing of it is queued.
 */
export function writeStart(ctx: PipelineContext, entry: QueueEntry, tx: JournalWriter): number {
  const { journal } = ctx;
  const record = journal.record(entry.key);
  if (!record) throw new Error(`Cannot start plan "${entry.planId}" as key ${entry.key} has no record`);
  const time = new Date().toISOString();
  // After the reboot a rerun-mode entry asked for: it runs again, its reboot no longer pending.
  const started = machine.start(machine.rebooted(record, { time }), { time, bootId: journal.bootId });
  tx.putRecord(started);
  return started.attempts;
}

/**
 * Runs queue entry `entry` to its end (finished, interrupted, or left for the next start). `startedAs`: the
 * attempt whose start is already durable (written by {@link writeStart} in another commit: `run.ts`); without
 * it, {@link beforeStart} decides first and the start is a commit of its own.
 */
export async function executeEntry(
  ctx: PipelineContext,
  entry: QueueEntry,
  hooks: ExecutionHooks,
  startedAs?: number,
): Promise<void> {
  const { journal, log } = ctx;
  const { steering } = hooks;
  let attempt = startedAs ?? 0;
  failpoint("after-ack");
  if (startedAs === undefined) {
    // A cancel or a reboot left pending by an earlier process decides first (`steer.ts`).
    const before = await beforeStart(ctx, entry, steering);
    if (before.kind === "left") return;
    if (before.kind === "finish") {
      const attempts = journal.record(entry.key)?.attempts ?? 0;
      const time = new Date().toISOString();
      return await finishEntry(ctx, entry, before.outcome, {
        attempt: attempts,
        time,
        written: hooks.written,
      });
    }
    await durably(ctx, { step: "start", entry }, () =>
      journal.commit((tx) => {
        attempt = writeStart(ctx, entry, tx);
      }),
    );
  }
  failpoint("after-running");
  log.info("start", { plan: entry.planId, key: entry.key, attempt });
  const began = performance.now();
  // The work dir's removal, handed over by the execution: right after the result is handed to the broker, at the
  // latest on the way out (docs/beyond_spec.md, "Work dirs after a run"). MQTT.js writes the result on the next
  // tick: the removal waits a turn, so that its syscalls (≈ 1 ms, issue 11) are not part of the result's round
  // trip. Sooner when the result's commit fails (a full disk): what the script left in its folder may be what
  // fills the disk, and the result waits for that space.
  const removals: Array<() => Promise<void>> = [];
  let removing = Promise.resolve();
  const removeWorkDirs = (): Promise<void> => {
    removing = removing.then(async () => {
      for (let remove = removals.shift(); remove; remove = removals.shift()) await remove();
    });
    return removing;
  };
  try {
    await runAndFinish(ctx, entry, hooks, { attempt, began, removals, removeWorkDirs });
  } finally {
    if (removals.length > 0) await new Promise((resolve) => setImmediate(resolve));
    await removeWorkDirs();
  }
}

/** The execution and its end, once the start is durable. */
async function runAndFinish(
  ctx: PipelineContext,
  entry: QueueEntry,
  hooks: ExecutionHooks,
  run: {
    attempt: number;
    began: number;
    removals: Array<() => Promise<void>>;
    removeWorkDirs: () => Promise<void>;
  },
): Promise<void> {
  const { journal, config, log } = ctx;
  const { steering } = hooks;
  const { signal } = steering;
  const { attempt, began } = run;

  // The environment's fault before any script started (a full disk while the files are written) runs the plan
  // again after a backoff: nothing of it ran. Anything else is the plan's outcome.
  let outcome: ExecutionOutcome = await retry(
    () =>
      executePlan(planOf(ctx, entry), {
        workRoot: join(config.dataDir, "work"),
        timeoutMs: (entry.timeoutSeconds ?? config.defaultTimeoutSeconds) * 1000,
        killGraceMs: config.killGraceSeconds * 1000,
        bodyMemoryMB: config.bodyMemoryMB,
        log,
        outputCapBytes: config.outputCapBytes,
        env: { IDEM_JOURNAL: journal.path, IDEM_EXECUTION: `${entry.seq}` },
        environment: config.environment,
        user: scriptUser(config.runAs),
        checked: true, // intake compiled the Body (validate.ts); the worker compiles it again
        deferRemoval: (remove) => run.removals.push(remove),
        onSpawn: (pgid) => {
          recordPgid(ctx, entry, pgid);
          failpoint("after-spawn");
        },
        prepareSpareWorkDir: true,
        signal,
      }),
    {
      signal,
      onRetry: (error, attempt, delayMs) =>
        log.error("run-retry", {
          plan: entry.planId,
          key: entry.key,
          attempt,
          retryInMs: delayMs,
          message: describe(error),
        }),
    },
  ).catch((error: unknown) => ({
    errorCode: 1,
    body: errorBody(`Cannot execute plan "${entry.planId}": ${describe(error)}`),
  }));
  failpoint("before-finish");

  // A cancel (102) or a reboot request changes the course (`steer.ts`).
  const after = await afterRun(ctx, entry, outcome, steering);
  if (after.kind === "left") return;
  if (after.kind === "finish") outcome = after.outcome;
  const time = new Date().toISOString();
  if (after.kind === "go" && signal.aborted && hooks.interrupting()) {
    await durably(ctx, { step: "interrupt", entry }, () =>
      journal.commit((tx) => {
        const current = journal.record(entry.key);
        if (!current) return;
        tx.putRecord(
          machine.interrupt(current, { time, planId: entry.planId, fingerprint: entry.fingerprint }),
        );
      }),
    );
    ctx.emit({ Event: "interrupted", Key: entry.key, SourceID: entry.planId, Generation: entry.generation });
    return;
  }
  const seconds = (performance.now() - began) / 1000;
  await finishEntry(ctx, entry, outcome, {
    attempt,
    time,
    seconds,
    written: hooks.written,
    onRetry: () => void run.removeWorkDirs(),
  });
}

/**
 * Notes the running script's process group, for operators: a deferred write (`journal.defer`), durable with
 * the next commit (the result's, for a short script) or within a second, never waited for. Orphans are found by
 * their environment mark, not by it, so losing it (a crash, a full disk) is harmless: logged, not retried.
 */
function recordPgid(ctx: PipelineContext, entry: QueueEntry, pgid: number): void {
  const { journal, log } = ctx;
  const time = new Date().toISOString();
  journal
    .defer((tx) => {
      const current = journal.record(entry.key);
      if (current) tx.putRecord(machine.spawned(current, { time, pgid }));
    })
    .catch((error: unknown) =>
      log.warn("pgid-not-recorded", { key: entry.key, pgid, message: describe(error) }),
    );
}

/**
 * The queued plan, typed, and its exact tree: as intake decoded it, when this process queued it
 * (`decoded_plans.ts`), else decoded again from the journal's text (validated at intake: it reads as a Plan).
 */
function planOf(ctx: PipelineContext, entry: QueueEntry): DecodedPlan {
  const queued = ctx.decodedPlans.take(entry.seq) ?? decodeQueued(entry.planText);
  if (queued === undefined) throw new Error(`Cannot read queued plan "${entry.planId}" as a plan idem takes`);
  return queued;
}
