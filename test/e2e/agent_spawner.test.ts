/**
 * The test helper's second way to start the agent (test/helpers/agent_process.ts `spawner: "posix_spawn"`, which
 * bench/idem_rep.ts times the launch with): the agent so started comes online, answers a plan, stops on SIGTERM
 * with exit code 0, and a `kill -9` of it is reported as SIGKILL, as with Node's spawn.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { connectEngine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";

test("an agent started with posix_spawn serves a plan, stops with 0 and dies of SIGKILL when killed", {
  timeout: 60_000,
}, async (t) => {
  const root = await makeTempDir("spawner");
  const broker = await startBroker();
  const agentId = uniqueAgentId("spawner");
  const engine = await connectEngine(broker, { agentId });
  t.after(async () => {
    await engine.close();
    await broker.stop();
    await removeDir(root);
  });
  const options = {
    broker: broker.url,
    agentId,
    dataDir: join(root, "data"),
    spawner: "posix_spawn",
  } as const;

  const agent = await startAgent(options);
  const effects = join(root, "effects");
  const plan = applicationPlan({ effects });
  await engine.send(plan);
  const result = await engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, agent.tail());
  assert.equal(readExecutions(effects).executions.length, 1);
  assert.deepEqual(await agent.stop(), { code: 0, signal: null }, agent.tail());

  const again = await startAgent(options);
  assert.deepEqual(await again.kill9(), { code: null, signal: "SIGKILL" });
});
