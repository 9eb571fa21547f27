/**
 * fast-check arbitraries of the Python values and call operands the differential tests of methods and
 * built-ins generate: strs over characters whose case mapping or class is special (ß, Σ, ǅ, ﬁ, İ, ²…),
 * small and huge ints, special floats, and containers of them. Sets remember the order they were built
 * in (setSources) so that CPython builds its copy the same way.
 */
import fc from "fast-check";
import { PyDict, PyList, PySet, PyTuple, type PyValue } from "../../agent/python/runtime/values.ts";
import { type Operand, setSources } from "./python_calls.ts";

export type { Operand } from "./python_calls.ts";

export const CHARS = [
  ..."aAbB zZ_-+0159\t\n\r\x0b\x85",
  "ß",
  "Σ",
  "σ",
  "ς",
  "İ",
  "ı",
  "ǅ",
  "ǆ",
  "ﬁ",
  "ŉ",
  "٣",
  "²",
  "½",
  "\u0345",
  "\u1f80",
  "😀",
  "\u2028",
  "\u00a0",
  "Å",
  "ǰ",
  "ΐ",
  "'",
  "é",
  "\u0301",
  "ǈ",
  "ᾳ",
  "\x7f",
  "\u200b",
];
export const str = fc.array(fc.constantFrom(...CHARS), { maxLength: 7 }).map((cs) => cs.join(""));
export const shortStr = fc.oneof(fc.constantFrom("", "a", "b", " ", "ab", "Σ", ",", "x", "\n", "ß"), str);
export const int = fc.oneof(
  fc.integer({ min: -4, max: 9 }).map(BigInt),
  fc.constantFrom(2n ** 70n, -(2n ** 64n), 10n ** 20n),
);
export const float = fc.constantFrom(
  0.5,
  -1.5,
  2.0,
  0.0,
  -0.0,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  0.1,
  3.0,
);
export const scalar: fc.Arbitrary<PyValue> = fc.oneof(
  { weight: 4, arbitrary: shortStr },
  { weight: 4, arbitrary: int },
  { weight: 1, arbitrary: float },
  { weight: 1, arbitrary: fc.constantFrom<PyValue>(null, true, false) },
);
export const hashable: fc.Arbitrary<PyValue> = fc.oneof(
  shortStr,
  int,
  fc.constantFrom<PyValue>(null, true, 2.0, 0.5),
);
export const list = fc.array(scalar, { maxLength: 5 }).map((xs) => new PyList(xs));
export const strList = fc.array(shortStr, { maxLength: 4 }).map((xs) => new PyList(xs));
export const tuple = fc.array(fc.oneof(shortStr, int), { maxLength: 4 }).map((xs) => new PyTuple(xs));
export const dict = fc.array(fc.tuple(hashable, scalar), { maxLength: 4 }).map((kvs) => {
  const d = new PyDict();
  for (const [k, v] of kvs) d.set(k, v);
  return d;
});
export const toSet = (xs: PyValue[]): PySet => {
  const s = new PySet();
  for (const x of xs) s.add(x);
  setSources.set(s, xs);
  return s;
};
/** A set of ints: CPython's iteration order is deterministic for them (a str's hash is per process). */
export const intSet = fc.array(int, { maxLength: 5 }).map(toSet);
export const set = fc.oneof(intSet, fc.array(fc.oneof(int, shortStr), { maxLength: 5 }).map(toSet));
export const pairs = fc
  .array(fc.tuple(hashable, scalar), { maxLength: 3 })
  .map((kvs) => new PyList(kvs.map((kv) => new PyTuple(kv))));
export const argument: fc.Arbitrary<PyValue> = fc.oneof(
  { weight: 8, arbitrary: scalar },
  { weight: 1, arbitrary: list },
  { weight: 1, arbitrary: strList },
  { weight: 1, arbitrary: tuple },
  { weight: 1, arbitrary: dict },
  { weight: 1, arbitrary: intSet },
  { weight: 1, arbitrary: pairs },
);
export const keyFunction: fc.Arbitrary<Operand> = fc.oneof(
  fc.constantFrom<Operand>({ value: null }, { builtin: "str" }, { builtin: "len" }, { builtin: "abs" }),
  fc.constantFrom<Operand>({ unbound: ["str", "lower"] }, { builtin: "repr" }, { builtin: "int" }),
);
