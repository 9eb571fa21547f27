/**
 * str case mappings and character-class predicates, exactly as CPython 3.11 (Objects/unicodeobject.c
 * `do_upper`, `do_capitalize`, `do_title`, `do_swapcase`, `lower_ucs4` with the final-sigma rule of
 * `handle_capital_sigma`) over its Unicode 14.0 tables (types/unicode.ts): `'ß'.upper() == 'SS'`,
 * `'aΣ'.capitalize() == 'Aς'` (3.8+: the first character is titlecased, the rest lowered).
 */
import {
  ALPHA,
  CASE_IGNORABLE,
  CASED,
  type CaseKind,
  charFlags,
  DECIMAL,
  DIGIT,
  ID_CONTINUE,
  ID_START,
  LOWERCASE,
  mapChar,
  NUMERIC,
  PRINTABLE,
  SPACE,
  TITLECASE,
  UPPERCASE,
} from "./unicode.ts";

const CAPITAL_SIGMA = 0x3a3;

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const c of s) out.push(c.codePointAt(0) ?? 0);
  return out;
}

/** CPython's `_PyUnicode_FinalSigma`: a cased letter before (skipping case-ignorables), none after. */
function finalSigma(cps: readonly number[], i: number): boolean {
  let j = i - 1;
  while (j >= 0 && charFlags(cps[j] ?? 0) & CASE_IGNORABLE) j--;
  if (j < 0 || !(charFlags(cps[j] ?? 0) & CASED)) return false;
  j = i + 1;
  while (j < cps.length && charFlags(cps[j] ?? 0) & CASE_IGNORABLE) j++;
  return j === cps.length || !(charFlags(cps[j] ?? 0) & CASED);
}

/** `lower_ucs4`: the lowercase of the character at `i`, capital sigma by its position. */
function lowerAt(cps: readonly number[], i: number): string {
  const cp = cps[i] ?? 0;
  if (cp === CAPITAL_SIGMA) return finalSigma(cps, i) ? "\u03c2" : "\u03c3";
  return mapChar("lower", cp);
}

function mapAll(s: string, kind: CaseKind): string {
  let out = "";
  for (const c of s) out += mapChar(kind, c.codePointAt(0) ?? 0);
  return out;
}

export function lower(s: string): string {
  if (!/[^\0-\x7f]/.test(s)) return s.toLowerCase();
  const cps = codePoints(s);
  let out = "";
  for (let i = 0; i < cps.length; i++) out += lowerAt(cps, i);
  return out;
}

export function upper(s: string): string {
  return /[^\0-\x7f]/.test(s) ? mapAll(s, "upper") : s.toUpperCase();
}

export function casefold(s: string): string {
  return /[^\0-\x7f]/.test(s) ? mapAll(s, "casefold") : s.toLowerCase();
}

export function capitalize(s: string): string {
  const cps = codePoints(s);
  let out = cps.length > 0 ? mapChar("title", cps[0] ?? 0) : "";
  for (let i = 1; i < cps.length; i++) out += lowerAt(cps, i);
  return out;
}

export function title(s: string): string {
  const cps = codePoints(s);
  let out = "";
  let previousCased = false;
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] ?? 0;
    out += previousCased ? lowerAt(cps, i) : mapChar("title", cp);
    previousCased = (charFlags(cp) & CASED) !== 0;
  }
  return out;
}

export function swapcase(s: string): string {
  const cps = codePoints(s);
  let out = "";
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] ?? 0;
    const f = charFlags(cp);
    out += f & UPPERCASE ? lowerAt(cps, i) : f & LOWERCASE ? mapChar("upper", cp) : String.fromCodePoint(cp);
  }
  return out;
}

/** Every character has one of `bits` (and there is one, unless `empty` says what '' gives). */
function every(s: string, bits: number, empty = false): boolean {
  if (s === "") return empty;
  for (const c of s) if (!(charFlags(c.codePointAt(0) ?? 0) & bits)) return false;
  return true;
}

/** `islower()` / `isupper()`: some cased character, and none of the other case nor titlecase. */
function isCase(s: string, wanted: number, other: number): boolean {
  let cased = false;
  for (const c of s) {
    const f = charFlags(c.codePointAt(0) ?? 0);
    if (f & (other | TITLECASE)) return false;
    if (f & wanted) cased = true;
  }
  return cased;
}

function isTitle(s: string): boolean {
  let previousCased = false;
  let cased = false;
  for (const c of s) {
    const f = charFlags(c.codePointAt(0) ?? 0);
    if (f & (UPPERCASE | TITLECASE)) {
      if (previousCased) return false;
      previousCased = cased = true;
    } else if (f & LOWERCASE) {
      if (!previousCased) return false;
      previousCased = cased = true;
    } else previousCased = false;
  }
  return cased;
}

function isIdentifier(s: string): boolean {
  let first = true;
  for (const c of s) {
    const f = charFlags(c.codePointAt(0) ?? 0);
    if (!(f & (first ? ID_START : ID_CONTINUE))) return false;
    first = false;
  }
  return !first;
}

/** The `is…()` predicates of str. */
export const PREDICATES = {
  isalnum: (s: string) => every(s, ALPHA | DECIMAL | DIGIT | NUMERIC),
  isalpha: (s: string) => every(s, ALPHA),
  isascii: (s: string) => !/[^\0-\x7f]/.test(s),
  isdecimal: (s: string) => every(s, DECIMAL),
  isdigit: (s: string) => every(s, DIGIT),
  isidentifier: isIdentifier,
  islower: (s: string) => isCase(s, LOWERCASE, UPPERCASE),
  isnumeric: (s: string) => every(s, NUMERIC),
  isprintable: (s: string) => every(s, PRINTABLE, true),
  isspace: (s: string) => every(s, SPACE),
  istitle: isTitle,
  isupper: (s: string) => isCase(s, UPPERCASE, LOWERCASE),
} as const;
