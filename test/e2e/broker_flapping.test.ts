/**
 * Issue 13 — a node that keeps closing the connection right after accepting it, on a real RabbitMQ 3.10 node: a
 * message published over AMQP (kombu, as a Murano engine publishes) with an `x-mqtt-publish-qos` header that is
 * not a byte makes RabbitMQ's MQTT plugin close the agent's connection on every delivery. The agent must say so
 * (`event=broker-flapping` at error, with what to check), keep backing off rather than loop, never take it for a
 * refused topic (no exit 2), and, given another node, move to it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
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
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { pythonWithKombu } from "../helpers/kombu_engine.ts";
import { type RabbitMqServer, startRabbitMq } from "../helpers/rabbitmq.ts";

const WAIT_MS = 60_000;
let rabbit: RabbitMqServer;
let mosquitto: MosquittoBroker;
let root: string;
const agents: AgentProcess[] = [];

before(async () => {
  [rabbit, mosquitto] = await Promise.all([startRabbitMq(), startBroker()]);
  root = await makeTempDir("flapping");
});

after(async () => {
  for (const agent of agents) await agent.kill9();
  await Promise.all([rabbit?.dispose(), mosquitto?.dispose()]);
  if (root) await removeDir(root);
});

/** Starts an agent on `urls` (fast backoff: 0.2 s doubling) and waits until it is online. */
async function agentOn(name: string, urls: string[]): Promise<{ agent: AgentProcess; agentId: string }> {
  const agentId = uniqueAgentId(name);
  const config = join(root, `${name}.json`);
  writeFileSync(config, JSON.stringify({ broker: { urls, protocol: 4, reconnectSeconds: 0.2 } }));
  const dataDir = join(root, name);
  const argv = [
    "run",
    "--config",
    config,
    "--agent-id",
    agentId,
    "--data-dir",
    dataDir,
    "--log-level",
    "debug",
  ];
  const agent = await startAgent({
    broker: urls[0] as string,
    agentId,
    dataDir,
    argv,
    onlineTimeoutMs: WAIT_MS,
  });
  agents.push(agent);
  return { agent, agentId };
}

/** Publishes a plan over AMQP to the agent's plans topic the way kombu does by default: the header as an int. */
function publishPoison(agentId: string): void {
  const script = [
    "import sys, kombu",
    "with kombu.Connection(sys.argv[1]) as connection:",
    "    connection.Producer().publish('{\"ID\": \"poison\"}', exchange=kombu.Exchange('amq.topic', type='topic',",
    "        passive=True), routing_key=sys.argv[2], headers={'x-mqtt-publish-qos': 1}, serializer=None,",
    "        content_type='application/json', content_encoding='utf-8')",
  ].join("\n");
  const published = spawnSync(pythonWithKombu(), ["-c", script, rabbit.amqpUrl, `idem.${agentId}.plans`], {
    encoding: "utf8",
  });
  assert.equal(published.status, 0, `kombu published the plan: ${published.stderr}`);
}

test("on a single node that closes on every delivery the agent diagnoses it, repeats it, and backs off", {
  timeout: 180_000,
}, async () => {
  const { agent, agentId } = await agentOn("single", [rabbit.url]);
  const since = agent.mark();
  publishPoison(agentId);
  const [first] = await agent.waitForLog(/\bevent=broker-flapping\b/, { since, timeoutMs: WAIT_MS });
  const fields = parseLogfmt(first as string);
  assert.equal(fields.level, "error", first);
  assert.equal(fields.times, "3", first);
  for (const needle of ["x-mqtt-publish-qos", "broker's log", "ACLs", "same agent id", "growing delay"]) {
    assert.ok(fields.message?.includes(needle), `the diagnosis says "${needle}": ${first}`);
  }
  // Visible again three closes later, while the delays keep doubling (0.2 s × 2^(n-1), ±50 % jitter).
  await agent.waitForLog(/\bevent=broker-flapping\b.*\btimes=6\b/, { since, timeoutMs: WAIT_MS });
  // One offline line per close, logged right after that close's diagnosis.
  const offline = (await agent.waitForLog(/\bevent=offline\b/, { since, count: 6, timeoutMs: WAIT_MS })).map(
    parseLogfmt,
  );
  for (const line of offline.slice(0, 6)) {
    const step = 200 * 2 ** (Number(line.attempt) - 1);
    const delay = Number(line.retryInMs);
    assert.ok(
      delay >= step * 0.5 && delay <= step * 1.5,
      `attempt ${line.attempt} waits ${delay} ms ≈ ${step}`,
    );
  }
  assert.equal(agent.exited, undefined, "no fatal exit: a broker closing on a delivery refuses no topic");
  assert.equal(agent.matching(/\bevent=fatal\b/).length, 0, agent.tail());
});

test("with another node the agent moves there and stays online", { timeout: 180_000 }, async () => {
  const { agent, agentId } = await agentOn("nodes", [rabbit.url, mosquitto.url]);
  assert.equal(parseLogfmt(agent.matching(/\bevent=online\b/)[0] as string).broker, rabbit.url);
  const since = agent.mark();
  publishPoison(agentId);
  const [online] = await agent.waitForLog(/\bevent=online\b/, { since, timeoutMs: WAIT_MS });
  assert.equal(parseLogfmt(online as string).broker, mosquitto.url, agent.tail());
  const [moved] = agent.matching(/\bevent=broker-node\b/, since).map(parseLogfmt);
  assert.equal(moved?.from, rabbit.url);
  assert.equal(moved?.to, mosquitto.url);
  assert.equal(moved?.level, "warn");
  assert.equal(agent.exited, undefined);
});
