/**
 * The hand-off of decoded plans from intake to execution (agent/pipeline/decoded_plans.ts): what execution takes
 * from it must be exactly what decoding the journal's text gives (`decodeQueued`), and it stays bounded.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { DecodedPlan } from "../../agent/murano/plan.ts";
import { validatePlan } from "../../agent/murano/validate.ts";
import { decode, decodeQueued } from "../../agent/pipeline/decode.ts";
import { DecodedPlans, MAX_PLANS, MAX_TEXT_BYTES } from "../../agent/pipeline/decoded_plans.ts";
import { CORPUS_CASES } from "../helpers/corpus.ts";

const stub = (id: string): DecodedPlan => ({
  plan: { ID: id, Body: "", Scripts: {}, Files: {} } as unknown as DecodedPlan["plan"],
  exact: new Map([["ID", id]]),
});

test("intake's decoded plan is the one decodeQueued reads back from the queued text (the Murano corpus)", () => {
  let compared = 0;
  for (const name of readdirSync(CORPUS_CASES).sort()) {
    const { plan } = JSON.parse(readFileSync(join(CORPUS_CASES, name), "utf8")) as { plan: unknown };
    // As an engine sends it: its own JSON text, with the corpus's key order.
    const payload = new TextEncoder().encode(JSON.stringify(plan));
    const decoded = decode(payload, { maxPlanBytes: 4 * 1024 * 1024 });
    if (decoded.kind !== "plan") continue;
    try {
      validatePlan(decoded.plan);
    } catch {
      continue; // refused at intake: never queued
    }
    const handed = { plan: decoded.plan, exact: decoded.exact };
    assert.deepStrictEqual(handed, decodeQueued(decoded.text), name);
    compared++;
  }
  assert.ok(compared >= 200, `only ${compared} corpus plans compared`);
});

test("take gives the kept plan once; drop and a second take give nothing", () => {
  const plans = new DecodedPlans();
  const one = stub("one");
  plans.keep(1, one, 10);
  plans.keep(2, stub("two"), 10);
  assert.equal(plans.take(1), one);
  assert.equal(plans.take(1), undefined);
  plans.drop(2);
  assert.equal(plans.take(2), undefined);
  assert.deepEqual(plans.stats, { plans: 0, textLength: 0 });
});

test("the oldest plans are evicted beyond MAX_PLANS and MAX_TEXT_BYTES; a plan above the text bound is not kept", () => {
  const plans = new DecodedPlans();
  for (let seq = 1; seq <= MAX_PLANS + 5; seq++) plans.keep(seq, stub(`p${seq}`), 100);
  assert.equal(plans.stats.plans, MAX_PLANS);
  for (let seq = 1; seq <= 5; seq++) assert.equal(plans.take(seq), undefined, `seq ${seq} evicted`);
  assert.ok(plans.take(6));

  const big = new DecodedPlans();
  const half = Math.floor(MAX_TEXT_BYTES / 2);
  big.keep(1, stub("a"), half);
  big.keep(2, stub("b"), half);
  big.keep(3, stub("c"), half);
  assert.deepEqual(big.stats, { plans: 2, textLength: 2 * half });
  assert.equal(big.take(1), undefined);
  big.keep(4, stub("d"), MAX_TEXT_BYTES + 1);
  assert.equal(big.take(4), undefined);
  assert.ok(big.stats.textLength <= MAX_TEXT_BYTES);
});
