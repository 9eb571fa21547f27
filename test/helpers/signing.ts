/**
 * Signed plans for the tests (SPEC 9a): key pairs, signatures over `P/A/plans` + payload the way an engine makes
 * them (node:crypto here; `python3` + `cryptography` for the Murano engine's RSA form), the MQTT 5 user
 * properties and the 3.1.1 envelope, and a config file with `trustedKeys`.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestKey {
  keyId: string;
  privateKey: KeyObject;
  /** SPKI PEM. */
  publicPem: string;
}

export function ed25519Key(keyId: string): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return { keyId, privateKey, publicPem: publicKey.export({ type: "spki", format: "pem" }) as string };
}

export function rsaKey(keyId: string, modulusLength = 2048): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength });
  return { keyId, privateKey, publicPem: publicKey.export({ type: "spki", format: "pem" }) as string };
}

/** Base64 signature of topic + payload: Ed25519, or RSA PKCS#1 v1.5 with SHA-256. */
export function signFor(key: TestKey, topic: string, payload: string | Buffer): string {
  const data = Buffer.concat([Buffer.from(topic, "utf8"), Buffer.from(payload)]);
  const algorithm = key.privateKey.asymmetricKeyType === "ed25519" ? null : "sha256";
  return sign(algorithm, data, key.privateKey).toString("base64");
}

/** Publish options carrying the signature as MQTT 5 user properties. */
export function signedProperties(
  signature: string,
  keyId?: string,
): {
  properties: { userProperties: Record<string, string> };
} {
  return {
    properties: {
      userProperties: { Signature: signature, ...(keyId === undefined ? {} : { KeyId: keyId }) },
    },
  };
}

/** The MQTT 3.1.1 envelope around a plan's JSON text. */
export function envelope(signature: string, keyId: string | undefined, planText: string): string {
  return JSON.stringify({
    Signature: signature,
    ...(keyId === undefined ? {} : { KeyId: keyId }),
    Plan: planText,
  });
}

/** Writes a config file trusting `keys` (plus `extra` settings); returns its path. */
export function trustConfig(
  dir: string,
  keys: readonly TestKey[],
  extra: Record<string, unknown> = {},
): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2, 8)}.json`);
  const trustedKeys = keys.map((key) => ({ keyId: key.keyId, publicKey: key.publicPem }));
  writeFileSync(file, JSON.stringify({ trustedKeys, ...extra }));
  return file;
}

/**
 * An RSA key pair and a signature made as a Murano engine makes them: Python `cryptography`, PKCS1v15 + SHA256
 * over `queue_name.encode() + message`. Returns the public PEM and the base64 signature.
 */
export function pythonRsaSignature(topic: string, payload: string): { publicPem: string; signature: string } {
  const program = [
    "import base64, json, sys",
    "from cryptography.hazmat.primitives import hashes, serialization",
    "from cryptography.hazmat.primitives.asymmetric import padding, rsa",
    "topic, message = sys.argv[1], sys.stdin.buffer.read()",
    "key = rsa.generate_private_key(public_exponent=65537, key_size=2048)",
    "signature = key.sign(topic.encode() + message, padding.PKCS1v15(), hashes.SHA256())",
    "pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)",
    "print(json.dumps({'publicPem': pem.decode(), 'signature': base64.b64encode(signature).decode()}))",
  ].join("\n");
  const out = execFileSync("python3", ["-c", program, topic], { input: payload, encoding: "utf8" });
  return JSON.parse(out) as { publicPem: string; signature: string };
}
