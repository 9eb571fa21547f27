/**
 * A bare MQTT 3.1.1 client standing in for an agent, to test what a broker does to the agent's session rather
 * than what the agent does about it: it records every message (plan ID, topic, QoS), CONNACK and close, and
 * waits for a condition on them, event-driven, failing after `timeoutMs` with what it saw.
 */
import { EventEmitter } from "node:events";
import { connect, type MqttClient } from "mqtt";

export interface ProbeOptions {
  host: string;
  port: number;
  clientId: string;
  /** Reconnect after a close (ms); 0: never. */
  reconnectPeriod: number;
}

export interface ProbeMessage {
  /** The payload's `ID` (a plan's). */
  id: string;
  topic: string;
  qos: number;
}

export class MqttProbe {
  readonly client: MqttClient;
  readonly received: ProbeMessage[] = [];
  connacks = 0;
  closes = 0;
  readonly #changed = new EventEmitter();

  /** Connects with a persistent session (clean session 0), as idem does on a 3.1.1 broker. */
  constructor(options: ProbeOptions) {
    this.client = connect({ ...options, protocolVersion: 4, clean: false });
    this.client.on("connect", () => this.#bump(() => this.connacks++));
    this.client.on("close", () => this.#bump(() => this.closes++));
    this.client.on("message", (topic, payload, packet) =>
      this.#bump(() => this.received.push({ id: JSON.parse(payload.toString()).ID, topic, qos: packet.qos })),
    );
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs` saying what was seen. */
  until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`No ${what} within ${timeoutMs} ms: ${this.describe()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#changed.off("change", check);
      };
      this.#changed.on("change", check);
      check();
    });
  }

  describe(): string {
    return `${this.connacks} CONNACKs, ${this.closes} closes, received ${JSON.stringify(this.received)}`;
  }

  /** Disconnects at once and stops reconnecting. */
  end(): void {
    this.client.end(true);
  }

  #bump(update: () => void): void {
    update();
    this.#changed.emit("change");
  }
}
