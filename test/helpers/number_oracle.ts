/**
 * Python expressions answered by idem and by CPython: idem compiles `return <expr>` and evaluates it in-thread
 * (agent/python/mod.ts); ONE python3 process evaluates a whole batch (a JSON line per expression in, a JSON line
 * per answer out). An answer is the result's repr, or the exception's type and `str(exception)`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compile, evaluate, pyRepr } from "../../agent/python/mod.ts";
import { MAX_INT_BITS } from "../../agent/python/runtime/int.ts";

export type Answer = { ok: string } | { err: [string, string] };

/** The oracle's message for an int `**` over idem's bound (it answers MemoryError with it, uncomputed). */
const BOUND = "over the bound of a Body's int";

/**
 * Whether idem's answer is CPython's: the same text, or — where the oracle applied idem's bound — a MemoryError of
 * idem's naming that bound.
 */
export function sameAnswer(got: Answer, want: Answer): boolean {
  if ("err" in want && want.err[0] === "MemoryError" && want.err[1] === BOUND) {
    return (
      "err" in got &&
      got.err[0] === "MemoryError" &&
      new RegExp(`^Cannot build an int of \\d+ bits as a Body may build at most ${MAX_INT_BITS}$`).test(
        got.err[1],
      )
    );
  }
  return show(got) === show(want) && JSON.stringify(got) === JSON.stringify(want);
}

/**
 * CPython with one deviation, idem's documented bound (SPEC 6; agent/python/runtime/int.ts `power`): an int `**`
 * whose result would exceed MAX_INT_BITS is answered MemoryError without being computed — CPython would compute
 * it for minutes or until memory ran out, where idem refuses it at once. Every `**` of the expression goes through
 * `_pow` (an AST rewrite); any other operand type is CPython's own `**`.
 */
const ORACLE = String.raw`
import ast, json, math, sys, warnings
warnings.simplefilter("ignore")

MAX_INT_BITS = ${MAX_INT_BITS}

def _pow(x, y):
    if type(x) in (int, bool) and type(y) in (int, bool) and y > 0 and x not in (0, 1, -1):
        if y > MAX_INT_BITS or math.floor(y * math.log2(abs(x))) + 1 > MAX_INT_BITS:
            raise MemoryError(${JSON.stringify(BOUND)})
    return x ** y

class Bounded(ast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Pow):
            return node
        call = ast.Call(func=ast.Name(id="_pow", ctx=ast.Load()), args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)

for line in sys.stdin:
    src = json.loads(line)
    try:
        # Only an expression with a "**" is rewritten: the rest runs exactly as eval runs it (the order of a set
        # holding a NaN follows addresses, which any extra allocation moves).
        tree = ast.parse(src, "<string>", "eval") if "**" in src else None
        if tree is not None and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(tree)):
            tree = ast.fix_missing_locations(Bounded().visit(tree))
            v = eval(compile(tree, "<string>", "eval"), {"_pow": _pow})
        else:
            v = eval(src, {})
        r = {"ok": repr(v)}
    except Exception as e:
        r = {"err": [type(e).__name__, str(e)]}
    sys.stdout.write(json.dumps(r) + "\n")
`;

/** CPython's answers, in order; throws when python3 is missing or fails. */
export function cpython(expressions: readonly string[]): Answer[] {
  const input = expressions.map((e) => `${JSON.stringify(e)}\n`).join("");
  const run = spawnSync("python3", ["-c", ORACLE], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  const answers = run.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Answer);
  if (answers.length !== expressions.length)
    throw new Error(`python3 answered ${answers.length} of ${expressions.length}`);
  return answers;
}

/** idem's answer for one expression. */
export function idem(expression: string): Answer {
  try {
    const value = evaluate(compile(`return ${expression}`), {
      args: null,
      scripts: new Set(),
      call: () => {
        throw new Error("no scripts here");
      },
    });
    return { ok: pyRepr(value) };
  } catch (error) {
    if (error instanceof IdemError && typeof error.cause === "string")
      return { err: [error.cause, error.message] };
    const name = error instanceof Error ? error.constructor.name : typeof error;
    return {
      err: [`not a Python exception: ${name}`, error instanceof Error ? error.message : String(error)],
    };
  }
}

export function show(a: Answer): string {
  const text = "ok" in a ? a.ok : `${a.err[0]}: ${a.err[1]}`;
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * The expressions whose idem answer differs from CPython's, as readable lines (empty when all agree).
 * `expected`: CPython's answers when already known (one python3 run for several lists).
 */
export function disagreements(expressions: readonly string[], expected = cpython(expressions)): string[] {
  const out: string[] = [];
  expressions.forEach((expression, i) => {
    const want = expected[i] as Answer;
    const got = idem(expression);
    if (!sameAnswer(got, want) && !powLastBit(expression, got, want))
      out.push(`${expression}\n    idem:    ${show(got)}\n    CPython: ${show(want)}`);
  });
  return out;
}

/**
 * The documented deviation of float powers (docs/murano.md, "Numbers"): idem's `**` on floats is the JavaScript
 * engine's pow, CPython's is libm's, and the two may round a result to neighbouring floats (glibc's pow is not
 * always correctly rounded: `4316022607491474148657888 ** 0.5` is 2077503936817.3225 in CPython, whose
 * `math.sqrt` gives idem's 2077503936817.3228). Accepted only for an expression with a power whose two answers are
 * floats one unit in the last place apart. Only where libm's pow is what CPython calls for a fraction: a `**` whose
 * exponent is a float literal with a fractional part (`x ** 0.5`, `x ** (-1.25)`); both values nonzero normal
 * floats (an underflow to zero or a subnormal is no rounding of pow's to forgive).
 */
function powLastBit(expression: string, got: Answer, want: Answer): boolean {
  if (!/\*\*\s*\(*\s*-?\s*\d*\.\d*[1-9]/.test(expression) || !("ok" in got) || !("ok" in want)) return false;
  const float = /^-?(\d+\.\d*(e[+-]?\d+)?|\d+e[+-]?\d+)$/;
  if (!float.test(got.ok) || !float.test(want.ok)) return false;
  const [a, b] = [Number(got.ok), Number(want.ok)];
  const normal = (x: number) => Math.abs(x) >= 2.2250738585072014e-308 && Number.isFinite(x);
  if (!normal(a) || !normal(b)) return false;
  const bits = new BigInt64Array(new Float64Array([a, b]).buffer);
  const apart = (bits[0] as bigint) - (bits[1] as bigint);
  return apart === 1n || apart === -1n;
}

/**
 * A test registrar for "kinds" of behaviour: `kind(name, expressions)` adds a node:test whose expressions must all
 * give CPython's answer. The expressions of every kind registered through one registrar are answered by ONE
 * python3 run (its start-up costs about a second on a busy machine), made when the first such test runs.
 */
export function cpythonKinds(): (name: string, expressions: string[]) => void {
  const cases: string[][] = [];
  let answers: Map<string, Answer> | undefined;
  return (name, expressions) => {
    cases.push(expressions);
    test(name, () => {
      if (answers === undefined) {
        const all = [...new Set(cases.flat())];
        const expected = cpython(all);
        answers = new Map(all.map((e, i) => [e, expected[i] as Answer]));
      }
      const known = answers;
      const wrong = disagreements(
        expressions,
        expressions.map((e) => known.get(e) as Answer),
      );
      assert.deepEqual(wrong, [], `${wrong.length} disagreement(s):\n${wrong.join("\n")}`);
    });
  };
}
