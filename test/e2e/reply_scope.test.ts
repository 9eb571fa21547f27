/**
 * Issue 9 item 2, SPEC 3 `replyTopics`: a plan cannot have its result published where the agent may not publish.
 * A `ReplyTo` (or MQTT 5 Response Topic) outside the configured filters — another agent's results or plans topic,
 * the agent's own status topic — or one with a wildcard or a control character is refused with code 2 before
 * anything runs, answered on `P/A/results`, and nothing at all reaches the topic it named. Inside the filters the
 * result is delivered there.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { connectAsync, type MqttClient } from "mqtt";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

/** Every message the broker delivers to a `#` subscriber, in order. */
async function watchEverything(
  scene: Scene,
  t: { after(fn: () => Promise<void>): void },
): Promise<{ client: MqttClient; seen: Array<{ topic: string; text: string }> }> {
  const client = await connectAsync({ host: scene.broker.host, port: scene.broker.port, protocolVersion: 5 });
  t.after(async () => void (await client.endAsync(true)));
  const seen: Array<{ topic: string; text: string }> = [];
  client.on("message", (topic, payload) => seen.push({ topic, text: payload.toString("utf8") }));
  await client.subscribeAsync("#", { qos: 1 });
  return { client, seen };
}

/** Resolves once `seen` holds a message matching `match`: everything the agent published before it is in too. */
function seenOne(
  client: MqttClient,
  seen: Array<{ topic: string; text: string }>,
  match: (m: { topic: string; text: string }) => boolean,
): Promise<void> {
  if (seen.some(match)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the # subscriber did not see the message")), 20_000);
    const check = () => {
      if (!seen.some(match)) return;
      client.off("message", check);
      clearTimeout(timer);
      resolve();
    };
    client.on("message", check);
  });
}

test("ReplyTo or Response Topic outside replyTopics is refused with code 2 before anything runs, answered on the default topic; inside it is delivered there", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "reply-scope");
  const { agentId, engine, effects } = scene;
  const engineTopic = "murano/engine-a/results";
  await scene.startAgent({
    extraArgs: ["--reply-topic", "murano/+/results", "--reply-topic", `idem/${agentId}/#`],
  });
  const { client, seen } = await watchEverything(scene, t);
  await engine.addReplyTopic(engineTopic);
  const other = `${agentId}-other`;

  const outside: Array<[string, string]> = [
    ["another agent's results topic", `idem/${other}/results`],
    ["another agent's plans topic", `idem/${other}/plans`],
    ["its own status topic", `idem/${agentId}/status`],
    ["another agent's plans topic spelt with dots", `idem.${other}.plans`],
    ["a wildcard", "idem/+/results"],
    ["a control character", `idem/${agentId}/a\u0001b`],
  ];
  const refused: Array<{ what: string; topic: string; id: string }> = [];
  for (const [what, topic] of outside) {
    const plan = applicationPlan({ effects, tag: `refused-${refused.length}`, replyTo: topic });
    await engine.send(plan);
    refused.push({ what, topic, id: plan.ID });
  }
  const byResponseTopic = applicationPlan({ effects, tag: "refused-response-topic" });
  await engine.send(byResponseTopic, { properties: { responseTopic: `idem/${other}/plans` } });
  refused.push({ what: "an MQTT 5 Response Topic", topic: `idem/${other}/plans`, id: byResponseTopic.ID });

  const inside = applicationPlan({ effects, tag: "inside", replyTo: engineTopic });
  await engine.send(inside);
  const delivered = await engine.waitForResult(inside.ID);
  assert.equal(delivered.ErrorCode, 0, JSON.stringify(delivered));

  // The agent publishes in order: once the # subscriber has the last result, it has everything before it.
  await seenOne(client, seen, (m) => m.topic === engineTopic && m.text.includes(inside.ID));
  for (const { what, topic, id } of refused) {
    const [answer] = await engine.waitForResults(id);
    const got = engine.results.filter((r) => r.result.SourceID === id);
    assert.deepEqual(
      got.map((r) => r.topic),
      [`idem/${agentId}/results`],
      `${what}: answered on the default topic`,
    );
    assert.equal(answer?.ErrorCode, 2, `${what}: ${JSON.stringify(answer)}`);
    assert.equal(answer?.Idem?.Decision, "invalid", what);
    assert.match(
      String((answer?.Body as { Message?: string } | undefined)?.Message),
      /Cannot answer plan/,
      what,
    );
    assert.ok(
      !seen.some((m) => m.topic === topic && m.text.includes(id)),
      `${what}: nothing of it published on ${JSON.stringify(topic)}`,
    );
  }
  const answered = new Set(refused.map((r) => r.id));
  const strays = seen.filter(
    (m) =>
      ![`idem/${agentId}/results`, `idem/${agentId}/events`].includes(m.topic) &&
      [...answered].some((id) => m.text.includes(`"SourceID":"${id}"`)),
  );
  assert.deepEqual(strays, [], "no refused plan's result anywhere but the default topic (and its event)");
  assert.equal(engine.results.find((r) => r.result.SourceID === inside.ID)?.topic, engineTopic);

  const ran = readExecutions(effects).executions.map((e) => e.args);
  assert.deepEqual(ran, ["inside"], "nothing of a refused plan ran");
});

test("with the default replyTopics, another agent's results topic is allowed and its plans topic is not", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "reply-default");
  const { agentId, engine, effects } = scene;
  await scene.startAgent();
  const results = `idem/${agentId}-engine/results`;
  await engine.addReplyTopic(results);

  const toPlans = applicationPlan({ effects, tag: "to-plans", replyTo: `idem/${agentId}-engine/plans` });
  await engine.send(toPlans);
  const allowed = applicationPlan({ effects, tag: "to-results", replyTo: results });
  await engine.send(allowed);

  const refusedAnswer = await engine.waitForResult(toPlans.ID);
  assert.equal(refusedAnswer.ErrorCode, 2, JSON.stringify(refusedAnswer));
  assert.equal(
    engine.results.find((r) => r.result.SourceID === toPlans.ID)?.topic,
    `idem/${agentId}/results`,
  );
  const result = await engine.waitForResult(allowed.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.equal(engine.results.find((r) => r.result.SourceID === allowed.ID)?.topic, results);
  assert.deepEqual(
    readExecutions(effects).executions.map((e) => e.args),
    ["to-results"],
  );
});
