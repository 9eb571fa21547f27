/**
 * Bounded evaluation (SPEC 6): the agent runs a Body in a worker PROCESS, never on its own event loop, so it
 * keeps acknowledging plans, answering pings and publishing while a Body computes.
 *
 * Why a process and not a worker thread: V8 enforces a worker thread's `resourceLimits` only for heaps that grow
 * by small objects. A Body that grows one big list (`[0]*10**7`, `append` in a loop) makes V8 abort the WHOLE
 * process ("Reached heap limit"), agent included (Node 24, measured; nodejs/node#47224). A child process with
 * `--max-old-space-size` dies alone, whatever the shape of the allocation.
 *
 * - Script calls are brokered: the worker asks, {@link BoundedOptions.call} runs the script here (work dir,
 *   process group, verifyExitcode, as before), the answer or the error goes back (worker_protocol.ts).
 * - Aborting `signal` (the plan's Timeout, a cancel, a drain) kills the worker with SIGKILL at once, whatever it
 *   is doing; the promise rejects with the signal's reason.
 * - A worker that dies of a signal the agent did not send ran out of memory (its watchdog kills it at the limit,
 *   worker_watchdog.ts; V8 aborts it on a full heap; the kernel's OOM killer sends SIGKILL): IdemError(1)
 *   "MemoryError: …" naming the limit. A worker that writes what is no frame is killed (bug kind). Any other
 *   death is an {@link InternalError} (bug kind) with the exit status and the end of its stderr.
 * - A worker that finished its Body cleanly is kept for the next one (at most one idle worker, ended after
 *   IDLE_MS, worker_process.ts): a cold start costs ~0.2 s from a bundle, ~0.3-0.5 s from the sources
 *   (docs/benchmarks.md). A killed one never serves again.
 */
import { ErrorCode, IdemError, resourceExhausted } from "../../errors.ts";
import type { ScriptOutcome } from "../eval/script.ts";
import { InternalError } from "../runtime/internal_error.ts";
import { BodyWorker, type Death } from "./worker_process.ts";
import { decodeError, type EvaluateRequest, encodeError } from "./worker_protocol.ts";

export interface BodyLimits {
  /** How much the worker may grow in MB (config `bodyMemoryMB`, default 256): its watchdog ends it beyond. */
  memoryMB: number;
}

export interface BoundedOptions {
  /** Runs a script for the Body; what it throws is thrown inside the Body (IdemError 100, EnvironmentError …). */
  call(name: string, commandline: string, input: string | null): Promise<ScriptOutcome>;
  limits: BodyLimits;
  /** Aborting kills the worker at once; the evaluation then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

export type BodyRequest = Omit<EvaluateRequest, "t">;

/**
 * Evaluates a Body in a worker process. Resolves with its return value as json.dumps text; rejects with what the
 * Body raised (IdemError, EnvironmentError from `call`, InternalError), a MemoryError IdemError, or the reason
 * of an abort.
 */
export function evaluateBounded(request: BodyRequest, options: BoundedOptions): Promise<string> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let worker: BodyWorker;
  try {
    worker = takeIdle(options.limits.memoryMB) ?? new BodyWorker(options.limits.memoryMB);
  } catch (error) {
    return Promise.reject(startFailure(error));
  }
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      done();
    };
    const onAbort = () => {
      worker.kill();
      prewarm(options.limits.memoryMB);
      settle(() => reject(signal?.reason));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.serve({
      message: (message) => {
        if (message.t === "call") {
          options.call(message.name, message.commandline, message.input).then(
            (outcome) => !settled && worker.send({ t: "return", outcome }),
            (error: unknown) => !settled && worker.send({ t: "raise", error: encodeError(error) }),
          );
          return;
        }
        release(worker);
        if (message.t === "done") settle(() => resolve(message.json));
        else settle(() => reject(decodeError(message.error)));
      },
      exit: (death) => {
        prewarm(options.limits.memoryMB);
        settle(() => reject(deathError(death, options.limits)));
      },
    });
    worker.send({ t: "evaluate", ...request });
  });
}

let spare: BodyWorker | null = null;

function takeIdle(memoryMB: number): BodyWorker | null {
  const worker = spare;
  spare = null;
  if (worker?.alive && worker.memoryMB === memoryMB) return worker;
  worker?.end();
  return null;
}

/** Keeps a worker that finished cleanly as the one idle worker; ends it when there is one already. */
function release(worker: BodyWorker): void {
  if (spare !== null || !worker.alive) {
    worker.end();
    return;
  }
  spare = worker;
  worker.idle(() => {
    if (spare === worker) spare = null;
  });
}

/** Starts the idle worker ahead of the next Body after one was killed (a start costs more than a reuse). */
function prewarm(memoryMB: number): void {
  if (spare !== null) return;
  try {
    release(new BodyWorker(memoryMB));
  } catch {
    // The next Body starts its own worker, and reports why it cannot.
  }
}

function deathError(death: Death, limits: BodyLimits): Error {
  if (death.error !== undefined) return startFailure(death.error);
  if (death.garbled !== undefined) {
    return new InternalError(
      `Body worker sent an unreadable message: ${InternalError.describe(death.garbled)}`,
    );
  }
  if (death.signal !== null) {
    return new IdemError(
      ErrorCode.BodyFailed,
      `MemoryError: the Body needed more memory than its limit of ${limits.memoryMB} MB (bodyMemoryMB)`,
      { cause: "MemoryError" },
    );
  }
  return new InternalError(`Body worker exited with code ${death.code}: ${death.stderr.trim()}`);
}

/** A worker that cannot start: out of processes or memory is the environment's fault, anything else a bug. */
function startFailure(error: unknown): Error {
  return (
    resourceExhausted(error, "start a Body worker") ??
    new InternalError(`Cannot start a Body worker: ${InternalError.describe(error)}`, InternalError.MESSAGE, {
      cause: error,
    })
  );
}
