/**
 * The broker side of one `idem send` (agent/send.ts) as one state machine, so that no timing of the broker's
 * answers can break it (`--wait 0`, a slow broker, a result that comes before the wait begins):
 *
 *   listen ──▶ publish ──▶ status ──▶ result(seconds) ──▶ close
 *
 * - `listen` installs the one message handler, then subscribes to the agent's status topic (`P/A/status`,
 *   retained, SPEC 8) and, when waiting, to the reply topic — before the plan is published, so no result is missed.
 * - every message only updates state: the last status seen, the result whose `SourceID` is the plan's ID (kept
 *   if it comes before `result` is called), or the loss of the connection. Nothing rejects, nothing throws in a
 *   handler: each step reads the state and resolves with an outcome.
 * - the wait starts when `result` is called (after the broker acknowledged the plan) and ends with the first of
 *   the result, the timeout, or the connection's loss.
 */
import type { MqttClient } from "mqtt";
import { IdemError } from "./errors.ts";
import { parseJson } from "./json/parse.ts";
import { toPlainObject } from "./json/plain.ts";

export type WaitOutcome =
  | { kind: "result"; text: string }
  | { kind: "timeout" }
  | { kind: "lost"; why: string };

export interface ExchangeOptions {
  planId: string;
  topics: { plans: string; status: string; reply: string };
  /** Subscribe to the reply topic too (`--wait`). */
  waiting: boolean;
}

export class Exchange {
  readonly #client: MqttClient;
  readonly #options: ExchangeOptions;
  #result: string | undefined;
  #status: unknown;
  #lost: string | undefined;
  #probed = false;
  /** Called after every change of state: the pending `result` looks again. */
  #changed: () => void = () => {};
  /** Called when the connection is lost: a pending `publish` rejects. */
  #onLose: () => void = () => {};
  readonly #onMessage = (topic: string, payload: Buffer) => this.#message(topic, payload);
  readonly #onClose = () => this.#lose("the broker closed the connection");
  readonly #onError = (error: Error) => this.#lose(error.message);

  constructor(client: MqttClient, options: ExchangeOptions) {
    this.#client = client;
    this.#options = options;
  }

  async listen(): Promise<void> {
    this.#client.on("message", this.#onMessage);
    this.#client.on("close", this.#onClose);
    this.#client.on("error", this.#onError);
    const { topics, waiting } = this.#options;
    await this.#client.subscribeAsync(waiting ? [topics.status, topics.reply] : [topics.status], { qos: 1 });
  }

  /**
   * Publishes the plan (QoS 1); resolves on the broker's PUBACK. Rejects with IdemError(2) when the connection is
   * lost first: mqtt.js then never settles the publish (a broker that drops the client for a packet it refuses,
   * say), and without this the command would end with nothing pending — exit 0, nothing printed.
   */
  publish(payload: string, properties?: { userProperties: Record<string, string> }): Promise<void> {
    return new Promise((resolve, reject) => {
      const lost = () =>
        reject(
          new IdemError(
            2,
            `Cannot send plan ${this.#options.planId}: the connection to the broker was lost before it acknowledged the plan (${this.#lost}), which may or may not have reached it; check the broker's log (a packet over its size limit, an ACL) and send again`,
          ),
        );
      if (this.#lost !== undefined) return lost();
      this.#onLose = lost;
      this.#client
        .publishAsync(this.#options.topics.plans, payload, { qos: 1, ...(properties ? { properties } : {}) })
        .then(() => resolve(), reject)
        .finally(() => {
          this.#onLose = () => {};
        });
    });
  }

  /**
   * The agent's retained status as last seen (a parsed JSON object), or undefined when it has none. A broker
   * sends the retained status right after the SUBSCRIBE's acknowledgement; when it has not come by the plan's
   * acknowledgement, one more SUBSCRIBE (which sends it again) and its acknowledgement make sure.
   */
  async status(): Promise<unknown> {
    if (this.#status === undefined && !this.#probed && this.#lost === undefined) {
      this.#probed = true;
      await this.#client.subscribeAsync(this.#options.topics.status, { qos: 1 });
    }
    return this.#status;
  }

  /** Waits up to `seconds` (≥ 0) for the result; never rejects. */
  result(seconds: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const look = (): boolean => {
        if (this.#result !== undefined) finish({ kind: "result", text: this.#result });
        else if (this.#lost !== undefined) finish({ kind: "lost", why: this.#lost });
        else return false;
        return true;
      };
      const finish = (outcome: WaitOutcome) => {
        clearTimeout(timer);
        this.#changed = () => {};
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        if (!look()) finish({ kind: "timeout" });
      }, seconds * 1000);
      this.#changed = () => void look();
      look();
    });
  }

  /** Whether the connection was lost (closed by the broker or failed). */
  get lost(): boolean {
    return this.#lost !== undefined;
  }

  close(): void {
    this.#changed = () => {};
    this.#client.off("message", this.#onMessage);
    this.#client.off("close", this.#onClose);
    this.#client.off("error", this.#onError);
  }

  #message(topic: string, payload: Buffer): void {
    const text = payload.toString("utf8");
    if (topic === this.#options.topics.status) {
      const parsed = parseJson(text);
      if (parsed.ok && parsed.value instanceof Map) this.#status = toPlainObject(parsed.value);
    }
    // A reply topic may be the status topic's neighbour or (by ReplyTo) anything: read every message on it.
    if (topic === this.#options.topics.reply && this.#result === undefined) {
      const parsed = parseJson(text); // as Python's json reads it: a Body may hold NaN or Infinity
      if (parsed.ok && parsed.value instanceof Map && parsed.value.get("SourceID") === this.#options.planId) {
        this.#result = text;
      }
    }
    this.#changed();
  }

  #lose(why: string): void {
    this.#lost ??= why;
    this.#changed();
    this.#onLose();
  }
}

/**
 * One clause on the agent as its status shows it: never seen, offline since, superseded, or online — and then
 * what it runs (SPEC 8 `Running: {Key, SourceID, Since} | null`, `Queued`), when the status says.
 */
export function describeAgent(agentId: string, statusTopic: string, status: unknown, planId: string): string {
  if (typeof status !== "object" || status === null) {
    return `agent ${agentId} has never been seen on this broker (no retained status on ${statusTopic}): check --agent-id and --broker, and that the agent is started`;
  }
  const s = status as Record<string, unknown>;
  const since = typeof s.Since === "string" ? ` since ${s.Since}` : "";
  if (s.State === "offline") {
    return `agent ${agentId} is offline${since}: the plan waits in its session on the broker until it is back`;
  }
  if (s.State === "superseded") {
    return `agent ${agentId} stood down (superseded by a newer incarnation${since}): it runs no more plans`;
  }
  const online = `agent ${agentId} is online${since}`;
  const queued = typeof s.Queued === "number" && s.Queued > 0 ? `, ${s.Queued} plan(s) queued` : "";
  const running = s.Running as Record<string, unknown> | null | undefined;
  if (running === undefined) return `${online} (its status does not say what it runs)`;
  if (running === null)
    return `${online}, running no plan${queued}: was the plan refused or its result sent elsewhere (ReplyTo)?`;
  const at = typeof running.Since === "string" ? ` since ${running.Since}` : "";
  if (running.SourceID === planId) return `${online} and running this plan${at}${queued}`;
  return `${online}, running another plan (${String(running.SourceID)}, key ${String(running.Key)})${at}${queued}: this one may be queued behind it`;
}
