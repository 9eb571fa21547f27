/**
 * Poison messages (issue 7, SPEC 3 and 5.4): JSON texts that Python's json.loads takes but that used to stop
 * intake for good. Each is answered (a result with its code, or the plan runs as murano-agent would run it),
 * nothing runs that should not, and the next valid plan is served — once with the agent running, and once
 * more with all of them waiting in the agent's session while it was down (a new process meets them first).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AgentProcess } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

interface Poison {
  name: string;
  /** The plan's JSON text, with the poison spliced in. */
  text(plan: MuranoPlan): string;
  /** The ErrorCode it is answered with (0: it runs). */
  code: number;
}

/** The plan's JSON text with `"@POISON@"` (a Parameters value) replaced by raw JSON text. */
const inParameters = (raw: string) => (plan: MuranoPlan) =>
  JSON.stringify({ ...plan, Parameters: { ...(plan.Parameters as object), poison: "@POISON@" } }).replace(
    '"@POISON@"',
    raw,
  );
const withField = (name: string, raw: string) => (plan: MuranoPlan) =>
  JSON.stringify({ ...plan, [name]: "@POISON@" }).replace('"@POISON@"', raw);

const POISONS: Poison[] = [
  { name: "a lone surrogate in a value", text: inParameters('"\\udc00"'), code: 0 },
  { name: "a lone surrogate as a key", text: inParameters('{"\\ud800": 1, "Zx": "\\udfff"}'), code: 0 },
  { name: "a number beyond float range", text: inParameters("1e400"), code: 0 },
  { name: "NaN and -Infinity literals", text: inParameters("[NaN, -Infinity]"), code: 0 },
  { name: "an integer of 500 digits", text: inParameters(`${"9".repeat(500)}`), code: 0 },
  { name: "a __proto__ key", text: inParameters('{"__proto__": {"polluted": 1}}'), code: 0 },
  { name: "nesting 5,000 deep", text: inParameters(`${"[".repeat(5000)}${"]".repeat(5000)}`), code: 2 },
  {
    name: "an ignore pointer into a prototype",
    text: withField(
      "Idempotency",
      '{"Options": {"ignore": ["/__proto__/hasOwnProperty", "/constructor/prototype/toString"]}}',
    ),
    code: 0,
  },
  { name: "a ReplyTo with a control character", text: withField("ReplyTo", '"a\\u0001b"'), code: 2 },
  { name: "a ReplyTo with a wildcard", text: withField("ReplyTo", '"idem/+/results"'), code: 2 },
  {
    name: "a lone surrogate in Idempotency.Key",
    text: withField("Idempotency", '{"Key": "k\\udc00"}'),
    code: 2,
  },
  { name: "a Timeout beyond any timer", text: withField("Timeout", "1e300"), code: 2 },
];

describe("poison messages", { timeout: 240_000 }, () => {
  let scene: Scene;
  let agent: AgentProcess;
  let served = 0;
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  before(async () => {
    scene = await openScene({ after: (cleanup) => cleanups.push(cleanup) }, "poison");
    agent = await scene.startAgent();
  });

  const plan = (tag: string) => applicationPlan({ effects: scene.effects, tag });

  /** Sends every poison (fresh IDs); resolves with the plans sent, by poison. */
  async function sendAll(round: string): Promise<Map<Poison, MuranoPlan>> {
    const sent = new Map<Poison, MuranoPlan>();
    for (const [i, poison] of POISONS.entries()) {
      const p = plan(`${round}-${i}`);
      sent.set(poison, p);
      await scene.engine.send(poison.text(p));
    }
    return sent;
  }

  async function assertAnswered(sent: Map<Poison, MuranoPlan>): Promise<void> {
    for (const [poison, p] of sent) {
      const [result] = await scene.engine.waitForResults(p.ID);
      assert.equal(
        result?.ErrorCode,
        poison.code,
        `${poison.name}: ${JSON.stringify(result)?.slice(0, 500)}`,
      );
    }
  }

  /** Only the plans meant to run ran; then a fresh valid plan is served. */
  async function assertServing(sent: Map<Poison, MuranoPlan>): Promise<void> {
    const valid = plan(`valid-${++served}`);
    await scene.engine.send(valid);
    const [result] = await scene.engine.waitForResults(valid.ID);
    assert.equal(result?.ErrorCode, 0, `the next valid plan is served: ${JSON.stringify(result)}`);
    const ran = readExecutions(scene.effects).executions.map((e) => e.args);
    for (const [poison, p] of sent) {
      const tag = String((p.Parameters as { tag: string }).tag);
      assert.equal(
        ran.filter((a) => a === tag).length,
        poison.code === 0 ? 1 : 0,
        `${poison.name} ran ${poison.code === 0 ? "once" : "never"}`,
      );
    }
    assert.equal(agent.exited, undefined, "the agent keeps running");
  }

  test("each poison is answered and the agent goes on serving", async () => {
    const sent = await sendAll("live");
    await assertAnswered(sent);
    await assertServing(sent);
  });

  test("poisons waiting in the session when the agent starts are answered too", async () => {
    await agent.kill9();
    const sent = await sendAll("queued");
    agent = await scene.startAgent();
    await assertAnswered(sent);
    await assertServing(sent);
  });

  test("a refused ReplyTo is answered on the default results topic", async () => {
    const p = plan("reply-to");
    await scene.engine.send(withField("ReplyTo", '"x\\u0000y"')(p));
    const [result] = await scene.engine.waitForResults(p.ID);
    assert.equal(result?.ErrorCode, 2);
    assert.match(String((result?.Body as { Message?: string })?.Message), /ReplyTo/);
    const received = scene.engine.results.find((r) => r.result.SourceID === p.ID);
    assert.equal(received?.topic, scene.engine.topic("results"));
  });
});
