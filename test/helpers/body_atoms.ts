/**
 * The level-0 expressions of the Body generator: literals, the Body's typed variables (bound by the prelude in
 * body_arbitraries.ts before any statement reads them) and `args` as Bodies read it.
 */
import fc from "fast-check";
import type { Level } from "./body_formatting.ts";
import { complexLiteral, floatLiteral, intLiteral, strLiteral } from "./body_literals.ts";
import { PARAM_KEYS } from "./body_params.ts";

/** The Body's typed variables, bound by the prelude (body_arbitraries.ts) before any statement reads them. */
export const VARIABLES = {
  int: ["n", "m"],
  float: ["x"],
  str: ["s", "w"],
  list: ["xs", "ws"],
  dict: ["d"],
  bool: ["ok"],
  tuple: ["tp"],
  set: ["st"],
} as const;

export const smallInt = fc.integer({ min: -4, max: 6 }).map((n) => (n < 0 ? `(${n})` : String(n)));
const key = fc.constantFrom(...PARAM_KEYS);
const DICT_METHODS = new Set(
  "clear copy fromkeys get items keys pop popitem setdefault update values".split(" "),
);

/** `args` as Bodies read it: attribute, subscript, get, membership, the Bunch itself. */
export const argsRead: fc.Arbitrary<string> = fc.oneof(
  // `args.items` is the Bunch's bound method, whose repr carries a memory address in CPython: not an attribute read.
  {
    weight: 3,
    arbitrary: key.filter((k) => /^[a-z]/.test(k) && !DICT_METHODS.has(k)).map((k) => `args.${k}`),
  },
  { weight: 2, arbitrary: key.map((k) => `args['${k}']`) },
  { weight: 2, arbitrary: key.map((k) => `args.get('${k}')`) },
  { weight: 1, arbitrary: fc.tuple(key, intLiteral).map(([k, v]) => `args.get('${k}', ${v})`) },
  { weight: 1, arbitrary: fc.constantFrom("args", "args.cfg['a']", "args.nested.get('1')", "args.items()") },
);

/** Literals, variables and `args` reads, by type. */
export function atoms(): Level {
  const v = (names: readonly string[]) => fc.constantFrom(...names);
  const int = fc.oneof({ weight: 3, arbitrary: intLiteral }, { weight: 2, arbitrary: v(VARIABLES.int) });
  // A complex is a "float" here: it meets every float operation, and both sides must answer alike.
  const float = fc.oneof(
    { weight: 3, arbitrary: floatLiteral },
    { weight: 1, arbitrary: v(VARIABLES.float) },
    { weight: 1, arbitrary: complexLiteral },
  );
  const str = fc.oneof({ weight: 3, arbitrary: strLiteral }, { weight: 2, arbitrary: v(VARIABLES.str) });
  const bool = fc.constantFrom("True", "False", "ok", "ok", "None");
  const list = fc.oneof(
    v(VARIABLES.list),
    fc.array(fc.oneof(intLiteral, strLiteral), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
  );
  const dict = fc.oneof(
    v(VARIABLES.dict),
    fc
      .array(
        // No None key: a keys view meets set operations, and CPython 3.11 hashes None by its address in the
        // python3 binary, so the order of a set holding None is that build's, not the language's (docs/murano.md).
        fc.tuple(fc.constantFrom("'a'", "'b'", "'port'", "1", "'1'", "2.0", "True", "-3"), intLiteral),
        {
          maxLength: 3,
        },
      )
      .map((kv) => `{${kv.map(([k, x]) => `${k}: ${x}`).join(", ")}}`),
  );
  const tuple = fc.oneof(v(VARIABLES.tuple), fc.constantFrom("()", "(1,)", "(1, 'a')", "('a', 'b', 'a')"));
  const set = fc.oneof(v(VARIABLES.set), fc.constantFrom("set()", "{1, 2}", "{'a', 'b'}", "{True, 1, 1.0}"));
  const any = fc.oneof(int, float, str, bool, list, dict, tuple, argsRead, fc.constant("None"));
  return { int, float, str, bool, list, dict, tuple, set, any };
}
