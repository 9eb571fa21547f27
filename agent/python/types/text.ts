/**
 * A Python str is a sequence of code points; a JavaScript string one of UTF-16 units. These helpers give str
 * methods code-point positions cheaply (strings without astral characters, the usual case, need no
 * conversion), and CPython's character classes that splitting and stripping use.
 */
import { has, SPACE } from "./unicode.ts";

const ASTRAL = /[\ud800-\udbff][\udc00-\udfff]/;

/** Whether `s` holds a character outside the BMP (then UTF-16 offsets are not code-point offsets). */
export function hasAstral(s: string): boolean {
  return ASTRAL.test(s);
}

/** The code points of `s` as one-character strings (a lone surrogate stays one item, as in Python). */
export function chars(s: string): string[] {
  return Array.from(s);
}

/**
 * `len(s)`: its code points — UTF-16 units less the surrogate pairs (a lone surrogate is one, as in Python).
 * Counted in place: no array of characters (one string each) for a str of millions.
 */
export function strLength(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length - 1; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}

/** Python's `str.isspace()` for one code point (`Py_UNICODE_ISSPACE`: what `split()` and `strip()` remove). */
export function isSpace(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0;
  if (cp < 128) return cp === 32 || (cp >= 9 && cp <= 13) || (cp >= 28 && cp <= 31);
  return has(cp, SPACE);
}

/** CPython's `Py_UNICODE_ISLINEBREAK`: the boundaries of `str.splitlines()`. */
export function isLineBreak(c: string): boolean {
  switch (c) {
    case "\n":
    case "\r":
    case "\v":
    case "\f":
    case "\x1c":
    case "\x1d":
    case "\x1e":
    case "\x85":
    case "\u2028":
    case "\u2029":
      return true;
  }
  return false;
}

/**
 * A code-point window `s[start:end]` (bounds already adjusted to 0..length, start may exceed length) as a
 * UTF-16 string, with a function turning a UTF-16 offset in it back into a code-point index of `s`.
 */
export function codePointWindow(
  s: string,
  start: number,
  end: number,
): { text: string; index: (utf16: number) => number } {
  if (!hasAstral(s)) return { text: start < end ? s.slice(start, end) : "", index: (at) => start + at };
  const cs = Array.from(s);
  const text = start < end ? cs.slice(start, end).join("") : "";
  return { text, index: (at) => start + Array.from(text.slice(0, at)).length };
}

/** Occurrences of `sub` in `text` without overlap, left to right; `sub` is not empty. */
export function countOf(text: string, sub: string, max = Number.POSITIVE_INFINITY): number {
  let n = 0;
  for (let at = text.indexOf(sub); at >= 0 && n < max; at = text.indexOf(sub, at + sub.length)) n++;
  return n;
}
