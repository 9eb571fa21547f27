/**
 * `idem cancel KEY|PLAN-ID` (SPEC 10): asks a running agent, over its control topic `P/A/control` (QoS 1), to
 * cancel the queued or running plans a plan ID or key names, and prints the agent's answer from
 * `P/A/control/replies` (`pipeline/control.ts` is the agent's side, `pipeline/cancel.ts` what it does). Signed like
 * `idem send --sign` when the agent has `trustedKeys`: over `P/A/control` + the request's bytes.
 *
 * Exit status: 0 something was cancelled; 1 nothing to cancel; 2 usage, connection, or the agent refused the
 * request (unsigned, badly signed, stale); 3 no answer in time.
 */
import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { brokerUrl } from "../config.ts";
import { IdemError } from "../errors.ts";
import { controlTopics } from "../pipeline/control.ts";
import { checkAddressing } from "./addressing.ts";
import type { Command, CommandInput } from "./command.ts";
import { readSigningKey, signPlan } from "./keygen.ts";

const USAGE = `Usage: idem cancel [--broker URL] --agent-id ID [--prefix P] [--sign KEYFILE [--key-id ID] [--envelope]]
                   [--wait SECONDS] KEY|PLAN-ID | --key KEY | --plan-id PLAN-ID

Cancels the plans of an agent that a plan ID or a key names (--key or --plan-id says which; without them a
target that is both a plan's ID and another key is refused, naming both, rather than cancel the wrong one):
  - a queued plan is answered ErrorCode 102 (Cancelled) and never starts;
  - a running plan's process group gets TERM, then KILL after the agent's killGraceSeconds; it is answered 102.
Plans that joined a cancelled run are answered 102 too, and the key's record ends "failed" with that code.

The request goes to the agent's control topic P/A/control (QoS 1); the agent answers on P/A/control/replies:
  {"SourceID", "Action": "Cancel:Result", "State": "running"|"queued"|"not-found"|"ambiguous"|"refused", "Cancelled": [plan IDs],
   "Key", "Message"}
which is printed on standard output.

Options:
  --broker URL      the agent's broker (default IDEM_BROKER, else mqtt://127.0.0.1:1883); a user may be given in
                    the URL, the password only in IDEM_BROKER_PASSWORD
  --agent-id ID     the agent (default IDEM_AGENT_ID)
  --key KEY         cancel the plans of this key (Idempotency.Key or the fingerprint idem inspect shows)
  --plan-id ID      cancel this plan (its ID, the result's SourceID)
  --prefix P        the agent's topic prefix (default idem)
  --sign KEYFILE    sign the request with this PEM private key (Ed25519 or RSA), as idem send --sign does: needed
                    when the agent has trustedKeys (then the request must also reach it within 10 minutes)
  --key-id ID       the KeyId sent with the signature
  --envelope        sign in the {"Signature", "KeyId", "Plan"} envelope even on MQTT 5 (MQTT 3.1.1 always does)
  --wait SECONDS    how long to wait for the agent's answer (default 10); an undelivered request expires then
                    on MQTT 5 brokers

Exit status: 0 cancelled; 1 nothing to cancel (no queued or running plan has that ID or key); 2 usage or
connection error, or the agent refused the request (or found the target ambiguous); 3 no answer in time.`;

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a queued or running plan by plan ID or key (answered 102)",
  usage: USAGE,
  options: {
    broker: { type: "string" },
    "agent-id": { type: "string" },
    key: { type: "string" },
    "plan-id": { type: "string" },
    prefix: { type: "string" },
    sign: { type: "string" },
    "key-id": { type: "string" },
    envelope: { type: "boolean" },
    wait: { type: "string" },
  },
  allowPositionals: true,
  run: cancel,
};

interface Answer {
  State?: unknown;
  [field: string]: unknown;
}

async function cancel(input: CommandInput): Promise<number> {
  const { values, positionals, env } = input;
  const text = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const agentId = text("agent-id") ?? env.IDEM_AGENT_ID;
  if (!agentId)
    throw new IdemError(2, "Cannot cancel without --agent-id ID (or IDEM_AGENT_ID): name the agent");
  const given = [
    ...positionals.map((target) => ({ target, kind: undefined })),
    ...(text("key") === undefined ? [] : [{ target: text("key") as string, kind: "key" as const }]),
    ...(text("plan-id") === undefined ? [] : [{ target: text("plan-id") as string, kind: "plan" as const }]),
  ];
  if (given.length !== 1 || given[0]?.target === "") {
    throw new IdemError(
      2,
      "Cannot cancel: give exactly one plan ID or key, as KEY|PLAN-ID, --key KEY or --plan-id PLAN-ID (idem cancel --help)",
    );
  }
  const { target, kind } = given[0] as { target: string; kind: "key" | "plan" | undefined };
  const waitText = text("wait") ?? "10";
  const waitSeconds = Number(waitText);
  if (!(Number.isFinite(waitSeconds) && waitSeconds > 0)) {
    throw new IdemError(2, `Cannot use --wait ${waitText}: give a number of seconds above 0`);
  }
  const signFile = text("sign");
  if (signFile === undefined && (text("key-id") !== undefined || values.envelope === true)) {
    throw new IdemError(2, "Cannot use --key-id or --envelope without --sign KEYFILE");
  }
  checkAddressing({ command: "cancel", agentId, prefix: text("prefix") ?? "idem" });
  const key = signFile === undefined ? undefined : readSigningKey(signFile);
  const topics = controlTopics(text("prefix") ?? "idem", agentId);
  const broker = text("broker") ?? env.IDEM_BROKER ?? "mqtt://127.0.0.1:1883";
  const client = await connect(broker, env);
  try {
    const id = randomUUID().replaceAll("-", "");
    const request = JSON.stringify({
      Action: "Cancel",
      ID: id,
      Target: target,
      ...(kind === undefined ? {} : { Kind: kind }),
      Time: new Date().toISOString(),
    });
    const answer = waitForAnswer(client, topics.replies, id, waitSeconds);
    await client.subscribeAsync(topics.replies, { qos: 1 });
    const v5 = client.options.protocolVersion === 5;
    // MQTT 5: a request the agent did not take within the wait expires, rather than cancel something later.
    const expiry = { messageExpiryInterval: Math.ceil(waitSeconds) };
    if (key) {
      const signature = signPlan(key, topics.requests, Buffer.from(request, "utf8"));
      const keyId = text("key-id");
      if (v5 && values.envelope !== true) {
        const userProperties = { Signature: signature, ...(keyId === undefined ? {} : { KeyId: keyId }) };
        await client.publishAsync(topics.requests, request, {
          qos: 1,
          properties: { userProperties, ...expiry },
        });
      } else {
        const envelope = {
          Signature: signature,
          ...(keyId === undefined ? {} : { KeyId: keyId }),
          Plan: request,
        };
        await client.publishAsync(topics.requests, JSON.stringify(envelope), {
          qos: 1,
          ...(v5 ? { properties: expiry } : {}),
        });
      }
    } else {
      await client.publishAsync(topics.requests, request, { qos: 1, ...(v5 ? { properties: expiry } : {}) });
    }
    const received = await answer;
    if (received === undefined) {
      input.err(
        `idem: no answer from agent ${agentId} within ${waitSeconds} s on ${topics.replies}: is it running and connected to ${broker}? (--wait SECONDS waits longer)\n`,
      );
      return 3;
    }
    input.out(`${received.text}\n`);
    const state = received.answer.State;
    if (state === "running" || state === "queued") return 0;
    if (state === "not-found") return 1;
    if (typeof received.answer.Message === "string") input.err(`idem: ${received.answer.Message}\n`);
    return 2;
  } finally {
    // Forced: the request was acknowledged (or the connection is gone, and a graceful end would wait forever).
    await client.endAsync(true).catch(() => {});
  }
}

/** The first answer on `topic` whose SourceID is `id`, or undefined after `seconds`. */
function waitForAnswer(
  client: MqttClient,
  topic: string,
  id: string,
  seconds: number,
): Promise<{ text: string; answer: Answer } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), seconds * 1000);
    client.on("message", (from, payload) => {
      if (from !== topic) return;
      const text = payload.toString("utf8");
      let answer: Answer;
      try {
        answer = JSON.parse(text) as Answer;
      } catch {
        return;
      }
      if (answer === null || typeof answer !== "object" || answer.SourceID !== id) return;
      clearTimeout(timer);
      resolve({ text, answer });
    });
  });
}

/** MQTT 5, else 3.1.1; a clean session of its own. Throws IdemError(2) naming the broker when neither connects. */
async function connect(broker: string, env: Record<string, string | undefined>): Promise<MqttClient> {
  if (broker.startsWith("embedded")) {
    throw new IdemError(
      2,
      `Cannot cancel through "${broker}": give the URL of the agent's broker, e.g. mqtt://127.0.0.1:1883`,
    );
  }
  const url = new URL(brokerUrl(broker));
  const tls = url.protocol === "mqtts:" || url.protocol === "ssl:";
  const username = url.username ? decodeURIComponent(url.username) : env.IDEM_BROKER_USERNAME;
  const password = env.IDEM_BROKER_PASSWORD;
  const options = {
    host: url.hostname,
    port: Number(url.port || (tls ? 8883 : 1883)),
    protocol: tls ? ("mqtts" as const) : ("mqtt" as const),
    clientId: `idem-cancel-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
  try {
    return await mqtt.connectAsync({ ...options, protocolVersion: 5 });
  } catch {
    try {
      return await mqtt.connectAsync({ ...options, protocolVersion: 4 });
    } catch (cause) {
      throw new IdemError(2, `Cannot connect to the broker at ${broker}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
}
