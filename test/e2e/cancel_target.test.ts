/**
 * `idem cancel` when a plan's ID equals another key (issue 12, tried as an attacker): whoever sends plans chooses
 * their IDs, so a plan may be named like the key an operator means to cancel. Without `--key` / `--plan-id` such a
 * target is refused as ambiguous (exit 2, both named, nothing cancelled) — it used to cancel the plan named like
 * the key, answer "cancelled" with exit 0, and leave the key's plan running. With them, each cancels what it says.
 * A real agent process and a real mosquitto; the command runs in-process (`cancelCommand.run`).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cancelCommand } from "../../agent/commands/cancel.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

/** `idem cancel` in-process with these flags and positionals: exit code and the agent's answer. */
async function cancel(scene: Scene, values: Record<string, string>, positionals: string[] = []) {
  let out = "";
  let err = "";
  const code = await cancelCommand.run({
    values: { broker: scene.broker.url, "agent-id": scene.agentId, wait: "15", ...values },
    positionals,
    env: {},
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  const answer = out.trim() === "" ? {} : JSON.parse(out);
  return { code, err, answer: answer as { State?: string; Cancelled?: string[]; Key?: string | null } };
}

test("cancel: a target that is one plan's ID and another key is refused until --plan-id or --key says which", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel-target");
  const agent = await scene.startAgent();
  const KEY = "deploy-db";
  // The key's plan runs (it sleeps); the other plan, named like the key, waits behind it (concurrency 1).
  const keyed = applicationPlan({
    effects: scene.effects,
    tag: "keyed",
    sleepSeconds: 300,
    idempotency: { Key: KEY },
  });
  await scene.engine.send(keyed);
  await agent.waitForLog(new RegExp(`event=start\\b.*plan=${keyed.ID}`));
  const namedLikeKey = { ...applicationPlan({ effects: scene.effects, tag: "named" }), ID: KEY };
  const since = agent.mark();
  await scene.engine.send(namedLikeKey);
  await agent.waitForLog(new RegExp(`event=run\\b.*plan=${KEY}\\b`), { since });

  const either = await cancel(scene, {}, [KEY]);
  assert.equal(either.code, 2, either.err);
  assert.equal(either.answer.State, "ambiguous");
  assert.deepEqual(either.answer.Cancelled, []);
  assert.match(
    either.err,
    /"deploy-db" is both the ID of a plan of key .* and a key .*--plan-id ID or --key KEY/,
  );

  const byPlan = await cancel(scene, { "plan-id": KEY });
  assert.equal(byPlan.code, 0, byPlan.err);
  assert.equal(byPlan.answer.State, "queued");
  assert.deepEqual(byPlan.answer.Cancelled, [KEY]);
  assert.equal((await scene.engine.waitForResult(KEY)).ErrorCode, 102);

  const byKey = await cancel(scene, { key: KEY });
  assert.equal(byKey.code, 0, byKey.err);
  assert.equal(byKey.answer.State, "running");
  assert.equal(byKey.answer.Key, KEY);
  assert.equal((await scene.engine.waitForResult(keyed.ID)).ErrorCode, 102);
  assert.equal((await agent.stop()).code, 0, agent.tail());
});
