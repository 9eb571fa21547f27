/**
 * One Body worker process (see worker.ts for how they serve Bodies): started with {@link workerCommand}, sealed
 * from the agent's descriptors (agent/sealed_stdio.ts), spoken to in frames (worker_protocol.ts). It reports each
 * message, and its end once (a death the agent did not cause: `exit`); killed or ended by the agent, it reports
 * nothing more.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { sealedStdio } from "../../sealed_stdio.ts";
import { workerCommand } from "./worker_command.ts";
import { encodeFrame, FrameReader, type FromWorker, type ToWorker } from "./worker_protocol.ts";

/** How long an idle worker waits for the next Body before it is ended. */
export const IDLE_MS = 30_000;
/** How much of a worker's stderr is kept for the log of an unexpected death. */
const STDERR_TAIL = 4096;

export interface Death {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The worker could not be started. */
  error?: unknown;
  /** The worker sent bytes that are no message. */
  garbled?: unknown;
}

export interface Listener {
  message(message: FromWorker): void;
  exit(death: Death): void;
}

/** One worker process and its framed protocol. */
export class BodyWorker {
  readonly memoryMB: number;
  private readonly child: ChildProcess;
  private listener: Listener | null = null;
  private readonly frames = new FrameReader<FromWorker>();
  private stderr = "";
  private killed = false;
  private gone = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(memoryMB: number) {
    this.memoryMB = memoryMB;
    const command = workerCommand(memoryMB);
    this.child = spawn(command.file, command.args, {
      env: command.env,
      stdio: sealedStdio(["pipe", "pipe", "pipe"]),
    });
    this.child.stdin?.on("error", () => {}); // a dead worker: its exit says why
    this.child.stdout?.on("data", (chunk: Buffer) => this.receive(chunk));
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_TAIL);
    });
    this.child.on("error", (error) => this.ended({ code: null, signal: null, stderr: this.stderr, error }));
    this.child.on("exit", (code, signal) => this.ended({ code, signal, stderr: this.stderr }));
  }

  get alive(): boolean {
    return !this.gone && !this.killed;
  }

  serve(listener: Listener): void {
    clearTimeout(this.idleTimer);
    this.listener = listener;
    for (const handle of this.handles()) handle.ref();
  }

  send(message: ToWorker): void {
    this.child.stdin?.write(encodeFrame(message));
  }

  /** Waits for the next Body without keeping the agent alive; ended after IDLE_MS. */
  idle(onEnd: () => void): void {
    this.listener = null;
    for (const handle of this.handles()) handle.unref();
    this.idleTimer = setTimeout(() => {
      onEnd();
      this.end();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  /** Ends an idle worker gently: its input ends, it exits. */
  end(): void {
    this.killed = true;
    this.child.stdin?.end();
  }

  kill(): void {
    this.killed = true;
    if (!this.gone) this.child.kill("SIGKILL");
  }

  /** The process and its pipes (net.Socket at run time): unreferenced, they do not keep the agent alive. */
  private handles(): { ref(): void; unref(): void }[] {
    const pipes = [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as ({
      ref?(): void;
      unref?(): void;
    } | null)[];
    const sockets = pipes.filter((p): p is { ref(): void; unref(): void } => typeof p?.unref === "function");
    return [this.child, ...sockets];
  }

  /** A worker that sends what is not a frame of the protocol is broken: it is killed, its Body fails (bug kind). */
  private receive(chunk: Buffer): void {
    let messages: FromWorker[];
    try {
      messages = this.frames.push(chunk);
    } catch (error) {
      const listener = this.listener;
      this.kill();
      listener?.exit({ code: null, signal: null, stderr: this.stderr, garbled: error });
      return;
    }
    for (const message of messages) this.listener?.message(message);
  }

  private ended(death: Death): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.idleTimer);
    if (!this.killed) this.listener?.exit(death);
    this.listener = null;
  }
}
