/**
 * Issue 13 — several broker nodes: a real 3-node NATS 2.9 cluster (JetStream, MQTT `stream_replicas: 3`) and an
 * agent given all three nodes in `broker.urls`. A stream of 100 plans (half run-once-ever with explicit keys,
 * half with fresh content; each script appends a line to its own marker file) goes through a node that stays up
 * while the agent's node is killed with `kill -9`:
 *
 * A. the killed node never returns → every plan answered once, no script run twice, duplicates replayed, the
 *    agent online on another node (its log and its retained `"Broker"`);
 * B. (the same agent, continuing) the killed node returns, the plans go through it, and the agent's new node is
 *    killed → the same guarantees on the remaining nodes;
 * C. (continuing, two nodes up) the agent's node is killed while a plan runs (a script waiting on a gate file):
 *    one node left, NATS has no JetStream quorum and closes every session attempt; the plan ends meanwhile, its
 *    result waits in the outbox; a dead node returns → the result is answered once, a re-send replayed, the
 *    script ran once, the status names the node the agent is on.
 *
 * "Answered" is the engine's view: a result that does not come is asked for again with the plan's ID (SPEC 5.2a),
 * only when the broker acknowledged it to the agent (NATS 2.9 sometimes loses such a result after a node rejoins;
 * `resultOf`), and the answer must then be the stored result; a result the agent never handed over fails the test.
 *
 * The time from each kill to the agent's `online` line on another node is measured and printed: a figure for
 * docs/deploy.md, not an assertion (the waits have generous failure timeouts only).
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  type AgentProcess,
  makeTempDir,
  parseLogfmt,
  removeDir,
  startAgent,
  uniqueAgentId,
} from "../helpers/agent_process.ts";
import { readExecutions, waitForEffects } from "../helpers/effects.ts";
import { connectEngine, type Engine } from "../helpers/engine.ts";
import { gatedPlan, makeGate } from "../helpers/gated_plan.ts";
import { type NatsCluster, type NatsNode, startNatsCluster } from "../helpers/nats_cluster.ts";
import { mqttConsumers } from "../helpers/nats_readiness.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";

/** Failure bound of every wait for the agent or the engine: generous, as the cluster elects leaders on a loss. */
const WAIT_MS = 60_000;
const PLANS = 100;
/** The node is killed once this many plans of the stream are answered. */
const KILL_AFTER = 30;

let cluster: NatsCluster;
let root: string;
let agent: AgentProcess;
const agentId = uniqueAgentId("cluster");
const engines: Engine[] = [];
/** The engine subscribed through each node (tests reuse it: a new subscription right after a kill may be refused). */
const engineOn = new Map<NatsNode, Engine>();

/** An engine through `node`: the one already there, else a new one (SUBACK refused while JetStream settles: again). */
async function engineThrough(node: NatsNode): Promise<Engine> {
  const known = engineOn.get(node);
  if (known) return known;
  for (let attempt = 1; ; attempt++) {
    try {
      const engine = await connectEngine(node, { agentId, protocolVersion: 4, timeoutMs: WAIT_MS });
      engines.push(engine);
      engineOn.set(node, engine);
      return engine;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

before(async () => {
  cluster = await startNatsCluster();
  root = await makeTempDir("cluster");
  mkdirSync(join(root, "markers"));
  const config = join(root, "idem.json");
  // NATS 2.9's MQTT is 3.1.1 only: protocol 4 saves the fallback attempt on every node.
  // Debug: the log names every reply the broker acknowledged (`event=published plan=…`), so that a result the
  // engine misses shows whether the agent handed it over.
  writeFileSync(config, JSON.stringify({ broker: { urls: cluster.urls, protocol: 4 }, logLevel: "debug" }));
  const dataDir = join(root, "data");
  agent = await startAgent({
    broker: cluster.urls[0] as string,
    agentId,
    dataDir,
    argv: ["run", "--config", config, "--agent-id", agentId, "--data-dir", dataDir],
    onlineTimeoutMs: WAIT_MS,
  });
});

after(async () => {
  await agent?.kill9();
  for (const engine of engines) await engine.close().catch(() => {});
  await cluster?.dispose();
  if (root && process.env.IDEM_TEST_KEEP !== "1") await removeDir(root);
});

/** The node named by the agent's last `online` line. */
function onlineNode(): NatsNode {
  const lines = agent.matching(/\bevent=online\b/);
  const broker = parseLogfmt(lines.at(-1) ?? "").broker;
  assert.ok(broker, `the online line names its broker node:\n${agent.tail()}`);
  return cluster.nodeOf(broker);
}

/** How long a result may be missing before the test looks in the agent's log whether the broker acknowledged it. */
const LOST_MS = 15_000;

/** At most this many results of a stream may be asked for again (2 of 110 seen): more is no broker's hiccup. */
const MAX_ASKED_AGAIN = 5;

/**
 * True when the agent's log says the broker acknowledged a reply to `planId` on `topic` (its PUBACK; debug level:
 * `event=published topic=… seq=… plan=…`).
 */
function acknowledged(planId: string, topic: string): boolean {
  return agent.lines.some((line) => {
    const fields = parseLogfmt(line);
    return fields.event === "published" && fields.topic === topic && fields.plan === planId;
  });
}

/**
 * Waits for a result of `plan` through `receiver` as a Murano engine does: one that does not come is asked for
 * again by re-sending the plan with its ID (SPEC 5.2a), and must then be answered from the stored result. The test
 * re-sends only a plan whose result the broker acknowledged to the agent (`event=published plan=<ID>`) and did
 * not deliver within {@link LOST_MS}: NATS 2.9 did that to 2 of the 100 results of test B in about 1 run of 10,
 * both handed over before the kill while the node that had come back caught up (docs/deploy.md, "NATS"). A result
 * the agent never handed over is its own loss: no re-send, the test fails after {@link WAIT_MS} with the agent's
 * lines naming the plan, its log tail and what each NATS node says of the MQTT stream's consumers. Returns whether
 * the plan was re-sent.
 */
async function resultOf(receiver: Engine, sender: Engine, plan: MuranoPlan): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  let resent = false;
  for (;;) {
    try {
      await receiver.waitForResults(plan.ID, 1, Math.max(1, Math.min(LOST_MS, deadline - Date.now())));
      return resent;
    } catch (error) {
      if (Date.now() >= deadline) throw await missing(error as Error, plan);
    }
    if (!resent && acknowledged(plan.ID, receiver.topic("results"))) {
      console.log(
        `# the broker acknowledged the result of ${plan.ID} and never delivered it: re-sent (SPEC 5.2a)`,
      );
      await sender.send(plan);
      resent = true;
    }
  }
}

/** The error of a result that never came, with what the agent and the NATS nodes say of it. */
async function missing(error: Error, plan: MuranoPlan): Promise<Error> {
  const named = agent.matching(new RegExp(plan.ID)).join("\n") || "(none)";
  const running = cluster.nodes.filter((node) => node.running);
  const consumers = await Promise.all(running.map(async (n) => `${n.name}:\n${await mqttConsumers(n)}`));
  return new Error(
    `${error.message}\n--- agent lines naming ${plan.ID} ---\n${named}\n${agent.tail()}\n` +
      `--- NATS consumers of the MQTT messages ---\n${consumers.join("\n")}`,
  );
}

/** The output of the one run of `plan` whose script writes `marker`: its PID (from the marker) and its tag. */
function runOutput(plan: MuranoPlan, marker: string): string {
  const [run] = readExecutions(marker).executions;
  return `ran ${run?.pid} ${(plan.Parameters as { tag: string }).tag} payload`;
}

/** One plan of the stream: even ones run-once-ever with an explicit key, odd ones fresh content. */
function streamPlan(round: string, i: number): { plan: MuranoPlan; marker: string; key?: string } {
  const marker = join(root, "markers", `${round}-${i}.log`);
  if (i % 2 === 1) return { plan: applicationPlan({ effects: marker, tag: `${round}-fresh-${i}` }), marker };
  const key = `${round}-once-${i}`;
  const idempotency = { Policy: "run-once-ever", Key: key };
  return { plan: applicationPlan({ effects: marker, tag: key, idempotency }), marker, key };
}

/**
 * Sends the stream through `engine` (results and status read through `receiverFor(victim)`, default `engine`) and kills the agent's node with `kill -9` once {@link KILL_AFTER} plans are
 * answered; then re-sends ten of the run-once-ever plans (fresh IDs, same keys) once the agent is online again.
 * Checks every guarantee and returns the failover time (kill → `online` on another node, from the log's time).
 */
async function streamThroughKill(
  round: string,
  engine: Engine,
  receiverFor: (victim: NatsNode) => Promise<Engine> = async () => engine,
): Promise<{ from: NatsNode; to: NatsNode; ms: number }> {
  const stream = Array.from({ length: PLANS }, (_, i) => streamPlan(round, i));
  const victim = onlineNode();
  const receiver = await receiverFor(victim);
  const since = agent.mark();
  const sending = (async () => {
    for (const { plan } of stream) await engine.send(plan);
  })();
  await receiver.waitForResults((stream[KILL_AFTER - 1] as { plan: MuranoPlan }).plan.ID, 1, WAIT_MS);
  const killedAt = Date.now();
  await victim.kill9();
  const [online] = await agent.waitForLog(/\bevent=online\b/, { since, timeoutMs: WAIT_MS });
  const onlineAt = Date.parse(parseLogfmt(online ?? "").time ?? "");
  const to = onlineNode();
  assert.notEqual(
    to,
    victim,
    `the agent is online on another node than the killed ${victim.name}:\n${agent.tail()}`,
  );
  const moved = agent.matching(/\bevent=broker-node\b/, since);
  assert.ok(moved.length >= 1, `the agent logs event=broker-node when it moves:\n${agent.tail()}`);
  assert.equal(parseLogfmt(moved[0] as string).from, victim.url, moved[0]);

  await sending;
  const duplicates = stream.filter((s) => s.key !== undefined).slice(0, 10);
  const resent = duplicates.map(({ plan: original, marker, key }) => {
    const plan = applicationPlan({
      effects: marker,
      tag: key as string,
      idempotency: { Policy: "run-once-ever", Key: key as string },
    });
    assert.notEqual(plan.ID, original.ID);
    return { plan, marker };
  });
  for (const { plan } of resent) await engine.send(plan);
  const askedAgain = new Set<string>();
  for (const { plan } of [...stream, ...resent])
    if (await resultOf(receiver, engine, plan)) askedAgain.add(plan.ID);

  console.log(`# ${round}: ${askedAgain.size} result(s) the broker acknowledged and lost, asked for again`);
  assert.ok(askedAgain.size <= MAX_ASKED_AGAIN, `${askedAgain.size} results asked for again`);
  for (const { plan, marker } of stream) {
    const runs = readExecutions(marker).executions;
    assert.equal(
      runs.length,
      1,
      `the script of ${plan.ID} ran once:\n${readExecutions(marker).lines.join("\n")}`,
    );
    const output = runOutput(plan, marker);
    const answers = receiver.distinctResultsFor(plan.ID);
    if (askedAgain.has(plan.ID)) {
      // Asked again: its stored result (a replay), and the lost one as well should the broker deliver it after
      // all; whichever came, each is the one run's output (below). A replay that is no replay would be a second run.
      assert.ok(answers.length <= 2, `plan ${plan.ID} asked twice, answered: ${JSON.stringify(answers)}`);
      assert.ok(
        answers.filter((answer) => answer.Idem?.Decision !== "replay").length <= 1,
        `plan ${plan.ID} asked again is answered from its stored result: ${JSON.stringify(answers)}`,
      );
    } else assert.equal(answers.length, 1, `plan ${plan.ID} answered once: ${JSON.stringify(answers)}`);
    for (const answer of answers) {
      assert.equal(answer.ErrorCode, 0, JSON.stringify(answer));
      assert.equal(
        answer.Body,
        output,
        `plan ${plan.ID}'s answer is its run's output: ${JSON.stringify(answer)}`,
      );
    }
  }
  for (const { plan, marker } of resent) {
    const answers = receiver.distinctResultsFor(plan.ID);
    for (const answer of answers) {
      assert.equal(
        answer.Idem?.Decision,
        "replay",
        `a re-sent run-once-ever plan is replayed: ${JSON.stringify(answer)}`,
      );
      assert.equal(answer.Body, runOutput(plan, marker), `the stored result: ${JSON.stringify(answer)}`);
    }
  }
  // NATS may close the new session again while its JetStream assets settle (seen a few seconds after a kill, the
  // status published on that node then lost): the status must name the node the agent is on now, never the victim.
  assert.notEqual(
    onlineNode(),
    victim,
    `the agent is not back on the killed ${victim.name}:\n${agent.tail()}`,
  );
  const status = await receiver.waitForStatusMatching(
    (s) => s.State === "online" && s.Broker === onlineNode().url,
    WAIT_MS,
  );
  assert.equal(status.AgentID, agentId);
  return { from: victim, to, ms: onlineAt - killedAt };
}

test("the agent's node is killed mid-stream and never returns: every plan answered once, none run twice, the agent online on another node", {
  timeout: 180_000,
}, async () => {
  const first = onlineNode();
  assert.equal(first.url, cluster.urls[0], "the agent starts on the first node of broker.urls");
  const through = cluster.nodes.at(-1) as NatsNode;
  assert.notEqual(through, first);
  const engine = await engineThrough(through);
  const { from, to, ms } = await streamThroughKill("a", engine);
  console.log(
    `# failover A: ${from.name} killed -> online on ${to.name} in ${ms} ms (${PLANS} plans, 0 lost, 0 run twice)`,
  );
});

test("the killed node returns and the agent's new node is killed: the same guarantees on the nodes left", {
  timeout: 180_000,
}, async () => {
  const returning = cluster.nodes.find((node) => !node.running);
  assert.ok(returning, "test A left one node down");
  await returning.start();
  await cluster.waitUntilServing();
  // The plans go through the node that came back: it serves the cluster's streams again. Results are read on the
  // node that is neither the returned one nor the agent's (killed next). Even there NATS now and then loses a
  // result it acknowledged to the agent while the returned node catches up: the engine asks for it again
  // (`resultOf`).
  const engine = await engineThrough(returning);
  const { from, to, ms } = await streamThroughKill("b", engine, (victim) => {
    const stable = cluster.nodes.find((node) => node.running && node !== returning && node !== victim);
    assert.ok(stable, `a third node is up besides ${returning.name} and the agent's ${victim.name}`);
    return engineThrough(stable);
  });
  assert.notEqual(from, returning);
  console.log(
    `# failover B: ${from.name} killed -> online on ${to.name} in ${ms} ms (${PLANS} plans, 0 lost, 0 run twice)`,
  );
});

test("with two nodes left, the agent's node is killed while a plan runs: no quorum, its result waits in the outbox, and once a node returns it is answered, run once", {
  timeout: 180_000,
}, async () => {
  const up = cluster.nodes.filter((node) => node.running);
  assert.equal(up.length, 2, "test B left two nodes running");
  const victim = onlineNode();
  const engine = await engineThrough(up.find((node) => node !== victim) as NatsNode);
  const gate = makeGate(join(root, "gate-c"));
  const marker = join(root, "markers", "c-running.log");
  const idempotency = { Policy: "run-once-ever", Key: "c-running" };
  const plan = gatedPlan(gate, { effects: marker, tag: "c", idempotency });
  await engine.send(plan);
  await waitForEffects(marker, (e) => e.executions.length === 1, WAIT_MS);

  // One node of three left: NATS closes every MQTT session attempt (its JetStream has no quorum).
  const since = agent.mark();
  const killedAt = Date.now();
  await victim.kill9();
  await agent.waitForLog(/\bevent=offline\b/, { since, timeoutMs: WAIT_MS });
  gate.open();
  await waitForEffects(marker, (e) => e.executions[0]?.done === true, WAIT_MS);
  const back = cluster.nodes.find((node) => !node.running && node !== victim) as NatsNode;
  const backAt = Date.now();
  await back.start();

  const [result] = await engine.waitForResults(plan.ID, 1, WAIT_MS);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
  const [online] = agent.matching(/\bevent=online\b/, since);
  assert.ok(online, `the agent came back online:\n${agent.tail()}`);
  const fields = parseLogfmt(online);
  assert.notEqual(cluster.nodeOf(fields.broker as string), victim, online);
  const resent = gatedPlan(gate, { effects: marker, tag: "c", idempotency });
  await engine.send(resent);
  const [replayed] = await engine.waitForResults(resent.ID, 1, WAIT_MS);
  assert.equal(replayed?.Idem?.Decision, "replay", JSON.stringify(replayed));
  assert.equal(readExecutions(marker).executions.length, 1, readExecutions(marker).lines.join("\n"));
  assert.notEqual(onlineNode(), victim);
  await engine.waitForStatusMatching((s) => s.State === "online" && s.Broker === onlineNode().url, WAIT_MS);
  const onlineAt = Date.parse(fields.time ?? "");
  console.log(
    `# quorum C: ${victim.name} killed with one node left (outbox=${fields.outbox} at the next online); ${back.name} restarted -> online on ${cluster.nodeOf(fields.broker as string).name} ${onlineAt - backAt} ms later (${onlineAt - killedAt} ms after the kill)`,
  );
});
