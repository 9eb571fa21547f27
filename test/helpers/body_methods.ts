/**
 * fast-check arbitraries of method calls as Python source text, by the type they return: str methods with random
 * arguments (separators, counts, negative and huge positions, fill characters, tuples of prefixes, keywords, and
 * now and then a wrong argument count or type: CPython's TypeError text must come out), list/dict/tuple methods
 * that return values. Mutating calls used as statements are in body_statements.ts.
 */
import fc from "fast-check";
import type { Level } from "./body_formatting.ts";
import { pyString, shortText } from "./body_literals.ts";

const sep = shortText.map((s) => pyString(s));
const pos = fc.oneof(
  fc.integer({ min: -6, max: 10 }).map(String),
  fc.constantFrom("None", "100", "-100", "2**64", "True"),
);
const width = fc.oneof(
  fc.integer({ min: -2, max: 14 }).map(String),
  fc.constantFrom("len(s)", "True", "2**63"),
);
const fillChar = fc.constantFrom("'*'", "' '", "'é'", "'ab'", "''", "'0'", "1");

/** Argument lists per str method: the usual shapes first, odd ones after. */
function strArgs(l: Level): Record<string, fc.Arbitrary<string>> {
  const join = (...a: fc.Arbitrary<string>[]) => fc.tuple(...a).map((x) => x.join(", "));
  return {
    strip: fc.oneof(fc.constant(""), sep, fc.constant("None")),
    lstrip: fc.oneof(fc.constant(""), sep),
    rstrip: fc.oneof(fc.constant(""), sep),
    split: fc.oneof(
      fc.constant(""),
      sep,
      join(sep, pos),
      pos.map((p) => `maxsplit=${p}`),
      join(fc.constant("None"), pos),
    ),
    rsplit: fc.oneof(
      fc.constant(""),
      sep,
      join(sep, pos),
      pos.map((p) => `sep=None, maxsplit=${p}`),
    ),
    splitlines: fc.constantFrom("", "True", "keepends=True", "False"),
    replace: fc.oneof(join(sep, sep), join(sep, sep, pos)),
    lower: fc.constant(""),
    upper: fc.constant(""),
    title: fc.constant(""),
    capitalize: fc.constant(""),
    swapcase: fc.constant(""),
    casefold: fc.constant(""),
    startswith: fc.oneof(
      sep,
      join(sep, pos),
      join(sep, pos, pos),
      fc.tuple(sep, sep).map(([a, b]) => `(${a}, ${b})`),
    ),
    endswith: fc.oneof(
      sep,
      join(sep, pos, pos),
      fc.tuple(sep, sep).map(([a, b]) => `(${a}, ${b})`),
    ),
    find: fc.oneof(sep, join(sep, pos), join(sep, pos, pos)),
    rfind: fc.oneof(sep, join(sep, pos)),
    index: fc.oneof(sep, join(sep, pos)),
    rindex: fc.oneof(sep, join(sep, pos, pos)),
    count: fc.oneof(sep, join(sep, pos), join(sep, pos, pos)),
    zfill: width,
    center: fc.oneof(width, join(width, fillChar)),
    ljust: fc.oneof(width, join(width, fillChar)),
    rjust: fc.oneof(width, join(width, fillChar)),
    partition: sep,
    rpartition: sep,
    expandtabs: fc.constantFrom("", "4", "0", "1", "tabsize=3", "-1"),
    removeprefix: sep,
    removesuffix: sep,
    join: fc.oneof(l.list, l.str, l.tuple, l.dict),
    isdigit: fc.constant(""),
    isdecimal: fc.constant(""),
    isnumeric: fc.constant(""),
    isalpha: fc.constant(""),
    isalnum: fc.constant(""),
    isspace: fc.constant(""),
    islower: fc.constant(""),
    isupper: fc.constant(""),
    istitle: fc.constant(""),
    isascii: fc.constant(""),
  };
}

const RETURNS_BOOL = new Set(["startswith", "endswith"]);
const RETURNS_LIST = new Set(["split", "rsplit", "splitlines"]);
const RETURNS_INT = new Set(["find", "rfind", "index", "rindex", "count"]);

/** An argument list that CPython refuses: one too many, a wrong type, an unknown keyword. */
const oddArgs = fc.constantFrom("1, 2, 3, 4", "None, None, None", "1", "x=1", "[]", "'a', 'b', 'c', 'd'");

export interface MethodCalls {
  str: fc.Arbitrary<string>;
  bool: fc.Arbitrary<string>;
  list: fc.Arbitrary<string>;
  int: fc.Arbitrary<string>;
}

/** Method calls on the values of level `l`, grouped by what they return. */
export function methodCalls(l: Level): MethodCalls {
  const args = strArgs(l);
  const pick = (keep: (name: string) => boolean) =>
    fc.oneof(
      ...Object.entries(args)
        .filter(([name]) => keep(name))
        .map(([name, a]) =>
          fc
            .tuple(l.str, fc.oneof({ weight: 12, arbitrary: a }, { weight: 1, arbitrary: oddArgs }))
            .map(([recv, xs]) => `${recv}.${name}(${xs})`),
        ),
    );
  const isTest = (n: string) => n.startsWith("is") || RETURNS_BOOL.has(n);
  const list = fc.oneof(
    { weight: 4, arbitrary: pick((n) => RETURNS_LIST.has(n)) },
    { weight: 1, arbitrary: fc.tuple(l.list, l.any).map(([x, v]) => `${x}.copy() + [${x}.count(${v})]`) },
    {
      weight: 1,
      arbitrary: fc.tuple(l.dict, l.any).map(([x, v]) => `list(${x}.get('a', ${v}) for _ in 'ab')`),
    },
  );
  const int = fc.oneof(
    pick((n) => RETURNS_INT.has(n)),
    fc.tuple(fc.oneof(l.list, l.tuple), l.any).map(([x, v]) => `${x}.index(${v})`),
    fc.tuple(fc.oneof(l.list, l.tuple), l.any).map(([x, v]) => `${x}.count(${v})`),
  );
  return {
    str: fc.oneof(
      { weight: 6, arbitrary: pick((n) => !isTest(n) && !RETURNS_LIST.has(n) && !RETURNS_INT.has(n)) },
      { weight: 1, arbitrary: fc.tuple(l.dict, l.str).map(([x, k]) => `${x}.get(${k}, '?')`) },
    ),
    bool: pick(isTest),
    list,
    int,
  };
}
