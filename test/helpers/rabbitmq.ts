/**
 * A real RabbitMQ 3.10 node with its MQTT plugin for tests (Murano's broker): its own node name, folders,
 * config and free loopback ports, and its own epmd on a private port, so it never touches the system's
 * RabbitMQ node or epmd. Its MQTT speaks 3.1.1 only and maps `/` ↔ `.` between MQTT topics and AMQP routing keys.
 * Its AMQP 0-9-1 listener (`amqpUrl`, user guest) is what a Murano engine talks to; `ctl()` runs rabbitmqctl
 * against this node only (own node name, epmd port and Erlang cookie). Extra plugins (`rabbitmq_shovel`) and
 * `rabbitmq.conf` lines are options. Boots in ≈ 12–15 s. Both processes are signalled by PID; `dispose()` stops
 * the node, then its epmd.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ServerProcess } from "./server_process.ts";

export interface RabbitMqOptions {
  /** How long to wait for the AMQP and MQTT ports to accept connections. Default 60 000 ms. */
  startTimeoutMs?: number;
  /** Plugins besides `rabbitmq_mqtt` (always on), e.g. `["rabbitmq_shovel"]`. */
  plugins?: readonly string[];
  /** More `rabbitmq.conf` lines, e.g. `mqtt.subscription_ttl = 604800000`. */
  extraConfig?: readonly string[];
}

/** What `ctl()` printed. */
export interface CtlOutcome {
  stdout: string;
  stderr: string;
}

interface RabbitMqPorts {
  amqp: number;
  mqtt: number;
  dist: number;
  epmd: number;
}

/** The server script itself, not the Debian wrapper (which, run as root, re-runs it through `su rabbitmq`). */
const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/** The CLI script itself, for the same reason. */
const RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";

/** A running (or stopped) RabbitMQ node owned by one test file. */
export class RabbitMqServer extends ServerProcess {
  /** The MQTT port (what the agent and the engine connect to). */
  readonly port: number;
  readonly ports: RabbitMqPorts;
  /** The node's own epmd (Erlang's port mapper) on a private port. */
  readonly epmd: ServerProcess;
  /** `name@localhost`. */
  readonly node: string;
  /** What the node and its CLI read: node name, folders, ports, HOME (the Erlang cookie). */
  readonly #env: Readonly<Record<string, string>>;

  constructor(ports: RabbitMqPorts, dir: string, options: { startTimeoutMs: number }) {
    const node = `idem-test-${ports.amqp}@localhost`;
    const env = nodeEnv(node, ports, dir);
    super({
      label: `RabbitMQ node ${node} (MQTT port ${ports.mqtt})`,
      // RABBITMQ_ALLOW_INPUT makes the script exec the Erlang VM (else it stays as a parent shell that a
      // SIGKILL would leave the VM behind); -noinput keeps the VM off stdin all the same.
      command: [RABBITMQ_SERVER, "-noinput"],
      env,
      ports: [ports.amqp, ports.mqtt],
      dir,
      startTimeoutMs: options.startTimeoutMs,
    });
    this.node = node;
    this.#env = env;
    this.port = ports.mqtt;
    this.ports = ports;
    this.epmd = new ServerProcess({
      label: `epmd on port ${ports.epmd}`,
      command: ["epmd", "-port", String(ports.epmd), "-address", "127.0.0.1"],
      ports: [ports.epmd],
      dir,
      startTimeoutMs: 5_000,
    });
  }

  /** `mqtt://127.0.0.1:PORT` (the MQTT plugin), for the agent's `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }

  /** `amqp://guest:guest@127.0.0.1:PORT//` (AMQP 0-9-1, default vhost), for a kombu engine. */
  get amqpUrl(): string {
    return `amqp://guest:guest@${this.host}:${this.ports.amqp}//`;
  }

  /**
   * Runs `rabbitmqctl -n <node> ARGS` against this node (a CLI start costs ≈ 1–2 s). Fails with the command's
   * output when it exits non-zero.
   */
  ctl(args: readonly string[], timeoutMs = 60_000): Promise<CtlOutcome> {
    return new Promise((resolve, reject) => {
      execFile(
        RABBITMQCTL,
        ["-n", this.node, ...args],
        { env: { ...process.env, ...this.#env }, timeout: timeoutMs },
        (error, stdout, stderr) => {
          if (error) {
            reject(
              new Error(`rabbitmqctl ${args.join(" ")} failed (${error.message}):\n${stdout}\n${stderr}`),
            );
          } else resolve({ stdout, stderr });
        },
      );
    });
  }

  /** Starts the node (and, first, its epmd unless it runs): resolves once AMQP and MQTT accept connections. */
  override async start(): Promise<void> {
    if (!this.epmd.running) await this.epmd.start();
    await super.start();
  }

  /** Stops the node, then its epmd, and removes the folder. */
  override async dispose(): Promise<void> {
    await super.dispose();
    await this.epmd.dispose();
  }
}

/** The environment of the node and of its CLI (the CLI finds the node through the same epmd and cookie). */
function nodeEnv(node: string, ports: RabbitMqPorts, dir: string): Record<string, string> {
  return {
    RABBITMQ_NODENAME: node,
    RABBITMQ_BASE: dir,
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: join(dir, "rabbitmq.pid"),
    RABBITMQ_NODE_PORT: String(ports.amqp),
    RABBITMQ_DIST_PORT: String(ports.dist),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    RABBITMQ_ALLOW_INPUT: "true",
    ERL_EPMD_PORT: String(ports.epmd),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    HOME: join(dir, "home"),
  };
}

/** Starts a RabbitMQ node of its own (MQTT plugin and `options.plugins`, anonymous MQTT logins) on free loopback ports. */
export async function startRabbitMq(options: RabbitMqOptions = {}): Promise<RabbitMqServer> {
  const dir = await mkdtemp(join(tmpdir(), "idem-rabbitmq-"));
  for (const sub of ["mnesia", "log", "home"]) mkdirSync(join(dir, sub));
  const ports = await distinctFreePorts(4);
  const [amqp, mqtt, dist, epmd] = ports as [number, number, number, number];
  const config = [
    `listeners.tcp.default = 127.0.0.1:${amqp}`,
    `mqtt.listeners.tcp.default = 127.0.0.1:${mqtt}`,
    "mqtt.allow_anonymous = true",
    ...(options.extraConfig ?? []),
    "",
  ].join("\n");
  writeFileSync(join(dir, "rabbitmq.conf"), config);
  const plugins = ["rabbitmq_mqtt", ...(options.plugins ?? [])];
  writeFileSync(join(dir, "enabled_plugins"), `[${plugins.join(",")}].\n`);
  // Instead of /etc/rabbitmq/rabbitmq-env.conf (the system node's name and settings).
  writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  const server = new RabbitMqServer({ amqp, mqtt, dist, epmd }, dir, {
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  });
  try {
    await server.start();
  } catch (error) {
    await server.dispose();
    throw error;
  }
  return server;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
