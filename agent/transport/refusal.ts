/**
 * A broker that refuses the agent's topics, told apart from one that is down, slow or refuses the login.
 *
 * Retrying cannot help when the broker refuses a topic, so the agent stops at start and says what to change
 * (SPEC 2). A broker says it in one of two ways:
 * - it refuses the SUBSCRIBE: SUBACK return code 0x80 (3.1.1) or a reason code ≥ 0x80 (5);
 * - it hangs up: NATS 2.9 closes the connection, without a CONNACK, on a CONNECT whose Last Will topic
 *   has a `.` (and on a PUBLISH to such a topic). Closed connections count only when nothing else explains them —
 *   no network error, no CONNACK refusal (a wrong password), no timeout — and only while no session has ever
 *   completed: a broker that accepted the topics once and hangs up later is restarting, not refusing.
 *   Hang-ups before any CONNACK are also what a load balancer with no broker behind it does; so they are
 *   diagnosed only once a CONNECT without the Last Will is accepted (the transport asks), else retried.
 */
import { IdemError } from "../errors.ts";

/** Unexplained hang-ups in a row, before any session completed, that mean the broker refuses the topics. */
export const HANG_UPS_BEFORE_FATAL = 3;

/** How far one connection got: CONNECT sent, SUBSCRIBE sent, or the session complete. */
export type Stage = "connect" | "subscribe" | "ready";

export interface ClosedConnection {
  stage: Stage;
  /** An error was reported on this connection (network, CONNACK refusal, timeout): it explains the close. */
  failed: boolean;
}

/** What the diagnosis names: where, which agent, which topics. */
export interface TopicsInUse {
  broker: string;
  agentId: string;
  plansTopic: string;
  statusTopic: string;
}

/** Counts unexplained hang-ups in a row until a session completes. */
export class HangUpCounter {
  #inARow = 0;
  #everReady = false;

  get inARow(): number {
    return this.#inARow;
  }

  /** A session completed: the broker accepts the topics, whatever happens later. */
  ready(): void {
    this.#everReady = true;
    this.#inARow = 0;
  }

  /** Starts counting again (the hang-ups turned out to be the broker's trouble, not a refusal). */
  forgive(): void {
    this.#inARow = 0;
  }

  /** Records a closed connection; true when it makes {@link HANG_UPS_BEFORE_FATAL} unexplained ones in a row. */
  closed(connection: ClosedConnection): boolean {
    if (this.#everReady || connection.stage === "ready" || connection.failed) {
      this.#inARow = 0;
      return false;
    }
    this.#inARow += 1;
    return this.#inARow >= HANG_UPS_BEFORE_FATAL;
  }
}

/** True for a SUBACK code that refuses the subscription (0x80 on 3.1.1, any reason code ≥ 0x80 on 5). */
export const isRefusalCode = (code: unknown): code is number => typeof code === "number" && code >= 0x80;

/** The broker refused the SUBSCRIBE to the plans topic. */
export function subscribeRefused(topics: TopicsInUse, code: number): IdemError {
  return new IdemError(
    2,
    `Cannot subscribe to the plans topic ${topics.plansTopic} as the broker ${topics.broker} refused it ` +
      `(SUBACK code 0x${code.toString(16)}): ${advice(topics)}`,
  );
}

/**
 * The broker hung up, again and again, before a session completed: after its CONNACK, in reply to the SUBSCRIBE;
 * or in reply to CONNECT while it accepts a CONNECT without the Last Will (so it refuses the Will's topic).
 */
export function hungUp(topics: TopicsInUse, stage: "connect" | "subscribe", times: number): IdemError {
  const what =
    stage === "connect"
      ? `closed the connection ${times} times in a row in reply to CONNECT, before any CONNACK, while it accepts ` +
        `a CONNECT without the agent's Last Will: it refuses the Will's topic ${topics.statusTopic}`
      : `closed the connection ${times} times in a row in reply to the SUBSCRIBE to ${topics.plansTopic}: ` +
        "it refuses that topic";
  return new IdemError(
    2,
    `Cannot start a session on the broker ${topics.broker} as it ${what}: ${advice(topics)}`,
  );
}

function advice({ agentId }: TopicsInUse): string {
  if (!agentId.includes(".")) {
    return "check which topic names the broker allows and what this client may publish and subscribe to";
  }
  return (
    `the agent id "${agentId}" contains ".", which some brokers refuse in topic names (NATS 2.9's MQTT does); ` +
    `use an agent id without "." (e.g. "${agentId.replaceAll(".", "-")}") or a broker that allows it ` +
    "(mosquitto, RabbitMQ)"
  );
}
