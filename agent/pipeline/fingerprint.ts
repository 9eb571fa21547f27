/**
 * Fingerprint (SPEC section 4): `sha256:` + SHA-256 of the canonical JSON (agent/json/canonical.ts) of the
 * normalized plan.
 *
 * Normalization removes what a Murano engine changes on every send (IDs, stamps, file ids) and idem's own
 * envelope fields, so that two sends of one template with the same parameters get the same fingerprint.
 * `Idempotency.Options.ignore` pointers are resolved against the plan as sent, before file ids are replaced.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../json/canonical.ts";
import type { JsonObject, JsonValue } from "../json/parse.ts";
import { copyJson } from "../json/plain.ts";

const ENVELOPE = ["ID", "Stamp", "Action", "ReplyTo", "Generation", "Idempotency", "Timeout"];
const INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The fingerprint of a plan given as its exact tree (`parseJson`'s value: integers as bigint, floats as number),
 * e.g. `sha256:5e18…`. Works on a copy: the plan is never changed. Pointers are followed through own properties
 * only and array indices only as `0|[1-9][0-9]*` below the length (RFC 6901 4), so `/__proto__/x` can reach
 * nothing but a key named `__proto__`; a pointer that resolves to nothing is skipped. Any depth is safe.
 *
 * @throws TypeError only if the tree holds a non-JSON value (undefined, a function), which parseJson never makes.
 */
export function fingerprint(plan: Readonly<JsonObject>): string {
  const copy = copyJson(plan as JsonObject);
  for (const pointer of ignoredPointers(plan)) removePointer(copy, pointer);
  for (const field of ENVELOPE) delete copy[field];
  normalizeFiles(copy);
  return `sha256:${sha256(canonicalJson(copy))}`;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value[key]` if it is `value`'s own: never a prototype's member. */
function own(value: JsonValue | undefined, key: string): JsonValue | undefined {
  if (Array.isArray(value))
    return INDEX.test(key) && Number(key) < value.length ? value[Number(key)] : undefined;
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function ignoredPointers(plan: Readonly<JsonObject>): string[] {
  const ignore = own(own(own(plan as JsonObject, "Idempotency"), "Options"), "ignore");
  return Array.isArray(ignore) ? ignore.filter((p): p is string => typeof p === "string") : [];
}

/** Removes the value at an RFC 6901 pointer; a pointer that resolves to nothing is ignored. */
function removePointer(root: JsonObject, pointer: string): void {
  if (!pointer.startsWith("/")) return;
  const tokens = pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  const last = tokens.pop() as string;
  let node: JsonValue | undefined = root;
  for (const token of tokens) node = own(node, token);
  if (own(node, last) === undefined) return;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else if (isObject(node)) delete node[last];
}

/** The content identity of one file: what it is, not the random id it was sent under. */
function fileIdentity(file: JsonValue): JsonValue {
  if (!isObject(file)) return file;
  const name = own(file, "Name") ?? null;
  if (own(file, "Type") === "Downloadable")
    return { Name: name, Type: "Downloadable", URL: own(file, "URL") ?? null };
  const body = own(file, "Body");
  const text = typeof body === "string" ? body : "";
  const bytes = own(file, "BodyType") === "Base64" ? Buffer.from(text, "base64") : wtf8(text);
  return { Name: name, BodyType: own(file, "BodyType") ?? "Text", sha256: sha256(bytes) };
}

/**
 * UTF-8, generalized to lone surrogates (WTF-8, Python's `encode("utf-8", "surrogatepass")`): `ED A0 80`–`ED BF BF`
 * are never UTF-8, so a Text body with a lone surrogate never hashes like its U+FFFD version or any other text.
 */
function wtf8(text: string): Uint8Array {
  if (!/\p{Cs}/u.test(text)) return Buffer.from(text, "utf8");
  const bytes: number[] = [];
  for (const ch of text) {
    const unit = ch.charCodeAt(0);
    if (ch.length === 1 && unit >= 0xd800 && unit <= 0xdfff)
      bytes.push(0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f));
    else bytes.push(...Buffer.from(ch, "utf8"));
  }
  return Uint8Array.from(bytes);
}

function normalizeFiles(plan: JsonObject): void {
  const files = own(plan, "Files");
  const identities = new Map<string, JsonValue>();
  if (isObject(files))
    for (const id of Object.keys(files)) identities.set(id, fileIdentity(files[id] ?? null));
  const resolve = (ref: JsonValue): JsonValue =>
    typeof ref === "string" && identities.has(ref) ? (identities.get(ref) ?? ref) : ref;

  const scripts = own(plan, "Scripts");
  if (isObject(scripts)) {
    for (const name of Object.keys(scripts)) {
      const script = scripts[name];
      if (!isObject(script)) continue;
      const entryPoint = own(script, "EntryPoint");
      if (entryPoint !== undefined) script.EntryPoint = resolve(entryPoint);
      const refs = own(script, "Files");
      if (Array.isArray(refs))
        script.Files = refs.map((ref) => (isObject(ref) ? resolveAll(ref, resolve) : resolve(ref)));
    }
  }
  if (Object.hasOwn(plan, "Files")) {
    const sorted = [...identities.values()].map((identity) => [canonicalJson(identity), identity] as const);
    sorted.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    plan.Files = sorted.map(([, identity]) => identity);
  }
}

/** `{"conf.ini": "<file id>"}` → the same keys, each value resolved. */
function resolveAll(refs: JsonObject, resolve: (ref: JsonValue) => JsonValue): JsonObject {
  const out: JsonObject = Object.create(null);
  for (const key of Object.keys(refs)) out[key] = resolve(refs[key] ?? null);
  return out;
}
