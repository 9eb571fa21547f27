/**
 * The methods of list (registry.ts LIST), and `index`/`count` that tuple shares. Messages are CPython
 * 3.11's (Objects/listobject.c).
 */
import { collect } from "../runtime/access.ts";
import { sameOrEqual } from "../runtime/compare.ts";
import { pyFail } from "../runtime/exceptions.ts";
import { checkSize, PyList, type PyValue, spliceItems } from "../runtime/values.ts";
import { pyRepr } from "../text/repr.ts";
import { type Arg, cIntArg, indexBound, type MethodTable, sizeArg } from "./args.ts";
import type { LIST } from "./registry.ts";
import { sortItems } from "./sort.ts";

/** `seq.index(value, start=0, stop=sys.maxsize)` of list and tuple: the first position, or -1. */
export function indexIn(items: readonly PyValue[], a: readonly Arg[]): number {
  const n = items.length;
  const start = indexBound(a[1], 0, n);
  const stop = indexBound(a[2], n, n);
  for (let i = start; i < stop && i < items.length; i++)
    if (sameOrEqual(items[i] ?? null, a[0] ?? null)) return i;
  return -1;
}

/** `seq.count(value)` of list and tuple. */
export function countIn(items: readonly PyValue[], value: Arg): bigint {
  let n = 0n;
  for (const item of items) if (sameOrEqual(item, value ?? null)) n++;
  return n;
}

/** `a.extend(x)` (and `a += x`): any iterable, `a` itself too. */
export function inplaceConcat(list: PyList, value: PyValue): PyList {
  const added = value === list ? [...list.items] : collect(value);
  checkSize(list.items.length + added.length, "list");
  spliceItems(list.items, list.items.length, 0, added);
  return list;
}

export const LIST_METHODS: MethodTable<PyList, typeof LIST> = {
  append: (list, a) => {
    list.items.push(a[0] ?? null);
    return null;
  },
  clear: (list) => {
    list.items.length = 0;
    return null;
  },
  copy: (list) => new PyList([...list.items]),
  count: (list, a) => countIn(list.items, a[0]),
  extend: (list, a) => {
    inplaceConcat(list, a[0] ?? null);
    return null;
  },
  index: (list, a) => {
    const at = indexIn(list.items, a);
    if (at < 0) throw pyFail("ValueError", `${pyRepr(a[0] ?? null)} is not in list`);
    return BigInt(at);
  },
  insert: (list, a) => {
    const i = sizeArg(a[0]);
    const n = list.items.length;
    const at = i < 0 ? Math.max(0, n + i) : Math.min(i, n);
    list.items.splice(at, 0, a[1] ?? null);
    return null;
  },
  pop: (list, a) => {
    const i = a[0] === undefined ? -1 : sizeArg(a[0]);
    const items = list.items;
    if (items.length === 0) throw pyFail("IndexError", "pop from empty list");
    const at = i < 0 ? i + items.length : i;
    if (at < 0 || at >= items.length) throw pyFail("IndexError", "pop index out of range");
    return items.splice(at, 1)[0] ?? null;
  },
  remove: (list, a) => {
    const at = indexIn(list.items, [a[0]]);
    if (at < 0) throw pyFail("ValueError", "list.remove(x): x not in list");
    list.items.splice(at, 1);
    return null;
  },
  reverse: (list) => {
    list.items.reverse();
    return null;
  },
  sort: (list, a, ctx) => {
    const reverse = a[1] === undefined ? false : cIntArg(a[1]) !== 0;
    sortItems(list.items, a[0] ?? null, reverse, ctx.invoke);
    return null;
  },
};
