/**
 * Scenario a — engine failover: a recovering Murano engine re-sends a plan it already sent, with a new ID,
 * a new Stamp and new file ids. The agent must recognise the same command and replay its result.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a re-sent plan with a new ID is replayed, not re-run", { timeout: 90_000 }, async (t) => {
  const scene = await openScene(t, "failover");
  const agent = await scene.startAgent();
  const template = { effects: scene.effects, tag: "deploy-web" };

  const first = applicationPlan(template);
  await scene.engine.send(first);
  const [ran] = await scene.engine.waitForResults(first.ID);

  const resent = applicationPlan(template);
  assert.notEqual(resent.ID, first.ID);
  assert.notEqual(resent.Stamp, first.Stamp);
  assert.notDeepEqual(Object.keys(resent.Files as object), Object.keys(first.Files as object));
  const since = agent.mark();
  await scene.engine.send(resent);
  const [replayed] = await scene.engine.waitForResults(resent.ID);
  await agent.waitForLog(/\bevent=replay\b/, { since });

  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `the script ran once:\n${effects.lines.join("\n")}`);
  const pid = effects.executions[0]?.pid;

  assert.ok(ran && replayed);
  assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));
  assert.equal(ran.Action, "Execution:Result");
  assert.equal(ran.Body, `ran ${pid} deploy-web payload`, "Body = the script's stdout, files decoded");
  assert.equal(ran.Idem?.Decision, "run");
  assert.equal(ran.Idem?.Replayed, false);
  assert.equal(ran.Idem?.RanAs, first.ID);
  assert.equal(ran.Idem?.AgentID, scene.agentId);

  assert.equal(replayed.ErrorCode, 0, JSON.stringify(replayed));
  assert.equal(replayed.SourceID, resent.ID);
  assert.notEqual(replayed.ID, ran.ID, "a result has an ID of its own");
  assert.equal(replayed.Idem?.Replayed, true);
  assert.equal(replayed.Idem?.Decision, "replay");
  assert.equal(replayed.Idem?.RanAs, first.ID);
  assert.deepEqual(replayed.Body, ran.Body);
  assert.equal(replayed.Idem?.Fingerprint, ran.Idem?.Fingerprint);
  assert.match(String(ran.Idem?.Fingerprint), /^sha256:[0-9a-f]{64}$/);

  assert.equal(scene.engine.resultsFor(first.ID).length, 1);
  assert.equal(scene.engine.resultsFor(resent.ID).length, 1);
  for (const { topic } of scene.engine.results) assert.equal(topic, `idem/${scene.agentId}/results`);
});

test("a plan whose parameters changed is run, not replayed", { timeout: 90_000 }, async (t) => {
  const scene = await openScene(t, "failover-changed");
  await scene.startAgent();

  const first = applicationPlan({ effects: scene.effects, tag: "v1" });
  await scene.engine.send(first);
  const [one] = await scene.engine.waitForResults(first.ID);
  const changed = applicationPlan({ effects: scene.effects, tag: "v2" });
  await scene.engine.send(changed);
  const [two] = await scene.engine.waitForResults(changed.ID);

  assert.equal(one?.ErrorCode, 0);
  assert.equal(two?.ErrorCode, 0);
  assert.equal(two?.Idem?.Decision, "run");
  assert.equal(two?.Idem?.Replayed, false);
  assert.notEqual(two?.Idem?.Fingerprint, one?.Idem?.Fingerprint);
  const effects = readExecutions(scene.effects);
  assert.deepEqual(
    effects.executions.map((e) => e.args),
    ["v1", "v2"],
  );
});

test("a replay goes to the re-sending engine's reply topic, with its MQTT 5 correlation data", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "failover-reply");
  // The engines' reply topics are outside the default replyTopics (idem/+/results, idem/<agent>/#).
  await scene.startAgent({ extraArgs: ["--reply-topic", "murano/+/+"] });
  const engineA = `murano/engine-a/${scene.agentId}`;
  const engineB = `murano/engine-b/${scene.agentId}`;
  const engineC = `murano/engine-c/${scene.agentId}`;
  for (const topic of [engineA, engineB, engineC]) await scene.engine.addReplyTopic(topic);
  const template = { effects: scene.effects, tag: "reply-targets" };

  const first = applicationPlan({ ...template, replyTo: engineA });
  await scene.engine.send(first);
  await scene.engine.waitForResults(first.ID);
  const second = applicationPlan({ ...template, replyTo: engineB });
  await scene.engine.send(second);
  await scene.engine.waitForResults(second.ID);
  const third = applicationPlan(template);
  const correlationData = Buffer.from(`corr-${third.ID}`);
  await scene.engine.send(third, { properties: { responseTopic: engineC, correlationData } });
  await scene.engine.waitForResults(third.ID);

  const [a, b, c] = [first, second, third].map((p) =>
    scene.engine.results.find((r) => r.result.SourceID === p.ID),
  );
  assert.equal(a?.topic, engineA);
  assert.equal(b?.topic, engineB);
  assert.equal(b?.result.Idem?.Replayed, true);
  assert.equal(c?.topic, engineC, "MQTT 5 Response Topic is honoured");
  assert.equal(c?.result.Idem?.Replayed, true);
  assert.equal(c?.correlationData?.toString(), correlationData.toString(), "correlation data is echoed");
  assert.equal(readExecutions(scene.effects).executions.length, 1);
});
