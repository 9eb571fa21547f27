/**
 * Literal values: NUMBER tokens (already well-formed: number_token.ts) and backslash escapes of string
 * literals, as CPython 3.11 decodes them (Objects/unicodeobject.c `_PyUnicode_DecodeUnicodeEscapeInternal`,
 * Objects/bytesobject.c). Unknown escapes keep their backslash (CPython only warns). `\N{name}` needs
 * Unicode's name table, which idem does not carry: it is refused (code 2, docs/murano.md).
 */
import { ParseError } from "./parse_base.ts";
import type { ConstValue } from "./syntax.ts";

/** CPython's limit on decimal digits of an int literal (sys.int_info.default_max_str_digits). */
const MAX_STR_DIGITS = 4300;

/** A NUMBER token's value: int → bigint, float → number, imaginary → {imag}. */
export function numberValue(text: string, at: number): ConstValue {
  if (text.length <= 15 && isDecimalDigits(text)) return BigInt(text);
  const digits = text.replace(/_/g, "");
  if (/[jJ]$/.test(digits)) return { imag: Number(digits.slice(0, -1)) };
  if (/^0[xXoObB]/.test(digits)) return BigInt(digits.toLowerCase());
  if (/^\d+$/.test(digits)) {
    if (digits.length > MAX_STR_DIGITS)
      throw new ParseError(
        `Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits.length} ` +
          "digits; use sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal for huge " +
          "integer literals to avoid decimal conversion limits.",
        at,
        true,
      );
    return BigInt(digits);
  }
  return Number(digits);
}

/** Only the digits 0-9: the common int literal, which needs no regular expression. */
function isDecimalDigits(text: string): boolean {
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const SIMPLE: Record<string, string> = {
  "\n": "",
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** The error of a bad escape: CPython's "(unicode error) ..." with positions counted as its decoder does. */
export class EscapeError extends Error {
  readonly refused: boolean;
  constructor(message: string, refused = false) {
    super(message);
    this.refused = refused;
  }
}

/** Position in CPython's decode buffer, where each non-ASCII character was first written as `\Uxxxxxxxx`. */
function bufferPos(body: string, index: number): number {
  let n = 0;
  for (let k = 0; k < index; k++) {
    const c = body.charCodeAt(k);
    if (c < 128) n++;
    else if (c < 0xd800 || c > 0xdbff) n += 10;
  }
  return n;
}

/** Resolves the escapes of a str literal's body (not raw). */
export function decodeEscapes(body: string): string {
  if (!body.includes("\\")) return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = body[i + 1] ?? "";
    const simple = SIMPLE[next];
    const fail = (what: string, end: number): EscapeError =>
      new EscapeError(
        `(unicode error) 'unicodeescape' codec can't decode bytes in position ${bufferPos(body, i)}-` +
          `${bufferPos(body, end)}: ${what}`,
      );
    if (simple !== undefined) {
      out += simple;
      i++;
    } else if (next >= "0" && next <= "7") {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0] ?? "0";
      out += String.fromCodePoint(Number.parseInt(oct, 8));
      i += oct.length;
    } else if (next === "x" || next === "u" || next === "U") {
      const width = next === "x" ? 2 : next === "u" ? 4 : 8;
      const hex = /^[0-9a-fA-F]*/.exec(body.slice(i + 2, i + 2 + width))?.[0] ?? "";
      if (hex.length < width) {
        const name = next === "x" ? "\\xXX" : next === "u" ? "\\uXXXX" : "\\UXXXXXXXX";
        throw fail(`truncated ${name} escape`, Math.min(i + 1 + Math.max(hex.length, 1), body.length - 1));
      }
      const code = Number.parseInt(hex, 16);
      if (code > 0x10ffff) throw fail("illegal Unicode character", i + 1 + width);
      out += String.fromCodePoint(code);
      i += 1 + width;
    } else if (next === "N") {
      const m = /^\{([^}]*)\}/.exec(body.slice(i + 2));
      if (!m || m[1] === "") throw fail("malformed \\N character escape", Math.min(i + 2, body.length - 1));
      throw new EscapeError("\\N{...} escapes (Unicode character names) are not supported", true);
    } else if (next === "") {
      // A lone trailing backslash cannot end a literal: the tokenizer saw an escaped quote.
      out += "\\";
    } else {
      out += "\\";
    }
  }
  return out;
}

/** Checks a bytes literal's body (ASCII only, `\x` needs two hex digits); its value is not needed. */
export function checkBytes(body: string, raw: boolean): string | null {
  for (let k = 0; k < body.length; k++)
    if (body.charCodeAt(k) >= 128) return "bytes can only contain ASCII literal characters";
  if (raw) return null;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") continue;
    if (body[i + 1] === "x" && !/^[0-9a-fA-F]{2}/.test(body.slice(i + 2)))
      return `(value error) invalid \\x escape at position ${i}`;
    i++;
  }
  return null;
}
