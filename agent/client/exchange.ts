/**
 * One request of an operator command to an agent over the broker (`idem send`'s plan, `idem cancel`'s control
 * request) and the wait for its answer, as one state machine, so that no timing of the broker's answers can break
 * it (`--wait 0`, a slow broker, an answer that comes before the wait begins):
 *
 *   listen ──▶ publish ──▶ status ──▶ answer(seconds) ──▶ close
 *
 * - `listen` installs the one message handler, then subscribes to the agent's status topic (`P/A/status`,
 *   retained, SPEC 8) when there is one and, when waiting, to the reply topic — before the request is published,
 *   so no answer is missed.
 * - every message only updates state: the last status seen, the answer whose `SourceID` is the request's ID (kept
 *   if it comes before `answer` is called), or the loss of the connection. Nothing rejects, nothing throws in a
 *   handler: each step reads the state and resolves with an outcome.
 * - the wait starts when `answer` is called (after the broker acknowledged the request) and ends with the first
 *   of the answer, the timeout, or the connection's loss.
 *
 * The session is `connect.ts`'s; signing follows SPEC 9a (`commands/keygen.ts`).
 */
import type { KeyObject } from "node:crypto";
import type { MqttClient } from "mqtt";
import { signPlan } from "../commands/keygen.ts";
import { IdemError } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import { toPlainObject } from "../json/plain.ts";

export type WaitOutcome =
  | { kind: "answer"; text: string }
  | { kind: "timeout" }
  | { kind: "lost"; why: string };

export interface ExchangeOptions {
  /** The request's ID: the answer is the message on `topics.reply` whose `SourceID` is it. */
  id: string;
  /** What the request is, for messages: `plan`, `cancel request`. */
  noun: string;
  /** `requests`: where it is published; `status`: the agent's retained status, when it is read. */
  topics: { requests: string; reply: string; status?: string };
  /** Subscribe to the reply topic too (the command waits for the answer). */
  waiting: boolean;
}

/** How a request is signed (SPEC 9a); absent: unsigned. */
export interface Signing {
  key: KeyObject;
  keyId?: string;
  /** The `{Signature, KeyId, Plan}` envelope even on MQTT 5 (MQTT 3.1.1 always uses it). */
  envelope?: boolean;
}

export class Exchange {
  readonly #client: MqttClient;
  readonly #options: ExchangeOptions;
  #answer: string | undefined;
  #status: unknown;
  #lost: string | undefined;
  #probed = false;
  /** Called after every change of state: the pending `answer` looks again. */
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
    const wanted = [
      ...(topics.status === undefined ? [] : [topics.status]),
      ...(waiting ? [topics.reply] : []),
    ];
    if (wanted.length > 0) await this.#client.subscribeAsync(wanted, { qos: 1 });
  }

  /**
   * Publishes the request (QoS 1), signed when `sign` is given; resolves on the broker's PUBACK. `expirySeconds`:
   * MQTT 5's message expiry (a request the agent did not take by then is dropped by the broker). Rejects with
   * IdemError(2) when the connection is lost first: mqtt.js then never settles the publish (a broker that drops the
   * client for a packet it refuses, say), and without this the command would end with nothing pending.
   */
  publish(payload: string, options: { sign?: Signing; expirySeconds?: number } = {}): Promise<void> {
    const { id, noun, topics } = this.#options;
    const v5 = this.#client.options.protocolVersion === 5;
    const { text, userProperties } = signed(payload, topics.requests, { ...options, v5 });
    const properties = {
      ...(userProperties === undefined ? {} : { userProperties }),
      ...(v5 && options.expirySeconds !== undefined ? { messageExpiryInterval: options.expirySeconds } : {}),
    };
    return new Promise((resolve, reject) => {
      const lost = () =>
        reject(
          new IdemError(
            2,
            `Cannot send ${noun} ${id}: the connection to the broker was lost before it acknowledged the ${noun} (${this.#lost}), which may or may not have reached it; check the broker's log (a packet over its size limit, an ACL) and send again`,
          ),
        );
      if (this.#lost !== undefined) return lost();
      this.#onLose = lost;
      this.#client
        .publishAsync(topics.requests, text, {
          qos: 1,
          ...(Object.keys(properties).length === 0 ? {} : { properties }),
        })
        .then(() => resolve(), reject)
        .finally(() => {
          this.#onLose = () => {};
        });
    });
  }

  /**
   * The agent's retained status as last seen (a parsed JSON object), or undefined when it has none (or no status
   * topic was given). A broker sends the retained status right after the SUBSCRIBE's acknowledgement; when it has
   * not come by the request's acknowledgement, one more SUBSCRIBE (which sends it again) makes sure.
   */
  async status(): Promise<unknown> {
    const topic = this.#options.topics.status;
    if (topic !== undefined && this.#status === undefined && !this.#probed && this.#lost === undefined) {
      this.#probed = true;
      await this.#client.subscribeAsync(topic, { qos: 1 });
    }
    return this.#status;
  }

  /** Waits up to `seconds` (≥ 0) for the answer; never rejects. */
  answer(seconds: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const look = (): boolean => {
        if (this.#answer !== undefined) finish({ kind: "answer", text: this.#answer });
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
    const { topics, id } = this.#options;
    if (topic === topics.status) {
      const parsed = parseJson(text);
      if (parsed.ok && parsed.value instanceof Map) this.#status = toPlainObject(parsed.value);
    }
    // A reply topic may be the status topic's neighbour or (by ReplyTo) anything: read every message on it.
    if (topic === topics.reply && this.#answer === undefined) {
      const parsed = parseJson(text); // as Python's json reads it: a Body may hold NaN or Infinity
      if (parsed.ok && parsed.value instanceof Map && parsed.value.get("SourceID") === id)
        this.#answer = text;
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
 * The request as published (SPEC 9a): unsigned as it is; signed over `topic` + its bytes, in MQTT 5 user
 * properties `Signature`/`KeyId` on an MQTT 5 session unless `envelope`, else in `{Signature, KeyId, Plan}`.
 */
function signed(
  payload: string,
  topic: string,
  options: { sign?: Signing; v5: boolean },
): { text: string; userProperties?: Record<string, string> } {
  const { sign, v5 } = options;
  if (sign === undefined) return { text: payload };
  const signature = signPlan(sign.key, topic, Buffer.from(payload, "utf8"));
  const keyId = sign.keyId === undefined ? {} : { KeyId: sign.keyId };
  if (v5 && !sign.envelope) return { text: payload, userProperties: { Signature: signature, ...keyId } };
  return { text: JSON.stringify({ Signature: signature, ...keyId, Plan: payload }) };
}
