import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { compileBody } from "../../agent/python/mod.ts";
import { CORPUS_CASES } from "../helpers/corpus.ts";

const CORPUS = CORPUS_CASES;

interface Case {
  class: string;
  notes: string;
  plan: { Body?: unknown };
}

/** Compiles a Body: null when it compiles, else the IdemError's code and message. */
function refusal(source: string): { code: number; message: string } | null {
  try {
    compileBody(source);
    return null;
  } catch (error) {
    assert.ok(error instanceof IdemError, `compileBody threw ${String(error)}`);
    return { code: error.code, message: error.message };
  }
}

const cases = readdirSync(CORPUS)
  .filter((file) => file.endsWith(".json"))
  .map((file) => ({ file, data: JSON.parse(readFileSync(join(CORPUS, file), "utf8")) as Case }))
  .filter(({ data }) => typeof data.plan.Body === "string");

test("every python-only Body of the corpus is refused with code 2 before it runs", () => {
  const pythonOnly = cases.filter(({ data }) => data.class === "python-only");
  assert.ok(pythonOnly.length >= 15);
  for (const { file, data } of pythonOnly) {
    const refused = refusal(data.plan.Body as string);
    assert.equal(refused?.code, 2, `${file}: ${refused?.message ?? "compiled"}`);
    assert.match(refused.message, /is not supported/, file);
  }
});

test("corpus Bodies: iteritems() and lambda are refused with code 2, syntax errors are code 1, all others compile", () => {
  for (const { file, data } of cases.filter(({ data }) => data.class !== "python-only")) {
    const refused = refusal(data.plan.Body as string);
    const body = data.plan.Body as string;
    if (data.notes.includes("iteritems")) {
      assert.equal(refused?.code, 2, file);
      assert.match(refused.message, /"iteritems" is Python 2 only/, file);
    } else if (data.notes.includes("SyntaxError")) {
      assert.equal(refused?.code, 1, file);
      assert.match(refused.message, /invalid syntax|was never closed/, file);
    } else if (/\blambda\b/.test(body)) {
      assert.equal(refused?.code, 2, file);
      assert.match(refused.message, /"lambda" is not supported \(line \d+, column \d+\)/, file);
    } else assert.equal(refused, null, file);
  }
});
