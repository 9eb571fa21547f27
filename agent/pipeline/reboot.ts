/**
 * Reboot-and-resume, the runner's side (`murano/reboot.ts` says which exit codes ask for it). A script exiting
 * 194 (reboot, then run the plan again) or 195 (reboot, the plan is done) stops its plan's Body; then:
 *
 * 1. the request is journaled durably on the running record (`record.ts` {@link RebootMark}: mode, kernel boot
 *    id, count) — its queue entry stays, nothing is answered yet;
 * 2. the config's `rebootCommand` runs (argv, no shell); the runner starts nothing else meanwhile;
 * 3. the agent waits for the VM to go down (systemd stops it: the mark stays pending for the next start).
 *
 * At the next start the runner takes the entry first (it is the key's oldest): in a **new boot** the plan runs
 * again (rerun; a new attempt, never counted as interrupted) or is answered with the script's outcome, code 0
 * (done). In the **same boot** (the agent crashed before the command ran, or was restarted while the reboot did
 * not come) the command runs again, at most {@link MAX_REBOOT_COMMANDS} times per request. Every dead end is
 * answered code 100 (a script's exit the agent could not honour) with a Message saying why: the command failed,
 * the VM did not go down within {@link REBOOT_WAIT_MS}, or the plan asked more than {@link MAX_REBOOTS} times.
 */
import { ErrorCode } from "../errors.ts";
import type { QueueEntry } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import { kernelBootId, type RebootRequest, runRebootCommand } from "../murano/reboot.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import type { PipelineContext } from "./context.ts";
import { errorBody } from "./reply.ts";

/** Reboots one queue entry may ask for; the next request is answered 100 instead (a reboot loop ends). */
export const MAX_REBOOTS = 3;
/** Times the reboot command runs for one request when the VM stays in the same boot. */
export const MAX_REBOOT_COMMANDS = 3;
/** How long the agent waits for the VM to go down after the reboot command returned 0. */
export const REBOOT_WAIT_MS = 300_000;

/** What the runner does next with the entry. */
export type RebootStep =
  /** Answer the plan with this outcome now. */
  | { kind: "finish"; outcome: ExecutionOutcome }
  /** The agent is stopping (the reboot): the request stays pending in the journal for the next start. */
  | { kind: "left" };

/** What a queue entry's reboot mark means at the start of its execution. */
export type Resume =
  | { kind: "none" }
  /** New boot, rerun mode: run the plan again (the runner clears `pending` in its start commit). */
  | { kind: "rerun" }
  /** New boot, done mode: answer with the stored outcome. */
  | { kind: "done"; outcome: ExecutionOutcome }
  /** Same boot: the reboot did not happen; ask for it again. */
  | { kind: "again"; mark: machine.RebootMark };

export interface RebootOptions {
  /** Aborted when the agent stops (SIGTERM at shutdown): the wait ends and the mark stays pending. */
  stopping: AbortSignal;
  /** Retries a journal commit until it is durable (the runner's own). */
  durably(step: string, commit: () => Promise<void>): Promise<void>;
}

/** True when the VM rebooted since `mark` was written (or the kernel cannot tell: a restart counts as one). */
function rebootedSince(mark: machine.RebootMark): boolean {
  const now = kernelBootId();
  return now === undefined || now !== mark.bootId;
}

/** What `record`'s reboot mark means for `entry` at the start of its execution. */
export function resumeOf(record: machine.JournalRecord | undefined, entry: QueueEntry): Resume {
  const mark = record?.reboot;
  if (!mark?.pending || mark.seq !== entry.seq) return { kind: "none" };
  if (!rebootedSince(mark)) return { kind: "again", mark };
  return mark.mode === "rerun" ? { kind: "rerun" } : { kind: "done", outcome: mark.outcome };
}

/** The execution of `entry` ended with a script asking for a reboot: journal it, reboot, wait. */
export function askReboot(
  ctx: PipelineContext,
  entry: QueueEntry,
  request: RebootRequest,
  options: RebootOptions,
): Promise<RebootStep> {
  const earlier = ctx.journal.record(entry.key)?.reboot;
  const count = (earlier?.seq === entry.seq ? earlier.count : 0) + 1;
  const outcome = { errorCode: ErrorCode.Ok, body: JSON.stringify(scriptOutcome(request)) };
  const mark: machine.RebootMark = {
    seq: entry.seq,
    mode: request.mode,
    bootId: kernelBootId() ?? "unknown",
    count,
    commands: 1,
    pending: true,
    outcome,
  };
  if (count > MAX_REBOOTS) {
    return Promise.resolve(
      fail(
        mark,
        `Cannot reboot the VM again for plan "${entry.planId}": script ${request.script} asked for a reboot ${count} times (exit ${request.exitCode}), over the ${MAX_REBOOTS} allowed; make it exit 0 once its work is done`,
      ),
    );
  }
  return reboot(ctx, entry, mark, options);
}

/** Same boot at start-up: the reboot asked for did not happen. The command runs again, a bounded number of times. */
export function askAgain(
  ctx: PipelineContext,
  entry: QueueEntry,
  mark: machine.RebootMark,
  options: RebootOptions,
): Promise<RebootStep> {
  if (mark.commands >= MAX_REBOOT_COMMANDS) {
    return Promise.resolve(
      fail(
        mark,
        `Cannot finish plan "${entry.planId}" as the VM did not reboot after rebootCommand ran ${mark.commands} times ${JSON.stringify(ctx.config.rebootCommand)}: check that the command reboots this VM`,
      ),
    );
  }
  return reboot(ctx, entry, { ...mark, commands: mark.commands + 1 }, options);
}

async function reboot(
  ctx: PipelineContext,
  entry: QueueEntry,
  mark: machine.RebootMark,
  options: RebootOptions,
): Promise<RebootStep> {
  const { journal, config, log } = ctx;
  await options.durably("reboot", () =>
    journal.commit((tx) => {
      const current = journal.record(entry.key);
      if (!current)
        throw new Error(`Cannot record a reboot for plan "${entry.planId}": key ${entry.key} has no record`);
      const at = {
        time: new Date().toISOString(),
        planId: entry.planId,
        fingerprint: entry.fingerprint,
        mark,
      };
      tx.putRecord(machine.rebootRequested(current, at));
    }),
  );
  ctx.emit({
    Event: "reboot",
    Key: entry.key,
    SourceID: entry.planId,
    Generation: entry.generation,
    Mode: mark.mode,
    Count: mark.count,
    Command: mark.commands,
  });
  const ran = await runRebootCommand(config.rebootCommand);
  if (!ran.ok) return fail(mark, `Cannot reboot the VM for plan "${entry.planId}" as ${ran.why}`);
  log.warn("reboot-waiting", {
    plan: entry.planId,
    key: entry.key,
    mode: mark.mode,
    waitSeconds: REBOOT_WAIT_MS / 1000,
    message: "rebootCommand returned 0: waiting for the VM to go down; nothing else starts meanwhile",
  });
  const ended = await waitFor(options.stopping, REBOOT_WAIT_MS);
  if (ended === "stopping") return { kind: "left" };
  return fail(
    mark,
    `Cannot finish plan "${entry.planId}" as the VM did not go down within ${REBOOT_WAIT_MS / 1000} s after rebootCommand ${JSON.stringify(config.rebootCommand)} returned 0`,
  );
}

/** Code 100 with the script's outcome as AdditionalInfo (murano-agent's shape for a script that failed). */
function fail(mark: machine.RebootMark, message: string): RebootStep {
  const info = JSON.parse(mark.outcome.body) as unknown;
  return { kind: "finish", outcome: { errorCode: ErrorCode.ScriptFailed, body: errorBody(message, info) } };
}

function scriptOutcome(request: RebootRequest): Record<string, unknown> {
  return { exitCode: request.exitCode, stdout: request.stdout, stderr: request.stderr };
}

/** Resolves "stopping" when `signal` aborts, "timeout" after `ms`. */
function waitFor(signal: AbortSignal, ms: number): Promise<"stopping" | "timeout"> {
  if (signal.aborted) return Promise.resolve("stopping");
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve("timeout");
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve("stopping");
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
