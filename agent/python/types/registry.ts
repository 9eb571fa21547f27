/**
 * The methods and attributes of each Python type a Body may use, with how CPython checks the arguments of each:
 * the one table that both the checker (which method names exist at all) and the runtime (dispatch, argument
 * checking in methods.ts) read. A leaf module: data only, no imports. The implementations live in one file
 * per type (types/str.ts, list.ts, dict.ts, set.ts, sequence.ts, number.ts, complex.ts), each typed against its row here
 * so that a name listed without an implementation, or implemented without a row, does not compile.
 * Not listed, deliberately: `str.encode` and `int.to_bytes`/`from_bytes` (bytes are outside the subset).
 */

/**
 * How CPython 3.11 binds a method's arguments, which decides its error messages (`label` is the defining
 * type and name, e.g. `str.strip`; `name` the method's bare name):
 * - none: METH_NOARGS, "`label`() takes no arguments (1 given)";
 * - one: METH_O, "`label`() takes exactly one argument (2 given)";
 * - clinic: Argument Clinic, positional only, "`name` expected at most 1 argument, got 2" (`_PyArg_CheckPositional`);
 * - tuple: `PyArg_ParseTuple`, "`name`() takes at least 1 argument (0 given)" (find, count, startswith …);
 * - star: `*args` without keywords (set.union): any number of positional arguments;
 * - keywords: Argument Clinic with keyword parameters `names` (the first `positional` may be given by
 *   position; the first `required` are required): `_PyArg_UnpackKeywords`' messages;
 * - free: the implementation binds its own arguments (str.format, dict.update).
 * All but keywords and free refuse keyword arguments: "`label`() takes no keyword arguments" (none, one,
 * clinic) or "`name`() takes no keyword arguments" (tuple, star).
 */
export type Signature =
  | { readonly kind: "none" }
  | { readonly kind: "one" }
  | { readonly kind: "clinic"; readonly min: number; readonly max: number }
  | { readonly kind: "tuple"; readonly min: number; readonly max: number }
  | { readonly kind: "star" }
  | {
      readonly kind: "keywords";
      readonly names: readonly string[];
      readonly positional: number;
      readonly required: number;
      /** How many leading parameters are positional-only (`sum(iterable, /, start=0)`); 0 when absent. */
      readonly posonly?: number;
    }
  | { readonly kind: "free" };

const none = { kind: "none" } as const;
const one = { kind: "one" } as const;
const star = { kind: "star" } as const;
const free = { kind: "free" } as const;
const clinic = (min: number, max: number) => ({ kind: "clinic", min, max }) as const;
const tuple = (min: number, max: number) => ({ kind: "tuple", min, max }) as const;
const keywords = (names: readonly string[], positional = names.length) =>
  ({ kind: "keywords", names, positional, required: 0 }) as const;

export const STR = {
  capitalize: none,
  casefold: none,
  center: clinic(1, 2),
  count: tuple(1, 3),
  endswith: tuple(1, 3),
  expandtabs: keywords(["tabsize"]),
  find: tuple(1, 3),
  format: free,
  format_map: one,
  index: tuple(1, 3),
  isalnum: none,
  isalpha: none,
  isascii: none,
  isdecimal: none,
  isdigit: none,
  isidentifier: none,
  islower: none,
  isnumeric: none,
  isprintable: none,
  isspace: none,
  istitle: none,
  isupper: none,
  join: one,
  ljust: clinic(1, 2),
  lower: none,
  lstrip: clinic(0, 1),
  maketrans: clinic(1, 3),
  partition: one,
  removeprefix: one,
  removesuffix: one,
  replace: clinic(2, 3),
  rfind: tuple(1, 3),
  rindex: tuple(1, 3),
  rjust: clinic(1, 2),
  rpartition: one,
  rsplit: keywords(["sep", "maxsplit"]),
  rstrip: clinic(0, 1),
  split: keywords(["sep", "maxsplit"]),
  splitlines: keywords(["keepends"]),
  startswith: tuple(1, 3),
  strip: clinic(0, 1),
  swapcase: none,
  title: none,
  translate: one,
  upper: none,
  zfill: one,
} as const;

export const LIST = {
  append: one,
  clear: none,
  copy: none,
  count: one,
  extend: one,
  index: clinic(1, 3),
  insert: clinic(2, 2),
  pop: clinic(0, 1),
  remove: one,
  reverse: none,
  sort: keywords(["key", "reverse"], 0),
} as const;

export const TUPLE = { count: one, index: clinic(1, 3) } as const;

export const RANGE = { count: one, index: one } as const;

export const DICT = {
  clear: none,
  copy: none,
  fromkeys: clinic(1, 2),
  get: clinic(1, 2),
  items: none,
  keys: none,
  pop: clinic(1, 2),
  popitem: none,
  setdefault: clinic(1, 2),
  update: free,
  values: none,
} as const;

export const SET = {
  add: one,
  clear: none,
  copy: none,
  difference: star,
  difference_update: star,
  discard: one,
  intersection: star,
  intersection_update: star,
  isdisjoint: one,
  issubset: one,
  issuperset: one,
  pop: none,
  remove: one,
  symmetric_difference: one,
  symmetric_difference_update: one,
  union: star,
  update: star,
} as const;

export const INT = { as_integer_ratio: none, bit_count: none, bit_length: none, conjugate: none } as const;

export const FLOAT = { as_integer_ratio: none, conjugate: none, hex: none, is_integer: none } as const;

export const COMPLEX = { conjugate: none } as const;

/** The method table of each type, by the type's Python name (bool uses int's, as a subclass). */
export const METHOD_TABLES = {
  str: STR,
  list: LIST,
  tuple: TUPLE,
  range: RANGE,
  dict: DICT,
  set: SET,
  int: INT,
  float: FLOAT,
  complex: COMPLEX,
} as const;

export type TypeKey = keyof typeof METHOD_TABLES;

/** Methods called on the type itself (`dict.fromkeys(...)`, `str.maketrans(...)`): no instance is bound. */
export const CLASS_METHODS: ReadonlySet<string> = new Set(["fromkeys", "maketrans"]);

/** Data attributes (not callable) of a type: `r.start`, `(5).real`. */
export const DATA_ATTRIBUTES: { readonly [K in TypeKey]?: readonly string[] } = {
  range: ["start", "stop", "step"],
  int: ["real", "imag", "numerator", "denominator"],
  float: ["real", "imag"],
  complex: ["real", "imag"],
};

/** The method names of a type. */
export function methodNames(type: TypeKey): ReadonlySet<string> {
  let names = namesByType.get(type);
  if (names === undefined) {
    names = new Set(Object.keys(METHOD_TABLES[type]));
    namesByType.set(type, names);
  }
  return names;
}
const namesByType = new Map<TypeKey, ReadonlySet<string>>();

/** Every method name of every type: what the checker lets a Body call as `x.name(...)`. */
export const METHOD_NAMES: ReadonlySet<string> = new Set(
  Object.values(METHOD_TABLES).flatMap((table) => Object.keys(table)),
);

/** The signature of `type.name`, or undefined when the type has no such method. */
export function signatureOf(type: TypeKey, name: string): Signature | undefined {
  const table: Readonly<Record<string, Signature>> = METHOD_TABLES[type];
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
