/**
 * The engine side of the tests: an MQTT client that sends plans (QoS 1) and collects results and events,
 * event-driven waits with clear timeouts; Murano plan builders that give every send a fresh ID, Stamp and
 * file ids (as a Murano engine does); and the side-effect file through which tests count executions.
 */
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, readFileSync, watch } from "node:fs";
import { dirname, join } from "node:path";
import { connect, type IClientPublishOptions, type MqttClient } from "mqtt";
import {
  type AgentOptions,
  type AgentProcess,
  makeTempDir,
  removeDir,
  startAgent,
  uniqueAgentId,
} from "./agent_process.ts";
import { type MosquittoBroker, startBroker } from "./broker.ts";
import type { ServerProcess } from "./server_process.ts";

// ---------------------------------------------------------------------------------------------------------
// Wire shapes (SPEC sections 7 and 8)

export interface IdemInfo {
  AgentID: string;
  Generation: number | null;
  Key: string;
  Fingerprint: string;
  Policy: string;
  Decision: string;
  Attempt: number;
  RanAs: string | null;
  Replayed: boolean;
}

export interface Result {
  FormatVersion: string;
  ID: string;
  SourceID: string;
  Action: string;
  ErrorCode: number;
  Body: unknown;
  Time: string;
  Idem?: IdemInfo;
}

export interface ReceivedResult {
  topic: string;
  result: Result;
  /** MQTT 5 correlation data, if the reply carried any. */
  correlationData?: Buffer;
}

export interface AgentEvent {
  Event: string;
  Key?: string;
  SourceID?: string;
  Generation?: number | null;
  Time?: string;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// The MQTT engine

export interface EngineOptions {
  agentId: string;
  /** Topic prefix, default `idem`. */
  prefix?: string;
  /** MQTT client id; default a fresh `engine-…`. The session is persistent, so results queue while it is away. */
  clientId?: string;
  /** Extra topics to subscribe to (e.g. a plan's `ReplyTo`); results may arrive there too. */
  replyTopics?: readonly string[];
  /** Default timeout of the waits, in ms. Default 20 000. */
  timeoutMs?: number;
  /** MQTT 5 (default) or 4 (3.1.1, clean session 0: for brokers that refuse 5, such as NATS 2.9). */
  protocolVersion?: 4 | 5;
}

interface Waiter {
  check(): boolean;
}

export class Engine {
  readonly agentId: string;
  readonly prefix: string;
  readonly results: ReceivedResult[] = [];
  readonly events: AgentEvent[] = [];
  /** Payloads on a result topic that were not JSON results. */
  readonly garbage: string[] = [];
  status: Record<string, unknown> | undefined;
  lastError: Error | undefined;
  readonly #client: MqttClient;
  readonly #timeoutMs: number;
  readonly #resultTopics = new Set<string>();
  #waiters = new Set<Waiter>();

  constructor(client: MqttClient, options: EngineOptions) {
    this.#client = client;
    this.agentId = options.agentId;
    this.prefix = options.prefix ?? "idem";
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    this.#resultTopics.add(this.topic("results"));
    for (const topic of options.replyTopics ?? []) this.#resultTopics.add(topic);
    client.on("message", (topic, payload, packet) => this.#onMessage(topic, payload, packet.properties));
    // Connection errors while the broker is down are expected; mqtt.js reconnects by itself.
    client.on("error", (error) => {
      this.lastError = error;
    });
  }

  topic(name: "plans" | "results" | "status" | "events"): string {
    return `${this.prefix}/${this.agentId}/${name}`;
  }

  async subscribeAll(): Promise<void> {
    const topics: Record<string, { qos: 0 | 1 }> = {
      [this.topic("events")]: { qos: 0 },
      [this.topic("status")]: { qos: 1 },
    };
    for (const topic of this.#resultTopics) topics[topic] = { qos: 1 };
    await this.#client.subscribeAsync(topics);
  }

  /** Also collect results published on `topic` (a plan's `ReplyTo`). */
  async addReplyTopic(topic: string): Promise<void> {
    this.#resultTopics.add(topic);
    await this.#client.subscribeAsync(topic, { qos: 1 });
  }

  /**
   * Publishes a plan (an object is sent as JSON; a string or Buffer as is) to the agent's plans topic, QoS 1,
   * and resolves on the broker's PUBACK (while the broker is down: once it is back).
   */
  async send(plan: object | string | Buffer, options: IClientPublishOptions = {}): Promise<void> {
    const payload = typeof plan === "string" || Buffer.isBuffer(plan) ? plan : JSON.stringify(plan);
    await this.#client.publishAsync(this.topic("plans"), payload, { qos: 1, ...options });
  }

  /** Every result received for `sourceId`, duplicates (re-sent outbox entries) included. */
  resultsFor(sourceId: string): Result[] {
    return this.results.filter((r) => r.result.SourceID === sourceId).map((r) => r.result);
  }

  /** The results for `sourceId`, one per result `ID` (a re-sent outbox entry is the same result). */
  distinctResultsFor(sourceId: string): Result[] {
    const byId = new Map<string, Result>();
    for (const result of this.resultsFor(sourceId)) if (!byId.has(result.ID)) byId.set(result.ID, result);
    return [...byId.values()];
  }

  /** Waits until at least `count` results with `SourceID` = `sourceId` arrived; resolves with them. */
  async waitForResults(sourceId: string, count = 1, timeoutMs = this.#timeoutMs): Promise<Result[]> {
    await this.#waitFor(
      () => this.resultsFor(sourceId).length >= count,
      timeoutMs,
      () => `${count} result(s) with SourceID ${sourceId} (have ${this.resultsFor(sourceId).length})`,
    );
    return this.resultsFor(sourceId);
  }

  /** Waits for the first result of `sourceId`. */
  async waitForResult(sourceId: string, timeoutMs = this.#timeoutMs): Promise<Result> {
    const [first] = await this.waitForResults(sourceId, 1, timeoutMs);
    if (!first) throw new Error(`No result for ${sourceId}`);
    return first;
  }

  /** Events matching `match` (field equality). */
  eventsMatching(match: Partial<AgentEvent>): AgentEvent[] {
    return this.events.filter((event) =>
      Object.entries(match).every(([field, value]) => event[field] === value),
    );
  }

  /** Waits until `count` events match `match` (field equality, e.g. `{Event: "stale", SourceID}`). */
  async waitForEvents(
    match: Partial<AgentEvent>,
    count = 1,
    timeoutMs = this.#timeoutMs,
  ): Promise<AgentEvent[]> {
    await this.#waitFor(
      () => this.eventsMatching(match).length >= count,
      timeoutMs,
      () => `${count} event(s) matching ${JSON.stringify(match)} (have ${this.eventsMatching(match).length})`,
    );
    return this.eventsMatching(match);
  }

  /** Waits until the retained presence (`P/A/status`) has `State` = `state`; resolves with it. */
  async waitForStatus(
    state: "online" | "offline",
    timeoutMs = this.#timeoutMs,
  ): Promise<Record<string, unknown>> {
    await this.#waitFor(
      () => this.status?.State === state,
      timeoutMs,
      () => `status ${state} (have ${JSON.stringify(this.status)})`,
    );
    return this.status ?? {};
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }

  #waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!condition()) return false;
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(`Engine timed out after ${timeoutMs} ms waiting for ${describe()}\n${this.summary()}`),
        );
      }, timeoutMs);
      if (!waiter.check()) this.#waiters.add(waiter);
    });
  }

  /** What the engine received so far, for failure messages. */
  summary(): string {
    const results = this.results.map(
      ({ topic, result }) =>
        `  result on ${topic}: ID=${result.ID} SourceID=${result.SourceID} ErrorCode=${result.ErrorCode} Decision=${result.Idem?.Decision} Body=${JSON.stringify(result.Body)?.slice(0, 200)}`,
    );
    const events = this.events.map((event) => `  event: ${JSON.stringify(event).slice(0, 300)}`);
    return ["--- engine received ---", ...results, ...events].join("\n");
  }

  #onMessage(topic: string, payload: Buffer, properties: { correlationData?: Buffer } | undefined): void {
    const text = payload.toString("utf8");
    if (sameTopic(topic, this.topic("events"))) {
      try {
        this.events.push(JSON.parse(text) as AgentEvent);
      } catch {
        this.garbage.push(text);
      }
    } else if (sameTopic(topic, this.topic("status"))) {
      try {
        this.status = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        this.garbage.push(text);
      }
    } else if ([...this.#resultTopics].some((resultTopic) => sameTopic(topic, resultTopic))) {
      try {
        const result = JSON.parse(text) as Result;
        const received: ReceivedResult = { topic, result };
        if (properties?.correlationData) received.correlationData = properties.correlationData;
        this.results.push(received);
      } catch {
        this.garbage.push(text);
      }
    }
    for (const waiter of [...this.#waiters]) waiter.check();
  }
}

/**
 * True when two topic names are the same with `.` and `/` taken as the same level separator: RabbitMQ's MQTT
 * plugin delivers `idem/web-1.prod/results` as `idem/web-1/prod/results` (it swaps them for AMQP routing keys).
 */
export function sameTopic(a: string, b: string): boolean {
  return a.replaceAll(".", "/") === b.replaceAll(".", "/");
}

/**
 * Connects a test engine (MQTT 5 by default, or 3.1.1; persistent session; reconnecting quickly after a
 * broker restart) and subscribes to the agent's results, events and status.
 */
export async function connectEngine(
  broker: { host: string; port: number },
  options: EngineOptions,
): Promise<Engine> {
  const protocolVersion = options.protocolVersion ?? 5;
  const client = connect({
    host: broker.host,
    port: broker.port,
    protocolVersion,
    clientId: options.clientId ?? `engine-${randomUUID().slice(0, 8)}`,
    clean: false,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    reconnectPeriod: 100,
    connectTimeout: 5_000,
  });
  const engine = new Engine(client, options);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await engine.subscribeAll();
  return engine;
}

// ---------------------------------------------------------------------------------------------------------
// Murano plans

export interface Idempotency {
  Policy?: string;
  Key?: string;
  Options?: Record<string, unknown>;
}

export interface PlanOptions {
  /** The side-effect file the script appends to (see {@link readExecutions}). */
  effects: string;
  /** `args.tag`, passed to the script as its command line; part of the fingerprint. Default "t". */
  tag?: string;
  /** The script sleeps this long between its `start` and `done` lines. Default 0. */
  sleepSeconds?: number;
  /** Sleep only in the first execution recorded in the file (a re-run after a crash is quick). */
  sleepFirstRunOnly?: boolean;
  /**
   * The script records `overlap <self> <other>` for every earlier execution (a `start` line in the file)
   * whose process is still alive when it starts.
   */
  checkOverlap?: boolean;
  /** The script's exit code. Default 0. */
  exitCode?: number;
  /** Murano Body; default `return deploy(args.tag).stdout`. */
  body?: string;
  /** Name of the entry point file. Default `deploy.sh`. */
  entryName?: string;
  /** Encoding of the entry point file; the data file uses the other one. Default Text. */
  bodyType?: "Text" | "Base64";
  /** Default 2.1.0. */
  formatVersion?: string;
  generation?: number;
  idempotency?: Idempotency;
  timeout?: number;
  replyTo?: string;
  /** More Parameters (part of the fingerprint). */
  parameters?: Record<string, unknown>;
  /** More top-level fields. */
  extra?: Record<string, unknown>;
}

export type MuranoPlan = Record<string, unknown> & { ID: string };

/** A short random id, like Murano's uuid4().hex. */
export function randomId(): string {
  return randomUUID().replaceAll("-", "");
}

/** The shell script of a test plan: it records its execution (`start`/`done` with `$$` and its args). */
export function effectScript(options: PlanOptions): string {
  const file = options.effects.replaceAll("'", "'\\''");
  const lines = ["#!/bin/sh", `F='${file}'`, 'echo "start $$ $*" >> "$F"'];
  if (options.checkOverlap) {
    lines.push(
      `for p in $(sed -n 's/^start \\([0-9]*\\).*/\\1/p' "$F"); do`,
      `  if [ "$p" != "$$" ] && [ -r "/proc/$p/status" ] && ! grep -q '^State:[[:space:]]*[ZX]' "/proc/$p/status"; then`,
      '    echo "overlap $$ $p" >> "$F"',
      "  fi",
      "done",
    );
  }
  if (options.sleepSeconds && options.sleepFirstRunOnly) {
    lines.push(`if [ "$(grep -c '^start ' "$F")" -le 1 ]; then sleep ${options.sleepSeconds}; fi`);
  } else if (options.sleepSeconds) {
    lines.push(`sleep ${options.sleepSeconds}`);
  }
  lines.push('echo "done $$ $*" >> "$F"', 'echo "ran $$ $* $(cat ./data.txt)"');
  lines.push(`exit ${options.exitCode ?? 0}`, "");
  return lines.join("\n");
}

/**
 * A Murano FormatVersion 2.1.0 plan with one Application script (entry point + a data file, Text and Base64).
 * Every call returns a fresh `ID`, `Stamp` and file ids: calling it twice with the same options is a
 * re-send by a Murano engine (same fingerprint, nothing else in common).
 */
export function applicationPlan(options: PlanOptions): MuranoPlan {
  const entryId = randomUUID();
  const dataId = randomUUID();
  const entryType = options.bodyType ?? "Text";
  const dataType = entryType === "Text" ? "Base64" : "Text";
  const encode = (text: string, type: "Text" | "Base64") =>
    type === "Text" ? text : Buffer.from(text, "utf8").toString("base64");
  const script = effectScript(options);
  const plan: MuranoPlan = {
    FormatVersion: options.formatVersion ?? "2.1.0",
    ID: randomId(),
    Name: "Deploy test application",
    Version: "1.0.0",
    Action: "Execute",
    Stamp: Math.floor(Math.random() * 2 ** 31),
    Parameters: { tag: options.tag ?? "t", ...options.parameters },
    Body: options.body ?? "return deploy(args.tag).stdout",
    Scripts: {
      deploy: {
        Type: "Application",
        Version: "1.0.0",
        EntryPoint: entryId,
        Files: [dataId],
        Options: { captureStdout: true, captureStderr: true, verifyExitcode: true },
      },
    },
    // Like a Murano engine's, the Files map's order is not stable between sends.
    Files: Object.fromEntries(
      shuffle([
        [
          entryId,
          { Name: options.entryName ?? "deploy.sh", BodyType: entryType, Body: encode(script, entryType) },
        ],
        [dataId, { Name: "data.txt", BodyType: dataType, Body: encode("payload", dataType) }],
      ]),
    ),
  };
  if (options.generation !== undefined) plan.Generation = options.generation;
  if (options.idempotency !== undefined) plan.Idempotency = options.idempotency;
  if (options.timeout !== undefined) plan.Timeout = options.timeout;
  if (options.replyTo !== undefined) plan.ReplyTo = options.replyTo;
  Object.assign(plan, options.extra);
  return plan;
}

function shuffle<T>(items: T[]): T[] {
  return Math.random() < 0.5 ? items : items.reverse();
}

// ---------------------------------------------------------------------------------------------------------
// The side-effect file

export interface Execution {
  pid: number;
  args: string;
  done: boolean;
}

export interface Effects {
  executions: Execution[];
  /** `overlap <pid> <other pid>` lines: a run started while an earlier one was alive. */
  overlaps: string[];
  lines: string[];
}

/** Reads the side-effect file: one execution per `start` line. */
export function readExecutions(file: string): Effects {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const executions: Execution[] = [];
  const overlaps: string[] = [];
  for (const line of lines) {
    const [word, pid, ...rest] = line.split(" ");
    if (word === "start") executions.push({ pid: Number(pid), args: rest.join(" ").trim(), done: false });
    else if (word === "done") {
      const execution = executions.find((e) => e.pid === Number(pid));
      if (execution) execution.done = true;
    } else if (word === "overlap") overlaps.push(line);
  }
  return { executions, overlaps, lines };
}

/** Waits (file watch, with a short poll as a safety net) until `condition` holds for the side-effect file. */
export function waitForEffects(
  file: string,
  condition: (effects: Effects) => boolean,
  timeoutMs = 20_000,
): Promise<Effects> {
  return new Promise((resolve, reject) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const check = () => {
      const effects = readExecutions(file);
      if (!condition(effects)) return;
      finish();
      resolve(effects);
    };
    const poll = setInterval(check, 50);
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(
          `Side-effect file ${file} did not reach the expected state within ${timeoutMs} ms:\n${readExecutions(file).lines.join("\n")}`,
        ),
      );
    }, timeoutMs);
    const finish = () => {
      clearInterval(poll);
      clearTimeout(timer);
      watcher?.close();
    };
    try {
      watcher = watch(dirname(file), check);
    } catch {
      // the poll covers it
    }
    check();
  });
}

/** True when `pid` is a live (not zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s*[ZX]/m.test(status);
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is dead (or a zombie), false if it is still alive after `timeoutMs`. */
export async function waitForDeath(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * Kills the process groups of the executions recorded in `file` (scripts orphaned by a `kill -9` of the
 * agent), for `after` hooks.
 */
export function killRecordedExecutions(file: string): void {
  const ownGroup = processGroupOf(process.pid);
  for (const { pid } of readExecutions(file).executions) {
    const pgid = processGroupOf(pid);
    if (pgid === undefined) continue;
    // Never the test runner's own group (should the agent fail to give scripts a group of their own).
    const targets = pgid === ownGroup ? [pid] : [-pgid, pid];
    for (const target of targets) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[2]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// A test's world: its own broker, temp folder, agent id, data dir, side-effect file and engine

/** A broker process a scene can run: mosquitto by default, nats-server for the 3.1.1 fallback tests. */
export interface MqttServer extends ServerProcess {
  readonly url: string;
  readonly port: number;
}

export interface SceneOptions<S extends MqttServer> {
  /** For the default mosquitto: persistence saved after every change. Default true. */
  durableBroker?: boolean;
  /** Starts another broker instead of the default mosquitto; gets the scene's folder (created already). */
  server?: (root: string) => Promise<S>;
  /** The test engine's MQTT version. Default 5. */
  engineProtocol?: 4 | 5;
}

export interface Scene<S extends MqttServer = MosquittoBroker> {
  broker: S;
  /** The test's temp folder (removed afterwards). */
  root: string;
  agentId: string;
  /** The agent's data dir (LMDB journal) inside `root`. */
  dataDir: string;
  /** The side-effect file the test's scripts append to. */
  effects: string;
  engine: Engine;
  /** Every agent started through {@link Scene.startAgent}, killed afterwards if still running. */
  agents: AgentProcess[];
  /** Starts `idem run` against this scene's broker, agent id and data dir (each overridable). */
  startAgent(options?: Partial<AgentOptions>): Promise<AgentProcess>;
}

/**
 * Opens a scene and registers its cleanup with `hooks.after` (a test context `t`, or `{ after }` from
 * node:test for a suite): agents killed, orphaned scripts killed, engine closed, broker stopped, temp folder
 * removed — also when the test fails.
 */
export async function openScene<S extends MqttServer = MosquittoBroker>(
  hooks: { after(fn: () => Promise<void>): void },
  name: string,
  options: SceneOptions<S> = {},
): Promise<Scene<S>> {
  const root = await makeTempDir(name);
  // Scripts may run as another user than the test; let them append to the side-effect file.
  chmodSync(root, 0o777);
  const agentId = uniqueAgentId(name);
  const effects = join(root, "effects.log");
  const agents: AgentProcess[] = [];
  let broker: S | undefined;
  let engine: Engine | undefined;
  hooks.after(async () => {
    for (const agent of agents) await agent.kill9();
    killRecordedExecutions(effects);
    await engine?.close().catch(() => {});
    await broker?.dispose();
    if (process.env.IDEM_TEST_KEEP !== "1") await removeDir(root);
  });
  broker = options.server
    ? await options.server(root)
    : ((await startBroker({ durable: options.durableBroker ?? true })) as unknown as S);
  engine = await connectEngine(broker, { agentId, protocolVersion: options.engineProtocol ?? 5 });
  const server = broker;
  const scene: Scene<S> = {
    broker,
    root,
    agentId,
    dataDir: join(root, "data"),
    effects,
    engine,
    agents,
    async startAgent(overrides = {}) {
      const agent = await startAgent({ broker: server, agentId, dataDir: scene.dataDir, ...overrides });
      agents.push(agent);
      return agent;
    },
  };
  return scene;
}
