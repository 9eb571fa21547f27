/**
 * A server process a test owns (mosquitto, nats-server): started from its config file, ready once every port
 * it should listen on accepts TCP connections (polled, never a fixed sleep), signalled by PID, its log kept for
 * failure messages, its folder removed afterwards. Never a system service on a default port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { type ExitInfo, registerChild, unregisterChild } from "./children.ts";

export type { ExitInfo };

export interface ServerProcessOptions {
  /** For messages: "mosquitto on port 1234". */
  label: string;
  /** The command line, e.g. `["mosquitto", "-c", file]`. */
  command: readonly string[];
  /** Extra environment for the process (RabbitMQ takes its settings there). Default none. */
  env?: Readonly<Record<string, string>>;
  /** Every port that must accept connections before `start()` resolves. */
  ports: readonly number[];
  /** The server's temp folder, removed by `dispose()`. */
  dir: string;
  startTimeoutMs: number;
}

export class ServerProcess {
  readonly host = "127.0.0.1";
  readonly dir: string;
  readonly #options: ServerProcessOptions;
  #child: ChildProcess | undefined;
  #exit: Promise<ExitInfo> | undefined;
  #log: string[] = [];

  constructor(options: ServerProcessOptions) {
    this.#options = options;
    this.dir = options.dir;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The server's own log lines (all runs), for failure messages. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts the process and resolves once all its ports accept TCP connections. */
  async start(): Promise<void> {
    const { label, command, ports, startTimeoutMs, env } = this.#options;
    if (this.#child) throw new Error(`Cannot start ${label} as it is already running`);
    const [program, ...args] = command;
    const child = spawn(program as string, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    this.#child = child;
    registerChild(child);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) this.#log.push(line);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    let exited: ExitInfo | undefined;
    this.#exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        unregisterChild(child);
        if (this.#child === child) this.#child = undefined;
        exited = { code, signal };
        resolve(exited);
      });
    });
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `${label} exited during start-up (code ${exited.code}, signal ${exited.signal}):\n${this.#tail()}`,
        );
      }
      if (await canConnectAll(this.host, ports)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${label} did not accept connections within ${startTimeoutMs} ms:\n${this.#tail()}`);
  }

  /** `kill -9`: no clean shutdown. */
  async kill9(): Promise<ExitInfo> {
    return await this.#signal("SIGKILL");
  }

  /** Clean shutdown (SIGTERM by PID). */
  async stop(): Promise<ExitInfo> {
    return await this.#signal("SIGTERM");
  }

  /** Stops the server if it runs and removes its folder. For `after` hooks. */
  async dispose(): Promise<void> {
    if (this.#child) await this.#signal("SIGKILL");
    await rm(this.dir, { recursive: true, force: true });
  }

  #tail(): string {
    return this.#log.slice(-20).join("\n");
  }

  async #signal(signal: NodeJS.Signals): Promise<ExitInfo> {
    const child = this.#child;
    const exit = this.#exit;
    if (!child || !exit || child.pid === undefined) {
      throw new Error(`Cannot send ${signal} to ${this.#options.label} as it is not running`);
    }
    process.kill(child.pid, signal);
    return await exit;
  }
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("Cannot find a free port as the server has no TCP address"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

async function canConnectAll(host: string, ports: readonly number[]): Promise<boolean> {
  for (const port of ports) if (!(await canConnect(host, port))) return false;
  return true;
}

/** True when a TCP connection to `host:port` succeeds now. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
