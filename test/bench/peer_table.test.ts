/**
 * The verdicts of `npm run bench`'s table (bench/peer_table.ts), issue 11's check: a ratio that rounds onto its
 * goal's limit never reads as the limit, "flat" looks at every soak sample, and each goal points the right way.
 * Pure logic: the reps are built here, nothing is measured.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Floor } from "../../bench/floor.ts";
import { type IdemExtra, isFlat, type Rep, ratioText, summarize } from "../../bench/peer_table.ts";

const FLOOR: Floor = {
  fdatasyncMs: 0.2,
  lmdbPutMs: 0.5,
  workdirSpawnMs: 3,
  cpuMsPerPlan: 1,
  planMs: 4,
  backlogPlanMs: 3.5,
  plansPerS: 285,
  brokerRoundTripMs: 1,
  roundTripMs: 5,
  execMs: 150,
};

function rep(overrides: Partial<Rep> = {}): Rep {
  return {
    startupMs: 2000,
    idleRssKb: 76 * 1024,
    latencyMs: Array.from({ length: 50 }, () => 60),
    totalS: 40,
    plansPerS: 12.5,
    cpuMsPerPlan: 50,
    rssAfter500Kb: 80 * 1024,
    ...overrides,
  };
}

function extra(soakRssKb: number[] = []): IdemExtra {
  return {
    workerIdleRssKb: undefined,
    workerCpuMsPerPlan: undefined,
    soakRssKb,
    soakAnonKb: soakRssKb,
    soakPlans: soakRssKb.length * 1000,
    workerColdMs: undefined,
  };
}

test("a ratio that rounds onto its goal's limit is printed with the digits that tell it apart", () => {
  assert.equal(ratioText(0.1205, 0.12), "0.1205"); // "0.120" would still read as the limit
  assert.equal(ratioText(0.1213, 0.12), "0.121");
  assert.equal(ratioText(0.1195, 0.12), "0.119");
  assert.equal(ratioText(0.12, 0.12), "0.12");
  assert.equal(ratioText(0.11, 0.12), "0.11");
  assert.equal(ratioText(3.996, 4), "3.996");
  assert.equal(ratioText(0.5, undefined), "0.50");
  assert.equal(ratioText(0.1200000001, 0.12), "0.1200000001");
  assert.equal(ratioText(24.6 / 205, 0.12), "0.12000000000000001"); // a float just off the limit: as the verdict sees it
});

test("flat means no soak sample more than 10% above the first, wherever it is", () => {
  assert.equal(isFlat([67, 67, 70, 71, 69]), true);
  assert.equal(isFlat([67, 90, 70]), false); // a rise part way that falls back by the end
  assert.equal(isFlat([67, 68, 74]), false);
  assert.equal(isFlat([67, 60, 50]), true);
  assert.equal(isFlat([100, 110]), true); // exactly 10% above is still flat
});

test("each row's verdict follows its goal's direction, from the ratio of the medians", () => {
  const peer = [rep(), rep(), rep()];
  const fast = rep({ startupMs: 239, plansPerS: 50, latencyMs: Array.from({ length: 50 }, () => 14) });
  const slowStart = rep({ startupMs: 241, plansPerS: 49.9 });
  const met = summarize(peer, [fast, fast, fast], [extra(), extra(), extra()], FLOOR).goals;
  assert.equal(met["launch → first result"]?.met, true); // 239 / 2000 = 0.1195 ≤ 0.12
  assert.equal(met["sequential round trip p50"]?.met, true); // 14 / 60 ≤ 0.25
  assert.equal(met["500 queued plans"]?.met, true); // 50 / 12.5 = 4 ≥ 4
  const missed = summarize(peer, [slowStart, slowStart, slowStart], [extra(), extra(), extra()], FLOOR).goals;
  assert.equal(missed["launch → first result"]?.met, false); // 0.1205
  assert.equal(missed["500 queued plans"]?.met, false); // 3.992
  assert.equal(missed["sequential round trip p50"]?.met, false); // 60 / 60
  // The printed row says what the verdict says: its ratio never reads as the limit it missed.
  const launch = summarize(peer, [slowStart], [extra()], FLOOR).body.find(
    (cells) => cells[0] === "launch → first result",
  );
  assert.equal(launch?.[3], "0.1205");
  assert.equal(launch?.[6], "no");
});

test("the soak row is judged by its highest sample and by flatness, and says which failed", () => {
  const peer = [rep()];
  const kb = (mbs: number[]) => mbs.map((mb) => mb * 1024);
  const row = (mbs: number[]) => {
    const summary = summarize(peer, [rep()], [extra(kb(mbs))], FLOOR);
    const cells = summary.body.find((cells) => /^RSS after [\d,]+ more$/.test(cells[0] ?? ""));
    return { verdict: summary.goals["RSS after the soak"], cells };
  };
  const ok = row([67, 68, 71, 69]);
  assert.equal(ok.verdict?.met, true);
  assert.equal(ok.cells?.[0], "RSS after 4,000 more");
  assert.match(ok.cells?.[2] ?? "", /^69 MB, highest 71 MB/);
  const bump = row([67, 90, 70]); // back under the peer's 80 MB by the end, but not flat and above it part way
  assert.equal(bump.verdict?.met, false);
  assert.equal(bump.cells?.[6], "no (not flat)");
  const high = row([79, 81, 80]); // flat, but a sample above the peer's 80 MB
  assert.equal(high.verdict?.met, false);
  assert.equal(high.cells?.[6], "no");
  const barely = row([79, 80.3, 80]); // 80.3 / 80 = 1.00375: its ratio must not print as 1.00
  assert.equal(barely.cells?.[3], "1.004");
  assert.equal(barely.verdict?.met, false);
});
