/**
 * Reconnecting with backoff (SPEC 5.4: the broker gone is the environment's fault, retried with bounded backoff
 * and jitter): with the broker gone for 24 s the agent's attempts are spaced more and more (1 s doubling, here
 * capped at 8 s), it logs a handful of warn lines instead of one a second, and it is online again soon after the
 * broker returns. Read from its own debug log (`event=connecting`, one per attempt).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseLogfmt } from "../helpers/agent_process.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

/**
 * How long the broker stays gone: the fourth attempt comes at most 1.5 + 3 + 6 + 12 s = 22.5 s after it went (1, 2,
 * 4, 8 s each ± 50 %), so the window holds at least four attempts whatever the jitter (at 20 s it missed the fourth
 * in about 2 % of runs).
 */
const GONE_MS = 24_000;

test("with the broker gone for 24 s the agent tries again less and less often, logs little, and comes back online", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "backoff");
  const configFile = join(scene.root, "agent.json");
  writeFileSync(configFile, JSON.stringify({ broker: { reconnectMaxSeconds: 8 } }));
  const agent = await scene.startAgent({ extraArgs: ["--config", configFile, "--log-level", "debug"] });

  const since = agent.mark();
  await scene.broker.stop();
  const gone = Date.now();
  // Attempts until the first one GONE_MS after the broker went: each waited for, none slept for.
  const time = (line: string) => Date.parse(parseLogfmt(line).time ?? "");
  let attempts: string[] = [];
  for (let n = 1; attempts.length === 0 || time(attempts.at(-1) as string) < gone + GONE_MS; n++) {
    attempts = await agent.waitForLog(/\bevent=connecting\b/, { since, count: n, timeoutMs: GONE_MS });
  }
  await scene.broker.restart();
  const returned = Date.now();
  const back = await agent.waitForLog(/\bevent=online\b/, { since, timeoutMs: 20_000 });

  const within = attempts.map(time).filter((at) => at < gone + GONE_MS);
  assert.ok(within.length >= 3, `it kept trying: ${within.length}\n${agent.tail(60)}`);
  assert.ok(within.length < 10, `fewer than 10 attempts in 24 s, not one a second: ${within.length}`);
  const gaps = within.map((at, i) => at - (i === 0 ? gone : (within[i - 1] as number)));
  // 1 s ± 50 % first, 8 s ± 50 % from the fourth on: spaced more and more.
  assert.ok(
    (gaps[3] ?? 0) > (gaps[0] ?? 0),
    `gaps grow: ${gaps.map((g) => `${g} ms`).join(", ")}\n${agent.tail(60)}`,
  );
  assert.ok(Math.max(...gaps) >= 4_000, `gaps reach the cap's range: ${gaps.join(", ")}`);
  assert.ok(Math.max(...gaps) <= 12_000, `never above 8 s + 50 %: ${gaps.join(", ")}`);
  const warnings = agent.matching(/\blevel=warn\b/, since);
  assert.ok(
    warnings.length <= 10,
    `one offline line per backoff step at most, not one per attempt:\n${warnings.join("\n")}`,
  );
  const after = time(back[0] as string) - returned;
  assert.ok(after < 13_000, `online within one longest delay of the broker's return: ${after} ms`);

  const plan = applicationPlan({ effects: scene.effects, tag: "after-the-outage" });
  await scene.engine.send(plan);
  assert.equal((await scene.engine.waitForResult(plan.ID, 30_000)).ErrorCode, 0);
  assert.equal((await agent.stop()).code, 0, agent.tail());
});
