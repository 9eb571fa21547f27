/**
 * fast-check arbitraries aimed at the parser: operator chains without parentheses across every precedence level
 * (`-2 ** 2`, `not 1 == 2`, `1 < 2 != 3`, `a if b else c if d else e`), lexical corners (number spellings,
 * implicit string concatenation, line continuations, semicolons, comments, trailing commas, CRLF, tabs), and a
 * few snippets CPython refuses (`1 != not 2`, `1__0`, `0777`) which idem must report as syntax errors (code 1).
 */
import fc from "fast-check";

const operand = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 9 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("n", "x", "True", "None", "2.5", "0", "'a'", "[1]", "()") },
);
const unary = fc.constantFrom("", "", "", "-", "+", "not ", "- -", "+-");
/** `not` only where Python's grammar takes it: first, or after `and`/`or`/`not` (elsewhere: a syntax error). */
const fix = (op: string, u: string) => (u === "not " && op !== "and" && op !== "or" ? "-" : u);
const binary = fc.constantFrom(
  "+",
  "-",
  "*",
  "/",
  "//",
  "%",
  "**",
  "<",
  "<=",
  "==",
  "!=",
  ">",
  ">=",
  "and",
  "or",
  "in",
  "not in",
  "is",
  "is not",
);

/**
 * After `**` an operand stays small (`9 ** 9 ** 9` would never finish, in CPython either); after `is` it is None
 * (the identity of other values is CPython's memory layout, not the language).
 */
const bounded = (op: string, x: string) =>
  op === "**" ? String((Number(x) || 2) % 3) : op.startsWith("is") ? "None" : x;

/** `a op b op c …` with unary prefixes, no parentheses: the parser decides precedence and associativity. */
const chain: fc.Arbitrary<string> = fc
  .tuple(fc.tuple(unary, operand), fc.array(fc.tuple(binary, unary, operand), { minLength: 1, maxLength: 4 }))
  .map(
    ([[u, first], rest]) =>
      `${u}${first}${rest.map(([op, u2, x]) => ` ${op} ${fix(op, u2)}${bounded(op, x)}`).join("")}`,
  );

const conditional = fc
  .tuple(chain, chain, chain, fc.option(fc.tuple(chain, chain)))
  .map(([a, c, b, more]) =>
    more ? `${a} if ${c} else ${more[0]} if ${more[1]} else ${b}` : `${a} if ${c} else ${b}`,
  );

/** Lexical and layout corners, each a whole Body that CPython compiles. */
const corners = fc.constantFrom(
  "x = 5.\nreturn x",
  "return 1.e5, .5, 1_000.5, 0x_1f, 0o7_7, 0b_1, 1E-3, 0e0",
  "return 'a' 'b' \"c\", r'\\n' 'x'",
  "a = 1; b = 2; return a + b",
  "a = (1 +\n     2)\nreturn a",
  "a = 1 + \\\n    2\nreturn a",
  "# comment\nreturn [1, 2,]  # trailing",
  "return (1,), (), [], {}, {1,}",
  "if True:\n\treturn 1",
  "x = 1\r\nreturn x",
  "    a = 1\n    if a:\n        return a",
  "\tn = 2\n\treturn n * 3",
  "return not not 0, - - 1, +-3",
  "return 2 ** -1, (-2) ** 2.0 == 4, 2 ** 3 ** 2, -2 ** 2",
  "return 1 if 0 else 2 if 0 else 3",
  "a = b = [1]\na += [2]\nreturn b",
  "a, (b, c) = 1, (2, 3)\nreturn a + b + c",
  "return f'{1:=^9}', f'{\"q\"!r}', f'{{}}{1}'",
  "return '\\x41\\101\\u00e9\\U0001F600\\u2022'",
  "pass\nreturn",
  "return [x for x in range(3) if x if x > 1]",
  "x = [1, 2]\nx[0], x[1] = x[1], x[0]\nreturn x",
);

/** Bodies CPython refuses to compile: idem must answer a syntax error (code 1), not run or refuse them. */
const invalid = fc.constantFrom(
  "return 1 != not 2",
  "return 1__0",
  "return 0777",
  "return 1 +",
  "x = (1,\nreturn x",
  "return print 'x'",
  "return 1 <> 2",
  "if True:\nreturn 1",
  "return f'{}'",
  "return 'abc",
  "x += 1 = 2",
  "return a b",
  "for i in 1, 2: pass\nelse:\n  return 1\n else: pass",
  "return 1.e",
  "return 0b2",
);

/** A parser-focused Body, with the names it reads (n, x) left to the prelude. */
export const syntaxBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(chain, conditional).map((e) => `return ${e}`) },
  { weight: 2, arbitrary: corners },
  { weight: 1, arbitrary: invalid },
);
