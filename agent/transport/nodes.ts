/**
 * Which broker node the session connects to (`broker.urls`: nodes of one clustered broker — NATS with JetStream,
 * a RabbitMQ cluster, EMQX, VerneMQ — that share the agent's persistent session and its queued plans).
 *
 * - The first attempt goes to the first node; the agent stays on the node it is connected to for as long as the
 *   connection lives (there is no moving back to the first node).
 * - A lost connection, or an attempt that failed, moves the next attempt to the next node in the list, round
 *   robin, with the session's backoff and jitter (`reconnect.ts` counts its steps per round of nodes, so one dead
 *   node costs one short delay, not a doubled one). The client id and the persistent session stay the same: the
 *   cluster hands the session (and the plans queued in it) to whichever node the agent reaches.
 * - With one node every attempt goes to it: the single-broker behaviour.
 *
 * Pure: no sockets, no timers. The transport (`mqtt.ts`) asks {@link BrokerNodes.after} when a connection ends,
 * logs `broker-node` when the answer is another node, and says which node it is on in its `connected` and
 * `online` lines and the retained status (`"Broker"`).
 */
import { redactedUrl } from "../config.ts";

/** Where the next attempt goes. */
export interface NextNode {
  /** The node's URL as configured (`mqtt://host:port`, `mqtts://…`). */
  url: string;
  /** The same, safe to print (any user name replaced by `***`). */
  printable: string;
  /** Its position in `broker.urls`, from 0. */
  index: number;
  /** True when it is not the node the ended connection was on. */
  moved: boolean;
}

export class BrokerNodes {
  readonly #urls: readonly string[];
  #index = 0;

  /** `urls`: at least one node, in the order they are tried (config.ts resolves `broker.urls`). */
  constructor(urls: readonly string[]) {
    if (urls.length === 0)
      throw new Error("Cannot connect to a broker as broker.urls is empty: give one URL at least");
    this.#urls = [...urls];
  }

  /** How many nodes there are. */
  get count(): number {
    return this.#urls.length;
  }

  /** The node the current (or next) connection is on. */
  get current(): NextNode {
    return this.#at(this.#index, false);
  }

  /**
   * A connection (or an attempt) on the current node ended: the next attempt goes to the next node, round robin
   * (the same node when there is only one).
   */
  after(): NextNode {
    const from = this.#index;
    this.#index = (this.#index + 1) % this.#urls.length;
    return this.#at(this.#index, this.#index !== from);
  }

  #at(index: number, moved: boolean): NextNode {
    const url = this.#urls[index] as string;
    return { url, printable: redactedUrl(url), index, moved };
  }
}
