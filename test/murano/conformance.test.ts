/**
 * Murano conformance: every case of the murano-agent 10.0.0 corpus (../shared/murano-corpus, read at test time,
 * or IDEM_MURANO_CORPUS) is sent as is to ONE real agent over ONE real mosquitto, and its result is compared
 * with the oracle's as the case says (`exact`: ErrorCode and Body equal as JSON, object key order ignored;
 * `errorcode`: ErrorCode only). Cases that corpus_deviations.ts lists must get the answer stated there instead.
 * Prints a table (per class and overall: matched, deliberate deviations, mismatches) and one line per deviation
 * and mismatch. Passes with zero mismatches and at least 200 exact matches.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CORPUS_DIR } from "../helpers/corpus.ts";
import type { Result } from "../helpers/engine.ts";
import { openScene } from "../helpers/scene.ts";
import { type CorpusCase, DEVIATIONS, type Deviation, deviationFor } from "./corpus_deviations.ts";

const CORPUS = CORPUS_DIR;
const MIN_MATCHED = 200;
/** Sending is quick; the agent runs the plans one at a time. */
const BATCH = 40;
const ALL_RESULTS_MS = 100_000;

type Outcome = "matched" | "deviation" | "mismatch";

interface Verdict {
  c: CorpusCase;
  outcome: Outcome;
  deviation: Deviation | undefined;
  got: Result | undefined;
  why: string;
}

function loadCases(): CorpusCase[] {
  const dir = join(CORPUS, "cases");
  assert.ok(
    existsSync(dir),
    `The Murano corpus is missing: no ${dir} (set IDEM_MURANO_CORPUS to its folder)`,
  );
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ ...(JSON.parse(readFileSync(join(dir, file), "utf8")) as CorpusCase), file }));
}

/** The plan as the engine sends it: murano-agent's queue takes the message id as ID when the plan has none. */
function planOf(c: CorpusCase): Record<string, unknown> & { ID: string } {
  const id = typeof c.plan.ID === "string" ? c.plan.ID : c.message_id;
  return { ...c.plan, ID: id };
}

/** JSON with object keys sorted at every level: equal texts mean equal values whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function messageOf(result: Result | undefined): string {
  if (!result) return "no result";
  const body = result.Body as { Message?: unknown } | null;
  if (result.ErrorCode !== 0 && typeof body === "object" && body !== null && typeof body.Message === "string")
    return body.Message;
  return JSON.stringify(result.Body) ?? "undefined";
}

function judge(c: CorpusCase, got: Result | undefined): Verdict {
  const deviation = deviationFor(c);
  if (!got) return { c, outcome: "mismatch", deviation, got, why: "no result" };
  if (deviation) {
    const { answer } = deviation;
    const codeOk = got.ErrorCode === answer.code;
    const messageOk = answer.kind === "fixed" || answer.message.test(messageOf(got));
    return codeOk && messageOk
      ? { c, outcome: "deviation", deviation, got, why: deviation.name }
      : {
          c,
          outcome: "mismatch",
          deviation,
          got,
          why: `deviation "${deviation.name}" not answered as listed`,
        };
  }
  if (got.ErrorCode !== c.expected.ErrorCode)
    return { c, outcome: "mismatch", deviation, got, why: "ErrorCode differs" };
  if (c.compare === "exact" && canonical(got.Body) !== canonical(c.expected.Body)) {
    const why = `Body differs: expected ${canonical(c.expected.Body).slice(0, 160)}`;
    return { c, outcome: "mismatch", deviation, got, why };
  }
  return { c, outcome: "matched", deviation, got, why: "" };
}

function short(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

function table(verdicts: Verdict[]): string {
  const classes = [...new Set(verdicts.map((v) => v.c.class))].sort();
  const row = (name: string, vs: Verdict[]) => {
    const n = (o: Outcome) => String(vs.filter((v) => v.outcome === o).length).padStart(11);
    return `${name.padEnd(14)}${String(vs.length).padStart(7)}${n("matched")}${n("deviation")}${n("mismatch")}`;
  };
  const lines = [
    "",
    `Murano conformance: idem vs murano-agent 10.0.0 on ${verdicts.length} corpus cases (${CORPUS})`,
    `${"class".padEnd(14)}${"cases".padStart(7)}${"matched".padStart(11)}${"deviations".padStart(11)}${"mismatches".padStart(11)}`,
    ...classes.map((name) =>
      row(
        name,
        verdicts.filter((v) => v.c.class === name),
      ),
    ),
    row("all", verdicts),
    "",
  ];
  const listed = verdicts.filter((v) => v.outcome !== "matched");
  if (listed.length > 0) {
    lines.push(`${"case".padEnd(5)}${"outcome".padEnd(10)}${"why".padEnd(16)}exp got  message`);
    for (const v of listed) {
      const why = v.outcome === "deviation" ? v.why : `MISMATCH: ${v.why}`;
      lines.push(
        `${v.c.file.slice(0, 3).padEnd(5)}${v.outcome.padEnd(10)}${short(why, 15).padEnd(16)}` +
          `${String(v.c.expected.ErrorCode).padStart(3)} ${String(v.got?.ErrorCode ?? "-").padStart(3)}  ` +
          short(messageOf(v.got), 100),
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}

test("every Murano corpus case gets murano-agent's result, or the answer its listed deviation states", {
  timeout: 180_000,
}, async (t) => {
  const cases = loadCases();
  const scene = await openScene(t, "conformance");
  const agent = await scene.startAgent({ defaultPolicy: "always" });
  const deadline = Date.now() + ALL_RESULTS_MS;
  const plans = cases.map(planOf);

  for (let i = 0; i < plans.length; i += BATCH) {
    await Promise.all(plans.slice(i, i + BATCH).map((plan) => scene.engine.send(plan)));
  }
  const results = new Map<string, Result>();
  for (const plan of plans) {
    try {
      results.set(plan.ID, await scene.engine.waitForResult(plan.ID, Math.max(1, deadline - Date.now())));
    } catch {
      // reported below as "no result"
    }
  }

  const verdicts = cases.map((c, i) => judge(c, results.get(plans[i]?.ID ?? "")));
  console.log(table(verdicts));

  const missing = verdicts.filter((v) => !v.got).map((v) => v.c.file);
  assert.deepEqual(missing, [], `every case is answered, also those that need the network\n${agent.tail()}`);
  assert.equal(agent.exited, undefined, "the agent kept running");
  const mismatches = verdicts.filter((v) => v.outcome === "mismatch");
  assert.deepEqual(
    mismatches.map((v) => `${v.c.file}: ${v.why}; got ${v.got?.ErrorCode} ${short(messageOf(v.got), 200)}`),
    [],
    "no unexplained mismatches",
  );
  const matched = verdicts.filter((v) => v.outcome === "matched").length;
  assert.ok(matched >= MIN_MATCHED, `at least ${MIN_MATCHED} cases match exactly (${matched} do)`);
  for (const deviation of DEVIATIONS) {
    const covered = verdicts
      .filter((v) => v.deviation === deviation)
      .map((v) => v.c.file.slice(0, 3))
      .sort();
    assert.deepEqual(
      covered,
      [...deviation.cases].sort(),
      `deviation "${deviation.name}" covers exactly its listed cases`,
    );
  }
});
