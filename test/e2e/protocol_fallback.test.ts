/**
 * SPEC 2 — the agent against a broker that refuses MQTT 5: NATS 2.9's MQTT gateway (3.1.1 only), started by
 * the test on free loopback ports. In `auto` mode the agent tries 5, falls back to 3.1.1 with a clean session
 * 0 (persistent), runs plans, replays duplicates, says `"Protocol": 4` in its retained status, and gets the
 * plans queued for its session while it was down.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type AgentProcess, parseLogfmt } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { type NatsServer, startNats } from "../helpers/nats.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

/** A scene on NATS 2.9 with an MQTT 3.1.1 engine (NATS refuses 5). */
function openNatsScene(
  t: { after(fn: () => Promise<void>): void },
  name: string,
): Promise<Scene<NatsServer>> {
  return openScene(t, name, { server: () => startNats(), engineProtocol: 4 });
}

/** The index of the first log line matching `pattern` (-1 if none). */
function lineIndex(agent: AgentProcess, pattern: RegExp): number {
  return agent.lines.findIndex((line) => pattern.test(line));
}

test("against NATS 2.9 (MQTT 3.1.1 only) the agent falls back from 5 to 4, runs a plan and replays its duplicate", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openNatsScene(t, "nats-fallback");
  const agent = await scene.startAgent();

  const fallback = lineIndex(agent, /\bevent=protocol-fallback\b/);
  const online = lineIndex(agent, /\bevent=online\b/);
  assert.ok(fallback >= 0, `the agent logs event=protocol-fallback:\n${agent.tail()}`);
  assert.ok(fallback < online, `protocol-fallback comes before online:\n${agent.tail()}`);
  const fallbackFields = parseLogfmt(agent.lines[fallback] as string);
  assert.equal(fallbackFields.from, "5");
  assert.equal(fallbackFields.to, "4");
  assert.equal(parseLogfmt(agent.lines[online] as string).protocol, "4", agent.lines[online]);
  assert.equal(agent.matching(/\bevent=online\b/).length, 1, "one session, no flapping between versions");

  const status = await scene.engine.waitForStatus("online");
  assert.equal(status.Protocol, 4, JSON.stringify(status));
  assert.equal(status.AgentID, scene.agentId);

  const template = { effects: scene.effects, tag: "nats" };
  const plan = applicationPlan(template);
  await scene.engine.send(plan);
  const ran = await scene.engine.waitForResult(plan.ID);
  assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));
  assert.equal(ran.Idem?.Decision, "run");
  const [execution] = readExecutions(scene.effects).executions;
  assert.equal(ran.Body, `ran ${execution?.pid} nats payload`);

  // A failover engine re-sends the same plan (fresh ID, stamp and file ids): replayed, nothing executed.
  const duplicate = applicationPlan(template);
  await scene.engine.send(duplicate);
  const replayed = await scene.engine.waitForResult(duplicate.ID);
  assert.equal(replayed.ErrorCode, 0, JSON.stringify(replayed));
  assert.equal(replayed.Idem?.Decision, "replay");
  assert.equal(replayed.Idem?.Replayed, true);
  assert.equal(replayed.Idem?.RanAs, plan.ID);
  assert.equal(replayed.Body, ran.Body, "the stored result is re-sent");
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `executed once:\n${effects.lines.join("\n")}`);

  assert.equal((await agent.stop()).code, 0);
});

test("against NATS 2.9, plans sent while the agent is down wait in its 3.1.1 session and run when it comes back", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openNatsScene(t, "nats-queued");
  const first = await scene.startAgent();
  await scene.engine.waitForStatus("online");
  // The agent's first session (clean session 0, subscribed to its plans topic) now exists; stop the agent.
  assert.equal((await first.stop()).code, 0, first.tail());
  await scene.engine.waitForStatus("offline");

  const queued = [
    applicationPlan({ effects: scene.effects, tag: "q1" }),
    applicationPlan({ effects: scene.effects, tag: "q2" }),
  ];
  for (const plan of queued) await scene.engine.send(plan); // acknowledged by NATS while no agent is connected
  assert.equal(readExecutions(scene.effects).executions.length, 0);

  const second = await scene.startAgent();
  const connected = second
    .matching(/\bevent=connected\b/)
    .map(parseLogfmt)
    .at(-1);
  assert.equal(connected?.protocol, "4");
  assert.equal(connected?.sessionPresent, "true", "NATS kept the agent's 3.1.1 session");

  for (const plan of queued) {
    const result = await scene.engine.waitForResult(plan.ID);
    assert.equal(result.ErrorCode, 0, JSON.stringify(result));
    assert.equal(result.Idem?.Decision, "run");
  }
  const effects = readExecutions(scene.effects);
  assert.deepEqual(
    effects.executions.map((e) => e.args),
    ["q1", "q2"],
    `each queued plan ran once, in order:\n${effects.lines.join("\n")}`,
  );
  assert.equal((await scene.engine.waitForStatus("online")).Protocol, 4);
  assert.equal((await second.stop()).code, 0);
});

test("against NATS 2.9, the Last Will of a killed agent marks it offline in the form of its 3.1.1 session", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openNatsScene(t, "nats-will");
  const agent = await scene.startAgent();
  const online = await scene.engine.waitForStatus("online");
  assert.equal(online.Protocol, 4);
  await agent.kill9();
  const offline = await scene.engine.waitForStatus("offline");
  assert.equal(offline.AgentID, scene.agentId);
  assert.equal(
    offline.Protocol,
    4,
    `the Will describes the session it belongs to: ${JSON.stringify(offline)}`,
  );
});
