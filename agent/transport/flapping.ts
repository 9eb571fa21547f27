/**
 * A node that keeps closing the connection right after its CONNACK: diagnosed, so that the agent neither loops on
 * it silently nor leaves every plan behind it waiting without a word (issue 13).
 *
 * The case it is made for: RabbitMQ 3.10's MQTT plugin closes the agent's connection when it delivers a message
 * published over AMQP whose `x-mqtt-publish-qos` header is not a byte (kombu's default integer encoding). The
 * message stays queued, so every new session is closed on its first delivery, a few milliseconds after CONNACK,
 * for ever. The same shape comes from a broker that refuses a publish of ours (an ACL on the status or results
 * topic; the outbox isolates a refused reply by itself, `outbox.ts`) and from two agents sharing one client id.
 *
 * Rule: a connection that got its CONNACK and closed within {@link FLAP_WINDOW_MS} of it is a *flap*; one that
 * lasted longer clears the node's count; attempts that never got a CONNACK (a node that is down) neither count nor
 * clear. {@link FLAPS_BEFORE_DIAGNOSIS} flaps in a row on one node make the diagnosis (logged at error by the
 * transport with {@link flappingAdvice}), and again every {@link FLAPS_BEFORE_DIAGNOSIS} flaps after that, so that
 * it stays visible. From {@link FLAPS_BEFORE_BACKOFF} flaps in a row on, a flap counts as a failure for the
 * backoff even when replies of ours were in flight (`reconnect.ts` otherwise retries those at the same step, so
 * that the outbox can find a reply the broker hangs up on within a few quick reconnects): no hot loop on a
 * single node. With several nodes the session moves to the next node after every close anyway (`nodes.ts`).
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

/** How a connection ended, as far as flapping goes. */
export interface EndedConnection {
  /** The node it was on (its URL). */
  node: string;
  /** When its CONNACK arrived (`Date.now()` ms); undefined when it never got one. */
  connackAt?: number | undefined;
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
}

export class FlapDetector {
  readonly #inARow = new Map<string, number>();

  /** Records a closed connection (or failed attempt) at `now` (ms). */
  closed(ended: EndedConnection, now: number = Date.now()): FlapVerdict {
    const before = this.#inARow.get(ended.node) ?? 0;
    if (ended.connackAt === undefined) return verdict(before, false);
    const livedMs = Math.max(0, now - ended.connackAt);
    if (livedMs >= FLAP_WINDOW_MS) {
      this.#inARow.delete(ended.node);
      return { ...verdict(0, false), livedMs };
    }
    const inARow = before + 1;
    this.#inARow.set(ended.node, inARow);
    return { ...verdict(inARow, true), livedMs };
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
