/**
 * The contract between the agent's pipeline and the Murano layer (validation, files, Body interpreter, script
 * runner). The pipeline only calls `validatePlan` (validate.ts) and `executePlan` (execute.ts).
 */
import type { Logger } from "../log.ts";
import type { ScriptOutcome } from "../python/mod.ts";
import type { RebootRequest } from "./reboot.ts";
import type { ScriptUser } from "./script_user.ts";

export type { ScriptOutcome };

export interface ExecuteOptions {
  /** A fresh work directory is created below it for each execution and removed afterwards. */
  workRoot: string;
  /** The whole plan may run this long; then every running process group gets TERM, then KILL. */
  timeoutMs: number;
  /** Time between TERM and KILL. */
  killGraceMs: number;
  /** The Body worker's heap limit in MB (config `bodyMemoryMB`): beyond it the plan is code 1 MemoryError. */
  bodyMemoryMB: number;
  /** Cap for each captured output stream, in bytes. */
  outputCapBytes: number;
  /** The agent's marks for every script (IDEM_JOURNAL, IDEM_EXECUTION): the orphan reaper finds scripts by them. */
  env: Record<string, string>;
  /** The config's `environment`: what scripts see besides PATH, HOME, LANG and the marks (`script_user.ts`). */
  environment?: Readonly<Record<string, string>>;
  /** The user scripts run as (`runAs`); default the agent's own. */
  user?: ScriptUser | undefined;
  /** Called as soon as a script's process group exists, so the journal can record it. */
  onSpawn(pgid: number): void;
  /** Where an interpreter fault's JavaScript details go (never into a result). */
  log?: Logger;
  /** Aborting kills the running process group (TERM, then KILL after killGraceMs) and ends the execution. */
  signal?: AbortSignal;
  /**
   * The Body passed `compile` already (intake validated the plan): not checked again here. The worker compiles
   * it anyway, and refuses it with the same error, before any script runs.
   */
  checked?: boolean;
  /**
   * Called with the work dir's removal instead of awaiting it when the execution ends with an outcome: the caller
   * runs it once the result is out (pipeline/execute.ts). An execution that throws removes its work dir before
   * it does.
   */
  deferRemoval?: (remove: () => Promise<void>) => void;
  /**
   * Makes the next execution's work dir while this one's script runs (workdir.ts `prepareSpareWorkDir`, with
   * this execution's mode): for an agent that runs plan after plan (pipeline/execute.ts). Default false.
   */
  prepareSpareWorkDir?: boolean;
}

/** The outcome of one execution: a Murano result's ErrorCode and Body (as JSON text, key order preserved). */
export interface ExecutionOutcome {
  errorCode: number;
  body: string;
  /**
   * A script asked for a reboot by its exit code (`reboot.ts`) and the Body was stopped there; `errorCode` 0 and
   * `body` (the script's `{exitCode, stdout, stderr}`) are the answer in `done` mode after the reboot.
   */
  reboot?: RebootRequest;
}
