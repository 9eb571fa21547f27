/**
 * The built-in `complex(real=0, imag=0)`, as CPython 3.11's Objects/complexobject.c `complex_new_impl` and
 * `complex_from_string_inner` build one: from numbers (`complex(1j, 1j)` is `(-1+1j)`: each argument's parts
 * are combined), or from text (`'1+2j'`, `'(1-j)'`, `'inf+nanj'`, spaces around, Unicode digits and spaces as in
 * `float()`, `_` only between digits). Errors: TypeError "complex() can't take second arg if first is a
 * string", "complex() second arg can't be a string", "complex() first argument must be a string or a number,
 * not 'list'", "complex() second argument must be a number, not 'NoneType'"; ValueError "complex() arg is a
 * malformed string", "could not convert string to complex: '1__2'" (a misplaced underscore).
 */
import { strRepr } from "../text/repr.ts";
import { bindArgs } from "../types/args.ts";
import { complexParts } from "./complex.ts";
import { pyFail } from "./exceptions.ts";
import { asciiNumberText } from "./number_text.ts";
import { type CallArgs, PyComplex, type PyValue, typeName } from "./values.ts";

const SIGNATURE = { kind: "keywords", names: ["real", "imag"], positional: 2, required: 0 } as const;

/** The built-in `complex(...)`. */
export function complexCall(call: CallArgs): PyComplex {
  const [r = 0n, i] = bindArgs("complex", "complex", SIGNATURE, call);
  if (r instanceof PyComplex && i === undefined) return r;
  if (typeof r === "string") {
    if (i !== undefined) throw pyFail("TypeError", "complex() can't take second arg if first is a string");
    return fromText(r);
  }
  if (typeof i === "string") throw pyFail("TypeError", "complex() second arg can't be a string");
  if (!isNumber(r)) {
    throw pyFail("TypeError", `complex() first argument must be a string or a number, not '${typeName(r)}'`);
  }
  if (i !== undefined && !isNumber(i))
    throw pyFail("TypeError", `complex() second argument must be a number, not '${typeName(i)}'`);
  const cr = complexParts(r) ?? { real: 0, imag: 0 };
  if (i === undefined) return new PyComplex(cr.real, cr.imag);
  const ci = complexParts(i) ?? { real: 0, imag: 0 };
  // (a + bj) + (c + dj) * 1j: each part's imaginary component crosses over.
  let real = cr.real;
  let imag = ci.real;
  if (i instanceof PyComplex) real -= ci.imag;
  if (r instanceof PyComplex) imag += cr.imag;
  return new PyComplex(real, imag);
}

function isNumber(v: PyValue): boolean {
  return typeof v === "bigint" || typeof v === "boolean" || typeof v === "number" || v instanceof PyComplex;
}

/** `Py_ISSPACE` */
function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";
}

/**
 * `PyOS_string_to_double(s + at, &end)` without an overflow error: the double at `at` (a sign, then
 * `inf`/`infinity`/`nan` in any case or decimal digits with an optional point and exponent), or null.
 */
function readDouble(s: string, at: number): { value: number; end: number } | null {
  const m = /^[+-]?(?:infinity|inf|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/i.exec(s.slice(at));
  if (m === null) return null;
  const text = m[0];
  const negative = text.startsWith("-");
  const unsigned = text.replace(/^[+-]/, "").toLowerCase();
  let value: number;
  if (unsigned.startsWith("inf")) value = Number.POSITIVE_INFINITY;
  else if (unsigned === "nan") value = Number.NaN;
  else value = Number(unsigned);
  return { value: negative ? -value : value, end: at + text.length };
}

/** `complex(text)`: `_Py_string_to_number_with_underscores` around `complex_from_string_inner`. */
function fromText(text: string): PyComplex {
  let s = asciiNumberText(text);
  if (s.includes("_")) {
    // Underscores only between digits; then they are dropped.
    if (/(^|[^0-9])_|_($|[^0-9])/.test(s) || s.includes("\0"))
      throw pyFail("ValueError", `could not convert string to complex: ${strRepr(text)}`);
    s = s.replace(/_/g, "");
  }
  const malformed = (): Error => pyFail("ValueError", "complex() arg is a malformed string");
  let p = 0;
  while (isSpace(s[p])) p++;
  const bracket = s[p] === "(";
  if (bracket) {
    p++;
    while (isSpace(s[p])) p++;
  }
  let x = 0;
  let y = 0;
  const first = readDouble(s, p);
  if (first !== null) {
    p = first.end;
    if (s[p] === "+" || s[p] === "-") {
      x = first.value;
      const second = readDouble(s, p);
      if (second !== null) {
        y = second.value;
        p = second.end;
      } else {
        y = s[p] === "+" ? 1 : -1;
        p++;
      }
      if (s[p] !== "j" && s[p] !== "J") throw malformed();
      p++;
    } else if (s[p] === "j" || s[p] === "J") {
      y = first.value;
      p++;
    } else x = first.value;
  } else {
    if (s[p] === "+" || s[p] === "-") {
      y = s[p] === "+" ? 1 : -1;
      p++;
    } else y = 1;
    if (s[p] !== "j" && s[p] !== "J") throw malformed();
    p++;
  }
  while (isSpace(s[p])) p++;
  if (bracket) {
    if (s[p] !== ")") throw malformed();
    p++;
    while (isSpace(s[p])) p++;
  }
  if (p !== s.length) throw malformed();
  return new PyComplex(x, y);
}
