import assert from "node:assert/strict";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compileBody, evaluateBody } from "../../agent/python/mod.ts";
import { type BodyCase, type Outcome, sameOutcome } from "../helpers/body_case.ts";
import { idemOutcome } from "../helpers/idem_body.ts";
import { PythonBodies } from "../helpers/python_body.ts";

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
    "return 'abc'.transmogrify({})",
    /"transmogrify" is not a supported method \(line 1, column 14\)/,
  ],
  ["walrus", "return (x := 1)", /":=" \(assignment expressions\) is not supported/],
  ["bytes literal", "return b'x'", /bytes literals are not supported/],
  ["ellipsis", "return ...", /"\.\.\." is not supported/],
  ["match", "match args.x:\n  case 1:\n    pass", /"match" is not supported \(line 1, column 1\)/],
  ["variable annotation", "x: int = 1", /variable annotations are not supported/],
  ["async comprehension", "async def f():\n  pass", /"async" is not supported/],
  [
    "\\N{name} escape",
    "return '\\N{BULLET}'",
    /\\N\{\.\.\.\} escapes \(Unicode character names\) are not supported/,
  ],
  ["augmented matrix operator", "x = args.a\nx @= args.b", /operator "@=" is not supported/],
  ["matrix operator", "return args.a @ args.b", /operator "@" is not supported/],
];

for (const [name, source, expected] of refusals) {
  test(`a Body using ${name} is refused with code 2 before anything runs`, () =>
    assertRefused(source, expected));
}

const syntaxErrors: [string, string, RegExp][] = [
  ["keyword as attribute", "return deploy(args.pass).stdout", /invalid syntax \(line 1, column 20\)/],
  [
    "unclosed bracket",
    "return deploy('{0}'.format(args.x).stdout\n",
    /'\(' was never closed \(line 1, column 14\)/,
  ],
  ["stray token", "x = 1\nreturn deploy(args.x) args.y", /invalid syntax \(line 2, column \d+\)/],
  [
    "inconsistent dedent",
    "if True:\n    x = 1\n  y = 2",
    /unindent does not match any outer indentation level \(line 3, column 3\)/,
  ],
  ["unexpected indent", "x = 1\n  y = 2", /unexpected indent \(line 2, column 3\)/],
  ["missing block", "if x:\npass", /expected an indented block after 'if' statement on line 1/],
  ["break outside a loop", "break", /'break' outside loop \(line 1, column 1\)/],
  ["empty Body", "  \n# nothing\n", /the Body has no statements/],
  [
    "Python 2 print statement",
    "print 'x'",
    /Missing parentheses in call to 'print'\. Did you mean print\(\.\.\.\)\? \(line 1, column 1\)/,
  ],
  ["Python 2 <> operator", "return 1 <> 2", /invalid syntax \(line 1, column 10\)/],
  ["Python 2 octal literal", "x = 0777", /leading zeros in decimal integer literals are not permitted/],
  [
    "assignment to a literal",
    "1 = args.x",
    /cannot assign to literal here\. Maybe you meant '==' instead of '='\?/,
  ],
  ["repeated keyword argument", "deploy(a=1, a=2)", /keyword argument repeated: a \(line 1, column 13\)/],
  ["comparison with a not operand", "return 1 != not 2", /invalid syntax/],
  [
    "unterminated string",
    "x = 'abc",
    /unterminated string literal \(detected at line 1\) \(line 1, column 5\)/,
  ],
  [
    "bad escape",
    "x = '\\x4'",
    /\(unicode error\) 'unicodeescape' codec can't decode bytes in position 0-2: truncated \\xXX escape/,
  ],
  ["malformed \\N escape", "x = '\\N'", /malformed \\N character escape/],
  ["f-string backslash", "x = f'{\"\\n\".join(a)}'", /f-string expression part cannot include a backslash/],
  ["f-string single brace", "x = f'}'", /f-string: single '}' is not allowed/],
  [
    "f-string bad conversion",
    "x = f'{a!x}'",
    /f-string: invalid conversion character: expected 's', 'r', or 'a'/,
  ],
  ["f-string nested too deeply", "x = f'{a:{b:{c}}}'", /f-string: expressions nested too deeply/],
  ["null byte", "x = 1\0", /source code string cannot contain null bytes/],
  [
    "huge int literal",
    `x = ${"9".repeat(4301)}`,
    /Exceeds the limit \(4300 digits\) for integer string conversion/,
  ],
  ["too many nested parentheses", `x = ${"(".repeat(201)}1${")".repeat(201)}`, /too many nested parentheses/],
  [
    "20 nested loops",
    Array.from({ length: 21 }, (_, i) => `${" ".repeat(i)}for x in y:`).join("\n") +
      "\n" +
      " ".repeat(21) +
      "pass",
    /too many statically nested blocks/,
  ],
  ["deep expression", `x = ${"-".repeat(3100)}1`, /maximum recursion depth exceeded during compilation/],
  ["nonlocal", "nonlocal x", /no binding for nonlocal 'x' found/],
  ["starred value", "x = *args.l", /can't use starred expression here/],
];

for (const [name, source, expected] of syntaxErrors) {
  test(`a Body with a syntax error (${name}) fails with code 1 before anything runs`, () =>
    assertRefused(source, expected, 1));
}

test("a syntax error anywhere wins over a refused construct earlier in the Body", () => {
  assertRefused("import os\nx = = 1", /invalid syntax \(line 2, column 5\)/, 1);
  assertRefused("return '\\N{BULLET}'\nx = (", /'\(' was never closed/, 1);
  // CPython's compile-time checks count as syntax errors too (murano-agent's exec raises them).
  assertRefused("import os\nfor x in y:\n  pass\nbreak", /'break' outside loop \(line 4, column 1\)/, 1);
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

test("an unknown bare name is refused before anything runs when the plan's scripts are known", () => {
  const scripts = new Set(["deploy"]);
  assert.throws(
    () => compileBody("deploy('a')\nreturn deplyo('b').stdout", { scripts }),
    (error: unknown) =>
      error instanceof IdemError &&
      error.code === 2 &&
      /unknown name "deplyo" .*\(line 2, column 8\)/.test(error.message),
  );
  // Bound anywhere (even on a path not taken, or by a comprehension) is known: run time decides.
  for (const body of [
    "if args.x:\n  y = 1\nreturn y",
    "return [z for z in args.l]",
    "for a, (b, c) in args.l:\n  pass\nreturn a, b, c",
    "return deploy('x').stdout + str(len(args))",
  ])
    assert.doesNotThrow(() => compileBody(body, { scripts }), body);
  // Without the plan's scripts (the language alone), bare names are left to run time.
  assert.doesNotThrow(() => compileBody("return deploymentsName('x').stdout"));
});

test("a misspelled script name keeps the scripts before it from running", () => {
  let calls = 0;
  const call = () => {
    calls++;
    return { exitCode: 0, stdout: null, stderr: null };
  };
  const scripts = new Set(["deploy"]);
  assert.throws(() =>
    evaluateBody(compileBody("deploy('a')\ndeploi('b')", { scripts }), { args: null, scripts, call }),
  );
  assert.equal(calls, 0);
});

test("a method call on a name that is not a script of the plan is checked against the methods", () => {
  const scripts = new Set(["deploy"]);
  assert.doesNotThrow(() => compileBody("return deploy.runFunction('x').stdout", { scripts }));
  assert.throws(
    () => compileBody("other = args.o\nreturn other.runFunction('x').stdout", { scripts }),
    /"runFunction" is not a supported method \(line 2, column 14\)/,
  );
  assert.throws(() => compileBody("return other.runFunction('x')", { scripts }), /unknown name "other"/);
});

/** Runs each Body in python3 as murano-agent does and in idem (echo scripts named `scripts`): same answer. */
async function sameAsMuranoAgent(bodies: [string, string[], string?][]): Promise<void> {
  const cases: BodyCase[] = bodies.map(([body, names, params]) => ({
    topic: "names",
    body,
    params: params ?? "{}",
    scripts: names.map((name) => ({
      name,
      exitCode: 0,
      stdout: null,
      stderr: null,
      echo: true,
      verify: true,
    })),
  }));
  const python = new PythonBodies();
  try {
    const expected = await python.run(cases);
    cases.forEach((c, k) => {
      const want = expected[k] as Outcome;
      assert.notEqual(want.kind, "syntax", c.body);
      const got = idemOutcome(c);
      assert.ok(
        sameOutcome(got, want),
        `${c.body}\nidem: ${JSON.stringify(got)}\npython3: ${JSON.stringify(want)}`,
      );
    });
  } finally {
    python.close();
  }
}

const REFUSED_NAMES = "input id next hash exec iter vars print open type getattr eval".split(" ");

test("a script named like a refused built-in shadows it: murano-agent's scripts are globals, built-ins come last", async () => {
  await sameAsMuranoAgent(REFUSED_NAMES.map((name) => [`return ${name}('x').stdout`, [name]]));
  // A script named like a supported built-in wins too, and `name.anything(...)` runs it.
  await sameAsMuranoAgent([
    ["return len('x').stdout + input.run('y').stdout", ["len", "input"]],
    ["return [print(str(i)).stdout for i in range(2)]", ["print"]],
  ]);
});

test("a refused built-in is refused only where the name resolves to the built-in", () => {
  const scripts = new Set(["deploy"]);
  for (const name of REFUSED_NAMES) {
    // A local of the Body (bound anywhere, even later) shadows the built-in everywhere in the Body.
    assert.doesNotThrow(() => compileBody(`${name} = args.x\nreturn ${name}`, { scripts }), name);
    assert.doesNotThrow(() => compileBody(`y = [${name} for i in [1]]\n${name} = 2`, { scripts }), name);
    // A comprehension variable shadows it inside the comprehension only.
    assert.doesNotThrow(() => compileBody(`return [${name} for ${name} in args.l]`, { scripts }), name);
    assert.throws(
      () => compileBody(`y = [${name} for ${name} in args.l]\nreturn ${name}(1)`, { scripts }),
      new RegExp(`"${name}" is not supported \\(line 2, column 8\\)`),
    );
    // The first iterable of a comprehension is read in the enclosing scope.
    assert.throws(
      () => compileBody(`return [${name} for ${name} in ${name}(args.l)]`, { scripts }),
      new RegExp(`"${name}" is not supported \\(line 1, column ${18 + 2 * name.length}\\)`),
    );
    assert.throws(
      () => compileBody(`return ${name}('x')`, { scripts }),
      new RegExp(`"${name}" is not supported`),
    );
  }
});

test("locals named print and open run as in CPython", async () => {
  await sameAsMuranoAgent([
    ["print = args.p\nopen = print + 1\nreturn [print, open]", [], '{"p": 41}'],
    ["r = []\nfor open in range(3):\n  r.append(open)\nreturn r", ["deploy"]],
    ["return [print for print in args.l]", [], '{"l": [1, 2]}'],
  ]);
});

test("names with underscores that are not dunders run as in CPython", async () => {
  await sameAsMuranoAgent([
    ["__x = 1\n__ = 2\n___ = 3\n____ = 4\nreturn __x + __ + ___ + ____", []],
    ["return __setup('a').stdout", ["__setup"]],
    ["return args.__a + args._b_", [], '{"__a": 1, "_b_": 2}'],
    ["return [__y for __y in args.l]", [], '{"l": [1]}'],
  ]);
});

test("a dunder (__name__ form) is refused as a name or an attribute, in any context", () => {
  for (const [body, construct] of [
    ["__x__ = 1", '"__x__" is not supported \\(dunder names\\) \\(line 1, column 1\\)'],
    ["return __name__", '"__name__" is not supported \\(dunder names\\)'],
    ["return __builtins__", '"__builtins__" is not supported \\(dunder names\\)'],
    ["_____ = 5", '"_____" is not supported \\(dunder names\\)'],
    ["return [1 for __a__ in []]", '"__a__" is not supported \\(dunder names\\)'],
    ["return args.__dict__", '"__dict__" is not supported \\(dunder attributes\\) \\(line 1, column 13\\)'],
    ["return (1).__class__", '"__class__" is not supported \\(dunder attributes\\)'],
    ["args.__x__ = 1", '"__x__" is not supported \\(dunder attributes\\)'],
  ])
    assertRefused(body as string, new RegExp(construct as string));
});

test("murano-agent's wrapper globals are refused unless the Body binds them itself", () => {
  for (const name of ["__execution_plan_main", "__execution_plan_result", "__execution_plan_exception"]) {
    assertRefused(`return ${name}`, new RegExp(`"${name}" is not supported \\(murano-agent's wrapper\\)`));
    assert.doesNotThrow(() => compileBody(`${name} = 1\nreturn ${name}`, { scripts: new Set() }));
  }
});

test("a dunder attribute in a field of a literal format string is refused before anything runs", () => {
  for (const [body, name] of [
    ["return '{0.__class__}'.format(1)", "__class__"],
    ["return '{0:{1.__class__}}'.format(1, 2)", "__class__"],
    ["return str.format('{0.__dict__}', 1)", "__dict__"],
    ["return '{a.real.__class__!r:>10}'.format_map({'a': 1})", "__class__"],
  ])
    assertRefused(
      body as string,
      new RegExp(`"${name}" is not supported \\(dunder attributes in a format string\\)`),
    );
});

test("format strings whose fields read no dunder attribute run as in CPython", async () => {
  await sameAsMuranoAgent([
    ["return 'a.__init__.py {}'.format(1)", []],
    ["return '{{0.__class__}}'.format(1)", []],
    ["return '{0[__x__]}'.format({'__x__': 1})", []],
    ["return '{0.real}{0.__a}'.format(args)", [], '{"real": 1, "__a": 2}'],
  ]);
});
