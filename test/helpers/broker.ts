/**
 * A real mosquitto for tests: its own process on a free loopback port, its own config and persistence
 * directory, durable across `kill -9` (`autosave_on_changes true` + `autosave_interval 1`).
 * It never touches the system's mosquitto on 1883.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ServerProcess } from "./server_process.ts";

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
  /**
   * mosquitto's `max_packet_size` (bytes, whole packet): a bigger PUBLISH makes it close the connection (after
   * DISCONNECT 0x95 on MQTT 5; MQTT 5 clients see the limit in the CONNACK). It applies to every packet, plans
   * included. Default none (mosquitto's own limit).
   */
  maxPacketSize?: number;
}

/** One more mosquitto listener: `listener PORT 127.0.0.1` followed by its own lines. */
export interface ListenerOptions {
  port: number;
  /** Lines that follow the `listener` line (TLS files, `require_certificate`, `password_file`, …). */
  settings?: readonly string[];
}

/** A running (or stopped) mosquitto owned by one test file. */
export class MosquittoBroker extends ServerProcess {
  readonly port: number;
  /** The persistence file (mosquitto.db) once the broker saved something. */
  readonly dbFile: string;

  constructor(
    port: number,
    dir: string,
    options: { startTimeoutMs: number; extraPorts?: readonly number[] },
  ) {
    super({
      label: `mosquitto on port ${port}`,
      command: ["mosquitto", "-c", join(dir, "mosquitto.conf")],
      ports: [port, ...(options.extraPorts ?? [])],
      dir,
      startTimeoutMs: options.startTimeoutMs,
    });
    this.port = port;
    this.dbFile = join(dir, "persistence", "mosquitto.db");
  }

  /** `mqtt://127.0.0.1:PORT`, for the agent's `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** Starts the broker again on the same port with the same persistence directory. */
  async restart(): Promise<void> {
    await this.start();
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
  // Not a port an extra listener of the caller's already took (both were picked free, one after the other).
  const taken = new Set((options.listeners ?? []).map((listener) => listener.port));
  let port = await freePort();
  while (taken.has(port)) port = await freePort();
  const config = [
    ...(options.extraConfig ?? []),
    `listener ${port} 127.0.0.1`,
    "allow_anonymous true",
    "set_tcp_nodelay true",
    "max_queued_messages 100000",
    ...(options.maxPacketSize === undefined ? [] : [`max_packet_size ${options.maxPacketSize}`]),
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

export { canConnect, type ExitInfo, freePort } from "./server_process.ts";
