/**
 * Authenticate (SPEC 9a), the first stage: nothing of a message is trusted before it. With `trustedKeys`
 * configured, a plan must carry a signature over `P/A/plans` + the plan's bytes (the topic the agent subscribed
 * to, in UTF-8, then the payload: a plan signed for one VM is refused by every other) made with one of those keys:
 *
 * - MQTT 5: user properties `Signature` (base64) and `KeyId`; the payload is the plan;
 * - MQTT 3.1.1 (and 5): an envelope payload `{"Signature": "<base64>", "KeyId": "…", "Plan": "<plan JSON text>"}`;
 *   the signature covers the topic + the UTF-8 bytes of `Plan`, and `Plan` is what the later stages see.
 *
 * Ed25519 keys verify with `crypto.verify(null, …)`, RSA keys with SHA-256 and PKCS#1 v1.5 (what a Murano
 * engine signs with). Without `KeyId` every trusted key is tried. A plan without a valid signature is answered
 * 306 on `P/A/results` only, evented `unauthenticated`, and leaves nothing else in the journal: no record, no
 * queue entry, no `seen` entry (a forged plan must not claim a real plan's ID).
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { ErrorCode, IdemError } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import type { IncomingMessage } from "../transport/port.ts";
import { commitRefusal } from "./commit.ts";
import type { PipelineContext } from "./context.ts";
import { decode, type PayloadParse } from "./decode.ts";

/** One `trustedKeys` entry of the config: a PEM public key given inline or as a file. */
export interface TrustedKeyEntry {
  keyId: string;
  publicKey?: string | undefined;
  publicKeyFile?: string | undefined;
}

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
  type: "ed25519" | "rsa";
}

/** The trusted keys by key id. */
export type TrustedKeys = ReadonlyMap<string, TrustedKey>;

/** What authentication made of a message; `payload` is the plan's bytes (an envelope's `Plan`). */
export type Authenticity =
  /** No trusted keys configured: nothing checked (an envelope is still unwrapped). */
  | { kind: "open"; payload: Uint8Array; parsed?: PayloadParse }
  | {
      kind: "signed";
      payload: Uint8Array;
      keyId: string;
      via: "property" | "envelope";
      parsed?: PayloadParse;
    }
  | { kind: "unauthenticated"; payload: Uint8Array; reason: string };

/** RSA keys shorter than this are refused at start. */
const MIN_RSA_BITS = 2048;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses the configured keys (node:crypto, PEM): Ed25519 or RSA of at least 2048 bits, unique key ids.
 * Throws IdemError code 2 naming the key id of the first bad entry: the agent does not start.
 */
export function loadTrustedKeys(entries: readonly TrustedKeyEntry[]): TrustedKeys {
  const keys = new Map<string, TrustedKey>();
  for (const entry of entries) {
    const refuse = (why: string, cause?: unknown) =>
      new IdemError(2, `Cannot start with trusted key "${entry.keyId}": ${why}`, { cause });
    if (keys.has(entry.keyId)) throw refuse("its keyId is given twice: give each key its own keyId");
    if ((entry.publicKey === undefined) === (entry.publicKeyFile === undefined)) {
      throw refuse("give exactly one of publicKey (PEM text) and publicKeyFile (a PEM file)");
    }
    let pem: string;
    try {
      pem = entry.publicKey ?? readFileSync(entry.publicKeyFile as string, "utf8");
    } catch (cause) {
      throw refuse(`cannot read publicKeyFile ${entry.publicKeyFile}: ${(cause as Error).message}`, cause);
    }
    if (/PRIVATE KEY/.test(pem)) {
      throw refuse("it is a private key: give the public key only (the private one stays with the engine)");
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pem, format: "pem" });
    } catch (cause) {
      throw refuse(`it is not a PEM public key (${(cause as Error).message})`, cause);
    }
    const type = key.asymmetricKeyType;
    if (type === "rsa") {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS)
        throw refuse(`its RSA key has ${bits} bits: give one of ${MIN_RSA_BITS} or more`);
    } else if (type !== "ed25519") {
      throw refuse(`it is a ${type} key: give an Ed25519 or an RSA key`);
    }
    keys.set(entry.keyId, { keyId: entry.keyId, key, type });
  }
  return keys;
}

const loaded = new WeakMap<readonly TrustedKeyEntry[], TrustedKeys>();

/** The config's keys, parsed once (at start: `startAgent` calls it before taking any plan). */
export function trustedKeysOf(config: {
  trustedKeys?: readonly TrustedKeyEntry[] | undefined;
}): TrustedKeys | undefined {
  const entries = config.trustedKeys;
  if (entries === undefined) return undefined;
  let keys = loaded.get(entries);
  if (!keys) {
    keys = loadTrustedKeys(entries);
    loaded.set(entries, keys);
  }
  return keys;
}

/** The bytes a plan's signature covers: the plans topic's name in UTF-8, then the plan's bytes. */
export function signedBytes(plansTopic: string, plan: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(plansTopic, "utf8"), plan]);
}

/** Checks one message against `keys` (undefined: signatures not required). Pure; never throws. */
export function authenticate(
  message: Pick<IncomingMessage, "payload" | "userProperties">,
  options: { keys: TrustedKeys | undefined; plansTopic: string },
): Authenticity {
  const { keys, plansTopic } = options;
  const properties = message.userProperties ?? {};
  const read = properties.Signature === undefined ? readEnvelope(message.payload) : undefined;
  if (read?.kind === "malformed") {
    return { kind: "unauthenticated", payload: message.payload, reason: read.reason };
  }
  const envelope = read?.kind === "envelope" ? read : undefined;
  // The payload was read to look for an envelope and is the plan itself: decode takes that parse.
  const parsed = read?.kind === "plan" ? { parsed: read.parsed } : {};
  const payload = envelope?.plan ?? message.payload;
  if (keys === undefined) return { kind: "open", payload, ...parsed };
  const refuse = (reason: string): Authenticity => ({ kind: "unauthenticated", payload, reason });
  const signature = envelope?.signature ?? properties.Signature;
  const keyId = envelope ? envelope.keyId : properties.KeyId;
  if (signature === undefined) {
    return refuse(
      "it carries no signature (an MQTT 5 user property Signature, or an envelope {Signature, KeyId, Plan})",
    );
  }
  if (typeof signature !== "string") return refuse("its Signature is given more than once");
  if (keyId !== undefined && typeof keyId !== "string") return refuse("its KeyId is given more than once");
  if (signature === "" || !BASE64.test(signature)) return refuse("its Signature is not base64");
  const candidates =
    keyId === undefined ? [...keys.values()] : [keys.get(keyId)].filter((k) => k !== undefined);
  if (candidates.length === 0) {
    return refuse(`its KeyId ${JSON.stringify(keyId)} is not a trusted key (retired, or never configured)`);
  }
  const data = signedBytes(plansTopic, payload);
  const bytes = Buffer.from(signature, "base64");
  for (const candidate of candidates) {
    if (verifies(candidate, data, bytes)) {
      const via = envelope ? "envelope" : "property";
      return { kind: "signed", payload, keyId: candidate.keyId, via, ...parsed };
    }
  }
  const which = keyId === undefined ? "any trusted key" : `key ${JSON.stringify(keyId)}`;
  return refuse(
    `its signature does not verify with ${which} over ${plansTopic} and the plan (altered, signed for another agent, or made with another key)`,
  );
}

function verifies(trusted: TrustedKey, data: Buffer, signature: Buffer): boolean {
  try {
    return trusted.type === "ed25519"
      ? verify(null, data, trusted.key, signature)
      : verify("sha256", data, trusted.key, signature);
  } catch {
    return false;
  }
}

type Envelope =
  | { kind: "envelope"; plan: Uint8Array; signature: string; keyId: string | undefined }
  | { kind: "malformed"; reason: string }
  | { kind: "plan"; parsed: PayloadParse };

/**
 * An envelope is a JSON object with the members `Plan` and `Signature` (a plan has neither). Anything else is
 * taken as the plan itself: `plan` with the parse made here (decode reuses it), or undefined when it is not
 * UTF-8 text.
 */
function readEnvelope(payload: Uint8Array): Envelope | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    return undefined;
  }
  const parsed = parseJson(text);
  const value = parsed.ok ? parsed.value : undefined;
  if (!(value instanceof Map) || !value.has("Plan") || !value.has("Signature")) {
    return { kind: "plan", parsed: { text, outcome: parsed } };
  }
  const plan = value.get("Plan");
  const signature = value.get("Signature");
  const keyId = value.get("KeyId");
  if (typeof plan !== "string" || !plan.isWellFormed()) {
    return { kind: "malformed", reason: "its envelope's Plan is not a string of plan JSON text" };
  }
  if (typeof signature !== "string") {
    return { kind: "malformed", reason: "its envelope's Signature is not a base64 string" };
  }
  if (keyId !== undefined && typeof keyId !== "string") {
    return { kind: "malformed", reason: "its envelope's KeyId is not a string" };
  }
  return { kind: "envelope", plan: Buffer.from(plan, "utf8"), signature, keyId };
}

/** Authenticates a message against the agent's own plans topic and configured keys. */
export function authenticateMessage(message: IncomingMessage, ctx: PipelineContext): Authenticity {
  const { config } = ctx;
  return authenticate(message, {
    keys: trustedKeysOf(config),
    plansTopic: `${config.prefix}/${config.agentId}/plans`,
  });
}

/**
 * Answers a plan that failed authentication: code 306 on the agent's own results topic (never a `ReplyTo` or
 * Response Topic it names), the `unauthenticated` event, a warn line; no `seen` entry. A payload whose ID cannot
 * be read gets the event only.
 */
export async function refuseUnauthenticated(
  verdict: Extract<Authenticity, { kind: "unauthenticated" }>,
  ctx: PipelineContext,
  options: { deliveryHash?: string | undefined } = {},
): Promise<void> {
  const decoded = decode(verdict.payload, {
    maxPlanBytes: Number.POSITIVE_INFINITY,
    maxPlanDepth: ctx.config.maxPlanDepth,
  });
  if (decoded.kind === "unanswerable") {
    const message = `Cannot run a plan without a readable ID as it is not authenticated: ${verdict.reason}`;
    ctx.emit({ Event: "unauthenticated", Key: null, SourceID: null, Generation: null, Message: message });
    if (options.deliveryHash !== undefined) {
      const hash = options.deliveryHash;
      await ctx.journal.commit((tx) => tx.clearDeliveries(hash));
    }
    return;
  }
  const { planId } = decoded;
  await commitRefusal(
    {
      planId,
      target: { topic: ctx.defaultReplyTopic, sourceId: planId },
      decision: "unauthenticated",
      event: "unauthenticated",
      code: ErrorCode.Unauthenticated,
      message: `Cannot run plan ${JSON.stringify(planId)} as it is not authenticated: ${verdict.reason}`,
      // Nothing of an unauthenticated plan is believed, its Generation included.
      planGeneration: null,
      remember: false,
      ...(options.deliveryHash === undefined ? {} : { deliveryHash: options.deliveryHash }),
    },
    ctx,
  );
}
