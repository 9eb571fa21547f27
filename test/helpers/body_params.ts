/**
 * fast-check arbitraries of plan Parameters as JSON text, the way Murano engines send them and past that:
 * nested dicts, numeric-looking keys, big ints, `1.0` vs `1`, `-0.0`, exponents, NaN/Infinity (Python's
 * json.loads reads them), non-ASCII and lone-surrogate escapes, and the keys Bodies read (`PARAM_KEYS`).
 */
import fc from "fast-check";
import { CHARS } from "./body_literals.ts";

/** The keys generated Bodies read from `args`; a generated Parameters object has some of them. */
export const PARAM_KEYS: readonly string[] = [
  "name",
  "port",
  "host",
  "cfg",
  "items",
  "flag",
  "ratio",
  "big",
  "text",
  "nested",
  "8080",
  "1",
];

const NUMBER_TOKENS = [
  "0",
  "1",
  "-1",
  "7",
  "80",
  "8080",
  "-0",
  "9007199254740993",
  "18446744073709551616",
  "100000000000000000000000000000",
  "1.0",
  "-0.0",
  "0.1",
  "2.5",
  "1e300",
  "1.5e-7",
  "1E5",
  "12.50",
  "1e400",
];

const scalar: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBER_TOKENS) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null", "NaN", "Infinity", "-Infinity") },
  {
    weight: 4,
    arbitrary: fc
      .oneof(
        fc.constantFrom("app", "db-1", "", " 42 ", "3.5", "ok", "a b", "x,y", "é", "Σ"),
        fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 6 }),
      )
      .map((s) => JSON.stringify(s)),
  },
);

const innerKey = fc.constantFrom("a", "b", "port", "1", "10", "2", "0", "", "k k", "é", "__proto__");

const { value } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 5, arbitrary: scalar },
    {
      weight: 1,
      arbitrary: fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(", ")}]`),
    },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(innerKey, tie("value")), { maxLength: 3 })
        .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`),
    },
  ),
}));

const jsonString = fc
  .oneof(
    fc.constantFrom("app", "db-1", "", " 42 ", "3.5", "ok", "a b", "x,y", "é", "Σ", "8080"),
    fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 6 }),
  )
  .map((s) => JSON.stringify(s));
const jsonInt = fc.oneof(fc.constantFrom(...NUMBER_TOKENS.slice(0, 10)), fc.integer().map(String));
const jsonObject = fc
  .array(fc.tuple(innerKey, value), { maxLength: 3 })
  .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`);

/** What a realistic plan puts under each key (a Body's `args.port + 1` should usually work). */
const TYPICAL: Readonly<Record<string, fc.Arbitrary<string>>> = {
  name: jsonString,
  host: jsonString,
  text: jsonString,
  port: jsonInt,
  "8080": jsonInt,
  "1": jsonInt,
  big: fc.constantFrom("9007199254740993", "18446744073709551616", "-100000000000000000000000"),
  ratio: fc.constantFrom("1.0", "0.5", "-0.0", "2.5", "1e300", "0.1", "12.50", "3"),
  flag: fc.constantFrom("true", "false"),
  cfg: jsonObject,
  nested: jsonObject,
  items: fc.array(fc.oneof(jsonInt, jsonString), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
};

/** The Parameters of a plan as JSON text: an object with some of PARAM_KEYS (a duplicate key now and then). */
export const paramsJson: fc.Arbitrary<string> = fc
  .tuple(
    fc.uniqueArray(fc.constantFrom(...PARAM_KEYS), { maxLength: PARAM_KEYS.length }),
    fc.array(fc.oneof({ weight: 1, arbitrary: value }, { weight: 4, arbitrary: fc.constant(null) }), {
      minLength: PARAM_KEYS.length,
      maxLength: PARAM_KEYS.length,
    }),
    fc.tuple(...PARAM_KEYS.map((k) => TYPICAL[k] ?? value)),
    fc.boolean(),
  )
  .map(([keys, odd, typical, dup]) => {
    const fields = keys.map((k) => {
      const at = PARAM_KEYS.indexOf(k);
      return `${JSON.stringify(k)}: ${odd[at] ?? typical[at] ?? "null"}`;
    });
    if (dup && keys.length > 1) fields.push(`${JSON.stringify(keys[0])}: ${typical[0] ?? "null"}`);
    return `{${fields.join(", ")}}`;
  });
