/**
 * `idem cancel` when a plan's ID equals another key (issue 12, tried as an attacker): whoever sends plans chooses
 * their IDs, so a plan may be named like the key an operator means to cancel. Without `--key` / `--plan-id` such a
 * target is refused as ambiguous (exit 2, both named, nothing cancelled) — it used to cancel the plan named like
 * the key, answer "cancelled" with exit 0, and leave the key's plan running. With them, each cancels what it says.
 * And a signed cancel captured before the agent (re)started is refused when replayed to it: the IDs an agent has
 * served are its process's only, and such a replay used to cancel the key's next run.
 * A real agent process and a real mosquitto; the command runs in-process (`cancelCommand.run`).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import mqtt from "mqtt";
import { cancelCommand } from "../../agent/commands/cancel.ts";
import { runCommand } from "../helpers/in_process.ts";
import { applicationPlan, randomId } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";
import { ed25519Key, envelope, signedProperties, signFor, trustConfig } from "../helpers/signing.ts";

/** `idem cancel` in-process with these flags and positionals: exit code and the agent's answer. */
async function cancel(scene: Scene, values: Record<string, string>, positionals: string[] = []) {
  const {
    code,
    stdout,
    stderr: err,
  } = await runCommand(cancelCommand, {
    values: { broker: scene.broker.url, "agent-id": scene.agentId, wait: "15", ...values },
    positionals,
  });
  const answer = stdout.trim() === "" ? {} : JSON.parse(stdout);
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

test("cancel: a signed request from before the agent started is refused when replayed; a fresh one is served", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel-replay");
  const key = ed25519Key("ops");
  // Captured earlier (the agent's previous process served it): signed, within the 10 minutes of skew.
  const control = `idem/${scene.agentId}/control`;
  const old = JSON.stringify({
    Action: "Cancel",
    ID: randomId(),
    Target: "K",
    Kind: "key",
    Time: new Date(),
  });
  const captured = envelope(signFor(key, control, old), key.keyId, old);
  const agent = await scene.startAgent({
    extraArgs: ["--config", trustConfig(scene.root, [key], { killGraceSeconds: 1 })],
  });
  const plan = applicationPlan({
    effects: scene.effects,
    tag: "k",
    sleepSeconds: 300,
    idempotency: { Key: "K" },
  });
  const text = JSON.stringify(plan);
  await scene.engine.send(text, signedProperties(signFor(key, scene.engine.topic("plans"), text), key.keyId));
  await agent.waitForLog(new RegExp(`event=start\\b.*plan=${plan.ID}`));

  const since = agent.mark();
  const attacker = await mqtt.connectAsync(scene.broker.url, { protocolVersion: 4 });
  await attacker.publishAsync(control, captured, { qos: 1 });
  await attacker.endAsync();
  const [refused] = await agent.waitForLog(/event=cancel-refused\b/, { since });
  assert.match(refused ?? "", /is before this agent started .*lest a captured one be replayed/);
  assert.deepEqual(scene.engine.resultsFor(plan.ID), [], "the running plan is not cancelled");

  const keyFile = join(scene.root, "ops.key");
  writeFileSync(keyFile, key.privateKey.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  const fresh = await cancel(scene, { key: "K", sign: keyFile, "key-id": "ops" });
  assert.equal(fresh.code, 0, fresh.err);
  assert.equal((await scene.engine.waitForResult(plan.ID)).ErrorCode, 102);
});

test("cancel: hostile control messages (not UTF-8, not JSON, 20 MB, nested 50,000 deep, a bad Kind) are refused; a real one is served", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "cancel-hostile");
  const agent = await scene.startAgent();
  const control = `idem/${scene.agentId}/control`;
  const since = agent.mark();
  const attacker = await mqtt.connectAsync(scene.broker.url, { protocolVersion: 4 });
  const hostile: (string | Buffer)[] = [
    Buffer.from([0xff, 0xfe, 0x00]),
    "garbage",
    JSON.stringify({ Action: "Cancel", ID: "huge", Target: "k".repeat(20 * 1024 * 1024) }),
    `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`,
    JSON.stringify({ Action: "Cancel", ID: "kind", Target: "k", Kind: "all" }),
  ];
  for (const payload of hostile) await attacker.publishAsync(control, payload, { qos: 1 });
  await attacker.endAsync();
  const refused = await agent.waitForLog(/event=cancel-refused\b/, { since, count: hostile.length });
  assert.match(refused[2] ?? "", /message="it has 2097\d+ bytes"/);
  assert.match(refused[4] ?? "", /its Kind \\"all\\" is not/);
  const served = await cancel(scene, {}, ["nothing-here"]);
  assert.equal(served.code, 1, served.err);
  assert.equal(served.answer.State, "not-found");
  assert.equal((await agent.stop()).code, 0, agent.tail());
});
