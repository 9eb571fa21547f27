/**
 * Python's format-spec mini-language (`format(value, spec)`, the part after `:` in `'{0:>8.2f}'`) for str,
 * int, bool and float, plus the number renderings `%`-formatting shares with it.
 */
import { pyFail } from "./exceptions.ts";
import { toFloat } from "./ops.ts";
import { floatRepr, pyStr } from "./repr.ts";
import { checkSize, numeric, type PyValue, typeName } from "./values.ts";

export interface Spec {
  fill: string;
  align: "<" | ">" | "=" | "^" | null;
  sign: "+" | "-" | " " | null;
  alternate: boolean;
  zero: boolean;
  width: number;
  grouping: "," | "_" | null;
  precision: number | null;
  type: string;
}

const SPEC = /^(?:([\s\S])?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([a-zA-Z%])?$/u;

export function parseSpec(spec: string): Spec {
  const m = SPEC.exec(spec);
  if (!m) throw pyFail("ValueError", "Invalid format specifier");
  const align = (m[2] ?? null) as Spec["align"];
  return {
    fill: m[1] ?? " ",
    align,
    sign: (m[3] ?? null) as Spec["sign"],
    alternate: m[5] !== undefined,
    zero: m[6] !== undefined,
    width: m[7] === undefined ? 0 : Number(m[7]),
    grouping: (m[8] ?? null) as Spec["grouping"],
    precision: m[9] === undefined ? null : Number(m[9]),
    type: m[10] ?? "",
  };
}

/** `format(value, spec)` */
export function formatValue(value: PyValue, spec: string): string {
  if (spec === "") return pyStr(value);
  const s = parseSpec(spec);
  const badType = (): Error =>
    pyFail("ValueError", `Unknown format code '${s.type}' for object of type '${typeName(value)}'`);
  if (
    s.grouping &&
    (typeof value === "string" || typeof value === "number" || numeric(value) !== undefined)
  ) {
    // CPython checks the separator while parsing the spec, against the type's default presentation type.
    const type = s.type || (typeof value === "string" ? "s" : typeof value === "number" ? "" : "d");
    const allowed = "defgEFG%".includes(type) || ("boxX".includes(type) && s.grouping === "_");
    if (!allowed) throw pyFail("ValueError", `Cannot specify '${s.grouping}' with '${type}'.`);
  }
  if (typeof value === "string") {
    if (s.type !== "" && s.type !== "s") throw badType();
    if (s.sign) throw pyFail("ValueError", "Sign not allowed in string format specifier");
    if (s.alternate) throw pyFail("ValueError", "Alternate form (#) not allowed in string format specifier");
    if (s.align === "=") throw pyFail("ValueError", "'=' alignment not allowed in string format specifier");
    const text = s.precision === null ? value : Array.from(value).slice(0, s.precision).join("");
    return pad(text, s, "<");
  }
  if (typeof value === "bigint" || typeof value === "boolean") {
    const n = typeof value === "boolean" ? (value ? 1n : 0n) : value;
    if ("eEfFgG%".includes(s.type) && s.type !== "") return pad(formatFloat(toFloat(n), s), s, ">");
    if (!"bcdoxXn".includes(s.type) && s.type !== "") throw badType();
    if (s.precision !== null) throw pyFail("ValueError", "Precision not allowed in integer format specifier");
    return pad(formatInt(n, s), s, ">");
  }
  if (typeof value === "number") {
    if (!"eEfFgGn%".includes(s.type) && s.type !== "") throw badType();
    return pad(formatFloat(value, s), s, ">");
  }
  throw pyFail("TypeError", `unsupported format string passed to ${typeName(value)}.__format__`);
}

function signOf(negative: boolean, s: Spec): string {
  if (negative) return "-";
  return s.sign === "+" ? "+" : s.sign === " " ? " " : "";
}

function group(digits: string, sep: string | null, every = 3): string {
  if (!sep) return digits;
  let out = "";
  for (let i = digits.length; i > 0; i -= every)
    out = digits.slice(Math.max(0, i - every), i) + (out ? sep + out : "");
  return out;
}

export function formatInt(n: bigint, s: Spec): string {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let body: string;
  switch (s.type) {
    case "b":
      body = (s.alternate ? "0b" : "") + group(abs.toString(2), s.grouping, 4);
      break;
    case "o":
      body = (s.alternate ? "0o" : "") + group(abs.toString(8), s.grouping, 4);
      break;
    case "x":
    case "X": {
      const hex = group(abs.toString(16), s.grouping, 4);
      body = s.type === "X" ? (s.alternate ? "0X" : "") + hex.toUpperCase() : (s.alternate ? "0x" : "") + hex;
      break;
    }
    case "c":
      return String.fromCodePoint(Number(n));
    default:
      body = group(abs.toString(), s.grouping);
  }
  return signOf(negative, s) + body;
}

/** Python's `'%e'`-style exponent: at least two digits. */
function pyExponential(x: number, digits: number): string {
  const [m = "", e = "0"] = x.toExponential(digits).split("e");
  const exp = Number(e);
  return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

/** Fixed-point digits rounded as Python does: an exact tie rounds to even (JS `toFixed` rounds it up). */
function pyFixed(x: number, digits: number): string {
  if (Math.abs(x) >= 1e21) return BigInt(x).toString() + (digits > 0 ? `.${"0".repeat(digits)}` : "");
  const rounded = x.toFixed(digits);
  if (digits >= 100) return rounded;
  const exact = x.toFixed(100);
  const cut = exact.indexOf(".") + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return rounded;
  const truncated = exact.slice(0, digits === 0 ? cut - 1 : cut);
  return Number(truncated.at(-1)) % 2 === 0 ? truncated : rounded;
}

function stripZeros(text: string, alternate: boolean): string {
  if (alternate) return text;
  const [m = "", e] = text.split("e");
  const trimmed = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
  return e === undefined ? trimmed : `${trimmed}e${e}`;
}

/** `g` formatting; with no type letter Python switches to exponent notation one digit earlier (`sooner`). */
function general(x: number, precision: number, alternate: boolean, upper: boolean, sooner = false): string {
  const p = precision === 0 ? 1 : precision;
  const exp = x === 0 ? 0 : Number(x.toExponential(p - 1).split("e")[1]);
  const fixed = exp >= -4 && exp < (sooner ? p - 1 : p);
  const text = fixed ? pyFixed(x, p - 1 - exp) : pyExponential(x, p - 1);
  const out = stripZeros(text, alternate);
  return upper ? out.toUpperCase() : out;
}

export function formatFloat(x: number, s: Spec): string {
  const negative = x < 0 || Object.is(x, -0);
  const abs = Math.abs(x);
  let body: string;
  if (!Number.isFinite(abs)) {
    body = Number.isNaN(abs) ? "nan" : "inf";
    if (s.type === s.type.toUpperCase() && s.type !== "" && s.type !== "%") body = body.toUpperCase();
    if (s.type === "%") body += "%";
    return signOf(negative && !Number.isNaN(x), s) + body;
  }
  const precision = s.precision ?? 6;
  switch (s.type) {
    case "f":
    case "F":
      body = pyFixed(abs, precision);
      break;
    case "e":
    case "E":
      body = pyExponential(abs, precision);
      if (s.type === "E") body = body.toUpperCase();
      break;
    case "%":
      body = `${pyFixed(abs * 100, precision)}%`;
      break;
    case "g":
    case "G":
    case "n":
      body = general(abs, precision, s.alternate, s.type === "G");
      break;
    default:
      if (s.precision === null) body = floatRepr(abs);
      else {
        body = general(abs, s.precision, s.alternate, false, true);
        if (!/[.e]/.test(body)) body += ".0";
      }
  }
  const cut = body.search(/[.eE%]/);
  const whole = cut < 0 ? body : body.slice(0, cut);
  const rest = cut < 0 ? "" : body.slice(cut);
  return signOf(negative, s) + group(whole, s.grouping) + rest;
}

/** Pads a rendered value to the spec's width; `=` and the `0` flag pad between the sign and the digits. */
export function pad(text: string, s: Spec, defaultAlign: "<" | ">"): string {
  const align = s.align ?? (s.zero ? "=" : defaultAlign);
  const fill = s.align === null && s.zero ? "0" : s.fill;
  const length = Array.from(text).length;
  if (length >= s.width) return text;
  checkSize(s.width, "str");
  const gap = s.width - length;
  switch (align) {
    case "<":
      return text + fill.repeat(gap);
    case ">":
      return fill.repeat(gap) + text;
    case "^":
      return fill.repeat(Math.floor(gap / 2)) + text + fill.repeat(gap - Math.floor(gap / 2));
    default: {
      const sign = /^([+\- ]?(0[xXbBoO])?)/.exec(text)?.[0] ?? "";
      return sign + fill.repeat(gap) + text.slice(sign.length);
    }
  }
}
