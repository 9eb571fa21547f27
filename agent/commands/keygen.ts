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
import type { Command } from "./command.ts";

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

export const keygenCommand: Command = {
  name: "keygen",
  summary: "make an Ed25519 key pair for signed plans",
  usage: `Usage: idem keygen --out PREFIX [--key-id ID]

Write PREFIX.key (private PEM, mode 0600: keep it with the engine) and PREFIX.pub (public PEM), never
overwriting a file, and print the trustedKeys entry to add to the agent's config file (SPEC 9a).

  --out PREFIX    where to write the pair
  --key-id ID     the key's id (default PREFIX's base name), 1-128 printable ASCII characters
  -h, --help      this text

Then sign plans with it: idem send --sign KEYFILE (PREFIX.key) [--key-id ID] ... PLAN.json

Exit: 0 written; 2 usage error or a file that cannot be written (or exists).`,
  options: { out: { type: "string" }, "key-id": { type: "string" } },
  allowPositionals: false,
  async run({ values, out, err }) {
    const prefix = typeof values.out === "string" ? values.out : undefined;
    const keyId = typeof values["key-id"] === "string" ? values["key-id"] : undefined;
    if (prefix === undefined || prefix === "") {
      throw new IdemError(2, "Cannot make a key pair: give --out PREFIX (and optionally --key-id ID)");
    }
    const entry = keygen({ prefix, ...(keyId === undefined ? {} : { keyId }) });
    err(
      `wrote ${prefix}.key (private: keep it with the engine) and ${entry.publicKeyFile}; add to the agent's config:\n`,
    );
    const trusted = { trustedKeys: [{ keyId: entry.keyId, publicKey: entry.publicKey }] };
    out(`${JSON.stringify(trusted, null, 2)}\n`);
    return 0;
  },
};
