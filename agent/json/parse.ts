/**
 * JSON text → an exact value tree, accepting exactly what CPython 3.11's `json.loads(str)` accepts (SPEC 3),
 * iteratively: nesting depth costs heap, never stack. The one parse of a plan (SPEC 3 "Numbers keep their JSON
 * form"): the fingerprint, the validation's plain view (agent/json/plain.ts) and the Body's `args`
 * (agent/python/text/json.ts `fromJson`) are all made from its tree.
 */

/** A JSON value as Python sees it: an integer (no `.`/exponent in the text) is a bigint, a float a number. */
export type JsonValue = null | boolean | string | bigint | number | JsonValue[] | JsonObject;
/**
 * A JSON object as Python's dict holds it: the keys in the text's order (`{"2": 0, "1": 0}` iterates "2", "1",
 * which a JS object would not), any key an ordinary one (`__proto__` too). A Map survives a structured clone
 * (a worker's message) with its order, bigints, `-0` and NaN.
 */
export type JsonObject = Map<string, JsonValue>;

export type ParseOutcome =
  | { ok: true; value: JsonValue; depth: number }
  | { ok: false; message: string; reason: string; position: number };

/** CPython's `sys.int_info.default_max_str_digits`: `int()` of a longer digit string raises ValueError. */
const MAX_INT_DIGITS = 4300;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
/** What a scalar's first character announces (CPython `scan_once`): a string, a literal, or maybe -Infinity. */
const WORDS: Record<string, '"' | "-" | [string, JsonValue]> = Object.assign(Object.create(null), {
  '"': '"',
  "-": "-",
  n: ["null", null],
  t: ["true", true],
  f: ["false", false],
  N: ["NaN", Number.NaN],
  I: ["Infinity", Number.POSITIVE_INFINITY],
});
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** A syntax error: what Python's JSONDecodeError (or ValueError) says, and the UTF-16 index it points at. */
class Refusal {
  what: string;
  position: number;
  constructor(what: string, position: number) {
    this.what = what;
    this.position = position;
  }
}

type Frame = { array: JsonValue[] } | { object: JsonObject; key: string };

/**
 * Parses `text` as CPython 3.11's `json.loads` does with its defaults (Lib/json/decoder.py, Modules/_json.c):
 * whitespace is only space, tab, CR and LF; raw control characters (< U+0020) in strings are refused;
 * `NaN`, `Infinity`, `-Infinity` are floats; a duplicate key keeps the first key's position and the last value;
 * `\uD83D\uDE00` escapes join into one character while a lone surrogate escape stays a lone surrogate; an integer
 * of more than 4300 digits is refused (Python's ValueError); a leading U+FEFF is refused. Unlike Python, nesting
 * of any depth is parsed (Python raises RecursionError near 1000): the caller limits it with the depth returned.
 * `text` is read as UTF-16 code units, which for well-formed text are Python's code points.
 *
 * @returns `{ok: true, value, depth}` (depth: containers around the deepest value; 0 for a scalar) or
 *   `{ok: false, message: "Cannot parse the payload as JSON: <reason>", reason: "<what> at position N",
 *   position: N}` where <what> is CPython's message (`Expecting value`, `Extra data`, `Unterminated string
 *   starting`…) and N a UTF-16 index.
 *   Never throws on any input.
 */
export function parseJson(text: string): ParseOutcome {
  try {
    return parseOrRefuse(text);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const { what, position } = error;
    const at = what.endsWith(" at") ? what : `${what} at`; // "Unterminated string starting at" already has it
    const reason = `${at} position ${position}`;
    return { ok: false, message: `Cannot parse the payload as JSON: ${reason}`, reason, position };
  }
}

function parseOrRefuse(text: string): ParseOutcome & { ok: true } {
  if (text.charCodeAt(0) === 0xfeff) throw new Refusal("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
  const stack: Frame[] = [];
  let depth = 0;
  let i = skipSpace(text, 0);
  for (;;) {
    // A value starts at i (whitespace skipped): open a container, or read a scalar into `value`.
    let value: JsonValue;
    const c = text[i];
    if (c === "[" || c === "{") {
      i = skipSpace(text, i + 1);
      depth = Math.max(depth, stack.length + 1);
      if (text[i] === (c === "[" ? "]" : "}")) {
        value = c === "[" ? [] : new Map();
        i++;
      } else {
        if (c === "[") stack.push({ array: [] });
        else {
          const [key, next] = readKey(text, i);
          stack.push({ object: new Map(), key });
          i = next;
        }
        continue;
      }
    } else [value, i] = readScalar(text, i);
    // Attach the value to its container; close containers until one wants another value.
    for (;;) {
      const top = stack.at(-1);
      if (top === undefined) {
        i = skipSpace(text, i);
        if (i !== text.length) throw new Refusal("Extra data", i);
        return { ok: true, value, depth };
      }
      if ("array" in top) top.array.push(value);
      else top.object.set(top.key, value); // a duplicate keeps its first place and takes the last value
      i = skipSpace(text, i);
      const close = "array" in top ? "]" : "}";
      if (text[i] === close) {
        value = "array" in top ? top.array : top.object;
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ",") throw new Refusal("Expecting ',' delimiter", i);
      i = skipSpace(text, i + 1);
      if (!("array" in top)) [top.key, i] = readKey(text, i);
      break;
    }
  }
}

function skipSpace(text: string, from: number): number {
  let i = from;
  for (
    let c = text.charCodeAt(i);
    c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
    c = text.charCodeAt(i)
  )
    i++;
  return i;
}

/** `"key" :` at i → the key and the index of the value after the colon and its whitespace. */
function readKey(text: string, from: number): [string, number] {
  if (text[from] !== '"') throw new Refusal("Expecting property name enclosed in double quotes", from);
  const [key, end] = readString(text, from);
  const colon = skipSpace(text, end);
  if (text[colon] !== ":") throw new Refusal("Expecting ':' delimiter", colon);
  return [key, skipSpace(text, colon + 1)];
}

function readScalar(text: string, i: number): [JsonValue, number] {
  const word = WORDS[text[i] ?? ""];
  if (word === '"') return readString(text, i);
  if (word !== undefined && word !== "-" && text.startsWith(word[0], i)) return [word[1], i + word[0].length];
  if (word === "-" && text.startsWith("-Infinity", i)) return [Number.NEGATIVE_INFINITY, i + 9];
  NUMBER.lastIndex = i;
  const match = NUMBER.exec(text);
  if (match === null) throw new Refusal("Expecting value", i);
  const [literal, fraction, exponent] = match;
  if (fraction !== undefined || exponent !== undefined) return [Number(literal), i + literal.length];
  const digits = literal.length - (literal.startsWith("-") ? 1 : 0);
  if (digits > MAX_INT_DIGITS) {
    const limit = `Exceeds the limit (${MAX_INT_DIGITS} digits) for integer string conversion`;
    throw new Refusal(`${limit}: value has ${digits} digits`, i);
  }
  return [BigInt(literal), i + literal.length];
}

/** The string whose opening quote is at `begin` → its value and the index after its closing quote. */
function readString(text: string, begin: number): [string, number] {
  let out = "";
  let i = begin + 1;
  for (;;) {
    let next = i;
    let c = text.charCodeAt(next);
    while (next < text.length && c !== 0x22 && c !== 0x5c) {
      if (c <= 0x1f) throw new Refusal("Invalid control character at", next);
      c = text.charCodeAt(++next);
    }
    if (next >= text.length) throw new Refusal("Unterminated string starting at", begin);
    out += text.slice(i, next);
    if (c === 0x22) return [out, next + 1];
    const marker = text[next + 1];
    if (marker === undefined) throw new Refusal("Unterminated string starting at", begin);
    if (marker !== "u") {
      const simple = Object.hasOwn(ESCAPES, marker) ? ESCAPES[marker] : undefined;
      if (simple === undefined) throw new Refusal("Invalid \\escape", next);
      out += simple;
      i = next + 2;
      continue;
    }
    // CPython needs a character after the 4 digits. It joins `\uD83D\uDE00` into one code point; in UTF-16
    // the two units side by side are that code point already, so each escape is one unit here.
    if (next + 6 >= text.length) throw new Refusal("Invalid \\uXXXX escape", next + 1);
    out += String.fromCharCode(hex4(text, next + 2));
    i = next + 6;
  }
}

/** The four hex digits at `from` → their value; else CPython's refusal, pointing at the `u` before them. */
function hex4(text: string, from: number): number {
  let value = 0;
  for (let k = from; k < from + 4; k++) {
    const d = text.charCodeAt(k);
    const digit =
      d >= 0x30 && d <= 0x39
        ? d - 0x30
        : d >= 0x61 && d <= 0x66
          ? d - 0x57
          : d >= 0x41 && d <= 0x46
            ? d - 0x37
            : -1;
    if (digit < 0) throw new Refusal("Invalid \\uXXXX escape", from - 1);
    value = value * 16 + digit;
  }
  return value;
}
