/**
 * The methods and data attributes of int (and bool, its subclass) and float (registry.ts INT, FLOAT):
 * `bit_length`, `bit_count`, `as_integer_ratio` (exact, from the double's bits), `is_integer`, `hex`
 * (CPython's float_hex: 13 hex digits, `p` exponent). Data attributes are in attributes.ts.
 */
import { pyFail } from "../runtime/exceptions.ts";
import { PyTuple } from "../runtime/values.ts";
import { floatRepr } from "../text/repr.ts";
import type { MethodTable } from "./args.ts";
import type { FLOAT, INT } from "./registry.ts";

/** An int receiver: bool methods are int's and answer ints. */
function int(v: bigint | boolean): bigint {
  return typeof v === "boolean" ? (v ? 1n : 0n) : v;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** The double's sign, 52-bit fraction and biased exponent. */
function bits(x: number): { negative: boolean; exponent: number; fraction: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const raw = view.getBigUint64(0);
  return {
    negative: raw >> 63n === 1n,
    exponent: Number((raw >> 52n) & 0x7ffn),
    fraction: raw & 0xfffffffffffffn,
  };
}

/** `x.as_integer_ratio()`: the exact fraction in lowest terms. */
function ratio(x: number): PyTuple {
  if (Number.isNaN(x)) throw pyFail("ValueError", "cannot convert NaN to integer ratio");
  if (!Number.isFinite(x)) throw pyFail("OverflowError", "cannot convert Infinity to integer ratio");
  const { negative, exponent, fraction } = bits(x);
  let numerator = exponent === 0 ? fraction : fraction | (1n << 52n);
  let power = (exponent === 0 ? 1 : exponent) - 1075;
  while (numerator !== 0n && (numerator & 1n) === 0n && power < 0) {
    numerator >>= 1n;
    power++;
  }
  if (numerator === 0n) power = 0;
  const n = power > 0 ? numerator << BigInt(power) : numerator;
  return new PyTuple([negative ? -n : n, power < 0 ? 1n << BigInt(-power) : 1n]);
}

/** `x.hex()` */
function hex(x: number): string {
  if (!Number.isFinite(x)) return floatRepr(x);
  const { negative, exponent, fraction } = bits(x);
  const sign = negative ? "-" : "";
  if (exponent === 0 && fraction === 0n) return `${sign}0x0.0p+0`;
  const lead = exponent === 0 ? 0 : 1;
  const e = exponent === 0 ? -1022 : exponent - 1023;
  return `${sign}0x${lead}.${fraction.toString(16).padStart(13, "0")}p${e < 0 ? "" : "+"}${e}`;
}

export const INT_METHODS: MethodTable<bigint | boolean, typeof INT> = {
  as_integer_ratio: (v) => new PyTuple([int(v), 1n]),
  bit_count: (v) => BigInt([...abs(int(v)).toString(2)].filter((c) => c === "1").length),
  bit_length: (v) => {
    const n = abs(int(v));
    return n === 0n ? 0n : BigInt(n.toString(2).length);
  },
  conjugate: (v) => int(v),
};

export const FLOAT_METHODS: MethodTable<number, typeof FLOAT> = {
  as_integer_ratio: ratio,
  conjugate: (x) => x,
  hex,
  is_integer: (x) => Number.isInteger(x),
};
