/**
 * The differential test of the Body interpreter against CPython (issue 10, "What to build" 3): generated Bodies
 * (test/helpers/body_arbitraries.ts) run by idem and by python3 with murano-agent's semantics
 * (test/helpers/python_body.ts) must give the same answer — the same result JSON, or the same ErrorCode,
 * exception type and Message; a syntax error by code alone.
 *
 * Each run uses a new seed, printed in the log. Replay one with `IDEM_DIFF_SEED=<seed>`; run more Bodies with
 * `IDEM_DIFF_RUNS=<n>` (default 5000); `IDEM_DIFF_REPORT=<file>` writes every disagreement kind as JSON;
 * `IDEM_DIFF_SHRINK=<n>` shrinks the n most frequent kinds (default 12, within 15 s).
 * A Body whose CPython answer depends on the hash seed (the order of a set of strings) has no one right answer:
 * where idem disagrees, CPython runs it again with another hash seed, and it is left out when the two differ — as
 * is a Body CPython cannot finish in 2 s of CPU, and a value that may differ by NaN identity (`nanIdentity`). A
 * Body that builds a value over idem's documented bound (SPEC 6) is idem's MemoryError where CPython, run again
 * under tracemalloc, held at least that value's bytes. Every other disagreement fails the test, shown with its
 * minimal (shrunk) Body, idem's answer and CPython's.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { after, test } from "node:test";
import fc from "fast-check";
import { MAX_INT_BITS } from "../../agent/python/runtime/int.ts";
import { MAX_ITEMS } from "../../agent/python/runtime/values.ts";
import { bodyCase } from "../helpers/body_arbitraries.ts";
import { type BodyCase, type Outcome, outcomeKind, sameOutcome, showOutcome } from "../helpers/body_case.ts";
import { IdemBodies } from "../helpers/idem_body.ts";
import { PythonBodies } from "../helpers/python_body.ts";

const SEED = Number(process.env.IDEM_DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.IDEM_DIFF_RUNS ?? 5000);
/** Kinds shrunk to a minimal Body, and the evaluations each shrink may spend. */
const SHRUNK_KINDS = Number(process.env.IDEM_DIFF_SHRINK ?? 12);
const SHRINK_STEPS = 250;
const SHRINK_KIND_MS = 8_000;
/** Shrinking stops starting new kinds after this long (a run with many kinds stays bounded). */
const SHRINK_BUDGET_MS = 15_000;

const python = [new PythonBodies({ hashSeed: 1 }), new PythonBodies({ hashSeed: 2 })] as const;
const idem = new IdemBodies();
after(() => {
  for (const p of python) p.close();
  idem.close();
});

/** CPython's one answer, or null when it has none (hash-seed dependent, or over its time limit). */
function reference(a: Outcome, b: Outcome): Outcome | null {
  if (a.kind === "hang" || JSON.stringify(a) !== JSON.stringify(b)) return null;
  return a;
}

/**
 * Whether a disagreement may be the documented NaN deviation (docs/murano.md, "Numbers"): a float has no identity
 * in idem, so every NaN is one dict key or set item and `x in [x]` is False for a NaN, where CPython keeps two NaN
 * objects apart and finds an object by identity first. Taken as no one answer when the Body can make a NaN (its
 * text or Parameters say `nan` or `inf`) and both answered a value; an error on either side still counts.
 */
function nanIdentity(c: BodyCase, idem: Outcome, python: Outcome): boolean {
  return idem.kind === "ok" && python.kind === "ok" && /nan|inf/i.test(`${c.body}\n${c.params}`);
}

interface Verdict {
  idem: Outcome;
  python: Outcome | null;
}

/**
 * The bytes CPython must hold at once to build what idem refused at its documented bound (SPEC 6; agent/python/
 * runtime/values.ts MAX_ITEMS, int.ts MAX_INT_BITS), or null when idem's answer is no such refusal: a str of N
 * characters takes at least N bytes, a list, tuple, set or dict of N items at least N pointers, an int of N bits
 * N / 8 bytes.
 */
function boundClaim(o: Outcome): number | null {
  if (o.kind !== "error" || o.type !== "MemoryError") return null;
  const m =
    /^Cannot build an? (\w+) of (\d+) (characters|items|bits) as a Body may build at most (\d+)$/.exec(
      o.message,
    );
  if (m === null) return null;
  const [size, most] = [Number(m[2]), Number(m[4])];
  // Only the documented bounds, and only a size beyond them, make such a refusal.
  if (most !== (m[3] === "bits" ? MAX_INT_BITS : MAX_ITEMS) || !(size > most)) return null;
  return m[3] === "characters" ? size : m[3] === "bits" ? Math.ceil(size / 8) : size * 8;
}

/**
 * Bodies whose answer was taken to be idem's bound MemoryError ({@link judge}), over the whole run: printed, and
 * held to {@link MAX_OVER_BOUND} of the Bodies generated (tracemalloc's peak is the whole Body's, not one value's:
 * a generator that often built such values would leave the check weak).
 */
let overBoundAccepted = 0;

/**
 * idem answers over the time limit that answered when asked again ({@link judge}): a fresh worker each time, so a
 * hang that only state built up over earlier Bodies causes would pass the retry. Held to {@link MAX_HANGS_ANSWERED}.
 */
let hangsAnswered = 0;
const MAX_HANGS_ANSWERED = 3;
const MAX_OVER_BOUND = 0.002;

/**
 * Both answers per case. CPython runs a second time (another hash seed) where the two disagree; where idem
 * refused a value over its bound and CPython built it, CPython runs it again under tracemalloc, and idem's
 * MemoryError is CPython's answer when that run held at least the refused value's bytes (the Body did build
 * something that large; idem's bound is the documented difference), else the disagreement stands.
 */
async function judge(cases: readonly BodyCase[]): Promise<Verdict[]> {
  const [first, answered] = await Promise.all([python[0].run(cases), idem.run(cases)]);
  // An idem answer over its time limit is asked once more, alone: on a loaded machine a slow Body can pass the
  // limit once (seen in CI, not reproduced by the replay); a Body that really hangs hangs again.
  const hung = cases.flatMap((_, i) => ((answered[i] as Outcome).kind === "hang" ? [i] : []));
  const retried = await idem.run(hung.map((i) => cases[i] as BodyCase));
  hangsAnswered += retried.filter((o) => o.kind !== "hang").length;
  const ours = answered.map((o, i) => (hung.includes(i) ? (retried[hung.indexOf(i)] as Outcome) : o));
  const differ = cases.flatMap((_, i) => (sameOutcome(ours[i] as Outcome, first[i] as Outcome) ? [] : [i]));
  const second = await python[1].run(differ.map((i) => cases[i] as BodyCase));
  const again = new Map(differ.map((i, k) => [i, second[k] as Outcome]));
  const verdicts = cases.map((_, i) => {
    const a = first[i] as Outcome;
    const python = reference(a, again.get(i) ?? a);
    const undecided =
      again.has(i) && python !== null && nanIdentity(cases[i] as BodyCase, ours[i] as Outcome, python);
    return { idem: ours[i] as Outcome, python: undecided ? null : python };
  });
  const overBound = differ.filter(
    (i) => boundClaim(ours[i] as Outcome) !== null && verdicts[i]?.python != null,
  );
  const traced = await python[0].peaks(overBound.map((i) => cases[i] as BodyCase));
  overBound.forEach((i, k) => {
    const v = verdicts[i] as Verdict;
    if ((traced[k]?.peak ?? 0) >= (boundClaim(v.idem) as number)) {
      v.python = v.idem;
      overBoundAccepted++;
    }
  });
  return verdicts;
}

interface Kind {
  kind: string;
  count: number;
  first: number;
  minimal?: { case: BodyCase; idem: Outcome; python: Outcome };
}

/** Shrinks the case at `index` (replayed from the seed) to a minimal one with the same kind of disagreement. */
async function shrink(kind: Kind): Promise<void> {
  let steps = 0;
  const until = performance.now() + SHRINK_KIND_MS;
  const result = await fc.check(
    fc.asyncProperty(bodyCase, async (c) => {
      if (++steps > SHRINK_STEPS || (steps > 1 && performance.now() > until)) return true;
      const [v] = await judge([c]);
      if (v === undefined || v.python === null || sameOutcome(v.idem, v.python)) return true;
      if (outcomeKind(c.topic, v.idem, v.python) !== kind.kind) return true;
      kind.minimal = { case: c, idem: v.idem, python: v.python };
      return false;
    }),
    { seed: SEED, path: String(kind.first), numRuns: RUNS },
  );
  assert.ok(result.failed, `replaying run ${kind.first} of seed ${SEED} did not reproduce "${kind.kind}"`);
}

function report(kind: Kind): string {
  const m = kind.minimal;
  if (m === undefined) return `- ${kind.kind}: ${kind.count} Bodies (first: run ${kind.first})`;
  return [
    `- ${kind.kind}: ${kind.count} Bodies; minimal (IDEM_DIFF_SEED=${SEED}, run ${kind.first}):`,
    ...m.case.body.split("\n").map((line) => `      ${line}`),
    `    Parameters ${m.case.params}`,
    `    idem:    ${showOutcome(m.idem)}`,
    `    CPython: ${showOutcome(m.python)}`,
  ].join("\n");
}

test("the CPython reference runs a Body as murano-agent 10 does", async () => {
  const scripts = [
    { name: "deploy", exitCode: 0, stdout: null, stderr: "e", echo: true, verify: true },
    { name: "bad", exitCode: 3, stdout: "o", stderr: null, echo: false, verify: true },
  ];
  const params = '{"port": 1.0, "8080": 9007199254740993, "cfg": {"a": 1}}';
  const bodies = [
    "return args.port, args['8080'], args.get('x'), args.cfg",
    "return args.missing",
    "return args.cfg.a",
    "return args + 1",
    "r = deploy(['a', 1], 'in')\nreturn r.stdout, r['exitCode'], r.stderr, deploy.fn(x=1)",
    "bad()",
    "return {1}",
    "  a = 1\n  if a:\n\treturn a",
    "  a = 1\n\treturn a",
  ];
  const answers = await python[0].run(bodies.map((body) => ({ topic: "t", body, params, scripts })));
  const error = (type: string | null, message: string, code = 1, info: string | null = null) =>
    ({ kind: "error", code, type, message, info }) as const;
  assert.deepEqual(answers, [
    { kind: "ok", json: '[1.0, 9007199254740993, null, {"a": 1}]' },
    error("KeyError", "'missing'"),
    error("AttributeError", "'dict' object has no attribute 'a'"),
    error("TypeError", "unsupported operand type(s) for +: 'Bunch' and 'int'"),
    error("TypeError", "ApplicationExecutor.run() got an unexpected keyword argument 'x'"),
    error(null, "Script bad returned error code", 100, '{"exitCode":3,"stdout":"o","stderr":null}'),
    error("TypeError", "Object of type set is not JSON serializable"),
    { kind: "ok", json: "1" },
    { kind: "syntax", message: "unexpected indent (<string>, line 3)" },
  ]);
});

test("a value over idem's bound counts as idem's MemoryError only when CPython did hold that many bytes", async () => {
  const params = "{}";
  const over = { topic: "t", body: "s = ' ' * 10000001\nreturn len(s)", params, scripts: [] };
  const [verdict] = await judge([over]);
  assert.deepEqual(verdict?.python, verdict?.idem);
  assert.equal(boundClaim(verdict?.idem as Outcome), 10_000_001);
  // A claim CPython's run cannot back: what a small Body holds is far below any refused size.
  const [small] = await python[0].peaks([{ topic: "t", body: "return [1, 'a']", params, scripts: [] }]);
  assert.deepEqual(small?.outcome, { kind: "ok", json: '[1, "a"]' });
  assert.ok((small?.peak ?? Infinity) < 1_000_000, `peak ${small?.peak}`);
});

test("idem answers generated Bodies exactly as CPython 3.11 does under murano-agent", async (t) => {
  const version = execFileSync("python3", ["--version"], { encoding: "utf8" }).trim();
  t.diagnostic(`IDEM_DIFF_SEED=${SEED} IDEM_DIFF_RUNS=${RUNS} (reference: ${version})`);
  console.log(`differential: IDEM_DIFF_SEED=${SEED} IDEM_DIFF_RUNS=${RUNS}`);
  const started = performance.now();
  const cases = fc.sample(bodyCase, { seed: SEED, numRuns: RUNS });
  const generated = performance.now();
  const acceptedBefore = overBoundAccepted;
  const verdicts = await judge(cases);
  const judged = performance.now();
  const overBound = overBoundAccepted - acceptedBefore;
  const kinds = new Map<string, Kind>();
  let undecided = 0;
  verdicts.forEach((v, i) => {
    const c = cases[i] as BodyCase;
    if (v.python === null) undecided++;
    else if (!sameOutcome(v.idem, v.python)) {
      const name = outcomeKind(c.topic, v.idem, v.python);
      const kind = kinds.get(name) ?? { kind: name, count: 0, first: i };
      kind.count++;
      kinds.set(name, kind);
    }
  });
  const sorted = [...kinds.values()].sort((a, b) => b.count - a.count);
  for (const kind of sorted.slice(0, SHRUNK_KINDS)) {
    if (performance.now() - judged > SHRINK_BUDGET_MS && !process.env.IDEM_DIFF_SHRINK) break;
    await shrink(kind);
  }
  const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
  const shrunk = performance.now();
  t.diagnostic(
    `generated in ${ms(started, generated)}, judged in ${ms(generated, judged)}, shrunk in ${ms(judged, shrunk)}`,
  );
  const failed = sorted.reduce((n, k) => n + k.count, 0);
  t.diagnostic(
    `${RUNS - failed - undecided} agreed (${overBound} of them idem's bound MemoryError), ${failed} disagreed, ` +
      `${undecided} without one CPython answer`,
  );
  assert.ok(
    hangsAnswered <= MAX_HANGS_ANSWERED,
    `${hangsAnswered} Bodies passed idem's time limit once and answered when asked again: slow or stateful, look`,
  );
  assert.ok(
    overBound <= Math.max(1, RUNS * MAX_OVER_BOUND),
    `${overBound} of ${RUNS} Bodies were taken as over idem's bound: the generator builds such values too often`,
  );
  if (process.env.IDEM_DIFF_REPORT)
    writeFileSync(process.env.IDEM_DIFF_REPORT, JSON.stringify(sorted, null, 1));
  assert.ok(
    undecided < RUNS / 20,
    `${undecided} of ${RUNS} Bodies had no single CPython answer: generator bug`,
  );
  if (sorted.length > 0) {
    assert.fail(
      `${failed} of ${RUNS} Bodies disagree with CPython in ${sorted.length} kinds (IDEM_DIFF_SEED=${SEED}):\n` +
        sorted.map(report).join("\n"),
    );
  }
});
