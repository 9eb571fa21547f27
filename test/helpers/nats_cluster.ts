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
 * `start()` resolves once every node accepts connections and the cluster serves MQTT sessions
 * ({@link NatsCluster.waitUntilServing}): before that, an MQTT CONNECT is accepted on TCP but the gateway cannot
 * load sessions, and a node that just came back may not yet deliver to its subscribers.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metaLeaderOf, mqttRoundTrip, serverHealth } from "./nats_readiness.ts";
import { freePort, ServerProcess } from "./server_process.ts";

export interface NatsClusterOptions {
  /** How many nodes. Default 3 (what `stream_replicas: 3` needs). */
  size?: number;
  /** How long to wait for the nodes' ports. Default 30 000 ms. */
  startTimeoutMs?: number;
  /**
   * How long to wait, after the ports, for the cluster to serve MQTT sessions (a node that rejoins took 0.7–2 s
   * here; the bound only says when to give up). Default 90 000 ms.
   */
  readyTimeoutMs?: number;
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
}

export class NatsCluster {
  readonly nodes: readonly NatsNode[];
  readonly dir: string;
  readonly #readyTimeoutMs: number;

  constructor(nodes: readonly NatsNode[], dir: string, readyTimeoutMs: number) {
    this.nodes = nodes;
    this.dir = dir;
    this.#readyTimeoutMs = readyTimeoutMs;
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

  /** Starts every node that is not running, then waits until the cluster serves MQTT sessions. */
  async start(): Promise<void> {
    await Promise.all(this.nodes.filter((node) => !node.running).map((node) => node.start()));
    await this.waitUntilServing();
  }

  /**
   * Resolves with the JetStream meta leader's name once the running nodes serve MQTT sessions: every one names
   * the same meta leader (`/jsz`), says it is current with it (`/healthz?js-server-only=true`), and takes a clean
   * MQTT session whose QoS 1 subscription gets a message published through another node (`nats_readiness.ts`
   * says why these checks and not the plain `/healthz`). Polled every 250 ms; fails after the ready timeout with
   * what each node answered last and its log tail.
   */
  async waitUntilServing(): Promise<string> {
    const deadline = Date.now() + this.#readyTimeoutMs;
    let problems: string[] = [];
    while (Date.now() < deadline) {
      const check = await this.#check();
      if (check.leader !== undefined && check.problems.length === 0) return check.leader;
      problems = check.problems;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const logs = this.nodes.map((node) => `--- ${node.name} ---\n${node.log.slice(-10).join("\n")}`);
    throw new Error(
      `The NATS cluster does not serve MQTT sessions after ${this.#readyTimeoutMs} ms: ${problems.join("; ")}. ` +
        `Look for "JetStream cluster" and "mqtt" lines in the node logs:\n${logs.join("\n")}`,
    );
  }

  /** The agreed meta leader, and why the running nodes do not serve MQTT sessions yet (empty: they do). */
  async #check(): Promise<{ leader?: string; problems: string[] }> {
    const running = this.nodes.filter((node) => node.running);
    if (running.length === 0) return { problems: ["no node is running"] };
    const leaders = await Promise.all(running.map((node) => metaLeaderOf(node)));
    const [leader] = leaders;
    if (leader === undefined || !leaders.every((seen) => seen === leader)) {
      const names = running.map((node) => node.name).join(", ");
      return { problems: [`the nodes ${names} see the meta leaders ${JSON.stringify(leaders)}`] };
    }
    const health = await Promise.all(running.map(async (node) => [node.name, await serverHealth(node)]));
    const unhealthy = health
      .filter(([, problem]) => problem !== undefined)
      .map(([name, p]) => `${name}: ${p}`);
    if (unhealthy.length > 0) return { leader, problems: unhealthy };
    const trips = await Promise.all(
      running.map((node, i) => mqttRoundTrip(node, running[(i + 1) % running.length] as NatsNode)),
    );
    return { leader, problems: trips.filter((problem) => problem !== undefined) };
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
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
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
  const cluster = new NatsCluster(nodes, dir, readyTimeoutMs);
  try {
    await cluster.start();
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return cluster;
}
