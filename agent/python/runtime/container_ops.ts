/**
 * The operators `| & ^ -` of containers, as CPython 3.11 implements them (Objects/setobject.c set_or, set_and,
 * set_xor, set_sub and the in-place set_ior, set_iand, set_ixor, set_isub; Objects/dictobject.c dict_or,
 * dict_ior and the dictviews_* of a keys or items view). Each reuses the set method with the same C code
 * (types/set.ts), so a result's iteration order is CPython's.
 * - Sets combine only with sets (`{1} | [2]`: TypeError); the in-place forms mutate the set on the left.
 * - `dict | dict` is a new plain dict (a Bunch's copy too); `d |= x` updates `d` from any mapping or iterable of
 *   pairs, with `dict.update`'s errors.
 * - A keys or items view is set-like on either side: `d.keys() - ['a']`, `['a'] | d.keys()` give a new set of
 *   the left operand's items (`1 | d.keys()`: "'int' object is not iterable"); a values view is not.
 * undefined means that neither operand implements the operator: the caller raises the TypeError.
 */
import { updateDict } from "../types/dict.ts";
import { difference, differenceUpdate, intersect, symmetricUpdate, toSet, updateSet } from "../types/set.ts";
import { iterate } from "./access.ts";
import { contains, sameOrEqual } from "./compare.ts";
import { PyDict, PySet, PyTuple, type PyValue, PyView } from "./values.ts";

export type SetOp = "|" | "&" | "^" | "-";

const isSetOp = (op: string): op is SetOp => op === "|" || op === "&" || op === "^" || op === "-";

/** A keys or items view: dict_keys and dict_items have the set operators, dict_values has none. */
function setLike(v: PyValue): v is PyView {
  return v instanceof PyView && v.kind !== "values";
}

/** `a op b` of containers, or undefined when neither operand implements it. */
export function containerOp(op: string, a: PyValue, b: PyValue): PyValue | undefined {
  if (!isSetOp(op)) return undefined;
  if (a instanceof PySet && b instanceof PySet) return setOp(op, a, b);
  if (op === "|" && a instanceof PyDict && b instanceof PyDict) {
    const out = new PyDict();
    for (const e of [...a.entries.values()]) out.set(e.key, e.value);
    for (const e of [...b.entries.values()]) out.set(e.key, e.value);
    return out;
  }
  if (setLike(a) || setLike(b)) return viewOp(op, a, b);
  return undefined;
}

/**
 * `current op= value` where the container changes in place (a set with a set, a dict with `|`), returning
 * `current`; undefined when CPython has no in-place form for it and falls back to the plain operator.
 */
export function containerInplace(op: string, current: PyValue, value: PyValue): PyValue | undefined {
  if (!isSetOp(op)) return undefined;
  if (current instanceof PySet && value instanceof PySet) {
    if (op === "|") updateSet(current, value);
    else if (op === "&") current.entries.assign(intersect(current, value).entries);
    else if (op === "^") symmetricUpdate(current, value);
    else differenceUpdate(current, value);
    return current;
  }
  if (op === "|" && current instanceof PyDict) {
    updateDict(current, "update", [value], new Map());
    return current;
  }
  return undefined;
}

function setOp(op: SetOp, a: PySet, b: PySet): PySet {
  switch (op) {
    case "|": {
      const out = toSet(a);
      updateSet(out, b);
      return out;
    }
    case "&":
      return intersect(a, b);
    case "^": {
      const out = toSet(b);
      symmetricUpdate(out, a);
      return out;
    }
    case "-":
      return difference(a, b);
  }
}

/** dictviews_to_set: an exact dict's keys view converts through the dict (set_update_internal's dict path). */
function viewToSet(v: PyValue): PySet {
  if (v instanceof PyView && v.kind === "keys" && !v.dict.bunch) return toSet(v.dict);
  return toSet(v);
}

function viewOp(op: SetOp, a: PyValue, b: PyValue): PySet {
  if (op === "&") return viewIntersect(a, b);
  if (op === "^" && a instanceof PyView && b instanceof PyView && a.kind === "items" && b.kind === "items")
    return itemsXor(a, b);
  const out = viewToSet(a);
  if (op === "|") updateSet(out, b);
  else if (op === "^") symmetricUpdate(out, b);
  else differenceUpdate(out, b);
  return out;
}

/** _PyDictView_Intersect: the items of the other operand (the smaller view) that the view contains. */
function viewIntersect(a: PyValue, b: PyValue): PySet {
  let [self, other] = setLike(a) ? [a, b] : [b, a];
  const view = self as PyView;
  const size = view.dict.entries.size;
  if (other instanceof PySet && size <= other.entries.size) return intersect(other, view);
  if (setLike(other) && other.dict.entries.size > size) [self, other] = [other, self];
  const out = new PySet();
  for (const item of iterate(other)) if (contains(self, item)) out.add(item);
  return out;
}

/** dictitems_xor: the pairs of either dict that the other lacks or holds with an unequal value. */
function itemsXor(a: PyView, b: PyView): PySet {
  const rest = new PyDict();
  for (const e of [...a.dict.entries.values()]) rest.set(e.key, e.value);
  const out = new PySet();
  for (const e of [...b.dict.entries.values()]) {
    const mine = rest.get(e.key);
    if (mine !== undefined && sameOrEqual(mine, e.value)) rest.delete(e.key);
    else out.add(new PyTuple([e.key, e.value]));
  }
  updateSet(out, new PyView(rest, "items"));
  return out;
}
