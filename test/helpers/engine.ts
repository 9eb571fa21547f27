/**
 * The engine side of the tests: an MQTT client that sends plans (QoS 1) and collects results, events and the
 * retained status, with event-driven waits and clear timeouts. The wire shapes are SPEC sections 7 and 8.
 */
import { randomUUID } from "node:crypto";
import { connect, type IClientPublishOptions, type MqttClient } from "mqtt";

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
  /** Every status received, in order (retained ones included). */
  readonly statuses: Record<string, unknown>[] = [];
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

  /** Waits until a received status (any, in order) satisfies `match`; resolves with the first that does. */
  async waitForStatusMatching(
    match: (status: Record<string, unknown>) => boolean,
    timeoutMs = this.#timeoutMs,
  ): Promise<Record<string, unknown>> {
    await this.#waitFor(
      () => this.statuses.some(match),
      timeoutMs,
      () => `a status matching ${match} (have ${this.statuses.map((s) => JSON.stringify(s)).join("\n")})`,
    );
    return this.statuses.find(match) ?? {};
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
        if (this.status) this.statuses.push(this.status);
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
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await engine.subscribeAll();
  } catch (error) {
    // A client left reconnecting every 100 ms keeps the test file's process alive until its runner's timeout.
    await client.endAsync(true);
    throw error;
  }
  return engine;
}
