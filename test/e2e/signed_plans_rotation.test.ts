/**
 * Issue 9 item 1, SPEC 9a: signed plans on an MQTT 3.1.1 session (the envelope), key rotation, and a forged plan
 * that reuses a real plan's ID — it must not block the real one (no `seen` entry for an unauthenticated plan).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { ed25519Key, envelope, rsaKey, signedProperties, signFor, trustConfig } from "../helpers/signing.ts";

test("on MQTT 3.1.1 an enveloped plan signed by either key of a rotation runs; once the old key is removed from the config it is refused", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "signed-rotation");
  const { engine, effects } = scene;
  const old = rsaKey("engine-2025");
  const current = ed25519Key("engine-2026");
  const v311 = { broker: { protocol: 4 } };
  const plansTopic = engine.topic("plans");
  const enveloped = (tag: string, key: typeof old) => {
    const plan = applicationPlan({ effects, tag });
    const text = JSON.stringify(plan);
    return { id: plan.ID, text, payload: envelope(signFor(key, plansTopic, text), key.keyId, text) };
  };

  let agent = await scene.startAgent({
    extraArgs: ["--config", trustConfig(scene.root, [old, current], v311)],
  });
  await agent.waitForLog(/event=connected .*protocol=4/);
  const byOld = enveloped("old-key", old);
  const byCurrent = enveloped("current-key", current);
  // User properties do not reach a 3.1.1 session: such a plan arrives unsigned.
  const byProperty = applicationPlan({ effects, tag: "property-on-311" });
  const propertyText = JSON.stringify(byProperty);
  await engine.send(byOld.payload);
  await engine.send(byCurrent.payload);
  await engine.send(
    propertyText,
    signedProperties(signFor(current, plansTopic, propertyText), current.keyId),
  );
  assert.equal((await engine.waitForResult(byOld.id)).ErrorCode, 0);
  assert.equal((await engine.waitForResult(byCurrent.id)).ErrorCode, 0);
  const unsigned = await engine.waitForResult(byProperty.ID);
  assert.equal(unsigned.ErrorCode, 306);
  assert.match(String((unsigned.Body as { Message: string }).Message), /carries no signature/);
  assert.equal((await agent.stop()).code, 0);

  // The old key retired: removed from the config.
  agent = await scene.startAgent({ extraArgs: ["--config", trustConfig(scene.root, [current], v311)] });
  const retired = enveloped("retired-key", old);
  const still = enveloped("current-key-again", current);
  await engine.send(retired.payload);
  await engine.send(still.payload);
  const refused = await engine.waitForResult(retired.id);
  assert.equal(refused.ErrorCode, 306);
  assert.match(String((refused.Body as { Message: string }).Message), /"engine-2025" is not a trusted key/);
  assert.equal((await engine.waitForResult(still.id)).ErrorCode, 0);
  const ran = readExecutions(effects).executions.map((e) => e.args);
  assert.deepEqual(ran.sort(), ["current-key", "current-key-again", "old-key"]);
});

test("a forged plan reusing a real plan's ID does not block it: the real signed plan with that ID runs, also when redelivered", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "signed-forged-id");
  const { engine, effects } = scene;
  const trusted = ed25519Key("engine");
  const config = trustConfig(scene.root, [trusted]);
  let agent = await scene.startAgent({ extraArgs: ["--config", config] });
  const plansTopic = engine.topic("plans");
  const real = applicationPlan({ effects, tag: "real" });
  const forged = { ...applicationPlan({ effects, tag: "forged" }), ID: real.ID };
  const forgedText = JSON.stringify(forged);
  // The attacker has a key of its own, not a trusted one, and claims the trusted key id.
  const attacker = ed25519Key("engine");
  await engine.send(forgedText, signedProperties(signFor(attacker, plansTopic, forgedText), "engine"));
  const first = await engine.waitForResult(real.ID);
  assert.equal(first.ErrorCode, 306);
  assert.equal((await agent.stop()).code, 0);

  // The real plan reaches an agent that dies before deciding it: the broker redelivers it (MQTT DUP), and a
  // redelivered plan whose ID the journal has seen is not answered again. The forged one must have left no trace.
  const crashing = await scene.startAgent({ extraArgs: ["--config", config], failpoint: "before-commit" });
  const realText = JSON.stringify(real);
  await engine.send(realText, signedProperties(signFor(trusted, plansTopic, realText), "engine"));
  assert.equal((await crashing.waitForExit()).signal, "SIGKILL", crashing.tail());
  agent = await scene.startAgent({ extraArgs: ["--config", config] });
  const [, second] = await engine.waitForResults(real.ID, 2);
  assert.equal(second?.ErrorCode, 0, JSON.stringify(second));
  assert.equal(second?.Idem?.Decision, "run");
  assert.deepEqual(
    readExecutions(effects).executions.map((e) => e.args),
    ["real"],
  );
});
