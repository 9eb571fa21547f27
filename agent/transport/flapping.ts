/**
 * A broker that never gives a usable session, diagnosed, so that the agent neither loops on it silently nor leaves
 * every plan behind it waiting without a word (issue 13). Two shapes, one detector ({@link FlapDetector}):
 *
 * **Closed right after its CONNACK (a flapping node).** The case it is made for: RabbitMQ 3.10's MQTT plugin
 * closes the agent's connection when it delivers a message published over AMQP whose `x-mqtt-publish-qos` header
 * is not a byte (kombu's default integer encoding). The message stays queued, so every new session is closed on
 * its first delivery, a few milliseconds after CONNACK, for ever. The same shape comes from a broker that refuses
 * a publish of ours (an ACL on the status or results topic; the outbox isolates a refused reply by itself,
 * `outbox.ts`) and from two agents sharing one client id.
 * Rule: a connection that got its CONNACK and closed within {@link FLAP_WINDOW_MS} of it is a *flap*; one that
 * lasted longer clears the node's count; attempts that never got a CONNACK (a node that is down) neither count nor
 * clear. {@link FLAPS_BEFORE_DIAGNOSIS} flaps in a row on one node make the diagnosis (logged at error by the
 * transport with {@link flappingAdvice}), and again every {@link FLAPS_BEFORE_DIAGNOSIS} flaps after that, so that
 * it stays visible. From {@link FLAPS_BEFORE_BACKOFF} flaps in a row on, a flap counts as a failure for the
 * backoff even when replies of ours were in flight (`reconnect.ts` otherwise retries those at the same step, so
 * that the outbox can find a reply the broker hangs up on within a few quick reconnects): no hot loop on a
 * single node. With several nodes the session moves to the next node after every close anyway (`nodes.ts`).
 *
 * **Never a CONNACK at all (no session anywhere).** A NATS 2.9 cluster without JetStream quorum (one node of
 * three left) accepts TCP and closes each CONNECT after ≈ 4 s without a CONNACK, no error (measured, 2.9.10);
 * the other nodes refuse the connection. Rule: since the last CONNACK from any node, every node of `broker.urls`
 * was tried {@link ROUNDS_BEFORE_NO_SESSION} times or more, none gave a CONNACK, and {@link
 * ROUNDS_BEFORE_NO_SESSION} or more of those attempts reached the broker and were closed by it
 * ({@link hungUpBeforeConnack}): the diagnosis is made once ({@link FlapVerdict.noSession}, logged at error with
 * {@link noSessionAdvice}), and again only after a CONNACK started a new streak. Nodes that only refuse the
 * connection are a broker that is down, already said by the `offline` lines: no diagnosis. Nor before the first
 * CONNACK since start: hang-ups then are `refusal.ts`'s to tell apart (a broker refusing the Last Will's topic
 * stops the agent; one hanging up on every CONNECT is logged `broker-hangs-up`, naming the quorum case too).
 *
 * Pure: the caller passes the times.
 */

/** A close this soon after the CONNACK is a flap, ms. */
export const FLAP_WINDOW_MS = 10_000;

/** Flaps in a row on one node before the diagnosis is logged (and again every this many after). */
export const FLAPS_BEFORE_DIAGNOSIS = 3;

/**
 * Flaps in a row from which the backoff grows whatever was in flight. Above what the outbox needs to isolate a
 * reply the broker hangs up on (3 strikes, each suspect alone: measured ≤ 8 reconnects in test/transport/outbox).
 */
export const FLAPS_BEFORE_BACKOFF = 12;

/** Rounds of `broker.urls` without a CONNACK (and as many hang-ups among them) before the no-session diagnosis. */
export const ROUNDS_BEFORE_NO_SESSION = 3;

/** How a connection ended, as far as flapping goes. */
export interface EndedConnection {
  /** The node it was on (its URL). */
  node: string;
  /** When its CONNACK arrived (`Date.now()` ms); undefined when it never got one. */
  connackAt?: number | undefined;
  /** Without a CONNACK: the broker took the TCP connection and closed it, or never answered ({@link hungUpBeforeConnack}). */
  hungUp?: boolean;
}

/** No node gave a session for {@link ROUNDS_BEFORE_NO_SESSION} rounds: what the diagnosis names. */
export interface NoSession {
  /** Nodes that took the connection and closed it without a CONNACK at least once. */
  hungUp: string[];
  /** Nodes that never took it (connection refused, unreachable). */
  down: string[];
  /** Attempts since the last CONNACK, all nodes. */
  attempts: number;
}

export interface FlapVerdict {
  /** Flaps in a row on this node, this one included (0 when this close was not a flap). */
  inARow: number;
  /** The node is diagnosed as flapping ({@link FLAPS_BEFORE_DIAGNOSIS} in a row or more). */
  flapping: boolean;
  /** Log the diagnosis now (the first time, then every {@link FLAPS_BEFORE_DIAGNOSIS} flaps). */
  report: boolean;
  /** Back off whatever was in flight ({@link FLAPS_BEFORE_BACKOFF} in a row or more). */
  backOff: boolean;
  /** How long this connection lived after its CONNACK, ms (undefined without a CONNACK). */
  livedMs?: number;
  /** Set once per streak without a CONNACK: log the no-session diagnosis now. */
  noSession?: NoSession;
}

/**
 * Whether an attempt that got no CONNACK reached a broker that then gave no session: closed with no error, or
 * reset by the peer (`ECONNRESET`, `EPIPE`), or an error without a code (MQTT.js's CONNACK timeout). Not a
 * connection refused or unreachable (no broker there), nor a CONNACK refusal (a numeric code: a login problem),
 * nor a TLS failure (a configuration problem): each of those is said by its own error.
 */
export function hungUpBeforeConnack(errorCode: string | number | undefined): boolean {
  return errorCode === undefined || errorCode === "ECONNRESET" || errorCode === "EPIPE";
}

export class FlapDetector {
  readonly #inARow = new Map<string, number>();
  readonly #nodes: number;
  /** Since the last CONNACK from any node: attempts per node, and how many of them hung up. */
  readonly #attempts = new Map<string, number>();
  readonly #hangUps = new Map<string, number>();
  #noSessionSaid = false;
  #everConnacked = false;

  /** `nodes`: how many nodes `broker.urls` has (a round is one attempt on each). Default 1. */
  constructor(nodes = 1) {
    this.#nodes = Math.max(1, nodes);
  }

  /** Records a closed connection (or failed attempt) at `now` (ms). */
  closed(ended: EndedConnection, now: number = Date.now()): FlapVerdict {
    const before = this.#inARow.get(ended.node) ?? 0;
    if (ended.connackAt === undefined) {
      const noSession = this.#withoutConnack(ended);
      return { ...verdict(before, false), ...(noSession ? { noSession } : {}) };
    }
    this.#attempts.clear();
    this.#hangUps.clear();
    this.#noSessionSaid = false;
    this.#everConnacked = true;
    const livedMs = Math.max(0, now - ended.connackAt);
    if (livedMs >= FLAP_WINDOW_MS) {
      this.#inARow.delete(ended.node);
      return { ...verdict(0, false), livedMs };
    }
    const inARow = before + 1;
    this.#inARow.set(ended.node, inARow);
    return { ...verdict(inARow, true), livedMs };
  }

  /** Counts an attempt without a CONNACK; the no-session diagnosis when it completes the rule (once a streak). */
  #withoutConnack(ended: EndedConnection): NoSession | undefined {
    this.#attempts.set(ended.node, (this.#attempts.get(ended.node) ?? 0) + 1);
    if (ended.hungUp) this.#hangUps.set(ended.node, (this.#hangUps.get(ended.node) ?? 0) + 1);
    if (!this.#everConnacked || this.#noSessionSaid || this.#attempts.size < this.#nodes) return undefined;
    const attempts = [...this.#attempts.values()];
    const hangUps = [...this.#hangUps.values()].reduce((sum, n) => sum + n, 0);
    if (attempts.some((n) => n < ROUNDS_BEFORE_NO_SESSION) || hangUps < ROUNDS_BEFORE_NO_SESSION)
      return undefined;
    this.#noSessionSaid = true;
    const nodes = [...this.#attempts.keys()];
    return {
      hungUp: nodes.filter((node) => this.#hangUps.has(node)),
      down: nodes.filter((node) => !this.#hangUps.has(node)),
      attempts: attempts.reduce((sum, n) => sum + n, 0),
    };
  }
}

function verdict(inARow: number, counted: boolean): FlapVerdict {
  const flapping = inARow >= FLAPS_BEFORE_DIAGNOSIS;
  return {
    inARow: counted ? inARow : 0,
    flapping,
    report: counted && flapping && inARow % FLAPS_BEFORE_DIAGNOSIS === 0,
    backOff: counted && inARow >= FLAPS_BEFORE_BACKOFF,
  };
}

/**
 * What the operator reads in the `broker-flapping` line: what the broker does, what to check, and what the agent
 * does about it (`nodes`: how many nodes it can move to).
 */
export function flappingAdvice(inARow: number, nodes: number): string {
  const next =
    nodes > 1
      ? "the agent moves to the next node after every close, and keeps coming back to this one in turn"
      : "the agent keeps retrying with a growing delay; plans queued behind the one that is refused wait";
  return (
    `the broker closed the connection ${inARow} times in a row within ${FLAP_WINDOW_MS / 1000} s of accepting it. ` +
    "Check: (1) the broker's log at the time of these closes; (2) a message it cannot deliver to MQTT: RabbitMQ " +
    "3.10 closes the connection on a message published over AMQP with an x-mqtt-publish-qos header that is not " +
    "a byte (kombu's default encoding): publish it without that header or with a byte value, and remove it from " +
    "the agent's queue; (3) ACLs on this agent's status, results and events topics; (4) another agent with the " +
    `same agent id (client id). Meanwhile ${next}`
  );
}

/**
 * What the operator reads in the `broker-no-session` line: what the broker does, the likely cause, what to check,
 * and what the agent does meanwhile.
 */
export function noSessionAdvice(found: NoSession): string {
  const down = found.down.length > 0 ? `; ${found.down.join(", ")} refused the connection` : "";
  return (
    "the broker accepts connections but never completes the MQTT session: " +
    `${found.attempts} attempts since the last CONNACK, none answered; ${found.hungUp.join(", ")} took the ` +
    `connection and closed it without a CONNACK${down}. A clustered broker without quorum? (NATS with JetStream: ` +
    "fewer than a majority of its nodes up, its MQTT gateway closes every CONNECT after a few seconds; RabbitMQ " +
    "with quorum queues: fewer than a majority of a queue's nodes up.) Check the broker's logs for its cluster and " +
    "quorum state, and bring the missing nodes back. Meanwhile the agent keeps trying every node with a growing " +
    "delay; plans wait in the broker and results in the agent's outbox"
  );
}
