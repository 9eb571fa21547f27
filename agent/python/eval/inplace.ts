/**
 * Augmented assignment's operator (`x += y`): CPython's in-place protocol (list_inplace_concat,
 * list_inplace_repeat, set_isub). A list's `+=` extends it (types/list.ts `inplaceConcat`, which `extend` is
 * too) and `*=` repeats it in place, a set's `-=` removes from it in place: every other name bound to that object
 * sees the change. Every other value is rebound to the result of the plain operator, and a TypeError names the
 * augmented operator (`unsupported operand type(s) for +=: 'int' and 'str'`).
 */
import type { BinaryOp } from "../check/ast.ts";
import { binaryOp } from "../runtime/ops.ts";
import { PyList, PySet, type PyValue, spliceItems } from "../runtime/values.ts";
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
  if (op === "-" && current instanceof PySet && value instanceof PySet) {
    for (const item of [...value.entries.values()]) current.delete(item);
    return current;
  }
  return binaryOp(op, current, value, true);
}
