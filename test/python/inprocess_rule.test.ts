/**
 * The bounded rule (agent/python/check/bounded.ts): every construct outside it sends the Body to the worker, the
 * Bodies Murano sends (the corpus) stay in-process, and a plan whose inputs make even a bounded Body too big for
 * the budgets goes to the worker too.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseJson } from "../../agent/json/parse.ts";
import { boundOf } from "../../agent/python/check/bounded.ts";
import { BUILTINS } from "../../agent/python/check/rules.ts";
import { compile, runsInProcess } from "../../agent/python/mod.ts";
import { METHOD_NAMES } from "../../agent/python/types/registry.ts";

const SCRIPTS: ReadonlySet<string> = new Set(["deploy"]);
const CAP = 1024 * 1024;

function inProcess(body: string, parameters = "{}", outputCapBytes = CAP): boolean {
  const parsed = parseJson(parameters);
  assert.ok(parsed.ok);
  return runsInProcess(
    { program: compile(body, { scripts: SCRIPTS }), parameters: parsed.value, scripts: SCRIPTS },
    outputCapBytes,
  );
}

/** Each line: a Body with exactly one construct outside the rule (the prelude binds what it reads). */
const OUTSIDE: readonly string[] = [
  "for x in args.l:\n  pass",
  "return [x for x in args.l]",
  "return {x for x in args.l}",
  "return {x: 1 for x in args.l}",
  "return list(x for x in args.l)",
  "return args.s * 3",
  "return 3 * args.s",
  "return 2 ** args.n",
  "return 1 << args.n",
  "return args.n / 3",
  "return args.n // 3",
  "return args.n % 3",
  "return args.f % args.n",
  "x = args.s\nx += 'a'",
  "x = [1]\nx |= {2}",
  "x = {}\nx['a'] = 1",
  "x = {}\nx['a'], y = 1, 2",
  "args.x = 1",
  "return '%*s' % (args.n, 'x')",
  "return '%99999s' % 'x'",
  "return '{:>{}}'.format('x', args.n)",
  "return '{:>99999}'.format('x')",
  "return args.f.format(1)",
  "return args.f.format_map(args)",
  "return format(args.x, args.spec)",
  "return format(args.x, '>99999')",
  "return f'{args.x:>{args.n}}'",
  "return f'{args.x:>99999}'",
  "return args.s.ljust(args.n)",
  "return args.s.rjust(99999)",
  "return args.s.center(args.n)",
  "return args.s.zfill(args.n)",
  "return args.s.expandtabs(args.n)",
  "return args.sep.join(args.l)",
  "return args.s.replace('a', args.s)",
  "return args.s.rfind(args.t)",
  "return args.s.rindex(args.t)",
  "return args.s.rpartition(args.t)",
  "return args.s.rsplit(args.t)",
  "return args.s.translate(args.d)",
  "return str.maketrans(args.d)",
  "return dict.fromkeys(args.l, args.s)",
  "return list(range(args.n))",
  "return list(map(str, args.l))",
  "return list(filter(None, args.l))",
  "return sum(args.l, [])",
  "return pow(2, args.n)",
  "return divmod(args.n, 3)",
  "return round(10, args.n)",
  "return sorted(args.l, key=len)",
  "return min(args.l, key=deploy)",
  "return max(args.l, key=len)",
  "f = deploy\nreturn f()",
  "str = deploy\nreturn str(1)",
  "return [deploy][0]()",
  "m = args.s.upper\nreturn m()",
];

test("every construct outside the rule sends the Body to the worker", () => {
  const prelude = "";
  for (const body of OUTSIDE) {
    const program = compile(prelude + body, { scripts: SCRIPTS });
    const verdict = boundOf(program.tree, SCRIPTS);
    assert.equal(verdict.bounded, false, `in-process, but outside the rule: ${JSON.stringify(body)}`);
    assert.equal(inProcess(body), false, body);
  }
});

const MUTATORS = ["append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort", "update"];
const KEPT_OUT = [...MUTATORS, "setdefault", "popitem", "add", "discard", "difference_update"];

test("every mutating method, and every method or built-in the rule does not list, goes to the worker", () => {
  for (const name of KEPT_OUT) {
    assert.ok(METHOD_NAMES.has(name), name);
    const verdict = boundOf(compile(`args.l.${name}(1)`, { scripts: SCRIPTS }).tree, SCRIPTS);
    assert.equal(verdict.bounded, false, name);
  }
  // A method or built-in added to the subset later is outside until the rule says what it costs.
  for (const name of METHOD_NAMES) {
    const verdict = boundOf(compile(`return args.x.${name}()`, { scripts: SCRIPTS }).tree, SCRIPTS);
    if (verdict.bounded) assert.ok(!KEPT_OUT.includes(name), name);
  }
  for (const name of ["range", "map", "filter", "sum", "pow", "divmod", "round"]) {
    assert.ok(BUILTINS.has(name), name);
    assert.equal(boundOf(compile(`return ${name}(args.x)`).tree, SCRIPTS).bounded, false, name);
  }
});

test("doubling a value step by step is seen: the sizes add up past the budget", () => {
  const doubling = (steps: number) => `s = args.s\n${"s = s + s\n".repeat(steps)}return len(s)`;
  assert.equal(inProcess(doubling(3), '{"s": "x"}'), true);
  assert.equal(inProcess(doubling(40), '{"s": "x"}'), false);
  const nesting = (steps: number) => `a = [args.s]\n${"a = [a, a]\n".repeat(steps)}return str(a)`;
  assert.equal(inProcess(nesting(3)), true);
  assert.equal(inProcess(nesting(40)), false);
});

test("a bounded Body goes to the worker when its plan's inputs make it too big for the budgets", () => {
  const body = "return deploy('{0} {1}'.format(args.a, args.b)).stdout.strip()";
  assert.equal(inProcess(body, '{"a": "x", "b": "y"}'), true);
  const big = JSON.stringify({ a: "x".repeat(400_000), b: "y" });
  assert.equal(inProcess(body, big), false, "400 kB of Parameters formatted twice");
  assert.equal(inProcess(body, "{}", 64 * 1024 * 1024), false, "a 64 MiB output cap");
});

test("the corpus's Murano Bodies run in-process (the share is printed)", () => {
  const dir = join(import.meta.dirname, "../../../shared/murano-corpus/cases");
  let compiled = 0;
  let inside = 0;
  for (const file of readdirSync(dir)) {
    const { plan } = JSON.parse(readFileSync(join(dir, file), "utf8"));
    const scripts = new Set(Object.keys(plan.Scripts ?? {}));
    let program: ReturnType<typeof compile>;
    try {
      program = compile(plan.Body, { scripts });
    } catch {
      continue; // refused or not Python: no evaluation at all
    }
    compiled++;
    const parsed = parseJson(JSON.stringify(plan.Parameters ?? null));
    assert.ok(parsed.ok);
    if (runsInProcess({ program, parameters: parsed.value, scripts }, CAP)) inside++;
  }
  console.log(`corpus: ${inside} of ${compiled} compiled Bodies in-process`);
  assert.ok(inside / compiled >= 0.95, `${inside} of ${compiled}`);
});
