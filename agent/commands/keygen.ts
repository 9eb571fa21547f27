/**
 * The engine side of signed plans (SPEC 9a): `idem keygen` makes an Ed25519 key pair, and {@link signPlan}
 * signs a plan for one agent's plans topic the way `pipeline/authenticate.ts` checks it (`P/A/plans` in UTF-8,
 * then the plan's bytes; Ed25519, or RSA with SHA-256 and PKCS#1 v1.5 as a Murano engine signs).
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { IdemError } from "../errors.ts";
import { signedBytes } from "../pipeline/authenticate.ts";

export interface KeygenOptions {
  /** `PREFIX.key` (private PEM, mode 0600) and `PREFIX.pub` (public PEM) are written. */
  prefix: string;
  /** Default: the base name of `prefix`. */
  keyId?: string;
}

/** Writes the pair; returns the `trustedKeys` entry to paste into the agent's config. */
export function keygen(options: KeygenOptions): { keyId: string; publicKeyFile: string; publicKey: string } {
  const keyId = options.keyId ?? basename(options.prefix);
  if (!/^[\x21-\x7e]{1,128}$/.test(keyId)) {
    throw new IdemError(
      2,
      `Cannot use key id ${JSON.stringify(keyId)}: give 1-128 printable ASCII characters`,
    );
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
  const keyFile = `${options.prefix}.key`;
  const pubFile = `${options.prefix}.pub`;
  try {
    // `wx`: never overwrite a key someone may still sign with.
    writeFileSync(keyFile, privatePem, { mode: 0o600, flag: "wx" });
    chmodSync(keyFile, 0o600);
    writeFileSync(pubFile, publicPem, { mode: 0o644, flag: "wx" });
  } catch (cause) {
    throw new IdemError(2, `Cannot write the key pair ${keyFile}, ${pubFile}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return { keyId, publicKeyFile: pubFile, publicKey: publicPem };
}

/** Reads a PEM private key (Ed25519 or RSA) for `idem send --sign`. */
export function readSigningKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: readFileSync(file), format: "pem" });
  } catch (cause) {
    throw new IdemError(2, `Cannot read the signing key ${file}: ${(cause as Error).message}`, { cause });
  }
  if (key.asymmetricKeyType !== "ed25519" && key.asymmetricKeyType !== "rsa") {
    throw new IdemError(
      2,
      `Cannot sign with ${file}: it is a ${key.asymmetricKeyType} key; give an Ed25519 or RSA private key`,
    );
  }
  return key;
}

/** The base64 signature of `plan` (its bytes as sent) for the agent whose plans topic is `plansTopic`. */
export function signPlan(key: KeyObject, plansTopic: string, plan: Uint8Array): string {
  const data = signedBytes(plansTopic, plan);
  const signature = key.asymmetricKeyType === "ed25519" ? sign(null, data, key) : sign("sha256", data, key);
  return signature.toString("base64");
}
