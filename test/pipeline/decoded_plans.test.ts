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
import { DecodedPlans, MAX_PLANS, MAX_WEIGHT, WEIGHT_PER_CHAR } from "../../agent/pipeline/decoded_plans.ts";
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
  assert.deepEqual(plans.stats, { plans: 0, weight: 0 });
});

test("beyond MAX_PLANS or MAX_WEIGHT a new plan is not kept: the queue's head stays, room comes back on take", () => {
  const plans = new DecodedPlans();
  for (let seq = 1; seq <= MAX_PLANS + 5; seq++) plans.keep(seq, stub(`p${seq}`), 100);
  assert.equal(plans.stats.plans, MAX_PLANS);
  assert.ok(plans.take(1), "the oldest (runs first) is kept");
  assert.equal(plans.take(MAX_PLANS + 1), undefined, "the newest beyond the bound is not");
  plans.keep(MAX_PLANS + 6, stub("late"), 100);
  assert.ok(plans.take(MAX_PLANS + 6), "a take makes room");

  const heavy = new DecodedPlans();
  const third = Math.floor(MAX_WEIGHT / WEIGHT_PER_CHAR / 3);
  heavy.keep(1, stub("a"), third);
  heavy.keep(2, stub("b"), third);
  heavy.keep(3, stub("c"), third);
  heavy.keep(4, stub("d"), third);
  assert.deepEqual(heavy.stats, { plans: 3, weight: 3 * third * WEIGHT_PER_CHAR });
  assert.equal(heavy.take(4), undefined);
  const alone = new DecodedPlans();
  alone.keep(1, stub("huge"), Math.ceil(MAX_WEIGHT / WEIGHT_PER_CHAR) + 1);
  assert.deepEqual(alone.stats, { plans: 0, weight: 0 });
});
