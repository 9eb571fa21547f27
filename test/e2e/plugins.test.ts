/**
 * A policy plugin loaded with `--plugins DIR`: the example `max-runs` (at most `Options.max` executions per
 * key, then refused with 303), tested from the outside like any operator's plugin.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const examples = join(REPO_ROOT, "plugins", "examples");

test("a plugin loaded with --plugins runs a key at most max times, then refuses it with 303", {
  timeout: 90_000,
}, async (t) => {
  assert.ok(existsSync(join(examples, "max-runs.ts")), `${examples}/max-runs.ts exists`);
  const scene = await openScene(t, "plugins");
  const agent = await scene.startAgent({ plugins: [examples] });
  const template = {
    effects: scene.effects,
    tag: "limited",
    idempotency: { Policy: "max-runs", Options: { max: 2 } },
  };

  const results = [];
  for (let send = 0; send < 3; send++) {
    const plan = applicationPlan(template);
    await scene.engine.send(plan);
    const [result] = await scene.engine.waitForResults(plan.ID);
    results.push(result);
  }
  await agent.waitForLog(/\bevent=reject\b/);

  const [one, two, three] = results;
  assert.equal(one?.ErrorCode, 0, JSON.stringify(one));
  assert.equal(two?.ErrorCode, 0, JSON.stringify(two));
  assert.equal(one?.Idem?.Policy, "max-runs");
  assert.equal(two?.Idem?.Decision, "run");
  assert.equal(three?.ErrorCode, 303, JSON.stringify(three));
  assert.equal(three?.Idem?.Decision, "reject");
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 2, `two executions:\n${effects.lines.join("\n")}`);
});
