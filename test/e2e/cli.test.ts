/**
 * The command line as an operator uses it: `--help`, `idem run --broker embedded:PORT`, `idem send --wait`
 * with its exit codes, and the clear errors for a taken port and an unreachable broker.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import {
  type AgentProcess,
  makeTempDir,
  removeDir,
  runIdem,
  startAgent,
  uniqueAgentId,
} from "../helpers/agent_process.ts";
import { freePort } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";

test("--help lists the commands and exits 0; an unknown command exits 2 with the help", async () => {
  const help = await runIdem(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /idem run/);
  assert.match(help.stdout, /idem send/);
  assert.match(help.stdout, /--broker embedded:\d+/);
  const wrong = await runIdem(["launch"]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /unknown command "launch"/);
});

describe("an agent on its embedded broker, driven by idem send", () => {
  let dir: string;
  let port: number;
  let agent: AgentProcess;
  const agentId = uniqueAgentId("cli");

  before(async () => {
    dir = await makeTempDir("cli");
    port = await freePort();
    agent = await startAgent({
      broker: `embedded:${port}`,
      agentId,
      dataDir: join(dir, "data"),
      generation: 4,
    });
  });
  after(async () => {
    await agent?.stop();
    await removeDir(dir);
  });

  const send = (plan: Record<string, unknown>, ...flags: string[]) => {
    const file = join(dir, `${plan.ID}.json`);
    writeFileSync(file, JSON.stringify(plan));
    return runIdem([
      "send",
      "--broker",
      `mqtt://127.0.0.1:${port}`,
      "--agent-id",
      agentId,
      ...flags,
      "--wait",
      "30",
      file,
    ]);
  };

  test("the agent connects to its embedded broker (aedes: MQTT 3.1.1) with 3.1.1 at once, without a fallback warning", async () => {
    await agent.waitForLog(/event=connected\b/);
    assert.deepEqual(agent.matching(/event=protocol-fallback/), [], agent.tail());
    assert.match(agent.matching(/event=connected\b/)[0] ?? "", /\bprotocol=4\b/, agent.tail());
  });

  test("send --wait prints the result and exits 0; a re-send is replayed", async () => {
    const effects = join(dir, "ok.log");
    const first = await send(applicationPlan({ effects, tag: "hello" }), "--generation", "4");
    assert.equal(first.code, 0, first.stderr);
    const result = JSON.parse(first.stdout) as {
      ErrorCode: number;
      Idem: { Decision: string; Replayed: boolean };
    };
    assert.equal(result.ErrorCode, 0);
    assert.equal(result.Idem.Decision, "run");

    const again = await send(applicationPlan({ effects, tag: "hello" }), "--generation", "4");
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { Idem: { Replayed: boolean } }).Idem.Replayed, true);
    assert.equal(readExecutions(effects).executions.length, 1);
  });

  test("send --wait exits 1 when the plan fails, and for a stale generation (nothing runs)", async () => {
    const effects = join(dir, "fail.log");
    const failed = await send(applicationPlan({ effects, tag: "boom", exitCode: 3 }));
    assert.equal(failed.code, 1);
    assert.equal((JSON.parse(failed.stdout) as { ErrorCode: number }).ErrorCode, 100);

    const staleEffects = join(dir, "stale.log");
    const stale = await send(applicationPlan({ effects: staleEffects, tag: "old" }), "--generation", "3");
    assert.equal(stale.code, 1);
    assert.equal((JSON.parse(stale.stdout) as { ErrorCode: number }).ErrorCode, 301);
    assert.equal(readExecutions(staleEffects).executions.length, 0);
  });

  test("send --policy and --key set the plan's Idempotency", async () => {
    const effects = join(dir, "key.log");
    const first = await send(
      applicationPlan({ effects, tag: "a" }),
      "--policy",
      "run-once-ever",
      "--key",
      "install-db",
    );
    assert.equal(first.code, 0, first.stderr);
    const conflict = await send(
      applicationPlan({ effects, tag: "b" }),
      "--policy",
      "run-once-ever",
      "--key",
      "install-db",
    );
    const result = JSON.parse(conflict.stdout) as {
      ErrorCode: number;
      Idem: { Key: string; Policy: string };
    };
    assert.equal(result.ErrorCode, 303);
    assert.equal(result.Idem.Key, "install-db");
    assert.equal(result.Idem.Policy, "run-once-ever");
    assert.deepEqual(
      readExecutions(effects).executions.map((e) => e.args),
      ["a"],
    );
  });
});

describe("send --wait against a busy agent (a plan running a sleep)", () => {
  let dir: string;
  let port: number;
  let agent: AgentProcess;
  const agentId = uniqueAgentId("busy");

  before(async () => {
    dir = await makeTempDir("cli-busy");
    port = await freePort();
    // Grace 0: the sleeping plan is recorded as interrupted at the stop rather than waited for.
    agent = await startAgent({
      broker: `embedded:${port}`,
      agentId,
      dataDir: join(dir, "data"),
      extraArgs: ["--drain-grace-seconds", "0", "--kill-grace-seconds", "0"],
    });
  });
  after(async () => {
    await agent?.stop();
    await removeDir(dir);
  });

  const idem = (file: string, ...flags: string[]) =>
    runIdem(["send", "--broker", `mqtt://127.0.0.1:${port}`, "--agent-id", agentId, ...flags, file]);

  test("a Body's float('inf') and float('nan') come back as bare Infinity and NaN, read by send", async () => {
    const file = join(dir, "inf.json");
    const plan = applicationPlan({
      effects: join(dir, "inf.log"),
      body: 'return [float("inf"), float("nan")]',
    });
    writeFileSync(file, JSON.stringify(plan));
    const outcome = await idem(file, "--wait", "30");
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /"Body": ?\[Infinity, ?NaN\]/);
  });

  test("--wait exits 3 while the plan still runs, saying the agent is online and running it", async () => {
    const file = join(dir, "sleep.json");
    const plan = applicationPlan({ effects: join(dir, "sleep.log"), sleepSeconds: 120 });
    writeFileSync(file, JSON.stringify(plan));
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      // The agent's retained status names the running plan (SPEC 8): wait for that, then ask with --wait.
      const running = new Promise<void>((resolve) => {
        watcher.on("message", (_topic, payload) => {
          const status = JSON.parse(payload.toString("utf8")) as { Running?: { SourceID?: string } | null };
          if (status.Running?.SourceID === plan.ID) resolve();
        });
      });
      await watcher.subscribeAsync(`idem/${agentId}/status`, { qos: 1 });
      const sent = await idem(file);
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sent.stdout, `${plan.ID}\n`);
      await running;
    } finally {
      await watcher.endAsync();
    }
    const zero = await idem(file, "--wait", "0");
    assert.equal(zero.code, 3, zero.stderr);
    const waited = await idem(file, "--wait", "1");
    assert.equal(waited.code, 3, waited.stderr);
    for (const outcome of [zero, waited]) {
      assert.equal(outcome.stdout, "");
      assert.match(
        outcome.stderr,
        new RegExp(`No result for plan ${plan.ID} on idem/${agentId}/results within [01] s`),
      );
      assert.match(
        outcome.stderr,
        new RegExp(`agent ${agentId} is online since \\S+ and running this plan since`),
      );
      assert.doesNotMatch(outcome.stderr, /never been seen|at .*\.ts:\d+/);
    }
  });
});

test("an embedded broker port already in use is a clear error naming it", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const taken = typeof address === "object" && address !== null ? address.port : 0;
  const dir = await makeTempDir("cli-port");
  try {
    const outcome = await runIdem([
      "run",
      "--broker",
      `embedded:${taken}`,
      "--agent-id",
      "vm-port",
      "--data-dir",
      dir,
    ]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, new RegExp(`127\\.0\\.0\\.1:${taken} as that port is in use`));
    assert.match(outcome.stderr, /--broker embedded:\d+/);
  } finally {
    server.close();
    await removeDir(dir);
  }
});

test("send to a broker that is not there exits 2 and says so", async () => {
  const dir = await makeTempDir("cli-nobroker");
  try {
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(applicationPlan({ effects: join(dir, "x.log") })));
    const port = await freePort();
    const outcome = await runIdem([
      "send",
      "--broker",
      `mqtt://127.0.0.1:${port}`,
      "--agent-id",
      "vm-x",
      "--wait",
      "5",
      file,
    ]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /Cannot connect to the broker at mqtt:\/\/127\.0\.0\.1:\d+/);
  } finally {
    await removeDir(dir);
  }
});

test("a broker that is not an MQTT URL is refused at start with what to give instead", async () => {
  const outcome = await runIdem([
    "run",
    "--broker",
    "http://example.org",
    "--agent-id",
    "vm-url",
    "--data-dir",
    "/nonexistent",
  ]);
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /Cannot use broker "http:\/\/example\.org": give mqtt:\/\/HOST:PORT/);
});

test("send takes a broker given as host:port as mqtt://host:port (and says when nothing listens there)", async () => {
  const dir = await makeTempDir("cli-hostport");
  try {
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(applicationPlan({ effects: join(dir, "x.log") })));
    const port = await freePort();
    const outcome = await runIdem(["send", "--broker", `127.0.0.1:${port}`, "--agent-id", "vm-x", file]);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, new RegExp(`Cannot connect to the broker at 127\\.0\\.0\\.1:${port}`));
  } finally {
    await removeDir(dir);
  }
});
