/**
 * Fingerprint (SPEC section 4): `sha256:` + SHA-256 of the RFC 8785 canonical JSON of the normalized plan.
 *
 * Normalization removes what a Murano engine changes on every send (IDs, stamps, file ids) and idem's own
 * envelope fields, so that two sends of one template with the same parameters get the same fingerprint.
 * `Idempotency.Options.ignore` pointers are resolved against the plan as sent, before file ids are replaced.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

const ENVELOPE = ["ID", "Stamp", "Action", "ReplyTo", "Generation", "Idempotency", "Timeout"];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function fingerprint(plan: Readonly<Record<string, unknown>>): string {
  const copy = structuredClone(plan) as JsonObject;
  for (const pointer of ignoredPointers(plan)) removePointer(copy, pointer);
  for (const field of ENVELOPE) delete copy[field];
  normalizeFiles(copy);
  return `sha256:${sha256(canonicalize(copy) ?? "null")}`;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function ignoredPointers(plan: Readonly<Record<string, unknown>>): string[] {
  const idempotency = plan.Idempotency;
  if (!isObject(idempotency) || !isObject(idempotency.Options)) return [];
  const ignore = idempotency.Options.ignore;
  return Array.isArray(ignore) ? ignore.filter((p): p is string => typeof p === "string") : [];
}

/** Removes the value at an RFC 6901 pointer; a pointer that resolves to nothing is ignored. */
function removePointer(root: JsonObject, pointer: string): void {
  if (!pointer.startsWith("/")) return;
  const tokens = pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  let node: Json = root;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] ?? null;
    else if (isObject(node)) node = node[token] ?? null;
    else return;
  }
  const last = tokens.at(-1) as string;
  if (Array.isArray(node) && /^\d+$/.test(last)) node.splice(Number(last), 1);
  else if (isObject(node)) delete node[last];
}

/** The content identity of one file: what it is, not the random id it was sent under. */
function fileIdentity(file: Json): Json {
  if (!isObject(file)) return file;
  if (file.Type === "Downloadable")
    return { Name: file.Name ?? null, Type: "Downloadable", URL: file.URL ?? null };
  const body = typeof file.Body === "string" ? file.Body : "";
  const bytes = file.BodyType === "Base64" ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  return { Name: file.Name ?? null, BodyType: file.BodyType ?? "Text", sha256: sha256(bytes) };
}

function normalizeFiles(plan: JsonObject): void {
  const files = isObject(plan.Files) ? plan.Files : {};
  const identities = new Map<string, Json>();
  for (const [id, file] of Object.entries(files)) identities.set(id, fileIdentity(file));
  const resolve = (ref: Json): Json =>
    typeof ref === "string" && identities.has(ref) ? (identities.get(ref) ?? ref) : ref;

  if (isObject(plan.Scripts)) {
    for (const script of Object.values(plan.Scripts)) {
      if (!isObject(script)) continue;
      if ("EntryPoint" in script) script.EntryPoint = resolve(script.EntryPoint ?? null);
      if (Array.isArray(script.Files)) {
        script.Files = script.Files.map((ref) =>
          isObject(ref)
            ? Object.fromEntries(Object.entries(ref).map(([name, id]) => [name, resolve(id)]))
            : resolve(ref),
        );
      }
    }
  }
  if ("Files" in plan) {
    plan.Files = [...identities.values()].sort((a, b) =>
      compare(canonicalize(a) ?? "", canonicalize(b) ?? ""),
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
