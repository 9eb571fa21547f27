/**
 * CPython 3.11's Unicode character database as str methods read it (unicode_data.ts, Unicode 14.0.0): the
 * properties behind `isalpha`/`isdigit`/… and the full case mappings of `lower`/`upper`/`title`/`casefold`
 * (special casing: `'ß'.upper() == 'SS'`). JavaScript's own tables are a newer Unicode version, so they are
 * never used. Decoded once, on first use.
 */
import {
  CASEFOLD,
  CASEFOLD_LONG,
  FLAGS,
  LOWER,
  LOWER_LONG,
  TITLE,
  TITLE_LONG,
  UPPER,
  UPPER_LONG,
} from "./unicode_data.ts";

/** Property bits of FLAGS (tools/unicode_tables.py). */
export const ALPHA = 1;
export const DECIMAL = 2;
export const DIGIT = 4;
export const NUMERIC = 8;
export const SPACE = 16;
export const PRINTABLE = 32;
export const LOWERCASE = 64;
export const UPPERCASE = 128;
export const TITLECASE = 256;
export const CASE_IGNORABLE = 512;
export const ID_START = 1024;
export const ID_CONTINUE = 2048;
export const CASED = LOWERCASE | UPPERCASE | TITLECASE;

let starts: Int32Array | null = null;
let values: Int32Array | null = null;
const ascii = new Int32Array(128);

function decodeFlags(): void {
  const runs = FLAGS.split(",");
  starts = new Int32Array(runs.length);
  values = new Int32Array(runs.length);
  let cp = 0;
  runs.forEach((run, i) => {
    const [gap = "0", flags = "0"] = run.split(":");
    cp += Number.parseInt(gap, 36);
    (starts as Int32Array)[i] = cp;
    (values as Int32Array)[i] = Number.parseInt(flags, 36);
  });
  for (let c = 0; c < 128; c++) ascii[c] = search(c);
}

function search(cp: number): number {
  const s = starts as Int32Array;
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((s[mid] ?? 0) <= cp) lo = mid;
    else hi = mid - 1;
  }
  return (values as Int32Array)[lo] ?? 0;
}

/** The property bits of code point `cp`. */
export function charFlags(cp: number): number {
  if (starts === null) decodeFlags();
  return cp < 128 ? (ascii[cp] ?? 0) : search(cp);
}

/** Whether code point `cp` has any of `bits`. */
export function has(cp: number, bits: number): boolean {
  return (charFlags(cp) & bits) !== 0;
}

type CaseMap = Map<number, string>;
const maps = new Map<string, CaseMap>();

function decodeMap(single: string, long: string): CaseMap {
  const map: CaseMap = new Map();
  for (const run of single ? single.split(",") : []) {
    const [first = 0, count = 0, delta = 0, stride = 1] = run.split(".").map((x) => Number.parseInt(x, 36));
    for (let k = 0; k < count; k++) {
      const cp = first + k * stride;
      map.set(cp, String.fromCodePoint(cp + delta));
    }
  }
  for (const entry of long ? long.split(",") : []) {
    const [cp = "0", to = ""] = entry.split(":");
    const chars = to.split(" ").map((x) => Number.parseInt(x, 36));
    map.set(Number.parseInt(cp, 36), String.fromCodePoint(...chars));
  }
  return map;
}

const SOURCES = {
  lower: [LOWER, LOWER_LONG],
  upper: [UPPER, UPPER_LONG],
  title: [TITLE, TITLE_LONG],
  casefold: [CASEFOLD, CASEFOLD_LONG],
} as const;

/** A full case mapping: CPython's `_PyUnicode_ToLowerFull` and its siblings. */
export type CaseKind = keyof typeof SOURCES;

/** The full `kind` mapping of code point `cp` (one to three characters), as CPython's tables give it. */
export function mapChar(kind: CaseKind, cp: number): string {
  let map = maps.get(kind);
  if (map === undefined) {
    const [single, long] = SOURCES[kind];
    map = decodeMap(single, long);
    maps.set(kind, map);
  }
  return map.get(cp) ?? String.fromCodePoint(cp);
}
