/**
 * The methods of str: one implementation per row of registry.ts STR, grouped by what they do in
 * str_search.ts, str_split.ts, str_case.ts and str_layout.ts. `format` is the formatting engine's (format.ts).
 */
import { formatString } from "../text/format.ts";
import type { MethodTable } from "./args.ts";
import type { STR } from "./registry.ts";
import { capitalize, casefold, lower, PREDICATES, swapcase, title, upper } from "./str_case.ts";
import { expandTabs, formatMap, makeTrans, pad, translate, zfill } from "./str_layout.ts";
import { affixMatch, partition, removeAffix, replace, search } from "./str_search.ts";
import { join, split, splitLines, strip } from "./str_split.ts";

export const STR_METHODS: MethodTable<string, typeof STR> = {
  capitalize,
  casefold,
  center: (s, a) => pad(s, a, "center"),
  count: (s, a) => search(s, a, "count"),
  endswith: (s, a) => affixMatch(s, a, "endswith"),
  expandtabs: expandTabs,
  find: (s, a) => search(s, a, "find"),
  format: (s, a, ctx) =>
    formatString(
      s,
      a.map((v) => v ?? null),
      new Map(ctx.keywords),
    ),
  format_map: (s, a) => formatMap(s, a[0]),
  index: (s, a) => search(s, a, "index"),
  ...PREDICATES,
  join: (s, a) => join(s, a[0]),
  ljust: (s, a) => pad(s, a, "ljust"),
  lower,
  lstrip: (s, a) => strip(s, a[0], "lstrip"),
  maketrans: (_, a) => makeTrans(a),
  partition: (s, a) => partition(s, a[0], false),
  removeprefix: (s, a) => removeAffix(s, a[0], "removeprefix"),
  removesuffix: (s, a) => removeAffix(s, a[0], "removesuffix"),
  replace,
  rfind: (s, a) => search(s, a, "rfind"),
  rindex: (s, a) => search(s, a, "rindex"),
  rjust: (s, a) => pad(s, a, "rjust"),
  rpartition: (s, a) => partition(s, a[0], true),
  rsplit: (s, a) => split(s, a, true),
  rstrip: (s, a) => strip(s, a[0], "rstrip"),
  split: (s, a) => split(s, a, false),
  splitlines: splitLines,
  startswith: (s, a) => affixMatch(s, a, "startswith"),
  strip: (s, a) => strip(s, a[0], "strip"),
  swapcase,
  title,
  translate: (s, a) => translate(s, a[0]),
  upper,
  zfill: (s, a) => zfill(s, a[0]),
};
