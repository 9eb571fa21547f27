/**
 * The Body worker's side (a child process started by worker.ts): reads requests from stdin, one JSON line each
 * (worker_protocol.ts), evaluates each Body synchronously with the in-thread interpreter, and brokers every script
 * call to the agent: it writes the call to stdout and blocks on stdin until the agent answers. Serves one Body
 * after another until stdin ends. Sync I/O on its own stdin/stdout is what makes a synchronous interpreter able
 * to call scripts that the agent runs asynchronously.
 *
 * A watchdog thread kills the process when its parent (the agent) is gone, so that a Body computing forever
 * cannot outlive a crashed agent (`kill -9`) as an orphan.
 */
import { readSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { ScriptOutcome } from "../eval/script.ts";
import { argsOf, compile, evaluate, toJson } from "../mod.ts";
import {
  decodeError,
  type EvaluateRequest,
  encodeError,
  type FromWorker,
  type ToWorker,
} from "./worker_protocol.ts";

/**
 * Serves Bodies on stdin/stdout until stdin ends, then exits. The last command line argument is the agent's PID
 * (worker_command.ts).
 */
export function serveBodyWorker(): never {
  watchParent(Number(process.argv.at(-1)));
  const input = new LineReader(0);
  for (let line = input.next(); line !== null; line = input.next()) {
    const request = JSON.parse(line) as ToWorker;
    if (request.t !== "evaluate") throw new Error(`Body worker: unexpected request ${request.t}`);
    send(run(request, input));
  }
  process.exit(0);
}

function run(request: EvaluateRequest, input: LineReader): FromWorker {
  const call = (name: string, commandline: string, stdin: string | null): ScriptOutcome => {
    send({ t: "call", name, commandline, input: stdin });
    const line = input.next();
    if (line === null) process.exit(0); // the agent is gone
    const answer = JSON.parse(line) as ToWorker;
    if (answer.t === "return") return answer.outcome;
    if (answer.t === "raise") throw decodeError(answer.error);
    throw new Error(`Body worker: unexpected answer ${answer.t} to a script call`);
  };
  try {
    const scripts = new Set(request.scripts);
    const program = compile(request.source, { scripts });
    const args = argsOf(request.planText);
    const value = evaluate(program, { args, scripts, call });
    return { t: "done", json: toJson(value) };
  } catch (error) {
    return { t: "fail", error: encodeError(error) };
  }
}

function send(message: FromWorker): void {
  const bytes = Buffer.from(`${JSON.stringify(message)}\n`, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset, bytes.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      pause();
    }
  }
}

/** Blocking line reads from a file descriptor (a pipe from the agent). */
class LineReader {
  private readonly fd: number;
  private readonly chunk = Buffer.alloc(64 * 1024);
  private pending: Buffer[] = [];
  private done = false;
  constructor(fd: number) {
    this.fd = fd;
  }

  /** The next line without its newline, or null once the input has ended. */
  next(): string | null {
    for (;;) {
      const last = this.pending.at(-1);
      const newline = last ? last.indexOf(10) : -1;
      if (last && newline >= 0) {
        const head = Buffer.concat([...this.pending.slice(0, -1), last.subarray(0, newline)]);
        this.pending = newline + 1 < last.length ? [last.subarray(newline + 1)] : [];
        return head.toString("utf8");
      }
      if (this.done) return null;
      const n = this.read();
      if (n === 0) this.done = true;
      else this.pending.push(Buffer.from(this.chunk.subarray(0, n)));
    }
  }

  private read(): number {
    for (;;) {
      try {
        return readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EOF") return 0;
        if (code !== "EAGAIN") throw error;
        pause();
      }
    }
  }
}

/** Sleeps 1 ms without an event loop (a non-blocking pipe that is not ready yet). */
function pause(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
}

/**
 * A thread that kills this process (SIGKILL) as soon as its parent is no longer the agent (`agentPid`): the
 * agent is gone, maybe before this worker even started.
 */
function watchParent(agentPid: number): void {
  const code = `
    const { workerData } = require("node:worker_threads");
    setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, "SIGKILL"); }, 250);`;
  const watchdog = new Worker(code, { eval: true, workerData: agentPid });
  watchdog.unref();
}
