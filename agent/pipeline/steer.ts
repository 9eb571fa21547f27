/**
 * Steering inside the runner (`run.ts`): how an operator's cancel (`cancel.ts`) and a script's reboot request
 * (`reboot.ts`) change one execution's course. The runner asks {@link beforeStart} before its start commit and
 * {@link afterRun} once the execution ended, and does what the answer says:
 *
 * - `go`: carry on as usual (start and execute; or finish with the execution's own outcome);
 * - `finish`: answer the plan (and its waiters) with this outcome, in the runner's one finish commit;
 * - `left`: the agent is stopping while a reboot is pending: write nothing more, the next start resumes it.
 *
 * While a reboot is asked for and awaited the runner starts nothing else (`hold`): the VM is about to go down,
 * and a plan started now would only be interrupted.
 */
import type { QueueEntry } from "../journal/journal.ts";
import type { JournalRecord } from "../journal/record.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import { Cancellation, cancelledOutcome } from "./cancel.ts";
import type { PipelineContext } from "./context.ts";
import { askAgain, askReboot, type RebootOptions, type RebootStep, resumeOf } from "./reboot.ts";

export type Steer = { kind: "go" } | { kind: "finish"; outcome: ExecutionOutcome } | { kind: "left" };

export interface SteerOptions {
  /** The execution's own abort signal (a cancel aborts it with a {@link Cancellation}). */
  signal: AbortSignal;
  /** Aborted when the runner drains (the agent stops). */
  stopping: AbortSignal;
  durably: RebootOptions["durably"];
  /** Holds (true) or releases (false) the start of other plans. */
  hold(on: boolean): void;
}

/**
 * True when {@link beforeStart} would say `go` at once, with nothing to log: no durable cancel of the entry and no
 * reboot of it pending. Only such an entry may start inside another commit's transaction (`run.ts`); the others
 * take the runner's own start, which asks {@link beforeStart}.
 */
export function startsPlainly(record: JournalRecord | undefined, entry: QueueEntry): boolean {
  return record !== undefined && record.cancelled !== entry.seq && resumeOf(record, entry).kind === "none";
}

/** Before the start commit: a durable cancel or a pending reboot left by an earlier process decides first. */
export async function beforeStart(
  ctx: PipelineContext,
  entry: QueueEntry,
  options: SteerOptions,
): Promise<Steer> {
  const record = ctx.journal.record(entry.key);
  // Cancelled while it ran, and the agent stopped before the finish commit: 102, never run again.
  if (record?.cancelled === entry.seq) return finish(cancelledOutcome(entry.planId));
  const resume = resumeOf(record, entry);
  if (resume.kind === "done") {
    ctx.log.info("resumed", { plan: entry.planId, key: entry.key, mode: "done" });
    return finish(resume.outcome);
  }
  if (resume.kind === "rerun") ctx.log.info("resumed", { plan: entry.planId, key: entry.key, mode: "rerun" });
  if (resume.kind !== "again") return { kind: "go" };
  ctx.log.warn("reboot-not-seen", {
    plan: entry.planId,
    key: entry.key,
    commands: resume.mark.commands,
    message: "the agent restarted in the boot that asked for a reboot: running rebootCommand again",
  });
  return await rebooting(ctx, entry, options, (reboot) => askAgain(ctx, entry, resume.mark, reboot));
}

/** Once the execution ended: a cancel wins; a reboot request is served. */
export async function afterRun(
  ctx: PipelineContext,
  entry: QueueEntry,
  outcome: ExecutionOutcome,
  options: SteerOptions,
): Promise<Steer> {
  if (cancelled(ctx, entry, options.signal)) return finish(cancelledOutcome(entry.planId, outcome));
  const request = outcome.reboot;
  if (request === undefined) return { kind: "go" };
  return await rebooting(ctx, entry, options, (reboot) => askReboot(ctx, entry, request, reboot));
}

async function rebooting(
  ctx: PipelineContext,
  entry: QueueEntry,
  options: SteerOptions,
  ask: (reboot: RebootOptions) => Promise<RebootStep>,
): Promise<Steer> {
  options.hold(true);
  try {
    // A cancel during the wait ends it too.
    const stopping = AbortSignal.any([options.stopping, options.signal]);
    const step = await ask({ stopping, durably: options.durably });
    if (cancelled(ctx, entry, options.signal)) return finish(cancelledOutcome(entry.planId));
    return step.kind === "left" ? { kind: "left" } : finish(step.outcome);
  } finally {
    options.hold(false);
  }
}

function cancelled(ctx: PipelineContext, entry: QueueEntry, signal: AbortSignal): boolean {
  if (signal.aborted && signal.reason instanceof Cancellation) return true;
  return ctx.journal.record(entry.key)?.cancelled === entry.seq;
}

function finish(outcome: ExecutionOutcome): Steer {
  return { kind: "finish", outcome };
}
