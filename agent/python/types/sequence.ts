/**
 * The methods of tuple and range (registry.ts TUPLE, RANGE). A range answers `count`/`index` arithmetically, without building itself.
 */
import { pyFail } from "../runtime/exceptions.ts";
import { rangeMethod } from "../runtime/range.ts";
import type { PyRange, PyTuple } from "../runtime/values.ts";
import type { MethodTable } from "./args.ts";
import { countIn, indexIn } from "./list.ts";
import type { RANGE, TUPLE } from "./registry.ts";

export const TUPLE_METHODS: MethodTable<PyTuple, typeof TUPLE> = {
  count: (t, a) => countIn(t.items, a[0]),
  index: (t, a) => {
    const at = indexIn(t.items, a);
    if (at < 0) throw pyFail("ValueError", "tuple.index(x): x not in tuple");
    return BigInt(at);
  },
};

export const RANGE_METHODS: MethodTable<PyRange, typeof RANGE> = {
  count: (r, a) => rangeMethod(r, "count", [...a]),
  index: (r, a) => rangeMethod(r, "index", [...a]),
};
