/**
 * Issue 9 item 5, SPEC 9a: secrets never reach logs, events, status, results or scripts. A password in the broker
 * URL is refused at start (exit 2) with where to put it instead, and without repeating it. A password given in the
 * config file (`broker.password`) is used to log in and appears in no log line, at debug level too: not with a
 * broker that accepts it (through a broker restart, whose offline / broker-error / connecting lines name the
 * broker), nor with one that refuses it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { AgentProcess } from "../helpers/agent_process.ts";
import { freePort, startBroker } from "../helpers/broker.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const USER = "idem-agent";
const PASSWORD = "pw-Zq8xv3-for-the-test";
const WRONG = "wrong-Kp2mn7-for-the-test";

test("a password in the broker URL stops the agent at start with exit 2, saying where to give it, never repeating it", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "secret-url");
  const url = `mqtt://${USER}:${PASSWORD}@127.0.0.1:${scene.broker.port}`;
  const config = join(scene.root, "agent.json");
  writeFileSync(config, JSON.stringify({ broker: { url } }));
  for (const [how, options] of [
    ["--broker", { broker: url }],
    [
      "IDEM_BROKER",
      { argv: ["run", "--agent-id", scene.agentId, "--data-dir", scene.dataDir], env: { IDEM_BROKER: url } },
    ],
    [
      "the config file",
      { argv: ["run", "--config", config, "--agent-id", scene.agentId, "--data-dir", scene.dataDir] },
    ],
  ] as const) {
    const agent = await scene.startAgent({ ...options, waitOnline: false });
    const exit = await agent.waitForExit();
    const output = [...agent.lines, ...agent.stdout].join("\n");
    assert.equal(exit.code, 2, `${how}: ${agent.tail()}`);
    assert.match(
      output,
      /Cannot use a broker URL with a password in it \(mqtt:\/\/\*\*\*@127\.0\.0\.1:\d+\)/,
      how,
    );
    assert.match(output, /broker\.password or in IDEM_BROKER_PASSWORD/, how);
    assert.ok(!output.includes(PASSWORD), `${how}: the password is not repeated:\n${output}`);
  }
});

test("a password from the config file appears in no log line at debug level, nor in status, events or results", {
  timeout: 90_000,
}, async (t) => {
  const authPort = await freePort();
  const scene = await openScene(t, "secret-config", {
    server: async (root) => {
      const passwords = join(root, "passwords");
      execFileSync("mosquitto_passwd", ["-b", "-c", passwords, USER, PASSWORD], { stdio: "ignore" });
      chmodSync(passwords, 0o644); // mosquitto run as root reads it as the user mosquitto
      return await startBroker({
        extraConfig: ["per_listener_settings true"],
        listeners: [{ port: authPort, settings: [`password_file ${passwords}`, "allow_anonymous false"] }],
      });
    },
  });
  const startWith = async (name: string, password: string, waitOnline: boolean): Promise<AgentProcess> => {
    const config = join(scene.root, `${name}.json`);
    const broker = { url: `mqtt://127.0.0.1:${authPort}`, username: USER, password, reconnectSeconds: 0.2 };
    writeFileSync(config, JSON.stringify({ agentId: `${scene.agentId}${name}`, broker }));
    const dataDir = join(scene.root, `data-${name}`);
    const argv = ["run", "--config", config, "--data-dir", dataDir, "--log-level", "debug"];
    return await scene.startAgent({ argv, waitOnline });
  };

  // Accepted: online, runs a plan, goes through a broker restart (offline, broker-error, connecting lines).
  const agent = await startWith("", PASSWORD, true);
  const plan = applicationPlan({ effects: scene.effects, tag: "secret" });
  await scene.engine.send(plan);
  const result = await scene.engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  await scene.broker.stop();
  await agent.waitForLog(/\bevent=offline\b/);
  await scene.broker.restart();
  await agent.waitForLog(/\bevent=online\b/, { count: 2, timeoutMs: 30_000 });
  assert.ok(agent.matching(/\blevel=debug\b/).length > 0, "debug lines were written");
  assert.ok(agent.matching(/\bevent=(broker-error|offline)\b/).length > 0, agent.tail());

  // Refused: a wrong password in the config, three refusals in a row.
  const refused = await startWith("-wrong", WRONG, false);
  const errors = await refused.waitForLog(/\bevent=broker-error\b/, { count: 3 });
  assert.match(errors[0] as string, /not authori[sz]ed/i);

  await scene.engine.waitForStatus("online");
  await refused.stop();
  await agent.stop();
  for (const [name, process, secret] of [
    ["accepted", agent, PASSWORD],
    ["refused", refused, WRONG],
  ] as const) {
    const leaks = [...process.lines, ...process.stdout].filter((line) => line.includes(secret));
    assert.deepEqual(leaks, [], `${name}: no log line holds the password`);
  }
  const published = JSON.stringify([scene.engine.results, scene.engine.events, scene.engine.statuses]);
  assert.ok(!published.includes(PASSWORD) && !published.includes(WRONG), "nor results, events or status");
});
