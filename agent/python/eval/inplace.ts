/**
 * Augmented assignment's operator (`x += y`): CPython's in-place protocol (list_inplace_concat,
 * list_inplace_repeat, set_ior/iand/ixor/isub, dict_ior). A list's `+=` extends it (types/list.ts
 * `inplaceConcat`, which `extend` is too) and `*=` repeats it in place, a set's `|= &= ^= -=` with a set and a
 * dict's `|=` with a mapping or pairs change it in place (runtime/container_ops.ts): every other name bound to
 * that object sees the change. Every other value is rebound to the result of the plain operator, and a
 * TypeError names the augmented operator (`unsupported operand type(s) for |=: 'set' and 'list'`).
 */
import type { BinaryOp } from "../check/ast.ts";
import { containerInplace } from "../runtime/container_ops.ts";
import { binaryOp } from "../runtime/ops.ts";
import { PyList, type PyValue, spliceItems } from "../runtime/values.ts";
import { inplaceConcat } from "../types/list.ts";

/** The in-place operator `op=` of `target op= value`, given the target's current value. */
export function inplaceOp(op: BinaryOp, current: PyValue, value: PyValue): PyValue {
  if (current instanceof PyList) {
    if (op === "+") return inplaceConcat(current, value);
    if (op === "*") {
      const repeated = binaryOp("*", current, value, true);
      if (repeated instanceof PyList) spliceItems(current.items, 0, current.items.length, repeated.items);
      return current;
    }
  }
  return containerInplace(op, current, value) ?? binaryOp(op, current, value, true);
}
