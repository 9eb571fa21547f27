/**
 * In-process evaluation (agent/python/worker/in_process.ts) answers exactly as the Body worker does, for every
 * Body the bounded rule accepts: the differential test's generated Bodies (test/helpers/body_arbitraries.ts,
 * with their Parameters and stub scripts) are run both ways and their results, errors (type, code, message,
 * info) and script calls compared. Each run uses a new seed, printed; replay one with `IDEM_INPROCESS_SEED`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { IdemError } from "../../agent/errors.ts";
import { parseJson } from "../../agent/json/parse.ts";
import { boundOf } from "../../agent/python/check/bounded.ts";
import type { ScriptOutcome } from "../../agent/python/eval/script.ts";
import { compile, evaluate, evaluateBounded, type Program } from "../../agent/python/mod.ts";
import { evaluateInProcess } from "../../agent/python/worker/in_process.ts";
import { bodyCase } from "../helpers/body_arbitraries.ts";
import type { BodyCase } from "../helpers/body_case.ts";

const SEED = Number(process.env.IDEM_INPROCESS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.IDEM_INPROCESS_RUNS ?? 1500);

/** Stub scripts as the differential test has them; each call is logged. */
function stubs(c: BodyCase, log: string[]) {
  return (name: string, commandline: string, input: string | null): Promise<ScriptOutcome> => {
    log.push(`${name}(${JSON.stringify(commandline)}, ${JSON.stringify(input)})`);
    const spec = c.scripts.find((s) => s.name === name);
    if (spec === undefined) return Promise.reject(new Error(`no stub script ${name}`));
    const outcome = {
      exitCode: spec.exitCode,
      stdout: spec.echo ? `${name}:${commandline}` : spec.stdout,
      stderr: spec.stderr,
    };
    if (spec.verify && spec.exitCode !== 0) {
      return Promise.reject(new IdemError(100, `Script ${name} returned error code`, { info: outcome }));
    }
    return Promise.resolve(outcome);
  };
}

function describe(error: unknown): string {
  if (error instanceof IdemError)
    return `${error.code} ${String(error.cause)} ${error.message} ${JSON.stringify(error.info)}`;
  return `${error instanceof Error ? error.constructor.name : typeof error}: ${String(error)}`;
}

async function answer(run: () => Promise<string>): Promise<string> {
  return run().then(
    (json) => `ok ${json}`,
    (error: unknown) => `error ${describe(error)}`,
  );
}

test(`every Body the rule accepts answers alike in-process and in the worker (seed ${SEED})`, {
  timeout: 600_000,
}, async () => {
  const cases = fc.sample(bodyCase, { seed: SEED, numRuns: RUNS });
  let accepted = 0;
  let calling = 0;
  for (const c of cases) {
    const scripts = new Set(c.scripts.map((s) => s.name));
    let program: Program;
    try {
      program = compile(c.body, { scripts });
    } catch {
      continue;
    }
    if (!boundOf(program.tree, scripts).bounded) continue;
    accepted++;
    const parsed = parseJson(`{"Parameters": ${c.params}}`);
    assert.ok(parsed.ok && parsed.value instanceof Map);
    const parameters = parsed.value.get("Parameters") ?? null;
    const here: string[] = [];
    const there: string[] = [];
    const inProcess = await answer(() =>
      evaluateInProcess(program, evaluate, { parameters, scripts, call: stubs(c, here) }),
    );
    const worker = await answer(() =>
      evaluateBounded(
        { source: c.body, parameters, scripts: [...scripts] },
        { call: stubs(c, there), limits: { memoryMB: 256 } },
      ),
    );
    if (there.length > 0) calling++;
    const show = `Body:\n${c.body}\nParameters: ${c.params}\nseed ${SEED}`;
    assert.equal(inProcess, worker, show);
    assert.deepEqual(here, there, `script calls differ\n${show}`);
  }
  console.log(
    `seed ${SEED}: ${accepted} of ${cases.length} generated Bodies inside the rule, ${calling} of them calling scripts`,
  );
  assert.ok(accepted >= cases.length / 10, `only ${accepted} Bodies inside the rule: the generator changed?`);
});
