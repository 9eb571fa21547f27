/**
 * A real mosquitto for tests: its own process on a free loopback port, its own config and persistence
 * directory, durable across `kill -9` (`autosave_on_changes true` + `autosave_interval 1`).
 * It never touches the system's mosquitto on 1883.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerChild, unregisterChild } from "./agent_process.ts";

export interface BrokerOptions {
  /** Persist sessions and queued messages, saved after every change. Default true. */
  durable?: boolean;
  /** How long to wait for the broker to accept connections. Default 10 000 ms. */
  startTimeoutMs?: number;
  /**
   * General config lines placed before every listener, e.g. `per_listener_settings true` (which mosquitto
   * wants before any listener's security settings). Default none.
   */
  extraConfig?: readonly string[];
  /**
   * More listeners after the default one (plain, anonymous, on {@link MosquittoBroker.port}); `start()` waits
   * until each accepts TCP connections. Default none.
   */
  listeners?: readonly ListenerOptions[];
}

/** One more mosquitto listener: `listener PORT 127.0.0.1` followed by its own lines. */
export interface ListenerOptions {
  port: number;
  /** Lines that follow the `listener` line (TLS files, `require_certificate`, `password_file`, …). */
  settings?: readonly string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or stopped) mosquitto owned by one test file. */
export class MosquittoBroker {
  readonly host = "127.0.0.1";
  readonly port: number;
  /** The broker's temp folder: config, persistence directory, log. */
  readonly dir: string;
  /** The persistence file (mosquitto.db) once the broker saved something. */
  readonly dbFile: string;
  readonly #configFile: string;
  readonly #startTimeoutMs: number;
  readonly #extraPorts: readonly number[];
  #child: ChildProcess | undefined;
  #exit: Promise<ExitInfo> | undefined;
  #log: string[] = [];

  constructor(
    port: number,
    dir: string,
    options: { startTimeoutMs: number; extraPorts?: readonly number[] },
  ) {
    this.port = port;
    this.#extraPorts = options.extraPorts ?? [];
    this.dir = dir;
    this.dbFile = join(dir, "persistence", "mosquitto.db");
    this.#configFile = join(dir, "mosquitto.conf");
    this.#startTimeoutMs = options.startTimeoutMs;
  }

  /** `mqtt://127.0.0.1:PORT`, for the agent's `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** The broker's own log lines (all runs), for failure messages. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts the process and resolves once it accepts TCP connections. */
  async start(): Promise<void> {
    if (this.#child) throw new Error(`Cannot start mosquitto on port ${this.port} as it is already running`);
    const child = spawn("mosquitto", ["-c", this.#configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    registerChild(child);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) this.#log.push(line);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.#exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        unregisterChild(child);
        if (this.#child === child) this.#child = undefined;
        resolve({ code, signal });
      });
    });
    await this.#waitAcceptingConnections(this.#exit);
  }

  /** `kill -9` the broker: no clean shutdown, only what was autosaved survives. */
  async kill9(): Promise<ExitInfo> {
    return await this.#signal("SIGKILL");
  }

  /** Starts the broker again on the same port with the same persistence directory. */
  async restart(): Promise<void> {
    await this.start();
  }

  /** Clean shutdown (SIGTERM by PID; mosquitto saves its persistence file). */
  async stop(): Promise<ExitInfo> {
    return await this.#signal("SIGTERM");
  }

  /**
   * Resolves once the persistence file contains `marker` (e.g. a plan's ID): the broker has saved a queued
   * message, so a `kill -9` cannot lose it any more.
   */
  async waitPersisted(marker: string, timeoutMs = 10_000): Promise<void> {
    const needle = Buffer.from(marker, "utf8");
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (existsSync(this.dbFile) && readFileSync(this.dbFile).includes(needle)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`Mosquitto on port ${this.port} did not persist "${marker}" within ${timeoutMs} ms`);
  }

  /** Stops the broker if it runs and removes its folder. For `after` hooks. */
  async dispose(): Promise<void> {
    if (this.#child) await this.#signal("SIGKILL");
    await rm(this.dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<ExitInfo> {
    const child = this.#child;
    const exit = this.#exit;
    if (!child || !exit || child.pid === undefined) {
      throw new Error(`Cannot send ${signal} to mosquitto on port ${this.port} as it is not running`);
    }
    process.kill(child.pid, signal);
    return await exit;
  }

  async #waitAcceptingConnections(exit: Promise<ExitInfo>): Promise<void> {
    let exited: ExitInfo | undefined;
    void exit.then((info) => {
      exited = info;
    });
    const deadline = Date.now() + this.#startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `Mosquitto on port ${this.port} exited during start-up (code ${exited.code}, signal ${exited.signal}):\n${this.#log.slice(-20).join("\n")}`,
        );
      }
      if (await canConnectAll(this.host, [this.port, ...this.#extraPorts])) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(
      `Mosquitto on port ${this.port} did not accept connections within ${this.#startTimeoutMs} ms:\n${this.#log.slice(-20).join("\n")}`,
    );
  }
}

/** Starts a mosquitto of its own on a free loopback port. */
export async function startBroker(options: BrokerOptions = {}): Promise<MosquittoBroker> {
  const durable = options.durable ?? true;
  const dir = await mkdtemp(join(tmpdir(), "idem-mosquitto-"));
  // mosquitto run as root switches to the user `mosquitto`, which must reach the persistence directory.
  chmodSync(dir, 0o755);
  const persistence = join(dir, "persistence");
  mkdirSync(persistence);
  if (process.getuid?.() === 0) execFileSync("chown", ["mosquitto:", persistence]);
  const port = await freePort();
  const config = [
    ...(options.extraConfig ?? []),
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "set_tcp_nodelay true",
    "max_queued_messages 100000",
    `persistence ${durable}`,
    `persistence_location ${persistence}/`,
    "persistence_file mosquitto.db",
    ...(durable ? ["autosave_on_changes true", "autosave_interval 1"] : []),
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    ...(options.listeners ?? []).flatMap((listener) => [
      `listener ${listener.port} 127.0.0.1`,
      ...(listener.settings ?? []),
    ]),
    "",
  ].join("\n");
  writeFileSync(join(dir, "mosquitto.conf"), config);
  const broker = new MosquittoBroker(port, dir, {
    startTimeoutMs: options.startTimeoutMs ?? 10_000,
    extraPorts: (options.listeners ?? []).map((listener) => listener.port),
  });
  await broker.start();
  return broker;
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
