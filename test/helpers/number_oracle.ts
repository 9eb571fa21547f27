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

export type Answer = { ok: string } | { err: [string, string] };

const ORACLE = String.raw`
import json, sys, warnings
warnings.simplefilter("ignore")

for line in sys.stdin:
    src = json.loads(line)
    try:
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
    if (show(got) !== show(want) || JSON.stringify(got) !== JSON.stringify(want))
      out.push(`${expression}\n    idem:    ${show(got)}\n    CPython: ${show(want)}`);
  });
  return out;
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
