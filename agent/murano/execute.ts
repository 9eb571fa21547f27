/**
 * Executes a validated plan as murano-agent's ExecutionPlanRunner does, and maps the outcome to a Murano result
 * (ExecutionResult.from_result / from_error): the Body's return value on success, else
 * `{"Message": ..., "AdditionalInfo": ...}` with the error's code.
 *
 * Order: compile the Body (a refused Body writes and runs nothing), create the work dir, evaluate the Body;
 * each script call places the script's files (first call only) and runs it. The whole execution is bounded by
 * `timeoutMs`: on expiry the running process group gets TERM, then KILL, and the outcome is code 101. The work
 * dir is removed at the end, whatever happened.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import { compileBody, evaluateBody, parseJsonOrdered, pyToJson, type ScriptCaller } from "./body.ts";
import { PyDict, type PyValue } from "./body_values.ts";
import { runScript, type ScriptRun } from "./script_runner.ts";
import type { ExecuteOptions, ExecutionOutcome, ScriptOutcome } from "./types.ts";
import { createWorkDir, type PlanFile, type PlanScript, type WorkDir } from "./workdir.ts";

interface Script extends PlanScript {
  Type: string;
  Options?: Record<string, unknown> | null;
}

/** Why the execution stopped early: the plan's Timeout, or the caller's signal. */
type Stop = { kind: "timeout" } | { kind: "abort"; reason: unknown };

export async function executePlan(
  planText: string,
  plan: Record<string, unknown>,
  options: ExecuteOptions,
): Promise<ExecutionOutcome> {
  let body: ReturnType<typeof compileBody>;
  try {
    body = compileBody(plan.Body as string);
  } catch (error) {
    return failure(error);
  }
  const scripts = (plan.Scripts ?? {}) as Record<string, Script>;
  const files = (plan.Files ?? {}) as Record<string, PlanFile>;

  const controller = new AbortController();
  let stop: Stop | null = null;
  const halt = (why: Stop) => {
    if (stop !== null) return;
    stop = why;
    controller.abort();
  };
  const timer = setTimeout(() => halt({ kind: "timeout" }), options.timeoutMs);
  const onAbort = () => halt({ kind: "abort", reason: options.signal?.reason });
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  let workDir: WorkDir | undefined;
  let running: { name: string; run: Promise<ScriptRun> } | null = null;
  let killed: { name: string; run: ScriptRun } | null = null;

  const call: ScriptCaller = async (name, commandline, input) => {
    if (controller.signal.aborted || workDir === undefined) throw stopped();
    const script = scripts[name];
    if (script === undefined) throw new IdemError(ErrorCode.BodyFailed, `name '${name}' is not defined`);
    const placed = await workDir.placeScript(name, script, { signal: controller.signal });
    if (controller.signal.aborted) throw stopped();
    const scriptOptions = script.Options ?? {};
    const run = runScript({
      cwd: placed.cwd,
      entryPoint: placed.entryPoint,
      commandline,
      input,
      env: { ...process.env, ...options.env },
      outputCapBytes: options.outputCapBytes,
      captureStdout: option(scriptOptions, "captureStdout"),
      captureStderr: option(scriptOptions, "captureStderr"),
      onSpawn: options.onSpawn,
      signal: controller.signal,
      killGraceMs: options.killGraceMs,
    }).catch((error: unknown) => {
      throw new IdemError(ErrorCode.BodyFailed, `Cannot start script ${name}: ${messageOf(error)}`, { cause: error });
    });
    running = { name, run };
    const result = await run.finally(() => {
      running = null;
    });
    if (result.killed !== null) {
      killed = { name, run: result };
      throw stopped();
    }
    const outcome: ScriptOutcome = { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    if (option(scriptOptions, "verifyExitcode") && result.exitCode !== 0) {
      throw new IdemError(ErrorCode.ScriptFailed, `Script ${name} returned error code`, { info: outcome });
    }
    return outcome;
  };

  try {
    workDir = await createWorkDir(options.workRoot, files);
    const evaluation = evaluateBody(body, { args: parameters(planText), scripts: new Set(Object.keys(scripts)), call });
    const value = await untilAborted(evaluation, controller.signal);
    return { errorCode: ErrorCode.Ok, body: pyToJson(value) };
  } catch (error) {
    if (stop === null) return failure(error);
    // Return only once the killed process group is really gone.
    const pending = running as { name: string; run: Promise<ScriptRun> } | null;
    if (pending !== null) {
      const last = await pending.run.catch(() => null);
      if (last !== null && killed === null) killed = { name: pending.name, run: last };
    }
    return stoppedOutcome(stop, options, killed);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    await workDir?.remove();
  }
}

/** `args`: the plan's Parameters with their key order (murano-agent: `Bunch(Parameters or {})`). */
function parameters(planText: string): PyValue {
  const plan = parseJsonOrdered(planText);
  const value = plan instanceof PyDict ? plan.get("Parameters") : undefined;
  const args = new PyDict(true);
  if (value instanceof PyDict) {
    for (const { key, value: item } of value.entries.values()) args.set(key, item);
  }
  return args;
}

/** murano-agent reads captureStdout, captureStderr, verifyExitcode with default True and Python truthiness. */
function option(options: Record<string, unknown>, name: string): boolean {
  const value = Object.hasOwn(options, name) ? options[name] : true;
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0;
  return Boolean(value);
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function stopped(): IdemError {
  return new IdemError(ErrorCode.Timeout, "Cannot go on with the plan as its execution was stopped");
}

function stoppedOutcome(
  stop: Stop,
  options: ExecuteOptions,
  killed: { name: string; run: ScriptRun } | null,
): ExecutionOutcome {
  const info = killed && { exitCode: killed.run.exitCode, stdout: killed.run.stdout, stderr: killed.run.stderr };
  const script = killed ? `; script ${killed.name} was killed` : "";
  if (stop.kind === "timeout") {
    const seconds = options.timeoutMs / 1000;
    return result(ErrorCode.Timeout, `Cannot finish the plan as it ran past its timeout of ${seconds} s${script}`, info);
  }
  const reason = stop.reason === undefined ? "" : `: ${messageOf(stop.reason)}`;
  return result(ErrorCode.BodyFailed, `Cannot finish the plan as its execution was aborted${reason}${script}`, info);
}

/** murano-agent's ExecutionResult.from_error: an AgentException's code and data, else code 1 and str(error). */
function failure(error: unknown): ExecutionOutcome {
  if (error instanceof IdemError) return result(error.code, error.message, error.info ?? null);
  return result(ErrorCode.BodyFailed, messageOf(error), null);
}

function result(errorCode: number, message: string, info: unknown): ExecutionOutcome {
  return { errorCode, body: JSON.stringify({ Message: message, AdditionalInfo: info ?? null }) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
