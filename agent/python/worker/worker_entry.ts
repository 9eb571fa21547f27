/**
 * The Body worker's side (a child process started by worker.ts): reads requests from stdin, one frame each
 * (worker_protocol.ts), evaluates each Body synchronously with the in-thread interpreter, and brokers every script
 * call to the agent: it writes the call to stdout and blocks on stdin until the agent answers. Serves one Body
 * after another until stdin ends. Sync I/O on its own stdin/stdout is what makes a synchronous interpreter able
 * to call scripts that the agent runs asynchronously. The Body's `args` come from the Parameters tree the agent
 * sends: the plan is never parsed here.
 *
 * A watchdog thread (worker_watchdog.ts) kills the process when its parent (the agent) is gone, so that a Body
 * computing forever cannot outlive a crashed agent (`kill -9`) as an orphan, and when the process has grown by
 * more than its memory limit, so that a Body that fills memory is answered MemoryError at once instead of after
 * V8's last-ditch garbage collections.
 */
import { readSync, writeSync } from "node:fs";
import module from "node:module";
import type { ScriptOutcome } from "../eval/script.ts";
import { compile, evaluate, fromJson, toJson } from "../mod.ts";
import {
  decodeError,
  decodeFrame,
  type EvaluateRequest,
  encodeError,
  encodeFrame,
  FRAME_HEADER,
  type FromWorker,
  type ToWorker,
} from "./worker_protocol.ts";
import { watchWorker } from "./worker_watchdog.ts";

/**
 * Serves Bodies on stdin/stdout until stdin ends, then exits. The last two command line arguments are the memory
 * limit in MB and the agent's PID (worker_command.ts).
 */
export function serveBodyWorker(): never {
  watchWorker({ agentPid: Number(process.argv.at(-1)), memoryMB: Number(process.argv.at(-2)) });
  const input = new FrameInput(0);
  let served = 0;
  for (let request = input.next(); request !== null; request = input.next()) {
    if (request.t !== "evaluate") throw new Error(`Body worker: unexpected request ${request.t}`);
    send(run(request, input));
    if (++served === 1) flushCompileCache();
  }
  process.exit(0);
}

/**
 * Writes V8's compile cache now (when the worker runs with one, worker_command.ts) rather than at exit, which a
 * worker killed by a Timeout or at its memory limit never reaches: the code of the first Body's run is cached.
 */
function flushCompileCache(): void {
  (module as { flushCompileCache?: () => void }).flushCompileCache?.();
}

function run(request: EvaluateRequest, input: FrameInput): FromWorker {
  const call = (name: string, commandline: string, stdin: string | null): ScriptOutcome => {
    send({ t: "call", name, commandline, input: stdin });
    const answer = input.next();
    if (answer === null) process.exit(0); // the agent is gone
    if (answer.t === "return") return answer.outcome;
    if (answer.t === "raise") throw decodeError(answer.error);
    throw new Error(`Body worker: unexpected answer ${answer.t} to a script call`);
  };
  try {
    const scripts = new Set(request.scripts);
    const program = compile(request.source, { scripts });
    const value = evaluate(program, { args: fromJson(request.parameters), scripts, call });
    return { t: "done", json: toJson(value) };
  } catch (error) {
    return { t: "fail", error: encodeError(error) };
  }
}

function send(message: FromWorker): void {
  const bytes = encodeFrame(message);
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

/** Blocking frame reads from a file descriptor (a pipe from the agent). */
class FrameInput {
  private readonly fd: number;
  private readonly chunk = Buffer.alloc(64 * 1024);
  private buffered: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(fd: number) {
    this.fd = fd;
  }

  /** The next message, or null once the input has ended. */
  next(): ToWorker | null {
    if (!this.fill(FRAME_HEADER)) return null;
    const end = FRAME_HEADER + this.buffered.readUInt32BE(0);
    if (!this.fill(end)) return null;
    const message = decodeFrame<ToWorker>(this.buffered.subarray(FRAME_HEADER, end));
    this.buffered = this.buffered.subarray(end);
    return message;
  }

  /** Reads until `size` bytes are buffered; false when the input ends first. */
  private fill(size: number): boolean {
    const parts = [this.buffered];
    let length = this.buffered.length;
    while (length < size && !this.done) {
      const n = this.read();
      if (n === 0) this.done = true;
      else {
        parts.push(Buffer.from(this.chunk.subarray(0, n)));
        length += n;
      }
    }
    if (parts.length > 1) this.buffered = Buffer.concat(parts);
    return length >= size;
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
