/**
 * Python 3 literal tokens to values: numbers (int → bigint, float → number) and string literals with their
 * prefixes and escapes. Spellings Python 3 rejects (`0777`, `10L`, a bad escape) are syntax errors (code 1);
 * bytes, complex numbers and `\N{...}` escapes are valid but refused (code 2).
 */
import { refuse, type SourcePos, syntaxFail } from "./exceptions.ts";

/** A Number token's value. */
export function decodeNumber(text: string, pos: SourcePos): bigint | number {
  if (/[jJ]$/.test(text)) throw refuse("complex numbers are not supported", pos);
  const bad = (): Error => syntaxFail(`invalid number literal "${text}"`, pos);
  if (/_$|__|_[._eExXoObB]|[._eE]_/.test(text)) throw bad();
  const digits = text.replace(/_/g, "");
  const radix = /^0[xX]/.test(digits) ? 16 : /^0[oO]/.test(digits) ? 8 : /^0[bB]/.test(digits) ? 2 : 10;
  if (radix !== 10) {
    const body = digits.slice(2);
    const valid = { 16: /^[0-9a-fA-F]+$/, 8: /^[0-7]+$/, 2: /^[01]+$/ }[radix];
    if (!valid?.test(body)) throw bad();
    return BigInt(`0${digits[1]?.toLowerCase()}${body}`);
  }
  if (/^\d+$/.test(digits)) {
    if (/^0+[1-9]/.test(digits)) throw bad();
    return BigInt(digits);
  }
  if (!/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(digits)) throw bad();
  return Number(digits);
}

/** Splits `rb'...'`-style token text into its prefix, its quote and the text between the quotes. */
export function splitStringToken(
  text: string,
  pos: SourcePos,
): { prefix: string; quote: string; body: string } {
  const match = /^([a-zA-Z]*)('''|"""|'|")/.exec(text);
  const prefix = match?.[1]?.toLowerCase() ?? "";
  const quote = match?.[2] ?? "";
  if (!match || !/^(r|u|f|fr|rf|b|br|rb)?$/.test(prefix)) throw syntaxFail("invalid string literal", pos);
  if (prefix.includes("b")) throw refuse("bytes literals are not supported", pos);
  const start = match[0].length;
  if (text.length < start + quote.length || !text.endsWith(quote)) {
    throw syntaxFail("unterminated string literal", pos);
  }
  return { prefix, quote, body: text.slice(start, text.length - quote.length) };
}

/** A plain (non-f) String token's value. */
export function decodeStringToken(text: string, pos: SourcePos): string {
  const { prefix, body } = splitStringToken(text, pos);
  return prefix.includes("r") ? body : decodeEscapes(body, pos);
}

const SIMPLE_ESCAPES: Record<string, string> = {
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

/** Resolves Python 3 backslash escapes; unknown escapes keep their backslash, as Python does. */
export function decodeEscapes(body: string, pos: SourcePos): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = body[i + 1] ?? "";
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i++;
    } else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0] ?? "0";
      out += String.fromCodePoint(Number.parseInt(oct, 8));
      i += oct.length;
    } else if (next === "x" || next === "u" || next === "U") {
      const width = next === "x" ? 2 : next === "u" ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + width);
      const code = Number.parseInt(hex, 16);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width || code > 0x10ffff) {
        throw syntaxFail(`invalid \\${next} escape in a string literal`, pos);
      }
      out += String.fromCodePoint(code);
      i += 1 + width;
    } else if (next === "N") {
      throw refuse("\\N{...} escapes are not supported", pos);
    } else {
      out += "\\";
    }
  }
  return out;
}
