/**
 * A real 3-node NATS 2.9 cluster for tests: three nats-server processes on free loopback ports (client, cluster
 * route, MQTT and monitoring port each), JetStream on every node with its own store, and the MQTT gateway keeping
 * its session and message streams on all three (`mqtt { stream_replicas: 3 }`), so that an agent's persistent
 * session and its queued QoS 1 plans survive the loss of any one node. Started and stopped by PID; never a system
 * NATS on 4222.
 *
 * Each node's config (docs/deploy.md "A clustered broker" shows the same):
 * ```
 * server_name: n1
 * listen: 127.0.0.1:CLIENT
 * http: 127.0.0.1:MONITOR
 * jetstream { store_dir: "DIR/n1" }
 * mqtt { listen: 127.0.0.1:MQTT, stream_replicas: 3 }
 * cluster { name: idem, listen: 127.0.0.1:ROUTE, routes: [nats-route://127.0.0.1:ROUTE2, …] }
 * ```
 * `start()` resolves once every node accepts connections, the JetStream meta group has a leader that every
 * running node agrees on (`/jsz`), and every running node reports itself healthy (`/healthz`: its streams caught
 * up), all polled on the nodes' monitoring ports: before that, an MQTT CONNECT is accepted on TCP but the gateway
 * cannot load sessions, and a node that just came back may not yet deliver to its subscribers.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ServerProcess } from "./server_process.ts";

export interface NatsClusterOptions {
  /** How many nodes. Default 3 (what `stream_replicas: 3` needs). */
  size?: number;
  /** How long to wait for the nodes' ports, and then for a JetStream leader. Default 30 000 ms each. */
  startTimeoutMs?: number;
}

interface NodePorts {
  client: number;
  route: number;
  mqtt: number;
  monitor: number;
}

/** One node of the cluster: a nats-server process with its MQTT gateway. */
export class NatsNode extends ServerProcess {
  /** `n1`, `n2`, … (its `server_name`). */
  readonly name: string;
  readonly ports: NodePorts;

  constructor(name: string, ports: NodePorts, dir: string, startTimeoutMs: number) {
    super({
      label: `nats-server ${name} (MQTT port ${ports.mqtt})`,
      command: ["nats-server", "-c", join(dir, `${name}.conf`)],
      ports: [ports.client, ports.mqtt, ports.monitor],
      dir,
      startTimeoutMs,
    });
    this.name = name;
    this.ports = ports;
  }

  /** The MQTT port (what agents and engines connect to). */
  get port(): number {
    return this.ports.mqtt;
  }

  /** `mqtt://127.0.0.1:PORT`: one entry of the agent's `broker.urls`. */
  get url(): string {
    return `mqtt://${this.host}:${this.ports.mqtt}`;
  }

  /**
   * Whether the node says it is healthy (`/healthz`: 200 once its JetStream assets are current; a node that just
   * came back answers 503 while it catches up).
   */
  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`http://${this.host}:${this.ports.monitor}/healthz`);
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** The JetStream meta leader this node sees (`/jsz`), or undefined when it sees none (or cannot be asked). */
  async metaLeader(): Promise<string | undefined> {
    try {
      const response = await fetch(`http://${this.host}:${this.ports.monitor}/jsz`);
      const body = (await response.json()) as { meta_cluster?: { leader?: string } };
      return body.meta_cluster?.leader || undefined;
    } catch {
      return undefined;
    }
  }
}

export class NatsCluster {
  readonly nodes: readonly NatsNode[];
  readonly dir: string;
  readonly #startTimeoutMs: number;

  constructor(nodes: readonly NatsNode[], dir: string, startTimeoutMs: number) {
    this.nodes = nodes;
    this.dir = dir;
    this.#startTimeoutMs = startTimeoutMs;
  }

  /** Every node's MQTT URL, in order: the agent's `broker.urls`. */
  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** The node whose MQTT URL (or port) this is. */
  nodeOf(url: string): NatsNode {
    const node = this.nodes.find((n) => url.endsWith(`:${n.port}`));
    if (!node) throw new Error(`Cannot find the cluster node of ${url}: nodes are ${this.urls.join(", ")}`);
    return node;
  }

  /** Starts every node that is not running, then waits for an agreed JetStream leader. */
  async start(): Promise<void> {
    await Promise.all(this.nodes.filter((node) => !node.running).map((node) => node.start()));
    await this.waitForLeader();
  }

  /**
   * Resolves with the JetStream meta leader's name once every running node names the same one and says it is
   * healthy (polled every 100 ms); fails after the start timeout with each node's answer and log tail.
   */
  async waitForLeader(): Promise<string> {
    const deadline = Date.now() + this.#startTimeoutMs;
    let seen: (string | undefined)[] = [];
    while (Date.now() < deadline) {
      const running = this.nodes.filter((node) => node.running);
      seen = await Promise.all(running.map((node) => node.metaLeader()));
      const [first] = seen;
      const agreed = first !== undefined && seen.every((leader) => leader === first);
      if (agreed && (await Promise.all(running.map((node) => node.healthy()))).every(Boolean)) return first;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const logs = this.nodes.map((node) => `--- ${node.name} ---\n${node.log.slice(-10).join("\n")}`);
    throw new Error(
      `The NATS cluster has no agreed JetStream leader after ${this.#startTimeoutMs} ms (nodes see ${JSON.stringify(seen)}):\n${logs.join("\n")}`,
    );
  }

  /** Kills every node still running (SIGKILL by PID) and removes the cluster's folder. For `after` hooks. */
  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => (node.running ? node.kill9() : undefined)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Starts a NATS cluster of its own (JetStream + MQTT on every node, `stream_replicas` = the cluster's size). */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), "idem-nats-cluster-"));
  const taken = new Set<number>();
  const port = async () => {
    let candidate = await freePort();
    while (taken.has(candidate)) candidate = await freePort();
    taken.add(candidate);
    return candidate;
  };
  const all: NodePorts[] = [];
  for (let i = 0; i < size; i++) {
    all.push({ client: await port(), route: await port(), mqtt: await port(), monitor: await port() });
  }
  const nodes = all.map((ports, i) => {
    const name = `n${i + 1}`;
    const store = join(dir, name);
    mkdirSync(store);
    const routes = all
      .filter((other) => other !== ports)
      .map((other) => `nats-route://127.0.0.1:${other.route}`);
    const config = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${ports.client}`,
      `http: 127.0.0.1:${ports.monitor}`,
      `jetstream { store_dir: ${JSON.stringify(store)} }`,
      `mqtt { listen: 127.0.0.1:${ports.mqtt}, stream_replicas: ${size} }`,
      `cluster { name: idem, listen: 127.0.0.1:${ports.route}, routes: [${routes.join(", ")}] }`,
      "",
    ].join("\n");
    writeFileSync(join(dir, `${name}.conf`), config);
    return new NatsNode(name, ports, dir, startTimeoutMs);
  });
  const cluster = new NatsCluster(nodes, dir, startTimeoutMs);
  try {
    await cluster.start();
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return cluster;
}
