/**
 * The data attributes of registry.ts DATA_ATTRIBUTES: `r.start`/`stop`/`step` of a range and
 * `real`/`imag`/`numerator`/`denominator` of an int (a bool's are ints) and `real`/`imag` of a float and a
 * complex (types/complex.ts).
 */
import { PyComplex, PyRange, type PyValue } from "../runtime/values.ts";
import { complexAttribute } from "./complex.ts";

/** `v.name` for a data attribute, or undefined when `v` has none of that name. */
export function dataAttribute(v: PyValue, name: string): PyValue | undefined {
  if (v instanceof PyRange)
    return name === "start" ? v.start : name === "stop" ? v.stop : name === "step" ? v.step : undefined;
  if (typeof v === "number") return name === "real" ? v : name === "imag" ? 0 : undefined;
  if (v instanceof PyComplex) return complexAttribute(v, name);
  if (typeof v !== "bigint" && typeof v !== "boolean") return undefined;
  const n = typeof v === "boolean" ? (v ? 1n : 0n) : v;
  switch (name) {
    case "real":
    case "numerator":
      return n;
    case "imag":
      return 0n;
    case "denominator":
      return 1n;
  }
  return undefined;
}
