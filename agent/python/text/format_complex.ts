/**
 * A complex as text, exactly as CPython 3.11 writes it: `repr()`/`str()` (Objects/complexobject.c
 * `complex_repr`: `2j` without parentheses when the real part is +0.0, else `(1+2j)`, `(-0-1j)`, `(nan+infj)`,
 * each part as the shortest repr without `.0`) and `format(z, spec)` (Python/formatter_unicode.c
 * `format_complex_internal`): presentation e, E, f, F, g, G, n or none (none is like str(), with parentheses
 * unless the real part is +0.0 and dropped), the imaginary part always signed unless the real part is dropped,
 * grouping in each part, the padding around the whole. ValueError "Zero padding is not allowed in complex format
 * specifier", "'=' alignment flag is not allowed in complex format specifier", "Unknown format code 'd' for
 * object of type 'complex'".
 */
import { pyFail } from "../runtime/exceptions.ts";
import type { PyComplex } from "../runtime/values.ts";
import { doubleToString, type FloatCode, type FloatFlags } from "./float_text.ts";
import { codeText, type FormatSpec, parseSpec } from "./format_spec_parse.ts";
import { layoutNumber, NO_GROUPING, padText } from "./number_layout.ts";

const INT_MAX = 2147483647;

/** Whether `x` is +0.0 (C's `x == 0. && copysign(1.0, x) == 1.0`). */
function isPlusZero(x: number): boolean {
  return x === 0 && !Object.is(x, -0);
}

/** `repr(z)` and `str(z)`. */
export function complexRepr(z: PyComplex): string {
  if (isPlusZero(z.real)) return `${doubleToString(z.imag, "r", 0)}j`;
  return `(${doubleToString(z.real, "r", 0)}${doubleToString(z.imag, "r", 0, { sign: true })}j)`;
}

/** One part laid out without padding (calc_number_widths + fill_number with width -1), `sign` the spec's sign. */
function part(
  x: number,
  code: FloatCode,
  precision: number,
  flags: FloatFlags,
  spec: FormatSpec,
  sign: string,
) {
  const text = doubleToString(x, code, precision, flags);
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  let end = 0;
  while (end < body.length && body.charCodeAt(end) >= 48 && body.charCodeAt(end) <= 57) end++;
  const decimal = body[end] === ".";
  // 'n' groups by the C locale, which has no grouping; the other types by the spec's separator.
  const grouping = spec.type === "n" ? NO_GROUPING : spec.grouping;
  return layoutNumber(
    {
      negative,
      prefix: "",
      digits: body.slice(0, end),
      decimal,
      remainder: body.slice(decimal ? end + 1 : end),
    },
    { fill: " ", align: "<", sign, width: -1, grouping },
  );
}

/** `format(z, spec)` for a non-empty spec (the empty one is str(z), as for every type). */
export function formatComplex(z: PyComplex, spec: string): string {
  const s = parseSpec(spec, z, "", ">");
  if (!(s.type === "" || "eEfFgGn".includes(s.type))) {
    throw pyFail("ValueError", `Unknown format code ${codeText(s.type)} for object of type 'complex'`);
  }
  if (s.precision > INT_MAX) throw pyFail("ValueError", "precision too big");
  if (s.fill === "0") throw pyFail("ValueError", "Zero padding is not allowed in complex format specifier");
  if (s.align === "=")
    throw pyFail("ValueError", "'=' alignment flag is not allowed in complex format specifier");
  const flags: FloatFlags = { alt: s.alternate, noNegZero: s.noNegZero };
  let code: FloatCode;
  let precision = s.precision;
  let skipReal = false;
  let parens = false;
  if (s.type === "") {
    code = "r";
    if (isPlusZero(z.real)) skipReal = true;
    else parens = true;
    if (precision < 0) precision = 0;
    else code = "g";
  } else {
    code = (s.type === "n" ? "g" : s.type) as FloatCode;
    if (precision < 0) precision = 6;
  }
  const real = skipReal ? "" : part(z.real, code, precision, flags, s, s.sign);
  const imag = part(z.imag, code, precision, flags, s, skipReal ? s.sign : "+");
  const text = parens ? `(${real}${imag}j)` : `${real}${imag}j`;
  return padText(text, s.width, s.align, s.fill);
}
