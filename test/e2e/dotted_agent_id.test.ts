/**
 * SPEC 2 — the transport decides every message it acknowledges, and says so when the broker refuses the agent's
 * topics. An agent id with `.` (`web-1.prod`, made unique per run) on real brokers:
 * - RabbitMQ 3.10 delivers `idem/web-1.prod/plans` as `idem/web-1/prod/plans` (it maps `/` ↔ `.` for AMQP):
 *   that is still a plan, run and answered;
 * - mosquitto (MQTT 5) delivers it under its own name;
 * - NATS 2.9 closes the connection on a CONNECT whose Last Will topic has a `.`: the agent stops at start (exit 2)
 *   saying so, instead of reconnecting silently forever; a refused SUBSCRIBE (SUBACK 0x80) stops it too;
 * - a listener that hangs up on every CONNECT, with or without the Will, is a broker in trouble: retried.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import {
  type AgentProcess,
  makeTempDir,
  parseLogfmt,
  removeDir,
  startAgent,
  uniqueAgentId,
} from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { sameTopic } from "../helpers/engine.ts";
import { type NatsServer, startNats } from "../helpers/nats.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { startRabbitMq } from "../helpers/rabbitmq.ts";
import type { MqttServer } from "../helpers/scene.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

const DEBUG = ["--log-level", "debug"];

/** Runs a plan and its re-send on the scene's agent; returns the first result as received. */
async function runAndReplay<S extends MqttServer>(scene: Scene<S>, tag: string) {
  const plan = applicationPlan({ effects: scene.effects, tag });
  await scene.engine.send(plan);
  const [ran] = await scene.engine.waitForResults(plan.ID);
  assert.equal(ran?.ErrorCode, 0, JSON.stringify(ran));
  assert.equal(ran?.Idem?.Decision, "run");
  assert.equal(ran?.Idem?.AgentID, scene.agentId);

  const resend = applicationPlan({ effects: scene.effects, tag });
  await scene.engine.send(resend);
  const replayed = await scene.engine.waitForResult(resend.ID);
  assert.equal(replayed.Idem?.Decision, "replay", JSON.stringify(replayed));
  assert.equal(replayed.Idem?.RanAs, plan.ID);
  const effects = readExecutions(scene.effects);
  assert.equal(effects.executions.length, 1, `executed once:\n${effects.lines.join("\n")}`);
  const received = scene.engine.results.find((r) => r.result.SourceID === plan.ID);
  assert.ok(received);
  return received;
}

test("on RabbitMQ 3.10 an agent id with '.' gets its plans, delivered under a rewritten topic name, and answers them", {
  timeout: 120_000,
}, async (t) => {
  const scene = await openScene(t, "web-1.prod", { server: () => startRabbitMq(), engineProtocol: 4 });
  assert.match(scene.agentId, /\./);
  const agent = await scene.startAgent({ extraArgs: DEBUG });
  const status = await scene.engine.waitForStatus("online");
  assert.equal(status.AgentID, scene.agentId);
  assert.equal(status.Protocol, 4, "RabbitMQ 3.10 speaks 3.1.1 only");

  const received = await runAndReplay(scene, "rabbit");

  // The broker's rewrite, seen by the engine too: `/` and `.` swapped places on the way through AMQP.
  const resultsTopic = scene.engine.topic("results");
  assert.notEqual(received.topic, resultsTopic, "RabbitMQ delivers a topic with '.' under another name");
  assert.ok(sameTopic(received.topic, resultsTopic), received.topic);
  // Each plan arrived under the rewritten name and was handed to the intake, not acknowledged and dropped.
  const plansTopic = scene.engine.topic("plans");
  const rewritten = agent.matching(/\bevent=plan-topic-rewritten\b/).map(parseLogfmt);
  assert.equal(rewritten.length, 2, agent.tail());
  for (const fields of rewritten) {
    assert.equal(fields.subscribed, plansTopic);
    assert.equal(fields.topic, plansTopic.replaceAll(".", "/"));
  }
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

test("on mosquitto (MQTT 5) an agent id with '.' gets its plans under their own topic name and answers them", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "web-1.prod");
  const agent = await scene.startAgent({ extraArgs: DEBUG });
  assert.equal(parseLogfmt(agent.matching(/\bevent=online\b/)[0] as string).protocol, "5");

  const received = await runAndReplay(scene, "mosquitto");
  assert.equal(received.topic, scene.engine.topic("results"));
  assert.deepEqual(agent.matching(/\bevent=plan-topic-rewritten\b/), [], "mosquitto keeps topic names");
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

/** A NATS 2.9 server, a data dir and the agents started on it, all cleaned up after the test. */
async function natsWorld(
  t: { after(fn: () => Promise<void>): void },
  name: string,
  extraConfig: string[] = [],
) {
  const root = await makeTempDir(name);
  const agents: AgentProcess[] = [];
  let nats: NatsServer | undefined;
  t.after(async () => {
    for (const agent of agents) await agent.kill9();
    await nats?.dispose();
    await removeDir(root);
  });
  nats = await startNats({ extraConfig });
  const server = nats;
  return {
    nats: server,
    async start(agentId: string, waitOnline: boolean): Promise<AgentProcess> {
      const agent = await startAgent({
        broker: server,
        agentId,
        dataDir: join(root, agentId),
        waitOnline,
      });
      agents.push(agent);
      return agent;
    },
  };
}

/** Waits for the agent to exit; checks exit code 2 within `boundMs` and exactly one error line. */
async function expectFatal(agent: AgentProcess, boundMs: number): Promise<Record<string, string>> {
  const started = Date.now();
  const exit = await agent.waitForExit(boundMs);
  const elapsed = Date.now() - started;
  assert.equal(exit.code, 2, `exit code 2 (a usage/configuration error), not a crash:\n${agent.tail()}`);
  assert.ok(elapsed < boundMs, `stopped within ${boundMs} ms (${elapsed} ms)`);
  const errors = agent.matching(/\blevel=error\b/);
  assert.equal(errors.length, 1, `one error line:\n${agent.tail()}`);
  const fields = parseLogfmt(errors[0] as string);
  assert.equal(fields.event, "fatal");
  assert.deepEqual(agent.matching(/\bevent=online\b/), [], "never online");
  return fields;
}

test("on NATS 2.9, which refuses '.' in MQTT topics, an agent id with '.' stops at start with exit 2 and says why", {
  timeout: 60_000,
}, async (t) => {
  const world = await natsWorld(t, "nats-dotted");
  const agentId = uniqueAgentId("web-1.prod");
  const agent = await world.start(agentId, false);
  const { message } = await expectFatal(agent, 15_000);
  assert.ok(message?.includes(world.nats.url), `names the broker: ${message}`);
  assert.ok(message?.includes(`idem/${agentId}/status`), `names the refused topic: ${message}`);
  assert.match(message ?? "", /refuses/, message);
  assert.ok(message?.includes(`agent id "${agentId}" contains "."`), message);
  const suggested = agentId.replaceAll(".", "-");
  assert.ok(message?.includes(`"${suggested}"`), `suggests an id without '.': ${message}`);

  // The advice works: the suggested id comes online on the same broker.
  const fixed = await world.start(suggested, true);
  assert.equal((await fixed.stop()).code, 0, fixed.tail());
});

test("a broker that refuses the SUBSCRIBE to the plans topic (SUBACK 0x80) stops the agent at start with exit 2", {
  timeout: 60_000,
}, async (t) => {
  // NATS 2.9 answers a subscription its permissions deny with SUBACK 0x80 (anonymous MQTT clients get `agent`).
  const world = await natsWorld(t, "nats-suback", [
    'authorization { users: [ { user: agent, password: pw, permissions: { subscribe: { deny: ["idem.*.plans"] } } } ] }',
    "no_auth_user: agent",
  ]);
  const agentId = uniqueAgentId("suback");
  const agent = await world.start(agentId, false);
  const { message } = await expectFatal(agent, 15_000);
  assert.ok(message?.includes(`plans topic idem/${agentId}/plans`), message);
  assert.match(message ?? "", /refused it \(SUBACK code 0x80\)/, message);
  assert.doesNotMatch(message ?? "", /contains "\."/, "no '.' advice for an id without one");
});

test("a listener that hangs up on every CONNECT, with or without the Last Will, is retried, not diagnosed", {
  timeout: 60_000,
}, async (t) => {
  // What a load balancer with no broker behind it does: accept, read the CONNECT, close.
  const sockets = new Set<Socket>();
  let connections = 0;
  const listener = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.once("data", () => socket.end());
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const address = listener.address();
  assert.ok(address !== null && typeof address === "object");
  const root = await makeTempDir("hang-up");
  let agent: AgentProcess | undefined;
  t.after(async () => {
    await agent?.kill9();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => listener.close(resolve));
    await removeDir(root);
  });
  // Short reconnect delays: the diagnosis is under test here, not the backoff (reconnect_backoff.test.ts).
  const configFile = join(root, "agent.json");
  writeFileSync(configFile, JSON.stringify({ broker: { reconnectSeconds: 0.1, reconnectMaxSeconds: 0.4 } }));
  agent = await startAgent({
    broker: `mqtt://127.0.0.1:${address.port}`,
    agentId: uniqueAgentId("web-1.prod"),
    dataDir: join(root, "data"),
    waitOnline: false,
    extraArgs: ["--config", configFile],
  });
  // Two rounds of hang-ups, each followed by a CONNECT without the Will that is refused too: still running.
  const warnings = await agent.waitForLog(/\bevent=broker-hangs-up\b/, { count: 2 });
  assert.equal(agent.exited, undefined, `still running:\n${agent.tail()}`);
  assert.ok(connections >= 8, `6 hang-ups and 2 probes at least (${connections})`);
  assert.equal(parseLogfmt(warnings[0] as string).level, "warn");
  assert.deepEqual(agent.matching(/\blevel=error\b/), [], agent.tail());
  assert.equal((await agent.stop()).code, 0, agent.tail());
});
