/**
 * The subscriptions of one connection, in order, before the session is ready:
 *
 * 1. the agent's own status topic (when it compares incarnations, SPEC 5.5), on every connect: a persistent
 *    session does not send the retained status again otherwise. QoS 0: the retained status comes with every
 *    SUBSCRIBE, and nothing is queued for the session while the agent is away. Refused (an ACL), it is logged
 *    and the session goes on: plans are then what tells of a newer incarnation;
 * 2. the plans topic (QoS 1), when the broker has no session for the client: a SUBACK that refuses it stops the
 *    agent (`refusal.ts`);
 * 3. the control topic (QoS 1, operator requests such as `idem cancel`), when given, on every connect: a session
 *    kept from an agent version without it gains it. Refused (an ACL), it is logged and the session goes on
 *    without operator requests.
 *
 * Status first, so that on a broker that sends the retained status right after its SUBACK (mosquitto, NATS) the
 * status is judged before the agent says it is online.
 */
import type { MqttClient } from "mqtt";
import type { Logger } from "../log.ts";
import { isRefusalCode } from "./refusal.ts";

export interface SubscribeOptions {
  plansTopic: string;
  /** Subscribed first when given. */
  statusTopic?: string;
  /** Subscribed last when given, on every connect. */
  controlTopic?: string;
  sessionPresent: boolean;
  log: Logger;
  /** False once the connection is no longer the session's (closed, replaced, stopping): nothing more happens. */
  current(): boolean;
}

export interface SubscribeOutcome {
  /** Both subscriptions in place. */
  ready(): void;
  /** The broker refused the plans topic (the SUBACK's code). */
  plansRefused(code: number): void;
}

export function subscribe(c: MqttClient, options: SubscribeOptions, outcome: SubscribeOutcome): void {
  const { log, controlTopic } = options;
  const ready =
    controlTopic === undefined
      ? () => outcome.ready()
      : () =>
          c.subscribe(controlTopic, { qos: 1 }, (error, _granted, suback) => {
            if (!options.current()) return;
            const code = suback?.granted[0];
            if (isRefusalCode(code)) {
              log.warn("control-subscribe-refused", {
                topic: controlTopic,
                code,
                message:
                  "operator requests (idem cancel) cannot reach this agent: allow it to subscribe there",
              });
            } else if (error) {
              return void log.error("subscribe-failed", { topic: controlTopic, message: error.message });
            }
            outcome.ready();
          });
  const plans = () => {
    // With the session present the broker sends the retained status right after the SUBACK, often in the same
    // read: letting the packets already received go first means the status is judged before ours goes out.
    if (options.sessionPresent) return void setImmediate(() => options.current() && ready());
    c.subscribe(options.plansTopic, { qos: 1 }, (error, _granted, suback) => {
      if (!options.current()) return;
      // Decided by the SUBACK's own return code (one filter, one code), not by the error's text.
      const code = suback?.granted[0];
      if (isRefusalCode(code)) return outcome.plansRefused(code);
      // Otherwise the connection was lost before the SUBACK: the close that follows is counted.
      if (error) log.error("subscribe-failed", { topic: options.plansTopic, message: error.message });
      else ready();
    });
  };
  const { statusTopic } = options;
  if (statusTopic === undefined) {
    plans();
    return;
  }
  c.subscribe(statusTopic, { qos: 0 }, (error, _granted, suback) => {
    if (!options.current()) return;
    const code = suback?.granted[0];
    if (isRefusalCode(code)) {
      log.warn("status-subscribe-refused", {
        topic: statusTopic,
        code,
        message: "another incarnation of this VM is then known only by its plans (SPEC 5.5)",
      });
    } else if (error) {
      return void log.error("subscribe-failed", { topic: statusTopic, message: error.message });
    }
    plans();
  });
}
