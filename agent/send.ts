/**
 * `idem send`: the engine side, for operators and scripts. Reads a plan, fills the envelope (a fresh ID when
 * it has none, Generation / Idempotency (Policy, Key, Options) / Timeout / ReplyTo from flags), publishes it
 * QoS 1 and, with `--wait`, prints the result whose SourceID is the plan's ID as the agent sent it (bare
 * `Infinity`/`NaN` included, as Python's json writes them). The broker session and exchange are agent/client/.
 *
 * The plan file is read with the agent's own parser (agent/json/parse.ts) and written back from that tree
 * (agent/json/write.ts), so what is published is what the file says: `1.0` stays a float, `2**53+1` exact,
 * keys in their order (SPEC 3 "Numbers keep their JSON form"); only the envelope fields change.
 */

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { connectClient } from "./client/connect.ts";
import { Exchange } from "./client/exchange.ts";
import { readSigningKey } from "./commands/keygen.ts";
import { IdemError } from "./errors.ts";
import { type JsonObject, type JsonValue, parseJson } from "./json/parse.ts";
import { stringifyJson } from "./json/write.ts";
import type { Plan } from "./murano/plan.ts";
import { topicNameProblem } from "./transport/topic.ts";

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
  /** The policy's options (`Idempotency.Options`, SPEC 3/5.2), e.g. `{"window": 600}`: replace the plan's own. */
  options?: JsonObject;
  /** Wait this long (seconds, ≥ 0) for the result; absent: return once the broker has the plan. */
  waitSeconds?: number;
  /** Broker credentials (`IDEM_BROKER_USERNAME` / `IDEM_BROKER_PASSWORD`); a `USER@` in the URL wins. */
  username?: string;
  password?: string;
  /** Where the answer (plan ID or result) goes; default standard output. */
  out?: (text: string) => void;
  /** Where warnings and the reason of exit 3 go; default standard error. */
  err?: (text: string) => void;
  /**
   * Sign the plan (SPEC 9a) with this PEM private key (Ed25519 or RSA): MQTT 5 user properties `Signature` and
   * `KeyId` when the broker speaks 5, else (or with `envelope`) the envelope `{Signature, KeyId, Plan}`.
   */
  sign?: { keyFile: string; keyId?: string; envelope?: boolean };
}

/** The plan's envelope fields that flags set (SPEC 3), typed by the wire schema. */
type Envelope = Pick<Plan, "ID" | "Generation" | "Timeout" | "ReplyTo"> & {
  Idempotency?: Pick<NonNullable<Plan["Idempotency"]>, "Policy" | "Key"> & { Options?: JsonObject };
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
    ...(options.options === undefined ? {} : { Options: options.options }),
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
 * `30.0`), Idempotency merged into the plan's own object (its Options kept unless `--options` gives others).
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
    for (const [name, value] of Object.entries(envelope.Idempotency)) merged.set(name, value as JsonValue);
    plan.set("Idempotency", merged);
  }
}

/**
 * Sends the plan; resolves with the exit code (SPEC 10): 0 sent, or its result's ErrorCode is 0; 1 a result
 * with another ErrorCode; 3 no result within `waitSeconds` (the reason says whether the agent is online and
 * whether it runs the plan, from its retained status `P/A/status`). @throws IdemError(2) for a plan that
 * cannot be read, a broker that cannot be reached, or a connection lost while waiting.
 */
export async function sendPlan(options: SendOptions): Promise<number> {
  const out = options.out ?? ((text: string) => void process.stdout.write(text));
  const err = options.err ?? ((text: string) => void process.stderr.write(text));
  const plan = readPlan(options.planFile);
  const envelope = envelopeOf(plan, options);
  applyEnvelope(plan, envelope);
  const planId = envelope.ID;
  const replyTo = plan.get("ReplyTo");
  const replyProblem = typeof replyTo === "string" ? topicNameProblem(replyTo) : undefined;
  if (replyProblem !== undefined) {
    throw new IdemError(
      2,
      `Cannot send ${options.planFile} as its ReplyTo ${JSON.stringify(replyTo)} is not a topic name (${replyProblem}): the agent would refuse it; give one topic name without wildcards, or none`,
    );
  }
  const topics = {
    plans: `${options.prefix}/${options.agentId}/plans`,
    status: `${options.prefix}/${options.agentId}/status`,
    reply: typeof replyTo === "string" ? replyTo : `${options.prefix}/${options.agentId}/results`,
  };
  const sign = options.sign ? { ...options.sign, key: readSigningKey(options.sign.keyFile) } : undefined;
  const client = await connectClient(options.broker, {
    command: "send",
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  const exchange = new Exchange(client, {
    id: planId,
    noun: "plan",
    topics: { requests: topics.plans, status: topics.status, reply: topics.reply },
    waiting: options.waitSeconds !== undefined,
  });
  try {
    await exchange.listen();
    await exchange.publish(stringifyJson(plan), sign === undefined ? {} : { sign });
    const status = await exchange.status();
    if (status === undefined)
      err(`idem: warning: ${describeAgent(options.agentId, topics.status, undefined, planId)}\n`);
    if (options.waitSeconds === undefined) {
      out(`${planId}\n`);
      return 0;
    }
    const outcome = await exchange.answer(options.waitSeconds);
    if (outcome.kind === "lost") {
      throw new IdemError(
        2,
        `Cannot wait for the result of plan ${planId}: the connection to the broker was lost (${outcome.why})`,
      );
    }
    if (outcome.kind === "timeout") {
      const agent = describeAgent(options.agentId, topics.status, await exchange.status(), planId);
      err(
        `idem: No result for plan ${planId} on ${topics.reply} within ${options.waitSeconds} s; ${agent}${agent.endsWith("?") ? "" : "."} Wait longer with --wait SECONDS; re-sending the same plan (same ID) does not run it twice\n`,
      );
      return 3;
    }
    out(`${outcome.text}\n`);
    return resultField(outcome.text, "ErrorCode") === 0 ? 0 : 1;
  } finally {
    exchange.close();
    // On a lost connection mqtt.js's graceful end waits for the unacknowledged publish forever: force it.
    await client.endAsync(exchange.lost);
  }
}

/** A top-level field of a result message, read as Python's json reads it (NaN, Infinity); undefined if not JSON. */
function resultField(text: string, name: string): unknown {
  const parsed = parseJson(text);
  if (!parsed.ok || !(parsed.value instanceof Map)) return undefined;
  const value = parsed.value.get(name);
  return typeof value === "bigint" ? Number(value) : value;
}

/**
 * One clause on the agent as its status shows it: never seen, offline since, superseded, or online — and then
 * what it runs (SPEC 8 `Running: {Key, SourceID, Since} | null`, `Queued`), when the status says.
 */
function describeAgent(agentId: string, statusTopic: string, status: unknown, planId: string): string {
  if (typeof status !== "object" || status === null) {
    return `agent ${agentId} has never been seen on this broker (no retained status on ${statusTopic}): check --agent-id and --broker, and that the agent is started`;
  }
  const s = status as Record<string, unknown>;
  const since = typeof s.Since === "string" ? ` since ${s.Since}` : "";
  if (s.State === "offline") {
    return `agent ${agentId} is offline${since}: the plan waits in its session on the broker until it is back`;
  }
  if (s.State === "superseded") {
    return `agent ${agentId} stood down (superseded by a newer incarnation${since}): it runs no more plans`;
  }
  const online = `agent ${agentId} is online${since}`;
  const queued = typeof s.Queued === "number" && s.Queued > 0 ? `, ${s.Queued} plan(s) queued` : "";
  const running = s.Running as Record<string, unknown> | null | undefined;
  if (running === undefined) return `${online} (its status does not say what it runs)`;
  if (running === null)
    return `${online}, running no plan${queued}: was the plan refused or its result sent elsewhere (ReplyTo)?`;
  const at = typeof running.Since === "string" ? ` since ${running.Since}` : "";
  if (running.SourceID === planId) return `${online} and running this plan${at}${queued}`;
  return `${online}, running another plan (${String(running.SourceID)}, key ${String(running.Key)})${at}${queued}: this one may be queued behind it`;
}
