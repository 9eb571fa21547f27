/**
 * Scenario h — bad input: each is answered with the SPEC's code (or, without a usable ID, an `invalid` event
 * and no result), nothing is executed, and the agent serves the next valid plan normally.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AgentProcess } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan, type MuranoPlan, type PlanOptions } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

describe("bad input", { timeout: 180_000 }, () => {
  let scene: Scene;
  let agent: AgentProcess;
  let served = 0;

  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  before(async () => {
    scene = await openScene({ after: (cleanup) => cleanups.push(cleanup) }, "bad-input");
    agent = await scene.startAgent();
  });

  /** Only valid plans (tag `valid-…`) ever ran; then a fresh valid plan is served normally. */
  async function assertNothingRanAndStillServing(): Promise<void> {
    const valid = applicationPlan({ effects: scene.effects, tag: `valid-${++served}` });
    await scene.engine.send(valid);
    const [result] = await scene.engine.waitForResults(valid.ID);
    assert.equal(result?.ErrorCode, 0, `the next valid plan is served: ${JSON.stringify(result)}`);
    const effects = readExecutions(scene.effects);
    assert.deepEqual(
      effects.executions.map((e) => e.args),
      Array.from({ length: served }, (_, i) => `valid-${i + 1}`),
      `nothing but the valid plans ran:\n${effects.lines.join("\n")}`,
    );
    assert.equal(agent.exited, undefined, "the agent keeps running");
  }

  /** A payload with no usable ID: an `invalid` event, no result. */
  async function expectInvalidEvent(payload: string | object): Promise<void> {
    const events = scene.engine.eventsMatching({ Event: "invalid" }).length;
    const results = scene.engine.results.length;
    const since = agent.mark();
    await scene.engine.send(typeof payload === "string" ? payload : JSON.stringify(payload));
    await scene.engine.waitForEvents({ Event: "invalid" }, events + 1);
    await agent.waitForLog(/\bevent=invalid\b/, { since });
    await assertNothingRanAndStillServing();
    assert.equal(scene.engine.results.length, results + 1, "no result for it, only the valid plan's");
  }

  /** A plan with an ID: a result with `code`, Body {Message, AdditionalInfo}, an event, nothing run. */
  async function expectCode(
    plan: MuranoPlan,
    code: number,
    expect: { decision?: string; message?: RegExp[] } = {},
  ): Promise<void> {
    await scene.engine.send(plan);
    const [result, ...more] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, code, JSON.stringify(result)?.slice(0, 2000));
    assert.equal(more.length, 0);
    const body = result?.Body as { Message?: unknown } | undefined;
    assert.equal(
      typeof body?.Message,
      "string",
      `Body is {Message, AdditionalInfo}: ${JSON.stringify(body)}`,
    );
    for (const pattern of expect.message ?? []) assert.match(String(body?.Message), pattern);
    if (expect.decision) assert.equal(result?.Idem?.Decision, expect.decision);
    await scene.engine.waitForEvents({ SourceID: plan.ID });
    await assertNothingRanAndStillServing();
  }

  const bad = (extra: Partial<PlanOptions>) =>
    applicationPlan({ effects: scene.effects, tag: "bad", ...extra });

  test("a payload that is not JSON gets an invalid event and no result", async () => {
    await expectInvalidEvent("this is { not json");
  });

  test("a JSON array gets an invalid event and no result", async () => {
    await expectInvalidEvent([bad({})]);
  });

  test("a plan without an ID gets an invalid event and no result", async () => {
    const { ID: _id, ...plan } = bad({});
    await expectInvalidEvent(plan);
  });

  test("FormatVersion 3.0.0 is refused with code 9", async () => {
    await expectCode(bad({ formatVersion: "3.0.0" }), 9, { decision: "invalid" });
  });

  test("a file named ../x is refused with code 2", async () => {
    await expectCode(bad({ entryName: "../x" }), 2, { decision: "invalid", message: [/\.\.\/x/] });
  });

  test("a 5 MiB payload is refused with code 2", async () => {
    await expectCode(bad({ parameters: { padding: "x".repeat(5 * 1024 * 1024) } }), 2, {
      decision: "invalid",
    });
  });

  test("an unknown policy is refused with code 305, naming the available ones", async () => {
    await expectCode(bad({ idempotency: { Policy: "no-such-policy" } }), 305, {
      message: [/no-such-policy/, /always/, /run-once-ever/, /skip-if-identical/],
    });
  });

  test("a Body that imports a module is refused with code 2 before anything runs", async () => {
    await expectCode(bad({ body: "x = 1\nimport os\nreturn deploy(args.tag).stdout" }), 2, {
      decision: "invalid",
      message: [/import/, /line 2/i, /col(umn)? 1\b/i],
    });
  });
});
