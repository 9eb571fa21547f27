/**
 * Issue 9 item 6: the mosquitto ACL of docs/security.md (read from the page itself) confines each agent to its own
 * topics. An agent logged in as its own user comes online and serves the engine; another agent's login cannot
 * publish to its plans or status topic (PUBACK 0x87, and the agent never sees the plan) nor read its results, and an
 * anonymous client is refused.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectAsync, type MqttClient } from "mqtt";
import { makeTempDir, REPO_ROOT, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { freePort, startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { Engine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";

/** The ACL file as docs/security.md gives it (the code block that starts with its path). */
function documentedAcl(): string {
  const page = readFileSync(join(REPO_ROOT, "docs/security.md"), "utf8");
  const block = /```conf\n(# \/etc\/mosquitto\/idem\.acl[\s\S]*?)```/.exec(page)?.[1];
  assert.ok(block, "docs/security.md has the mosquitto ACL block");
  return block;
}

test("with the documented mosquitto ACL another login can neither publish to an agent's plans nor read its results", {
  timeout: 90_000,
}, async (t) => {
  const root = await makeTempDir("acl");
  chmodSync(root, 0o755); // mosquitto, started as root, reads the files as the user mosquitto
  const clients: MqttClient[] = [];
  t.after(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => {});
    await removeDir(root);
  });
  const agentId = uniqueAgentId("acl");
  const other = uniqueAgentId("acl-other");
  const password = (user: string) => `pw-${user}-for-the-test`;
  const passwords = join(root, "passwords");
  execFileSync("mosquitto_passwd", ["-b", "-c", passwords, agentId, password(agentId)], { stdio: "ignore" });
  for (const user of [other, "engine"]) {
    execFileSync("mosquitto_passwd", ["-b", passwords, user, password(user)], { stdio: "ignore" });
  }
  const acl = join(root, "idem.acl");
  writeFileSync(acl, documentedAcl());
  for (const file of [passwords, acl]) chmodSync(file, 0o644);
  const port = await freePort();
  const broker = await startBroker({
    extraConfig: ["per_listener_settings true"],
    listeners: [
      { port, settings: [`password_file ${passwords}`, `acl_file ${acl}`, "allow_anonymous false"] },
    ],
  });
  t.after(() => broker.dispose());
  const login = async (user: string) => {
    const client = await connectAsync({
      host: "127.0.0.1",
      port,
      protocolVersion: 5,
      username: user,
      password: password(user),
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  };

  const config = join(root, "agent.json");
  const url = `mqtt://127.0.0.1:${port}`;
  writeFileSync(config, JSON.stringify({ broker: { url, username: agentId, password: password(agentId) } }));
  const agent = await startAgent({
    broker: url,
    agentId,
    dataDir: join(root, "data"),
    extraArgs: ["--config", config],
  });
  t.after(async () => void (await agent.kill9()));
  const engine = new Engine(await login("engine"), { agentId });
  await engine.subscribeAll();
  const effects = join(root, "effects.log");

  // The ACL lets the agent serve the engine.
  const first = applicationPlan({ effects, tag: "engine-1" });
  await engine.send(first);
  assert.equal((await engine.waitForResult(first.ID)).ErrorCode, 0);
  assert.equal((await engine.waitForStatus("online")).AgentID, agentId);

  // Another agent's login: its subscriptions are granted but deliver nothing of this agent; its publishes are refused.
  const intruder = await login(other);
  const seen: string[] = [];
  intruder.on("message", (topic) => seen.push(topic));
  await intruder.subscribeAsync({ [`idem/${agentId}/results`]: { qos: 1 }, "idem/#": { qos: 1 } });
  const forged = applicationPlan({ effects, tag: "forged" });
  for (const topic of [`idem/${agentId}/plans`, `idem/${agentId}/status`]) {
    await assert.rejects(
      intruder.publishAsync(topic, JSON.stringify(forged), { qos: 1, retain: topic.endsWith("status") }),
      (error: Error & { code?: number }) => error.code === 0x87,
      `publishing to ${topic} is not authorized`,
    );
  }
  const second = applicationPlan({ effects, tag: "engine-2" });
  await engine.send(second);
  assert.equal((await engine.waitForResult(second.ID)).ErrorCode, 0);
  // Delivery to one client is in order: once the intruder gets its own marker, it got whatever came before.
  const marker = new Promise<void>((resolve) =>
    intruder.on("message", (topic) => topic === `idem/${other}/status` && resolve()),
  );
  await intruder.publishAsync(`idem/${other}/status`, "marker", { qos: 1 });
  await marker;
  assert.deepEqual(seen, [`idem/${other}/status`], "none of the agent's results, status or events");

  assert.deepEqual(
    readExecutions(effects).executions.map((e) => e.args),
    ["engine-1", "engine-2"],
    "the forged plan never ran",
  );
  assert.equal(agent.matching(new RegExp(forged.ID)).length, 0, "the agent never saw it");
  assert.equal(engine.status?.State, "online", "its retained status was not overwritten");

  await assert.rejects(
    connectAsync({ host: "127.0.0.1", port, protocolVersion: 5, reconnectPeriod: 0 }),
    (error: Error & { code?: number }) => error.code === 0x87 || error.code === 0x86,
    "an anonymous client is refused",
  );
  assert.equal((await agent.stop()).code, 0, agent.tail());
});
