/**
 * Fingerprint (SPEC section 4): `sha256:` + SHA-256 of the canonical JSON (agent/json/canonical.ts) of the
 * normalized plan.
 *
 * Normalization removes what a Murano engine changes on every send (IDs, stamps, file ids) and idem's own
 * envelope fields, so that two sends of one template with the same parameters get the same fingerprint.
 * `Idempotency.Options.ignore` pointers are resolved against the plan as sent, before file ids are replaced.
 */
import { createHash } from "node:crypto";
import type { JsonObject, JsonValue } from "../json/parse.ts";
import { copyJson } from "../json/plain.ts";
import { canonicalJson } from "../json/write.ts";

const ENVELOPE = ["ID", "Stamp", "Action", "ReplyTo", "Generation", "Idempotency", "Timeout"];
const INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * The fingerprint of a plan given as its exact tree (`parseJson`'s value: integers as bigint, floats as number,
 * objects as Maps), e.g. `sha256:5e18…`. Works on a copy: the plan is never changed. Array indices of pointers
 * are taken only as `0|[1-9][0-9]*` below the length (RFC 6901 4); a pointer that resolves to nothing is
 * skipped. Any depth is safe.
 *
 * @throws TypeError only if the tree holds a non-JSON value (undefined, a function), which parseJson never makes.
 */
export function fingerprint(plan: JsonObject): string {
  const copy = copyJson(plan);
  for (const pointer of ignoredPointers(plan)) removePointer(copy, pointer);
  for (const field of ENVELOPE) copy.delete(field);
  normalizeFiles(copy);
  return `sha256:${sha256(canonicalJson(copy))}`;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}

/** The member `key` of an object or array; undefined when there is none. */
function member(value: JsonValue | undefined, key: string): JsonValue | undefined {
  if (Array.isArray(value))
    return INDEX.test(key) && Number(key) < value.length ? value[Number(key)] : undefined;
  return isObject(value) ? value.get(key) : undefined;
}

function ignoredPointers(plan: JsonObject): string[] {
  const ignore = member(member(plan.get("Idempotency"), "Options"), "ignore");
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
  for (const token of tokens) node = member(node, token);
  if (member(node, last) === undefined) return;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else if (isObject(node)) node.delete(last);
}

/** The content identity of one file: what it is, not the random id it was sent under. */
function fileIdentity(file: JsonValue): JsonValue {
  if (!isObject(file)) return file;
  const name = file.get("Name") ?? null;
  if (file.get("Type") === "Downloadable") {
    return object([
      ["Name", name],
      ["Type", "Downloadable"],
      ["URL", file.get("URL") ?? null],
    ]);
  }
  const body = file.get("Body");
  const text = typeof body === "string" ? body : "";
  const bytes = file.get("BodyType") === "Base64" ? Buffer.from(text, "base64") : wtf8(text);
  return object([
    ["Name", name],
    ["BodyType", file.get("BodyType") ?? "Text"],
    ["sha256", sha256(bytes)],
  ]);
}

function object(entries: Array<[string, JsonValue]>): JsonObject {
  return new Map(entries);
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
  const files = plan.get("Files");
  const identities = new Map<string, JsonValue>();
  if (isObject(files)) for (const [id, file] of files) identities.set(id, fileIdentity(file));
  const resolve = (ref: JsonValue): JsonValue =>
    typeof ref === "string" && identities.has(ref) ? (identities.get(ref) ?? ref) : ref;

  const scripts = plan.get("Scripts");
  if (isObject(scripts)) {
    for (const script of scripts.values()) {
      if (!isObject(script)) continue;
      const entryPoint = script.get("EntryPoint");
      if (entryPoint !== undefined) script.set("EntryPoint", resolve(entryPoint));
      const refs = script.get("Files");
      if (Array.isArray(refs))
        script.set(
          "Files",
          refs.map((ref) => (isObject(ref) ? resolveAll(ref, resolve) : resolve(ref))),
        );
    }
  }
  if (plan.has("Files")) {
    const sorted = [...identities.values()].map((identity) => [canonicalJson(identity), identity] as const);
    sorted.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    plan.set(
      "Files",
      sorted.map(([, identity]) => identity),
    );
  }
}

/** `{"conf.ini": "<file id>"}` → the same keys, each value resolved. */
function resolveAll(refs: JsonObject, resolve: (ref: JsonValue) => JsonValue): JsonObject {
  return new Map([...refs].map(([key, ref]) => [key, resolve(ref)] as const));
}
