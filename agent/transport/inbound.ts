/**
 * The inbound side of one MQTT connection: messages are handed to their handler one at a time, in the order the
 * broker sent them, but the next one is handed over as soon as the previous one's decision is *issued* to the
 * journal (`IncomingMessage.taken`), not once it is durable; each QoS 1 PUBLISH is acknowledged only after its
 * handler resolved (its decision durable: SPEC 2, ack rule), and PUBACKs go out in the order the PUBLISH packets
 * came in (MQTT 3.1.1 §4.6 [MQTT-4.6.0-2], MQTT 5 §4.6: "It MUST send PUBACK packets in the order in which the
 * corresponding PUBLISH packets were received"). So the decisions of a backlog share the journal's fsyncs
 * (commits issued while one is in flight ride in the next batch) while each PUBACK still follows the commit that
 * holds its decision.
 *
 * MQTT.js 5.16 (`handlers/publish.js`) sends a QoS 1 PUBACK from `handleMessage`'s callback and reads the next
 * packet only after that callback. Calling the callback with an error ({@link ACK_LATER}) makes it read on
 * *without* a PUBACK (the error goes to the parser's next-packet step, which ignores it); the PUBACK is then sent
 * here with `client._sendPacket({cmd: "puback", messageId})` (MQTT.js has no public call for it), and only while
 * the connection that delivered the message is up: a PUBACK sent on a later connection could acknowledge another
 * message. `customHandleAcks` cannot do this: it runs before the message is handled, and an error there is
 * emitted as a client error.
 *
 * Backpressure: at most {@link MAX_UNACKED} messages are held unacknowledged; at the bound MQTT.js's callback is
 * kept back, so MQTT.js stops reading (and the broker stops sending: its in-flight window fills) until the oldest
 * is acknowledged.
 */
import type { MqttClient } from "mqtt";
import { failpoint } from "../failpoint.ts";

/** Messages held unacknowledged (handed over or waiting) before MQTT.js is told to stop reading. */
export const MAX_UNACKED = 64;

/** The error that tells MQTT.js's `handleMessage` callback "read on, no PUBACK now" (see the file's comment). */
export const ACK_LATER = new Error("idem acknowledges this message itself, after its decision is durable");

interface Slot {
  /** The PUBLISH's packet identifier; undefined for QoS 0 (nothing to acknowledge, but it keeps its turn). */
  messageId: number | undefined;
  ready: boolean;
}

/** A message's processing: started when its turn comes; `taken` lets the next one start before it resolves. */
export type Handle = (taken: () => void) => Promise<void>;

export interface InboundOptions {
  /** Sends the PUBACK of `messageId` on the connection this queue belongs to. */
  acknowledge(messageId: number): void;
  /** True while the session must not acknowledge nor hand over anything (SPEC 5.5, standing down). */
  paused(): boolean;
  /** Default {@link MAX_UNACKED}. */
  bound?: number;
}

/** One connection's inbound messages, between MQTT.js and their handlers. */
export class Inbound {
  readonly #options: InboundOptions;
  readonly #bound: number;
  /** Every message not yet acknowledged, in arrival order. */
  readonly #slots: Slot[] = [];
  /** Messages whose turn has not come, in arrival order. */
  readonly #waiting: Array<() => void> = [];
  /** A handed-over message has not said `taken` yet: the next one waits. */
  #busy = false;
  /** MQTT.js's callback, kept back while the bound is reached. */
  #resume: (() => void) | undefined;
  #flushing = false;
  #closed = false;

  constructor(options: InboundOptions) {
    this.#options = options;
    this.#bound = options.bound ?? MAX_UNACKED;
  }

  /** Messages held unacknowledged. */
  get unacked(): number {
    return this.#slots.length;
  }

  /**
   * A PUBLISH, in the order MQTT.js read it. `handle` runs when its turn comes; `readOn` (MQTT.js's callback with
   * {@link ACK_LATER}) runs now, or once the number held drops below the bound.
   */
  receive(messageId: number | undefined, handle: Handle, readOn: () => void): void {
    if (this.#closed) return;
    const slot: Slot = { messageId, ready: false };
    this.#slots.push(slot);
    this.#waiting.push(() => this.#start(slot, handle));
    this.#pump();
    if (this.#slots.length < this.#bound) readOn();
    else this.#resume = readOn;
  }

  /** The connection closed: nothing more is handed over or acknowledged (the broker re-delivers all of it). */
  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
    this.#slots.length = 0;
    this.#resume = undefined;
  }

  /** Hands over the next waiting message, if none is being taken. */
  #pump(): void {
    if (this.#busy || this.#closed || this.#options.paused()) return;
    const next = this.#waiting.shift();
    if (!next) return;
    this.#busy = true;
    next();
  }

  #start(slot: Slot, handle: Handle): void {
    let taken = false;
    const take = () => {
      if (taken) return;
      taken = true;
      this.#busy = false;
      // Not from inside the handler's own call stack: the next message starts on a clean stack.
      queueMicrotask(() => this.#pump());
    };
    handle(take).then(() => {
      slot.ready = true;
      take();
      this.#scheduleFlush();
    });
  }

  /**
   * Acknowledges the ready messages at the head, after every promise that settles in this turn has (one commit
   * makes a whole batch ready: its PUBACKs go out together, in order).
   */
  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    process.nextTick(() => {
      this.#flushing = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closed || this.#options.paused()) return;
    let ready = 0;
    while (ready < this.#slots.length && this.#slots[ready]?.ready) ready++;
    if (ready === 0) return;
    if (ready > 1) failpoint("after-batch-commit");
    for (const slot of this.#slots.splice(0, ready)) {
      if (slot.messageId !== undefined) this.#options.acknowledge(slot.messageId);
    }
    if (this.#resume && this.#slots.length < this.#bound) {
      const resume = this.#resume;
      this.#resume = undefined;
      resume();
    }
  }
}

/**
 * Sends the PUBACK of `messageId` through MQTT.js (its packet writer: keep-alive and stream handling stay its own),
 * only while `client` is connected: MQTT.js would otherwise store it and send it on the next connection.
 */
export function sendPuback(client: MqttClient, messageId: number): void {
  if (!client.connected) return;
  (client as unknown as PacketWriter)._sendPacket({ cmd: "puback", messageId });
}

interface PacketWriter {
  _sendPacket(packet: { cmd: "puback"; messageId: number }, cb?: (error?: Error) => void): void;
}
