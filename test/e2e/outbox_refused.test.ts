/**
 * SPEC 2 "No entry blocks the outbox", end to end: a mosquitto whose max_packet_size (16 KiB) is below one
 * plan's result. That result arrives truncated (ErrorCode kept, Body.AdditionalInfo {Truncated, Bytes}), the
 * results of the 20 plans sent after it all arrive, and a restart finds nothing stuck in the outbox — on the
 * agent's default protocol (MQTT 5 with mosquitto: the limit is in the CONNACK) and on MQTT 3.1.1 (mosquitto
 * hangs up on the oversize packet). Then the result cap: a result over `maxResultBytes` is truncated before it
 * is journaled, and never refused.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseLogfmt } from "../helpers/agent_process.ts";
import { startBroker } from "../helpers/broker.ts";
import type { Result } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const truncation = (result: Result | undefined) =>
  (result?.Body as { AdditionalInfo?: unknown } | undefined)?.AdditionalInfo;

for (const protocol of ["auto", 4] as const) {
  const label = protocol === "auto" ? "default protocol, MQTT 5" : "MQTT 3.1.1";
  test(`(${label}) a result over the broker's max_packet_size arrives truncated, the 20 plans after it are all answered, and a restart finds the outbox empty`, {
    timeout: 180_000,
  }, async (t) => {
    const scene = await openScene(t, `outbox-refused-${protocol}`, {
      server: () => startBroker({ maxPacketSize: 16 * 1024 }),
    });
    const configFile = join(scene.root, "agent.json");
    writeFileSync(configFile, JSON.stringify({ broker: { protocol } }));
    const agentOptions = { extraArgs: ["--config", configFile] };
    const agent = await scene.startAgent(agentOptions);
    const online = parseLogfmt(agent.matching(/\bevent=online\b/)[0] ?? "");
    assert.equal(online.protocol, protocol === "auto" ? "5" : "4", agent.tail());

    const big = applicationPlan({ effects: scene.effects, tag: "big", body: "return 'x' * 65536" });
    const after = Array.from({ length: 20 }, (_, i) =>
      applicationPlan({ effects: scene.effects, tag: `after-${i}` }),
    );
    await scene.engine.send(big);
    for (const plan of after) await scene.engine.send(plan);

    for (const plan of after) {
      const result = await scene.engine.waitForResult(plan.ID, 60_000);
      assert.equal(result.ErrorCode, 0, JSON.stringify(result));
      assert.match(String(result.Body), /^ran \d+ after-\d+ payload$/);
    }
    const [truncated] = await scene.engine.waitForResults(big.ID, 1, 60_000);
    assert.equal(truncated?.ErrorCode, 0, "the ErrorCode is kept");
    assert.equal(truncated?.Idem?.Decision, "run", "the Idem facts are kept");
    assert.deepEqual(truncation(truncated), { Truncated: true, Bytes: 65536 + 2 }, JSON.stringify(truncated));
    for (const result of scene.engine.resultsFor(big.ID)) {
      assert.deepEqual(truncation(result), { Truncated: true, Bytes: 65536 + 2 }, "never the full result");
    }
    const replaced = agent.matching(/\bevent=reply-replaced\b/).map(parseLogfmt);
    assert.deepEqual(
      replaced.map((line) => line.plan),
      [big.ID],
      agent.tail(),
    );

    assert.equal((await agent.stop()).code, 0, agent.tail());
    const again = await scene.startAgent(agentOptions);
    const restarted = parseLogfmt(again.matching(/\bevent=online\b/)[0] ?? "");
    assert.equal(restarted.outbox, "0", `nothing stuck in the outbox:\n${again.tail()}`);
    assert.equal(again.matching(/\bevent=reply-refused\b/).length, 0, again.tail());
    assert.equal((await again.stop()).code, 0, again.tail());
  });
}

test("a result over maxResultBytes is journaled truncated (ErrorCode and Idem kept) and never refused", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "result-cap");
  const configFile = join(scene.root, "agent.json");
  writeFileSync(configFile, JSON.stringify({ maxResultBytes: 4096 }));
  const agent = await scene.startAgent({ extraArgs: ["--config", configFile] });

  const big = applicationPlan({ effects: scene.effects, tag: "cap", body: "return 'y' * 10000" });
  const small = applicationPlan({ effects: scene.effects, tag: "small" });
  await scene.engine.send(big);
  await scene.engine.send(small);
  const capped = await scene.engine.waitForResult(big.ID);
  assert.equal(capped.ErrorCode, 0);
  assert.equal(capped.Idem?.Decision, "run");
  assert.deepEqual(truncation(capped), { Truncated: true, Bytes: 10002 }, JSON.stringify(capped));
  assert.match(JSON.stringify(capped.Body), /maxResultBytes \(4096\)/);
  const answered = await scene.engine.waitForResult(small.ID);
  assert.match(String(answered.Body), /^ran \d+ small payload$/);

  // The stored result is the capped one: a re-send is replayed as it.
  const again = applicationPlan({ effects: scene.effects, tag: "cap", body: "return 'y' * 10000" });
  await scene.engine.send(again);
  const replayed = await scene.engine.waitForResult(again.ID);
  assert.equal(replayed.Idem?.Decision, "replay");
  assert.deepEqual(truncation(replayed), { Truncated: true, Bytes: 10002 });
  assert.equal(agent.matching(/\bevent=reply-refused\b/).length, 0, agent.tail());
  assert.equal((await agent.stop()).code, 0);
});
