/**
 * idem's side of the differential test: each case compiled and evaluated by agent/python's public face (compile
 * with the plan's script names, evaluate, toJson; `args` from argsOf, the plan's one JSON parse) with stub
 * scripts, in a worker thread so that a Body which hangs the interpreter or
 * exhausts its heap is an answer (`hang`, `crash`) instead of a stuck test. A case that makes no progress for
 * `hangMs` ends the worker; the next worker goes on with the following case.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { IdemError } from "../../agent/errors.ts";
import {
  argsOf,
  compile,
  evaluate,
  InternalError,
  type Program,
  type ScriptCaller,
  toJson,
} from "../../agent/python/mod.ts";
import type { BodyCase, Outcome } from "./body_case.ts";

const ROLE = "idem-body-worker";

/** The result of one failure, as the agent's result would carry it. */
function failure(error: unknown, compiling: boolean): Outcome {
  const internal = error instanceof InternalError ? error : error instanceof Error ? error.cause : null;
  if (internal instanceof InternalError)
    return { kind: "crash", message: internal.detail.split("\n")[0] ?? "" };
  if (!(error instanceof IdemError)) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { kind: "crash", message: text };
  }
  if (compiling && error.code === 2) return { kind: "refused", message: error.message };
  if (compiling && error.code === 1) return { kind: "syntax", message: error.message };
  const type = typeof error.cause === "string" ? error.cause : null;
  const info = error.code === 1 && error.info === null ? null : JSON.stringify(error.info);
  return { kind: "error", code: error.code, type, message: error.message, info };
}

/** Stub scripts as python_body.ts has them: fixed answers, or the command line echoed; verifyExitcode's 100. */
function stubCaller(c: BodyCase): ScriptCaller {
  return (name, commandline) => {
    const spec = c.scripts.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no stub script ${name}`);
    const outcome = {
      exitCode: spec.exitCode,
      stdout: spec.echo ? `${name}:${commandline}` : spec.stdout,
      stderr: spec.stderr,
    };
    if (spec.verify && spec.exitCode !== 0) {
      throw new IdemError(100, `Script ${name} returned error code`, { info: outcome });
    }
    return outcome;
  };
}

/** idem's answer to one case, in this thread. */
export function idemOutcome(c: BodyCase): Outcome {
  const scripts = new Set(c.scripts.map((s) => s.name));
  let program: Program;
  try {
    program = compile(c.body, { scripts });
  } catch (error) {
    return failure(error, true);
  }
  try {
    const args = argsOf(`{"Parameters": ${c.params}}`);
    const value = evaluate(program, { args, scripts, call: stubCaller(c) });
    return { kind: "ok", json: toJson(value) };
  } catch (error) {
    return failure(error, false);
  }
}

if (!isMainThread && workerData === ROLE) {
  parentPort?.on("message", (cases: BodyCase[]) => {
    for (const c of cases) parentPort?.postMessage(idemOutcome(c));
  });
  parentPort?.postMessage("ready");
}

/**
 * Evaluates batches of cases in one worker, kept between batches; a worker that hangs (no answer for `hangMs`
 * after it is ready) or dies is replaced, and that case is answered `hang` or `crash`.
 */
export class IdemBodies {
  readonly #hangMs: number;
  readonly #heapMb: number;
  #worker: Worker | null = null;
  #ready: Promise<void> = Promise.resolve();

  constructor(options: { hangMs?: number; heapMb?: number } = {}) {
    this.#hangMs = options.hangMs ?? 10_000;
    this.#heapMb = options.heapMb ?? 1024;
  }

  /** idem's answer to each case, in order. */
  async run(cases: readonly BodyCase[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    while (out.length < cases.length) {
      const lost = await this.#send(cases.slice(out.length), out);
      if (lost !== null) out.push(lost);
    }
    return out;
  }

  close(): void {
    void this.#worker?.terminate();
    this.#worker = null;
  }

  #start(): Worker {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: ROLE,
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    this.#ready = new Promise((resolve, reject) => {
      const failed = (why: unknown) => {
        this.#worker = null;
        reject(
          new Error(`the idem worker did not start: ${why instanceof Error ? why.message : String(why)}`),
        );
      };
      worker.once("error", failed).once("exit", failed);
      worker.once("message", () => {
        worker.off("error", failed).off("exit", failed);
        resolve();
      });
    });
    return worker;
  }

  /** Runs cases until all are answered (null) or the worker is lost (the Outcome of the case it was on). */
  async #send(cases: readonly BodyCase[], out: Outcome[]): Promise<Outcome | null> {
    this.#worker ??= this.#start();
    const worker = this.#worker;
    await this.#ready;
    const start = out.length;
    let last = Date.now();
    return new Promise((resolve) => {
      const done = (lost: Outcome | null, dead: boolean) => {
        clearInterval(watch);
        worker.off("message", onMessage).off("error", onError).off("exit", onExit);
        if (dead) {
          worker.on("error", () => {});
          void worker.terminate();
          this.#worker = null;
        }
        resolve(lost);
      };
      const onMessage = (o: Outcome) => {
        out.push(o);
        last = Date.now();
        if (out.length - start === cases.length) done(null, false);
      };
      const onError = (error: Error) => done({ kind: "crash", message: `worker: ${error.message}` }, true);
      const onExit = (code: number) => done({ kind: "crash", message: `worker exited (${code})` }, true);
      const watch = setInterval(() => {
        if (Date.now() - last > this.#hangMs) {
          done({ kind: "hang", message: `idem ran over ${this.#hangMs} ms` }, true);
        }
      }, 50);
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
      worker.postMessage(cases);
    });
  }
}
