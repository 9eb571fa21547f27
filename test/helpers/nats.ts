/**
 * A real NATS 2.9 server with its MQTT gateway for tests: its own process on free loopback ports, its own
 * JetStream store (sessions and queued messages live there and survive a restart). Its MQTT speaks 3.1.1 only
 * (a v5 CONNECT is refused), which is what the agent's protocol fallback is tested against. It never touches
 * a system NATS on 4222.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ServerProcess } from "./server_process.ts";

export interface NatsOptions {
  /** How long to wait for the MQTT port to accept connections. Default 15 000 ms. */
  startTimeoutMs?: number;
  /** More lines for nats.conf (`authorization { … }`, `no_auth_user: …`). Default none. */
  extraConfig?: readonly string[];
}

/** A running (or stopped) nats-server owned by one test file. */
export class NatsServer extends ServerProcess {
  /** The MQTT port (what the agent and the engine connect to). */
  readonly port: number;
  /** The NATS client port. */
  readonly natsPort: number;

  constructor(ports: { mqtt: number; nats: number }, dir: string, options: { startTimeoutMs: number }) {
    super({
      label: `nats-server (MQTT port ${ports.mqtt})`,
      command: ["nats-server", "-c", join(dir, "nats.conf")],
      ports: [ports.mqtt],
      dir,
      startTimeoutMs: options.startTimeoutMs,
    });
    this.port = ports.mqtt;
    this.natsPort = ports.nats;
  }

  /** `mqtt://127.0.0.1:PORT` (the MQTT gateway), for the agent's `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
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
    ...(options.extraConfig ?? []),
    "",
  ].join("\n");
  writeFileSync(join(dir, "nats.conf"), config);
  const server = new NatsServer({ mqtt, nats }, dir, { startTimeoutMs: options.startTimeoutMs ?? 15_000 });
  await server.start();
  return server;
}
