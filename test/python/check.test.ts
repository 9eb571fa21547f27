import assert from "node:assert/strict";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compileBody, evaluateBody } from "../../agent/python/mod.ts";

/**
 * Asserts that compiling refuses the Body with `code` (2: valid Python outside the subset; 1: a syntax error,
 * murano-agent's code for it) and a message naming the construct and position.
 */
function assertRefused(source: string, expected: RegExp, code = 2): void {
  assert.throws(
    () => compileBody(source),
    (error: unknown) => {
      assert.ok(error instanceof IdemError, `expected IdemError, got ${String(error)}`);
      assert.equal(error.code, code);
      assert.match(error.message, /^Cannot run Body: /);
      assert.match(error.message, expected);
      return true;
    },
  );
}

const refusals: [string, string, RegExp][] = [
  ["import", "import os\nreturn 1", /"import" is not supported \(line 1, column 1\)/],
  ["from import", "x = 1\nfrom os import path", /"from … import" is not supported \(line 2, column 1\)/],
  [
    "with open",
    "key = ''\nwith open('/etc/passwd') as f:\n  key = f.read()",
    /"with" is not supported \(line 2, column 1\)/,
  ],
  ["def", "def f():\n  pass", /"def" is not supported \(line 1, column 1\)/],
  ["class", "class A: pass", /"class" is not supported \(line 1, column 1\)/],
  ["try", "try:\n  x = 1\nexcept:\n  pass", /"try" is not supported \(line 1, column 1\)/],
  ["while", "while True:\n  pass", /"while" is not supported \(line 1, column 1\)/],
  ["raise", "raise ValueError('x')", /"raise" is not supported/],
  ["global", "global x", /"global" is not supported/],
  ["del", "x = 1\ndel x", /"del" is not supported \(line 2, column 1\)/],
  ["yield", "yield 1", /"yield" is not supported/],
  ["open()", "return open('/etc/passwd').read()", /"open" is not supported \(line 1, column 8\)/],
  ["eval()", "return eval('1')", /"eval" is not supported/],
  ["exec()", "exec('import os')", /"exec" is not supported/],
  ["__import__", "return __import__('os')", /"__import__" is not supported \(dunder names\)/],
  [
    "dunder attribute",
    "return args.__class__",
    /"__class__" is not supported \(dunder attributes\) \(line 1, column 13\)/,
  ],
  [
    "iteritems",
    "for k, v in args.env.iteritems():\n  pass",
    /"iteritems" is Python 2 only and not supported \(line 1, column 22\)/,
  ],
  ["has_key", "return args.has_key('a')", /"has_key" is Python 2 only/],
  ["lambda", "x = map(lambda t: t, args.l)", /"lambda" is not supported \(line 1, column 9\)/],
  ["lambda as a sort key", "return sorted(args.l, key=lambda x: -x)", /"lambda" is not supported/],
  [
    "unknown method",
    "return 'abc'.translate({})",
    /"translate" is not a supported method \(line 1, column 14\)/,
  ],
  ["bitwise operator", "return 1 | 2", /operator "\|" is not supported/],
  ["walrus", "return (x := 1)", /":=" \(assignment expressions\) is not supported/],
  ["star unpacking", "return [*args.l]", /"\*" unpacking is not supported/],
  ["bytes literal", "return b'x'", /bytes literals are not supported/],
];

for (const [name, source, expected] of refusals) {
  test(`a Body using ${name} is refused with code 2 before anything runs`, () =>
    assertRefused(source, expected));
}

const syntaxErrors: [string, string, RegExp][] = [
  [
    "keyword as attribute",
    "return deploy(args.pass).stdout",
    /invalid syntax: "pass" is a keyword \(line 1, column 20\)/,
  ],
  [
    "unclosed bracket",
    "return deploy('{0}'.format(args.x).stdout\n",
    /"\(" was never closed \(line 1, column 14\)/,
  ],
  ["stray token", "x = 1\nreturn deploy(args.x) args.y", /invalid syntax \(line 2, column \d+\)/],
  ["unexpected indentation", "if True:\n    x = 1\n  y = 2", /unexpected indentation \(line 3, column 3\)/],
  ["break outside a loop", "break", /"break" outside a loop/],
  ["empty Body", "  \n# nothing\n", /the Body has no statements/],
  [
    "Python 2 print statement",
    "print 'x'",
    /invalid syntax: the Python 2 "print" statement \(line 1, column 1\)/,
  ],
  ["Python 2 <> operator", "return 1 <> 2", /invalid syntax: the Python 2 "<>" operator/],
  ["Python 2 octal literal", "x = 0777", /invalid number literal "0777"/],
  ["assignment to a literal", "1 = args.x", /cannot assign to "1"/],
  ["repeated keyword argument", "deploy(a=1, a=2)", /keyword argument "a" repeated/],
];

for (const [name, source, expected] of syntaxErrors) {
  test(`a Body with a syntax error (${name}) fails with code 1 before anything runs`, () =>
    assertRefused(source, expected, 1));
}

test("a syntax error lezer finds anywhere wins over a refused construct earlier in the Body", () => {
  assertRefused("import os\nx = = 1", /invalid syntax \(line 2, column 5\)/, 1);
});

test("a refused Body never calls a script, even when its first lines are valid", async () => {
  let calls = 0;
  const call = () => {
    calls++;
    return { exitCode: 0, stdout: null, stderr: null };
  };
  assertRefused(
    "deploy('first')\nimport os\ndeploy('second')",
    /"import" is not supported \(line 2, column 1\)/,
  );
  // The same calls in a valid Body do run, so the refusal above is what kept them from running.
  await evaluateBody(compileBody("deploy('first')\ndeploy('second')"), {
    args: null,
    scripts: new Set(["deploy"]),
    call,
  });
  assert.equal(calls, 2);
});

test("positions count from the Body's own first line and column, also when the whole Body is indented", () => {
  assertRefused("    x = 1\n    import os", /\(line 2, column 5\)/);
});

test("a name the Body assigns may shadow a refused built-in", () => {
  assert.doesNotThrow(() => compileBody("id = args.id\nformat = '{0}'\nreturn format.format(id)"));
});

test("an unknown method on a possible script name is accepted (deploy.anything(...) runs the script)", () => {
  assert.doesNotThrow(() => compileBody("return deploy.runFunction('x').stdout"));
  assertRefused("x = 1\nreturn x.runFunction('x')", /"runFunction" is not a supported method/);
});

test("an unknown bare name is left to run time (a script name is only known then)", () => {
  assert.doesNotThrow(() => compileBody("return deploymentsName('x').stdout"));
});
