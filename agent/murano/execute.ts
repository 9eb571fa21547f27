/**
 * Executes a validated plan as murano-agent's ExecutionPlanRunner does, and maps the outcome to a Murano result
 * (ExecutionResult.from_result / from_error): the Body's return value on success, else
 * `{"Message": ..., "AdditionalInfo": ...}` with the error's code (murano-agent's key order).
 *
 * Order: compile the Body (a refused Body writes and runs nothing; intake's compile is reused, python/mod.ts),
 * create the work dir, evaluate the Body: in-process when it is bounded by construction (python/check/bounded.ts:
 * no loops, no mutation, linear operations, within budget for this plan's inputs), else in a worker process
 * (agent/python/worker/worker.ts: never on the agent's event loop, its heap limited to `bodyMemoryMB`); each script
 * call the Body makes comes back here, places the script's files (first call only) and runs it. The whole
 * execution is bounded by `timeoutMs`: on expiry the evaluation stops at once (a worker is killed whatever the
 * Body is doing; an in-process Body only ever waits on a script), the running process group gets TERM, then
 * KILL, and the outcome is code 101 once the group is gone.
 * Aborting `options.signal` does the same and gives code 1 ("execution was aborted"): the caller that aborted
 * knows why. A Body beyond its memory limit is code 1 "MemoryError: …"; a fault of the interpreter itself is
 * code 1 with a Python-style SystemError message, its JavaScript details only in the log. A script exiting 194 or
 * 195 asks for a reboot (`reboot.ts`): the Body stops there and the outcome carries `reboot`. The work dir is
 * removed at the end, whatever happened (by the caller with `deferRemoval`, once the result is out).
 */
import { EnvironmentError, ErrorCode, IdemError, resourceExhausted } from "../errors.ts";
import { ensureEngineStack } from "../native/v8_settings.ts";
import { compile, evaluatePlanBody, InternalError, type Program } from "../python/mod.ts";
import type { DecodedPlan, Script } from "./plan.ts";
import { type RebootRequest, rebootModeOf } from "./reboot.ts";
import { runScript, type ScriptRun } from "./script_runner.ts";
import { scriptEnvironment } from "./script_user.ts";
import type { ExecuteOptions, ExecutionOutcome, ScriptOutcome } from "./types.ts";
import { createWorkDir, prepareSpareWorkDir, type WorkDir } from "./workdir.ts";

/** Why the execution stopped early. */
type Stop =
  | { kind: "timeout" }
  | { kind: "abort"; reason: unknown }
  | { kind: "reboot"; request: RebootRequest };

/** The state of one execution, shared by the script caller and the outcome. */
interface Execution {
  readonly options: ExecuteOptions;
  /** The scripts' whole environment (SPEC 6), made once per execution. */
  readonly env: Record<string, string>;
  /** With `runAs` (another user): the user its work dir is given to (workdir.ts), else none. */
  readonly owner: { owner?: { uid: number; gid: number } };
  readonly scripts: Readonly<Record<string, Script>>;
  readonly controller: AbortController;
  workDir: WorkDir | null;
  stop: Stop | null;
  /** Scripts started so far: once one has, a failure is the plan's outcome, never a reason to run it again. */
  started: number;
  /** The script running now, or the last one killed. */
  current: { name: string; run: Promise<ScriptRun> } | null;
  /** The Body's script call under way (placing its files, running it); null once it has ended. */
  call: Promise<unknown> | null;
}

/** How long a stopped execution's script call (placing files, a download) may take to end before its work dir is
 * removed, ms. */
const BODY_STOP_GRACE_MS = 2000;

/**
 * `decoded` is the plan as its one parse read it: the typed view for the Body, Scripts and Files, the exact tree
 * for the Body's `args` (integers, floats and key order as Python's json.loads gives them; sent to the worker
 * as they are, never parsed again).
 */
export async function executePlan(decoded: DecodedPlan, options: ExecuteOptions): Promise<ExecutionOutcome> {
  let removal: (() => Promise<void>) | undefined;
  let outcome: ExecutionOutcome;
  try {
    outcome = await execute(decoded, options, (remove) => {
      removal = remove;
    });
  } catch (error) {
    await removal?.();
    throw error;
  }
  if (removal && options.deferRemoval) options.deferRemoval(removal);
  else await removal?.();
  return outcome;
}

/** {@link executePlan} but for the work dir's removal, which it hands to `removeLater` at its end. */
async function execute(
  decoded: DecodedPlan,
  options: ExecuteOptions,
  removeLater: (remove: () => Promise<void>) => void,
): Promise<ExecutionOutcome> {
  const { plan } = decoded;
  const source = plan.Body;
  const scripts = plan.Scripts;
  const names: ReadonlySet<string> = new Set(Object.keys(scripts));
  let program: Program;
  // The stack a Body nested as deep as CPython allows needs, before it is compiled (native/v8_settings.ts).
  ensureEngineStack();
  try {
    program = compile(source, { scripts: names });
  } catch (error) {
    return failure(error, options);
  }
  const ex: Execution = {
    options,
    env: environmentOf(options),
    owner: options.user?.other ? { owner: options.user } : {},
    scripts,
    controller: new AbortController(),
    workDir: null,
    stop: null,
    current: null,
    call: null,
    started: 0,
  };
  const halt = (stop: Stop) => {
    if (ex.stop !== null) return;
    ex.stop = stop;
    ex.controller.abort(stopped());
  };
  const cancelTimer = after(options.timeoutMs, () => halt({ kind: "timeout" }));
  const onAbort = () => halt({ kind: "abort", reason: options.signal?.reason });
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    ex.workDir = await createWorkDir(options.workRoot, plan.Files, {
      ...ex.owner,
      env: ex.env,
    }).catch((error: unknown) => {
      throw (
        resourceExhausted(error, `create a work directory in ${options.workRoot}`) ??
        new IdemError(
          ErrorCode.BodyFailed,
          `Cannot create a work directory in ${options.workRoot}: ${messageOf(error)}`,
        )
      );
    });
    const evaluation = evaluatePlanBody(
      { program, parameters: decoded.exact.get("Parameters") ?? null, scripts: names },
      {
        call: (name, commandline, input) => {
          const call = callScript(ex, name, commandline, input);
          ex.call = call;
          const ended = () => {
            if (ex.call === call) ex.call = null;
          };
          call.then(ended, ended);
          return call;
        },
        limits: { memoryMB: options.bodyMemoryMB },
        signal: ex.controller.signal,
        outputCapBytes: options.outputCapBytes,
      },
    );
    return { errorCode: ErrorCode.Ok, body: await evaluation };
  } catch (error) {
    // The environment's fault before any script started: nothing of the plan ran, the caller may run it again.
    if (error instanceof EnvironmentError && ex.started === 0 && ex.stop === null) throw error;
    if (ex.stop === null) return failure(error, options);
    const killed = ex.current && { name: ex.current.name, run: await ex.current.run.catch(() => null) };
    return stoppedOutcome(ex.stop, options, killed?.run ? { name: killed.name, run: killed.run } : null);
  } finally {
    cancelTimer();
    options.signal?.removeEventListener("abort", onAbort);
    // A Body that ended while its script call is under way — stopped (its evaluation ends at once:
    // python/in_process.ts), or its worker gone — leaves that call to end first: it is aborted (its process group
    // killed, a download or clone stopped) and the work dir goes once it has ended, or after BODY_STOP_GRACE_MS.
    // A Body that ended by itself has no call under way: no wait, and the timer is cleared (left armed, ≈ 700 of
    // them would be pending under a backlog).
    if (ex.call !== null && !ex.controller.signal.aborted) ex.controller.abort(stopped());
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      ex.call?.catch(() => {}),
      new Promise((resolve) => {
        grace = setTimeout(resolve, BODY_STOP_GRACE_MS);
        grace.unref();
      }),
    ]);
    clearTimeout(grace);
    const workDir = ex.workDir;
    if (workDir) removeLater(() => workDir.remove());
  }
}

/** A script call from the Body: place the script's files, run it, apply verifyExitcode. */
async function callScript(
  ex: Execution,
  name: string,
  commandline: string,
  input: string | null,
): Promise<ScriptOutcome> {
  const script = Object.hasOwn(ex.scripts, name) ? ex.scripts[name] : undefined;
  if (script === undefined) throw new IdemError(ErrorCode.BodyFailed, `name '${name}' is not defined`);
  if (ex.controller.signal.aborted || ex.workDir === null) throw stopped();
  const placed = await ex.workDir
    .placeScript(name, script, { signal: ex.controller.signal })
    .catch((error: unknown) => {
      if (error instanceof IdemError || ex.controller.signal.aborted) throw error;
      const exhausted = resourceExhausted(error, `place the files of script ${name}`);
      if (exhausted) throw exhausted;
      throw new IdemError(
        ErrorCode.BodyFailed,
        `Cannot place the files of script ${name}: ${messageOf(error)}`,
      );
    });
  if (ex.controller.signal.aborted) throw stopped();
  const scriptOptions = script.Options ?? {};
  const run = runScript({
    cwd: placed.cwd,
    ...(placed.subfolder ? { subfolder: placed.subfolder } : {}),
    entryPoint: placed.entryPoint,
    commandline,
    input,
    env: ex.env,
    ...(ex.options.user?.other ? { user: { uid: ex.options.user.uid, gid: ex.options.user.gid } } : {}),
    outputCapBytes: ex.options.outputCapBytes,
    captureStdout: option(scriptOptions, "captureStdout"),
    captureStderr: option(scriptOptions, "captureStderr"),
    onSpawn: (pgid) => {
      ex.started++;
      ex.options.onSpawn?.(pgid);
      // While the script runs, the next plan's work dir is made (workdir.ts: off its round trip).
      if (ex.options.prepareSpareWorkDir)
        setImmediate(() => prepareSpareWorkDir(ex.options.workRoot, ex.owner));
    },
    signal: ex.controller.signal,
    killGraceMs: ex.options.killGraceMs,
  }).catch((error: unknown) => {
    throw (
      resourceExhausted(error, `start script ${name}`) ??
      new IdemError(ErrorCode.BodyFailed, `Cannot start script ${name}: ${messageOf(error)}`)
    );
  });
  ex.current = { name, run };
  const result = await run;
  if (result.killed !== null) throw stopped();
  ex.current = null;
  const outcome: ScriptOutcome = { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  // A reboot asked for by the exit status (reboot.ts) stops the Body here, whatever verifyExitcode says.
  const mode = rebootModeOf(result.exitCode);
  if (mode !== undefined && ex.stop === null) {
    ex.stop = { kind: "reboot", request: { mode, script: name, ...outcome } };
    ex.controller.abort(stopped());
    throw stopped();
  }
  if (option(scriptOptions, "verifyExitcode") && result.exitCode !== 0) {
    // murano-agent: CustomException(0, ...) → ErrorCode 100, AdditionalInfo {exitCode, stdout, stderr}.
    throw new IdemError(ErrorCode.ScriptFailed, `Script ${name} returned error code`, { info: outcome });
  }
  return outcome;
}

/** A script's whole environment: nothing of the agent's own (SPEC 6). */
function environmentOf(options: ExecuteOptions): Record<string, string> {
  return scriptEnvironment({
    marks: options.env,
    ...(options.environment ? { environment: options.environment } : {}),
    user: options.user,
  });
}

/** murano-agent reads captureStdout, captureStderr, verifyExitcode with default True and Python truthiness. */
function option(options: Record<string, unknown>, name: string): boolean {
  const value = Object.hasOwn(options, name) ? options[name] : true;
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}

/** setTimeout for any delay: Node fires delays above 2^31-1 ms at once, so long Timeouts are chained. */
function after(ms: number, fire: () => void): () => void {
  const MAX = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX ? arm(left - MAX) : fire()), Math.min(left, MAX));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** Thrown inside the execution once it is stopped; never the outcome (see stoppedOutcome). */
function stopped(): IdemError {
  return new IdemError(ErrorCode.Timeout, "Cannot go on with the plan as its execution was stopped");
}

function stoppedOutcome(
  stop: Stop,
  options: ExecuteOptions,
  killed: { name: string; run: ScriptRun } | null,
): ExecutionOutcome {
  const info = killed && {
    exitCode: killed.run.exitCode,
    stdout: killed.run.stdout,
    stderr: killed.run.stderr,
  };
  if (stop.kind === "reboot") {
    const { exitCode, stdout, stderr } = stop.request;
    return {
      errorCode: ErrorCode.Ok,
      body: JSON.stringify({ exitCode, stdout, stderr }),
      reboot: stop.request,
    };
  }
  const script = killed ? `; script ${killed.name} was killed` : "";
  if (stop.kind === "timeout") {
    const message = `Cannot finish the plan as it ran past its timeout of ${options.timeoutMs / 1000} s${script}`;
    return result(ErrorCode.Timeout, message, info);
  }
  const reason = stop.reason === undefined ? "" : `: ${messageOf(stop.reason)}`;
  return result(
    ErrorCode.BodyFailed,
    `Cannot finish the plan as its execution was aborted${reason}${script}`,
    info,
  );
}

/**
 * murano-agent's ExecutionResult.from_error: an AgentException's code and data, else code 1 and str(error). An
 * interpreter fault (bug kind) is logged with its JavaScript details; its result Message is Python-style only.
 */
function failure(error: unknown, options: ExecuteOptions): ExecutionOutcome {
  if (error instanceof IdemError) return result(error.code, error.message, error.info);
  if (error instanceof InternalError) {
    options.log?.error("body-internal-error", { detail: error.detail });
    return result(ErrorCode.BodyFailed, error.message, null);
  }
  if (error instanceof EnvironmentError) return result(ErrorCode.BodyFailed, error.message, null);
  options.log?.error("body-internal-error", { detail: InternalError.describe(error) });
  return result(ErrorCode.BodyFailed, InternalError.MESSAGE, null);
}

function result(errorCode: number, message: string, info: unknown): ExecutionOutcome {
  return { errorCode, body: JSON.stringify({ Message: message, AdditionalInfo: info ?? null }) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
