/**
 * The RabbitMQ side of "Running under a Murano engine" (docs/murano.md), built from the same values the doc
 * shows, and applied to a test node exactly as the doc's commands do:
 *
 * 1. `rabbitmqctl import_definitions <file>`: the agent's MQTT session queue declared before the agent's first
 *    connection (as RabbitMQ 3.10's MQTT plugin declares it: `mqtt-subscription-<clientId>qos1`, durable, not
 *    auto-delete, `x-expires` = `mqtt.subscription_ttl`), bound to `amq.topic` with `idem.<agentId>.plans`;
 *    the engine's results queue (as Murano declares it) bound with `idem.<agentId>.results`;
 * 2. `rabbitmqctl set_parameter shovel <name> <json>`: a dynamic shovel from the engine's queue for this agent
 *    (murano-agent's `input_queue`) to `amq.topic` with routing key `idem.<agentId>.plans`, acknowledging each
 *    plan at the source only once the destination confirmed it (`on-confirm`).
 *
 * idem's MQTT client id is `idem-<agentId>` (agent/agent.ts). The MQTT plugin maps `/` ↔ `.`: topic
 * `idem/<agentId>/plans` is routing key `idem.<agentId>.plans` (an agent id must not contain `.` here).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RabbitMqServer } from "./rabbitmq.ts";

/** `x-expires` of the queues a Murano engine declares: 24 h in ms (murano/common/messaging/mqclient.py). */
export const MURANO_QUEUE_EXPIRES_MS = 86_400_000;
/** The doc's `mqtt.subscription_ttl`: 7 days in ms, idem's MQTT 5 session expiry. */
export const SUBSCRIPTION_TTL_MS = 604_800_000;

export interface BridgeOptions {
  agentId: string;
  /** The engine's queue for this agent (murano-agent's `input_queue`). */
  inputQueue: string;
  /** The engine's results queue. */
  resultsQueue: string;
  /** `mqtt.subscription_ttl` of the node (ms); `undefined` when it is `infinity`. Default {@link SUBSCRIPTION_TTL_MS}. */
  subscriptionTtlMs?: number | undefined;
}

/** RabbitMQ 3.10's MQTT session queue of a client id (QoS 1 subscriptions). */
export function sessionQueueName(agentId: string): string {
  return `mqtt-subscription-idem-${agentId}qos1`;
}

/** The definitions file of step 1 (queues and bindings; the vhost `/`). */
export function bridgeDefinitions(options: BridgeOptions): Record<string, unknown> {
  const ttl = "subscriptionTtlMs" in options ? options.subscriptionTtlMs : SUBSCRIPTION_TTL_MS;
  const session = sessionQueueName(options.agentId);
  const binding = (destination: string, key: string) => ({
    source: "amq.topic",
    vhost: "/",
    destination,
    destination_type: "queue",
    routing_key: `idem.${options.agentId}.${key}`,
    arguments: {},
  });
  return {
    queues: [
      {
        name: session,
        vhost: "/",
        durable: true,
        auto_delete: false,
        arguments: ttl === undefined ? {} : { "x-expires": ttl },
      },
      {
        name: options.resultsQueue,
        vhost: "/",
        durable: true,
        auto_delete: false,
        arguments: { "x-ha-policy": "all", "x-expires": MURANO_QUEUE_EXPIRES_MS },
      },
    ],
    bindings: [binding(session, "plans"), binding(options.resultsQueue, "results")],
  };
}

/** The shovel of step 2: its name and its JSON value. */
export function shovelDefinition(options: BridgeOptions): { name: string; value: Record<string, unknown> } {
  return {
    name: `idem-${options.agentId}`,
    value: {
      "src-uri": "amqp://",
      "src-queue": options.inputQueue,
      // Declared (when absent) as the engine declares it, so that the engine's own declare stays equivalent.
      // The shovel refuses `x-ha-policy` here; RabbitMQ does not compare it anyway.
      "src-queue-args": { "x-expires": MURANO_QUEUE_EXPIRES_MS },
      "dest-uri": "amqp://",
      "dest-exchange": "amq.topic",
      "dest-exchange-key": `idem.${options.agentId}.plans`,
      "ack-mode": "on-confirm",
    },
  };
}

/**
 * Applies steps 1 and 2 to a node (rabbitmqctl, ≈ 1 s a call). The import is asynchronous: the bindings are
 * polled with `list_bindings` before the shovel is set (a plan shovelled before its binding exists is dropped),
 * and the shovel's state with `shovel_status` until it runs.
 */
export async function applyBridge(rabbit: RabbitMqServer, options: BridgeOptions): Promise<void> {
  const file = join(rabbit.dir, `bridge-${options.agentId}.json`);
  writeFileSync(file, JSON.stringify(bridgeDefinitions(options), null, 2));
  await rabbit.ctl(["import_definitions", file]);
  const keys = ["plans", "results"].map((k) => `idem.${options.agentId}.${k}`);
  await pollCtl(rabbit, ["list_bindings", "-s", "source_name", "routing_key"], (out) =>
    keys.every((key) => out.includes(key)),
  );
  const shovel = shovelDefinition(options);
  await rabbit.ctl(["set_parameter", "shovel", shovel.name, JSON.stringify(shovel.value)]);
  await pollCtl(rabbit, ["shovel_status"], (out) =>
    out.split("\n").some((line) => line.includes(shovel.name) && /\brunning\b/.test(line)),
  );
}

/** Runs a rabbitmqctl command until its output satisfies `done` (at most `tries` times). */
async function pollCtl(
  rabbit: RabbitMqServer,
  args: readonly string[],
  done: (stdout: string) => boolean,
  tries = 30,
): Promise<void> {
  let last = "";
  for (let i = 0; i < tries; i++) {
    last = (await rabbit.ctl(args)).stdout;
    if (done(last)) return;
  }
  throw new Error(
    `rabbitmqctl ${args.join(" ")} never showed what was expected after ${tries} tries:\n${last}`,
  );
}
