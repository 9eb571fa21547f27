/**
 * A real NATS 2.9 server with its MQTT gateway for tests: its own process on free loopback ports, its own
 * JetStream store (sessions and queued messages live there and survive a restart). Its MQTT speaks 3.1.1 only
 * (a v5 CONNECT is refused), which is what the agent's protocol fallback is tested against. It never touches
 * a system NATS on 4222.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerChild, unregisterChild } from "./agent_process.ts";
import { canConnect, type ExitInfo, freePort } from "./broker.ts";

export interface NatsOptions {
  /** How long to wait for the MQTT port to accept connections. Default 15 000 ms. */
  startTimeoutMs?: number;
}

/** A running (or stopped) nats-server owned by one test file. */
export class NatsServer {
  readonly host = "127.0.0.1";
  /** The MQTT port (what the agent and the engine connect to). */
  readonly port: number;
  /** The NATS client port. */
  readonly natsPort: number;
  /** Config, JetStream store, nothing else. */
  readonly dir: string;
  readonly #configFile: string;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | undefined;
  #exit: Promise<ExitInfo> | undefined;
  #log: string[] = [];

  constructor(ports: { mqtt: number; nats: number }, dir: string, options: { startTimeoutMs: number }) {
    this.port = ports.mqtt;
    this.natsPort = ports.nats;
    this.dir = dir;
    this.#configFile = join(dir, "nats.conf");
    this.#startTimeoutMs = options.startTimeoutMs;
  }

  /** `mqtt://127.0.0.1:PORT` (the MQTT gateway), for the agent's `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The server's own log lines (all runs), for failure messages. */
  get log(): readonly string[] {
    return this.#log;
  }

  /** Starts the process and resolves once its MQTT port accepts TCP connections. */
  async start(): Promise<void> {
    if (this.#child)
      throw new Error(`Cannot start nats-server on port ${this.port} as it is already running`);
    const child = spawn("nats-server", ["-c", this.#configFile], { stdio: ["ignore", "pipe", "pipe"] });
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
    let exited: ExitInfo | undefined;
    void this.#exit.then((info) => {
      exited = info;
    });
    const deadline = Date.now() + this.#startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) {
        throw new Error(
          `nats-server (MQTT port ${this.port}) exited during start-up (code ${exited.code}, signal ${exited.signal}):\n${this.#log.slice(-20).join("\n")}`,
        );
      }
      if (await canConnect(this.host, this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(
      `nats-server did not accept MQTT connections on port ${this.port} within ${this.#startTimeoutMs} ms:\n${this.#log.slice(-20).join("\n")}`,
    );
  }

  /** Clean shutdown (SIGTERM by PID). */
  async stop(): Promise<ExitInfo> {
    return await this.#signal("SIGTERM");
  }

  /** `kill -9` the server. */
  async kill9(): Promise<ExitInfo> {
    return await this.#signal("SIGKILL");
  }

  /** Stops the server if it runs and removes its folder. For `after` hooks. */
  async dispose(): Promise<void> {
    if (this.#child) await this.#signal("SIGKILL");
    await rm(this.dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals): Promise<ExitInfo> {
    const child = this.#child;
    const exit = this.#exit;
    if (!child || !exit || child.pid === undefined) {
      throw new Error(`Cannot send ${signal} to nats-server (MQTT port ${this.port}) as it is not running`);
    }
    process.kill(child.pid, signal);
    return await exit;
  }
}

/** Starts a nats-server of its own (JetStream + MQTT) on free loopback ports. */
export async function startNats(options: NatsOptions = {}): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), "idem-nats-"));
  const store = join(dir, "jetstream");
  mkdirSync(store);
  const nats = await freePort();
  let mqtt = await freePort();
  while (mqtt === nats) mqtt = await freePort();
  const config = [
    `server_name: idem_test_${nats}`,
    `listen: 127.0.0.1:${nats}`,
    `jetstream { store_dir: ${JSON.stringify(store)} }`,
    `mqtt { listen: 127.0.0.1:${mqtt} }`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "nats.conf"), config);
  const server = new NatsServer({ mqtt, nats }, dir, { startTimeoutMs: options.startTimeoutMs ?? 15_000 });
  await server.start();
  return server;
}
