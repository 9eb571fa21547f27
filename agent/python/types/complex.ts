/**
 * The method and data attributes of complex (registry.ts COMPLEX, DATA_ATTRIBUTES): `conjugate()` and the
 * read-only floats `real` and `imag` (CPython's member descriptors: assigning one is AttributeError "readonly
 * attribute", as setAttr says).
 */
import { PyComplex, type PyValue } from "../runtime/values.ts";
import type { MethodTable } from "./args.ts";
import type { COMPLEX } from "./registry.ts";

export const COMPLEX_METHODS: MethodTable<PyComplex, typeof COMPLEX> = {
  conjugate: (z) => new PyComplex(z.real, -z.imag),
};

/** `z.real`, `z.imag`, or undefined for any other name. */
export function complexAttribute(z: PyComplex, name: string): PyValue | undefined {
  return name === "real" ? z.real : name === "imag" ? z.imag : undefined;
}
