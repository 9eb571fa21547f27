/**
 * `idem send`: the engine side, for operators and scripts. Reads a plan, fills the envelope (a fresh ID when
 * it has none, Generation / Idempotency / Timeout / ReplyTo from flags), publishes it QoS 1 and, with
 * `--wait`, prints the result whose SourceID is the plan's ID.
 */

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { readSigningKey, signPlan } from "./commands/keygen.ts";
import { brokerUrl } from "./config.ts";
import { IdemError } from "./errors.ts";
import { parseJson } from "./json/parse.ts";

export interface SendOptions {
  broker: string;
  agentId: string;
  prefix: string;
  /** A file path, or "-" for stdin. */
  planFile: string;
  generation?: number;
  policy?: string;
  key?: string;
  timeout?: number;
  replyTo?: string;
  /** Wait this long for the result; absent: return once the broker has the plan. */
  waitSeconds?: number;
  /**
   * Sign the plan (SPEC 9a) with this PEM private key (Ed25519 or RSA): MQTT 5 user properties `Signature` and
   * `KeyId` when the broker speaks 5, else (or with `envelope`) the envelope `{Signature, KeyId, Plan}`.
   */
  sign?: { keyFile: string; keyId?: string; envelope?: boolean };
}

function readPlan(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (cause) {
    throw new IdemError(2, `Cannot read plan ${file}: ${(cause as Error).message}`, { cause });
  }
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (cause) {
    throw new IdemError(2, `Cannot parse plan ${file} as JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof plan !== "object" || plan === null || Array.isArray(plan)) {
    throw new IdemError(2, `Cannot send ${file}: a plan is a JSON object`);
  }
  return plan as Record<string, unknown>;
}

async function connect(broker: string): Promise<MqttClient> {
  if (broker.startsWith("embedded")) {
    throw new IdemError(
      2,
      `Cannot send to "${broker}": give the URL of the agent's broker, e.g. mqtt://127.0.0.1:1883`,
    );
  }
  const url = new URL(brokerUrl(broker));
  const tls = url.protocol === "mqtts:" || url.protocol === "ssl:";
  const options = {
    host: url.hostname,
    port: Number(url.port || (tls ? 8883 : 1883)),
    protocol: tls ? ("mqtts" as const) : ("mqtt" as const),
    clientId: `idem-send-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
    writeCache: false,
    connectTimeout: 10_000,
    // A password never comes in the URL (brokerUrl refuses it): IDEM_BROKER_PASSWORD.
    ...credentials(url),
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

/** The user from the URL or IDEM_BROKER_USERNAME, the password from IDEM_BROKER_PASSWORD. */
function credentials(url: URL): { username?: string; password?: string } {
  const username = url.username ? decodeURIComponent(url.username) : process.env.IDEM_BROKER_USERNAME;
  const password = process.env.IDEM_BROKER_PASSWORD;
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}

/** Sends the plan; resolves with the exit code (0 sent or succeeded, 1 failed or no result in time). */
export async function sendPlan(options: SendOptions): Promise<number> {
  const plan = readPlan(options.planFile);
  if (typeof plan.ID !== "string" || plan.ID === "") plan.ID = randomUUID().replaceAll("-", "");
  if (options.generation !== undefined) plan.Generation = options.generation;
  if (options.timeout !== undefined) plan.Timeout = options.timeout;
  if (options.replyTo !== undefined) plan.ReplyTo = options.replyTo;
  if (options.policy !== undefined || options.key !== undefined) {
    const idempotency = { ...((plan.Idempotency as Record<string, unknown> | undefined) ?? {}) };
    if (options.policy !== undefined) idempotency.Policy = options.policy;
    if (options.key !== undefined) idempotency.Key = options.key;
    plan.Idempotency = idempotency;
  }
  const planId = plan.ID as string;
  const replyTopic =
    typeof plan.ReplyTo === "string" ? plan.ReplyTo : `${options.prefix}/${options.agentId}/results`;
  const signingKey = options.sign ? readSigningKey(options.sign.keyFile) : undefined;
  const client = await connect(options.broker);
  try {
    let result: Promise<string> | undefined;
    if (options.waitSeconds !== undefined) {
      const seconds = options.waitSeconds;
      result = new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `No result for plan ${planId} on ${replyTopic} within ${seconds} s: is the agent running?`,
              ),
            ),
          seconds * 1000,
        );
        client.on("message", (topic, payload) => {
          if (topic !== replyTopic) return;
          const text = payload.toString("utf8");
          // Read as Python's json reads it: a result Body may hold NaN or Infinity, as murano-agent's do.
          if (resultField(text, "SourceID") !== planId) return;
          clearTimeout(timer);
          resolve(text);
        });
      });
      await client.subscribeAsync(replyTopic, { qos: 1 });
    }
    const plansTopic = `${options.prefix}/${options.agentId}/plans`;
    const planText = JSON.stringify(plan);
    if (signingKey && options.sign) {
      const signature = signPlan(signingKey, plansTopic, Buffer.from(planText, "utf8"));
      const keyId = options.sign.keyId;
      if (client.options.protocolVersion === 5 && !options.sign.envelope) {
        const userProperties = { Signature: signature, ...(keyId === undefined ? {} : { KeyId: keyId }) };
        await client.publishAsync(plansTopic, planText, { qos: 1, properties: { userProperties } });
      } else {
        const envelope = {
          Signature: signature,
          ...(keyId === undefined ? {} : { KeyId: keyId }),
          Plan: planText,
        };
        await client.publishAsync(plansTopic, JSON.stringify(envelope), { qos: 1 });
      }
    } else {
      await client.publishAsync(plansTopic, planText, { qos: 1 });
    }
    if (!result) {
      process.stdout.write(`${planId}\n`);
      return 0;
    }
    let text: string;
    try {
      text = await result;
    } catch (error) {
      process.stderr.write(`idem: ${(error as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`${text}\n`);
    return resultField(text, "ErrorCode") === 0 ? 0 : 1;
  } finally {
    await client.endAsync();
  }
}

/** A top-level field of a result message, read as Python's json reads it; undefined if it is not JSON. */
function resultField(text: string, name: string): unknown {
  const parsed = parseJson(text);
  if (
    !parsed.ok ||
    parsed.value === null ||
    typeof parsed.value !== "object" ||
    Array.isArray(parsed.value)
  ) {
    return undefined;
  }
  const value = Object.hasOwn(parsed.value, name) ? parsed.value[name] : undefined;
  return typeof value === "bigint" ? Number(value) : value;
}
