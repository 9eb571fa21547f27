import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import fc from "fast-check";
import { IdemError } from "../../agent/errors.ts";
import { compile, evaluate, toJson } from "../../agent/python/mod.ts";
import { type CpythonVerdict, cpythonCompile } from "../helpers/cpython_compile.ts";
import { GRAMMAR_SNIPPETS, IN_SUBSET, MESSAGE_SNIPPETS } from "../helpers/grammar_snippets.ts";

/**
 * idem's Body grammar against CPython 3.11 (`python3`), compiling each Body as murano-agent does (wrapped in a
 * function). For every Body: accepted by both; or a SyntaxError-kind failure in CPython and code 1 in idem; or
 * accepted by CPython and refused by idem with code 2 (valid Python outside the subset).
 */

type Verdict = { kind: "ok" } | { kind: "error"; code: number; message: string };

function idem(source: string): Verdict {
  try {
    compile(source);
    return { kind: "ok" };
  } catch (error) {
    assert.ok(error instanceof IdemError, `compile threw ${String(error)} for ${JSON.stringify(source)}`);
    return { kind: "error", code: error.code, message: error.message };
  }
}

/** Why idem's verdict disagrees with CPython's, or null. `inSubset`: the Body must compile in idem. */
function disagreement(source: string, cpython: CpythonVerdict, inSubset = false): string | null {
  const mine = idem(source);
  const theirs = cpython.error ? `${cpython.error}: ${cpython.message}` : "compiles";
  if (cpython.error) {
    if (mine.kind === "error" && mine.code === 1) return null;
    // Deliberate difference (docs/murano.md): idem has no Unicode name table and refuses every \N{name}.
    if (mine.kind === "error" && mine.code === 2 && /\\N\{\.\.\.\}/.test(mine.message)) return null;
    return `CPython: ${theirs}; idem: ${mine.kind === "ok" ? "compiles" : `code ${mine.code} ${mine.message}`}`;
  }
  if (mine.kind === "ok") return null;
  if (mine.code === 2 && !inSubset) return null;
  return `CPython compiles it; idem: code ${mine.code} ${mine.message}`;
}

/** The smallest token subsequence (greedy deletion) of `tokens` that still disagrees. */
function shrink(tokens: string[]): string {
  let current = tokens;
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < current.length && current.length > 1; k++) {
      const candidate = current.filter((_, j) => j !== k);
      const body = candidate.join(" ");
      const [verdict] = cpythonCompile([body]);
      if (verdict && disagreement(body, verdict)) {
        current = candidate;
        changed = true;
        k--;
      }
    }
  }
  return current.join(" ");
}

test("hand-picked Bodies: idem accepts what CPython compiles and refuses what it rejects", () => {
  const sources = GRAMMAR_SNIPPETS.map((s) => (typeof s === "function" ? s() : s));
  const verdicts = cpythonCompile(sources);
  const failures = sources
    .map((source, k) => {
      const problem = disagreement(source, verdicts[k] as CpythonVerdict, IN_SUBSET.has(source));
      return (
        problem && `${JSON.stringify(source.length > 120 ? `${source.slice(0, 120)}…` : source)}: ${problem}`
      );
    })
    .filter((x) => x !== null);
  assert.deepEqual(failures, []);
  const subsetOk = [...IN_SUBSET].filter((s) => idem(s).kind !== "ok");
  assert.deepEqual(subsetOk, [], "every Body of the subset compiles");
});

test("syntax errors carry CPython's message and the Body's line", () => {
  const verdicts = cpythonCompile(MESSAGE_SNIPPETS);
  MESSAGE_SNIPPETS.forEach((source, k) => {
    const v = verdicts[k] as CpythonVerdict;
    assert.ok(v.error, `CPython compiles ${JSON.stringify(source)}`);
    const mine = idem(source);
    assert.equal(mine.kind, "error");
    if (mine.kind !== "error") return;
    const expected = v.message.replace(/\bline (\d+)/g, (_, n: string) => `line ${Number(n) - 1}`);
    assert.ok(
      mine.message.startsWith(`Cannot run Body: ${expected} (line ${v.line}, column`),
      `${JSON.stringify(source)}: idem "${mine.message}", CPython "${expected}" at line ${v.line}`,
    );
  });
});

const VOCABULARY = [
  "x",
  "y",
  "f",
  "args",
  "match",
  "case",
  "_",
  "print",
  "1",
  "0",
  "007",
  "1.5",
  "5.",
  ".5",
  "1e3",
  "1.e5",
  "0x1f",
  "0o7",
  "0b1",
  "1_0",
  "1__0",
  "1j",
  "'s'",
  '"t"',
  "f'{x}'",
  "f'{x!r:>{y}}'",
  "f'{x=}'",
  "f'{1,2}'",
  "f'{'",
  "f'}'",
  "b'b'",
  "r'\\d'",
  "'\\x4'",
  "'''m'''",
  "+",
  "-",
  "*",
  "**",
  "/",
  "//",
  "%",
  "@",
  "|",
  "&",
  "^",
  "~",
  "<<",
  "<",
  ">",
  "==",
  "!=",
  "<>",
  "<=",
  "=",
  "+=",
  "**=",
  ":=",
  "->",
  ".",
  ",",
  ":",
  ";",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  "...",
  "not",
  "and",
  "or",
  "in",
  "is",
  "if",
  "else",
  "elif",
  "for",
  "while",
  "lambda",
  "return",
  "yield",
  "await",
  "async",
  "def",
  "class",
  "import",
  "from",
  "as",
  "pass",
  "break",
  "continue",
  "del",
  "global",
  "nonlocal",
  "try",
  "except",
  "finally",
  "with",
  "assert",
  "raise",
  "None",
  "True",
  "False",
  "\\",
  "\n",
  "\n  ",
  "\n    ",
  "\n ",
  "*x",
  "**x",
  "#c\n",
  "$",
  "!",
];

test("token soups: CPython and idem agree on accept and reject (fast-check, seed printed)", () => {
  const seed = Number(process.env.GRAMMAR_SEED ?? Date.now() % 2 ** 31);
  console.log(`grammar token-soup seed: ${seed} (GRAMMAR_SEED=${seed} to replay)`);
  const soups = fc.sample(fc.array(fc.constantFrom(...VOCABULARY), { minLength: 1, maxLength: 12 }), {
    seed,
    numRuns: 4000,
  });
  const bodies = soups.map((tokens) => tokens.join(" "));
  const verdicts = cpythonCompile(bodies);
  const bad = bodies.findIndex((body, k) => disagreement(body, verdicts[k] as CpythonVerdict) !== null);
  if (bad >= 0) {
    const minimal = shrink(soups[bad] as string[]);
    const [v] = cpythonCompile([minimal]);
    assert.fail(`seed ${seed}: ${JSON.stringify(minimal)}: ${disagreement(minimal, v as CpythonVerdict)}`);
  }
});

/** Statements of the subset and around it, with a token deleted, duplicated or swapped now and then. */
const statement = (() => {
  const name = fc.constantFrom("a", "b", "args", "deploy", "x1", "_", "é");
  const number = fc.constantFrom(
    "0",
    "1",
    "10",
    "1_000",
    "0x1F",
    "0o17",
    "0b101",
    "1.5",
    "5.",
    ".5",
    "1e-3",
    "1.e5",
    "2j",
  );
  const string = fc.constantFrom(
    "'s'",
    '"d"',
    "r'\\w'",
    "'\\n'",
    "'''t'''",
    "f'{a}'",
    "f'{a!r}'",
    "f'{a:>{b}}'",
    "f'{a=}'",
    "f'{a,b}'",
    "f'{{}}'",
  );
  const { expr } = fc.letrec((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      name,
      number,
      string,
      fc
        .tuple(
          tie("expr"),
          fc.constantFrom(
            "+",
            "-",
            "*",
            "/",
            "//",
            "%",
            "**",
            "|",
            "<<",
            "==",
            "<",
            "in",
            "not in",
            "is not",
            "and",
            "or",
          ),
          tie("expr"),
        )
        .map(([l, o, r]) => `${l} ${o} ${r}`),
      fc.tuple(fc.constantFrom("-", "+", "not ", "~"), tie("expr")).map(([o, e]) => `${o}${e}`),
      fc.tuple(tie("expr"), name).map(([e, n]) => `${e}.${n}`),
      fc.tuple(tie("expr"), fc.array(tie("expr"), { maxLength: 3 })).map(([f, a]) => `${f}(${a.join(", ")})`),
      fc.tuple(tie("expr"), tie("expr")).map(([e, i]) => `${e}[${i}]`),
      fc
        .tuple(tie("expr"), fc.option(tie("expr")), fc.option(tie("expr")))
        .map(([e, l, u]) => `${e}[${l ?? ""}:${u ?? ""}]`),
      fc.array(tie("expr"), { maxLength: 3 }).map((a) => `[${a.join(", ")}]`),
      fc.array(tie("expr"), { maxLength: 3 }).map((a) => `(${a.join(", ")}${a.length === 1 ? "," : ""})`),
      fc
        .array(fc.tuple(tie("expr"), tie("expr")), { maxLength: 2 })
        .map((a) => `{${a.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
      fc.tuple(tie("expr"), name, tie("expr")).map(([e, n, i]) => `[${e} for ${n} in ${i}]`),
      fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([a, c, b]) => `${a} if ${c} else ${b}`),
      fc.tuple(name, tie("expr")).map(([n, e]) => `(${n} := ${e})`),
      tie("expr").map((e) => `lambda q: ${e}`),
    ),
  }));
  const simple = fc.oneof(
    expr,
    fc.tuple(name, expr).map(([n, e]) => `${n} = ${e}`),
    fc.tuple(name, name, expr).map(([n, m, e]) => `${n}, ${m} = ${e}`),
    fc.tuple(name, fc.constantFrom("+=", "-=", "*=", "//=", "|="), expr).map(([n, o, e]) => `${n} ${o} ${e}`),
    expr.map((e) => `return ${e}`),
    fc.constantFrom("pass", "break", "continue", "return"),
  );
  const block = fc
    .tuple(fc.constantFrom("if", "for", "while", "elif", "else"), name, expr, simple, fc.option(simple))
    .map(([kw, n, e, s1, s2]) =>
      kw === "for"
        ? `for ${n} in ${e}:\n    ${s1}${s2 ? `\n    ${s2}` : ""}`
        : kw === "else"
          ? `if ${e}:\n    ${s1}\nelse:\n    ${s2 ?? "pass"}`
          : `${kw === "elif" ? "if x:\n    pass\nelif" : kw} ${e}:\n    ${s1}${s2 ? `\n    ${s2}` : ""}`,
    );
  return fc.oneof(simple, simple, block);
})();

/** A token-level mutation: delete, duplicate or swap whitespace-separated pieces (or none). */
function mutate(source: string, how: number, where: number): string {
  const pieces = source.split(" ");
  const k = where % pieces.length;
  if (how === 0 || pieces.length < 2) return source;
  if (how === 1) pieces.splice(k, 1);
  else if (how === 2) pieces.splice(k, 0, pieces[k] as string);
  else
    [pieces[k], pieces[(k + 1) % pieces.length]] = [
      pieces[(k + 1) % pieces.length] as string,
      pieces[k] as string,
    ];
  return pieces.join(" ");
}

test("generated statements, whole and mutated: CPython and idem agree (fast-check, seed printed)", () => {
  const seed = Number(process.env.GRAMMAR_SEED ?? (Date.now() + 1) % 2 ** 31);
  console.log(`grammar statement seed: ${seed} (GRAMMAR_SEED=${seed} to replay)`);
  const samples = fc.sample(
    fc.tuple(fc.array(statement, { minLength: 1, maxLength: 3 }), fc.nat(3), fc.nat()),
    {
      seed,
      numRuns: 2500,
    },
  );
  const bodies = samples.map(([stmts, how, where]) => mutate(stmts.join("\n"), how, where));
  const verdicts = cpythonCompile(bodies);
  const problems = bodies
    .map((body, k) => {
      const d = disagreement(body, verdicts[k] as CpythonVerdict);
      return d && `${JSON.stringify(body)}: ${d}`;
    })
    .filter((x) => x !== null);
  assert.deepEqual(problems.slice(0, 5), [], `seed ${seed}`);
  const accepted = verdicts.filter((v) => !v.error).length;
  assert.ok(
    accepted > bodies.length / 4,
    `only ${accepted} of ${bodies.length} generated Bodies compile in CPython`,
  );
});

test("long chains parse as in CPython, and a 4 MB Body parses in linear time", () => {
  const line =
    "x = deploy('--name {0}'.format(args.name)).stdout.strip().split(',')[0] + f'{args.a!r:>10}' * 2\n";
  const time = (source: string): number => {
    const start = process.cpuUsage();
    compile(source);
    return process.cpuUsage(start).user / 1000;
  };
  const small = line.repeat(Math.ceil((1024 * 1024) / line.length));
  const big = line.repeat(Math.ceil((4 * 1024 * 1024) / line.length));
  const t1 = time(small);
  const t4 = time(big);
  console.log(`parse+check CPU time: 1 MB ${t1.toFixed(0)} ms, 4 MB ${t4.toFixed(0)} ms`);
  assert.ok(t4 < 8 * t1 + 200, `not linear: 1 MB ${t1} ms, 4 MB ${t4} ms`);
  assert.equal(idem(`return 'a'${".strip()".repeat(1000)}`).kind, "ok");
  assert.equal(idem(`return ${Array(325).fill("args.s").join(" + ")}`).kind, "ok");
});

test("literals, f-strings and names get CPython's values (escapes, prefixes, `=`, nested specs, NFKC names)", () => {
  const bodies = [
    "x = 5\nreturn f'{x=}'",
    "x = 'a'\nreturn f'{x=}|{x = }|{x=!s}|{x=:>4}|{x=:}'",
    "return f'{1,2}'",
    "return f'{1:=^9}'",
    "w = 6\np = 2\nreturn f'{3.14159:{w}.{p}f}|{{}}|{\"q\"!r}'",
    "return f'''{\n1+1\n}'''",
    "return 5. + 1.e5 + .5 + 0x_ff + 0o17 + 0b101 + 1_000 + 1E-2",
    "return 'a\\x41\\u00e9\\U0001F600\\101\\q\\\n'",
    "return r'\\d' 'x' \"y\" u'z' R'\\w'",
    "return '''a\n  b'''",
    "  x = '''a\n  b'''\n  return x",
    "\tx = 1\n\tif x:\n\t\treturn 'tab'",
    // Every identifier is NFKC-normalized (PEP 3131): names, attributes, keyword arguments.
    "ﬁx = 1\nreturn [fix, dict(ﬁ=2), 'abc'.ｕｐｐｅｒ()]",
    "toString = 3\nconstructor = 4\nreturn [toString, constructor]",
  ];
  const expected = JSON.parse(
    execFileSync(
      "python3",
      [
        "-c",
        `import json, sys
out = []
for b in json.load(sys.stdin):
    lines = b.expandtabs(4).split('\\n')
    m = min([len(l) - len(l.lstrip(' ')) for l in lines if l.strip()] or [0])
    g = {}
    exec('def f():\\n' + '\\n'.join('    ' + l[m:] for l in lines), g)
    out.append(json.dumps(g['f']()))
print(json.dumps(out))`,
      ],
      { input: JSON.stringify(bodies), encoding: "utf8" },
    ),
  ) as string[];
  const call = () => ({ exitCode: 0, stdout: null, stderr: null });
  bodies.forEach((body, k) => {
    const value = evaluate(compile(body), { args: null, scripts: new Set(), call });
    assert.equal(toJson(value), expected[k], body);
  });
});
