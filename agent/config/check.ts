/**
 * Checks a configuration value against the schema (agent/config/schema.ts) strictly, in words an operator can
 * act on (SPEC 10 "Config files are strict"): an unknown key at any depth, a missing required setting, a value
 * of the wrong type or out of bounds each give one {@link Problem} that names the key path, what is accepted
 * and what was given — `logLevel: give one of debug, info, warn, error; got the string "loud"` — never
 * JSON Schema's own wording. Only the keywords schema.ts uses are read.
 */
import type { SettingSchema } from "./settings.ts";

export interface Problem {
  /** Key path of the value at fault (`["broker", "keepaliveSeconds"]`, `["trustedKeys", "0", "keyId"]`). */
  path: string[];
  /** `give …; got …` (without the key). */
  message: string;
}

/** Appends the problems of `value` (at `path`) to `problems`; returns whether there were none. */
export function checkValue(
  schema: SettingSchema,
  value: unknown,
  path: string[],
  problems: Problem[],
): boolean {
  const before = problems.length;
  const given = holdsSecrets(schema) ? hidden(value) : described(value);
  const fail = () => problems.push({ path, message: `give ${expected(schema)}; got ${given}` });
  if (schema.anyOf) {
    const fits = schema.anyOf.some((member) => checkValue(member, value, path, []));
    if (!fits) fail();
  } else if (schema.const !== undefined) {
    if (value !== schema.const) fail();
  } else if (schema.type === "string") {
    if (typeof value !== "string") fail();
    else if (value.length < (schema.minLength ?? 0) || value.length > (schema.maxLength ?? Infinity)) fail();
    else if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) fail();
  } else if (schema.type === "integer" || schema.type === "number") {
    const whole = schema.type === "integer";
    if (typeof value !== "number" || !Number.isFinite(value) || (whole && !Number.isInteger(value))) fail();
    else if (whole && !Number.isSafeInteger(value)) {
      // 99999999999999999999 reads as 1e20 and 2**53+1 as 2**53: a generation must not silently change.
      problems.push({
        path,
        message: `give ${expected(schema)} up to ${Number.MAX_SAFE_INTEGER}; got ${given}, beyond what is kept exactly`,
      });
    } else if (!inBounds(schema, value)) fail();
  } else if (schema.type === "boolean") {
    if (typeof value !== "boolean") fail();
  } else if (schema.type === "array") {
    if (!Array.isArray(value) || value.length < (schema.minItems ?? 0)) fail();
    else if (schema.items) {
      const items = schema.items;
      value.forEach((item, i) => {
        checkValue(items, item, [...path, String(i)], problems);
      });
    }
  } else if (schema.type === "object") {
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail();
    else checkObject(schema, value as Record<string, unknown>, path, problems);
  }
  return problems.length === before;
}

function checkObject(
  schema: SettingSchema,
  value: Record<string, unknown>,
  path: string[],
  problems: Problem[],
): void {
  const map = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  const known = Object.keys(schema.properties ?? {});
  for (const [name, item] of Object.entries(value)) {
    const at = [...path, name];
    const property = schema.properties?.[name] ?? map;
    if (property === undefined) {
      const near = nearest(name, known);
      problems.push({
        path: at,
        message: `unknown setting${near ? `: did you mean ${[...path, near].join(".")}?` : ""}${known.length <= 15 ? ` (known here: ${known.join(", ")})` : ""}`,
      });
    } else if (item !== undefined) {
      checkValue(property, item, at, problems);
    }
  }
  for (const name of schema.required ?? []) {
    const property = schema.properties?.[name];
    if (value[name] === undefined && property?.default === undefined && property !== undefined) {
      problems.push({ path: [...path, name], message: `missing: give ${expected(property)}` });
    }
  }
}

function inBounds(schema: SettingSchema, n: number): boolean {
  if (schema.minimum !== undefined && n < schema.minimum) return false;
  if (schema.exclusiveMinimum !== undefined && n <= schema.exclusiveMinimum) return false;
  return !(schema.maximum !== undefined && n > schema.maximum);
}

/** What the schema accepts, in words: `a whole number from 5`, `one of debug, info`, `an object like {…}`. */
export function expected(schema: SettingSchema): string {
  if (schema.anyOf) {
    if (schema.anyOf.every((m) => m.const !== undefined)) {
      return `one of ${schema.anyOf.map((m) => (typeof m.const === "string" ? m.const : JSON.stringify(m.const))).join(", ")}`;
    }
    return schema.anyOf.map(expected).join(" or ");
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  switch (schema.type) {
    case "string":
      if (schema.accepts !== undefined) return schema.accepts;
      if (schema.pattern !== undefined) return `a string matching /${schema.pattern}/`;
      if (schema.maxLength !== undefined)
        return `a string of ${schema.minLength ?? 0} to ${schema.maxLength} characters`;
      return (schema.minLength ?? 0) > 0 ? "a non-empty string" : "a string";
    case "integer":
      return `a whole number${bounds(schema)}`;
    case "number":
      return `a number${bounds(schema)}`;
    case "boolean":
      return "true or false";
    case "array": {
      const some = schema.minItems ? "a non-empty array" : "an array";
      const like = schema.example ?? schema.default;
      const shown =
        like === undefined || (Array.isArray(like) && like.length === 0)
          ? ""
          : `, like ${JSON.stringify(like)}`;
      if (schema.items?.type === "string" && schema.items.pattern === undefined)
        return `${some} of strings${shown}`;
      return `${some} whose items are each ${schema.items ? expected(schema.items) : "a value"}${shown}`;
    }
    case "object":
      if (schema.patternProperties)
        return `an object of names to strings, like ${JSON.stringify(schema.example ?? {})}`;
      return `an object like ${JSON.stringify(schema.example ?? {})}`;
    default:
      return "a value";
  }
}

function bounds(schema: SettingSchema): string {
  const { minimum: min, maximum: max, exclusiveMinimum: above } = schema;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (above !== undefined) return ` > ${above}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return max === undefined ? "" : ` ≤ ${max}`;
}

/** What was given: `the string "loud"`, `the number -1`, `the array [1,2]`, `null` (JSON cut at 80 characters). */
export function described(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `the array ${preview(value)}`;
  switch (typeof value) {
    case "string":
      return `the string ${preview(value)}`;
    case "number":
    case "boolean":
      return `the ${typeof value} ${value}`;
    case "object":
      return `the object ${preview(value)}`;
    default:
      return String(value);
  }
}

/**
 * Whether a value of this schema is a secret or holds only secrets (`environment`: names → secret values), so that
 * a message about it must not quote it (SPEC 9a "Secrets never reach logs"): a password given as a number is as
 * secret as one given as a string.
 */
export function holdsSecrets(schema: SettingSchema): boolean {
  if (schema.secret) return true;
  if (schema.items?.secret) return true;
  return Object.values(schema.patternProperties ?? {}).some((member) => member.secret === true);
}

/** What was given, without its content: `an array (not shown: it may hold a secret)`. */
export function hidden(value: unknown): string {
  const kind =
    value === null
      ? "null"
      : Array.isArray(value)
        ? "an array"
        : typeof value === "object"
          ? "an object"
          : `a ${typeof value}`;
  return `${kind} (not shown: it may hold a secret)`;
}

const PREVIEW_CHARS = 80;

/**
 * `value` as JSON, cut to {@link PREVIEW_CHARS} characters (`…` marks the cut). Written piece by piece and only
 * as far as shown, so a value nested 100,000 deep (a hostile config file) costs 80 characters, not the stack.
 */
export function preview(value: unknown): string {
  let text = "";
  const write = (piece: string): boolean => {
    text += piece;
    return text.length <= PREVIEW_CHARS;
  };
  const walk = (item: unknown): boolean => {
    if (Array.isArray(item)) {
      if (!write("[")) return false;
      for (let i = 0; i < item.length; i++) if ((i > 0 && !write(",")) || !walk(item[i])) return false;
      return write("]");
    }
    if (typeof item === "object" && item !== null) {
      if (!write("{")) return false;
      let first = true;
      for (const [name, member] of Object.entries(item)) {
        if ((!first && !write(",")) || !write(`${JSON.stringify(name)}:`) || !walk(member)) return false;
        first = false;
      }
      return write("}");
    }
    return write(JSON.stringify(item) ?? String(item));
  };
  walk(value);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 3)}…` : text;
}

/** The known name closest to a mistyped one (edit distance ≤ 3 or a different case), if any. */
export function nearest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance: the fewest one-character insertions, deletions or substitutions from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}
