/**
 * The operator's log (`agent/log.ts`, issue 12 item 6): `logFormat: "json"` writes one JSON object per line with
 * `time`, `level`, `event` and the fields; a plan answered with a non-zero ErrorCode (a failed script: 100) is
 * logged at `warn`, a successful one at `info`, in both formats.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger, formatLine } from "../../agent/log.ts";
import { parseLogfmt } from "../helpers/agent_process.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

test("a json logger writes one object per line: time, level, event, then the fields at the top level", () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "info", write: (line) => void lines.push(line) });
  log.debug("hidden", { a: 1 });
  log.info("finished", { plan: "p 1", errorcode: 0, note: 'say "hi"', gone: undefined, none: null });
  log.warn("odd", { time: "t", level: "l", event: "e", far: Number.POSITIVE_INFINITY, nan: Number.NaN });
  assert.equal(lines.length, 2, "debug is below the threshold");
  const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(Object.keys(first ?? {}).slice(0, 3), ["time", "level", "event"]);
  assert.ok(!Number.isNaN(Date.parse(String(first?.time))), `an ISO time: ${first?.time}`);
  assert.deepEqual(
    { ...first, time: undefined },
    {
      time: undefined,
      level: "info",
      event: "finished",
      plan: "p 1",
      errorcode: 0,
      note: 'say "hi"',
      none: null,
    },
  );
  assert.equal(second?.level, "warn");
  assert.equal(second?.event, "odd", "a field never overwrites the event");
  assert.equal(second?.["field.time"], "t");
  assert.equal(second?.["field.level"], "l");
  assert.equal(second?.["field.event"], "e");
  assert.equal(second?.far, "Infinity");
  assert.equal(second?.nan, "NaN");
});

test("logfmt stays the default: key=value, quoted when needed, greppable by event=", () => {
  const line = formatLine("warn", "finished", { plan: "a b", code: 100 }, "logfmt");
  assert.match(line, /^time=\S+ level=warn event=finished plan="a b" code=100$/);
  assert.deepEqual(parseLogfmt(line).plan, "a b");
});

test("a value from a plan or a control request cannot forge a line or drive the terminal, in either format", () => {
  // C0 (ESC, SOH, CR), DEL, C1 (CSI), line/paragraph separators, a bidi override: each escaped as \uXXXX.
  const hostile = "k\u001b[31mred\u0001\r\u007f\u009b2J\u2028\u202eevil";
  for (const format of ["logfmt", "json"] as const) {
    const line = formatLine("info", "cancel", { target: hostile }, format);
    assert.doesNotMatch(line, /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u, `${format}: ${line}`);
    const parsed = format === "json" ? JSON.parse(line).target : JSON.parse(`"${parseLogfmtRaw(line)}"`);
    assert.equal(parsed, hostile, format);
  }
});

/** The raw (still escaped) text of logfmt's quoted `target` value. */
function parseLogfmtRaw(line: string): string {
  return /target="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? "";
}

for (const format of ["logfmt", "json"] as const) {
  test(`an agent logging ${format}: a failed plan is logged at warn, a successful one at info`, {
    timeout: 60_000,
  }, async (t) => {
    const scene = await openScene(t, `log-${format}`);
    const config = join(scene.root, "config.json");
    writeFileSync(config, JSON.stringify({ logFormat: format }));
    const agent = await scene.startAgent({ extraArgs: ["--config", config], waitOnline: false });
    const parse = (line: string): Record<string, unknown> =>
      format === "json" ? (JSON.parse(line) as Record<string, unknown>) : parseLogfmt(line);
    const event = (name: string) =>
      format === "json" ? new RegExp(`"event":"${name}"`) : new RegExp(`\\bevent=${name}\\b`);
    await agent.waitForLog(event("online"));

    const ok = applicationPlan({ effects: scene.effects, tag: "fine" });
    await scene.engine.send(ok);
    assert.equal((await scene.engine.waitForResult(ok.ID)).ErrorCode, 0);
    const failing = applicationPlan({ effects: scene.effects, tag: "boom", exitCode: 3 });
    await scene.engine.send(failing);
    assert.equal((await scene.engine.waitForResult(failing.ID)).ErrorCode, 100);
    const finished = (await agent.waitForLog(event("finished"), { count: 2 })).map(parse);
    assert.equal((await agent.stop()).code, 0, agent.tail());

    const byPlan = new Map(finished.map((fields) => [fields.plan, fields]));
    assert.equal(byPlan.get(ok.ID)?.level, "info", agent.tail());
    assert.equal(byPlan.get(failing.ID)?.level, "warn", agent.tail());
    assert.equal(String(byPlan.get(failing.ID)?.errorcode), "100");
    if (format === "json") {
      for (const line of agent.lines) {
        const fields = parse(line);
        assert.equal(typeof fields.time, "string", line);
        assert.match(String(fields.level), /^(debug|info|warn|error)$/, line);
        assert.match(String(fields.event), /^[a-z][a-z-]*$/, line);
      }
    }
  });
}
