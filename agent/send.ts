/**
 * `idem send`: the engine side, for operators and scripts. Reads a plan, fills the envelope (a fresh ID when
 * it has none, Generation / Idempotency / Timeout / ReplyTo from flags), publishes it QoS 1 and, with
 * `--wait`, prints the result whose SourceID is the plan's ID.
 *
 * The plan file is read with the agent's own parser (agent/json/parse.ts) and written back from that tree
 * (agent/json/write.ts), so what is published is what the file says: `1.0` stays a float, `2**53+1` exact,
 * keys in their order (SPEC 3 "Numbers keep their JSON form"); only the envelope fields change.
 */

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { readSigningKey, signPlan } from "./commands/keygen.ts";
import { brokerUrl } from "./config.ts";
import { IdemError } from "./errors.ts";
import { type JsonObject, type JsonValue, parseJson } from "./json/parse.ts";
import { stringifyJson } from "./json/write.ts";
import type { Plan } from "./murano/plan.ts";

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

/** The plan's envelope fields that flags set (SPEC 3), typed by the wire schema. */
type Envelope = Pick<Plan, "ID" | "Generation" | "Timeout" | "ReplyTo"> & {
  Idempotency?: Pick<NonNullable<Plan["Idempotency"]>, "Policy" | "Key">;
};

/** The plan file's exact tree. @throws IdemError(2) when it cannot be read, is not JSON or not an object. */
function readPlan(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (cause) {
    throw new IdemError(2, `Cannot read plan ${file}: ${(cause as Error).message}`, { cause });
  }
  const parsed = parseJson(text);
  if (!parsed.ok) throw new IdemError(2, `Cannot parse plan ${file} as JSON: ${parsed.reason}`);
  if (!(parsed.value instanceof Map)) throw new IdemError(2, `Cannot send ${file}: a plan is a JSON object`);
  return parsed.value;
}

/** What the flags set: a fresh ID when the plan has none (or an empty one), the rest only when given. */
function envelopeOf(plan: JsonObject, options: SendOptions): Envelope {
  const id = plan.get("ID");
  const idempotency = {
    ...(options.policy === undefined ? {} : { Policy: options.policy }),
    ...(options.key === undefined ? {} : { Key: options.key }),
  };
  return {
    ID: typeof id === "string" && id !== "" ? id : randomUUID().replaceAll("-", ""),
    ...(options.generation === undefined ? {} : { Generation: options.generation }),
    ...(options.timeout === undefined ? {} : { Timeout: options.timeout }),
    ...(options.replyTo === undefined ? {} : { ReplyTo: options.replyTo }),
    ...(Object.keys(idempotency).length === 0 ? {} : { Idempotency: idempotency }),
  };
}

/**
 * Writes the envelope into the plan's tree: integral numbers as JSON integers (`--timeout 30` is `30`, not
 * `30.0`), Idempotency merged into the plan's own object (its Options kept as they are).
 */
function applyEnvelope(plan: JsonObject, envelope: Envelope): void {
  const number = (n: number): JsonValue => (Number.isInteger(n) ? BigInt(n) : n);
  plan.set("ID", envelope.ID);
  if (envelope.Generation !== undefined) plan.set("Generation", number(envelope.Generation));
  if (envelope.Timeout !== undefined) plan.set("Timeout", number(envelope.Timeout));
  if (envelope.ReplyTo !== undefined) plan.set("ReplyTo", envelope.ReplyTo);
  if (envelope.Idempotency !== undefined) {
    const own = plan.get("Idempotency");
    const merged: JsonObject = own instanceof Map ? new Map(own) : new Map();
    for (const [name, value] of Object.entries(envelope.Idempotency)) merged.set(name, value);
    plan.set("Idempotency", merged);
  }
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
  const envelope = envelopeOf(plan, options);
  applyEnvelope(plan, envelope);
  const planId = envelope.ID;
  const replyTo = plan.get("ReplyTo");
  const replyTopic = typeof replyTo === "string" ? replyTo : `${options.prefix}/${options.agentId}/results`;
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
    const planText = stringifyJson(plan);
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
  if (!parsed.ok || !(parsed.value instanceof Map)) return undefined;
  const value = parsed.value.get(name);
  return typeof value === "bigint" ? Number(value) : value;
}
