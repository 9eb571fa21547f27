/**
 * The figures of one rep (either agent) and the table `npm run bench` prints from them: one row per line of
 * issue 11's table, murano-agent's median, idem's median, their ratio, the issue's goal, whether it is met, and
 * the machine's floor. Each cell is the median of the per-rep values with [min..max]; a ratio is the ratio of
 * the two medians, idem ÷ murano-agent on every row (for throughput that is idem's plans/s ÷ the peer's, so
 * bigger is better there and smaller everywhere else).
 */
import type { Floor } from "./floor.ts";
import { pct, printTable } from "./lab.ts";

/** One rep, as engine.py's `one_rep` measures it (its fields in ms, kB and plans/s). */
export interface Rep {
  /** Spawn of the agent (a plan already queued for it) → that plan's result received. */
  startupMs: number;
  /** Agent RSS 5 s after that result. */
  idleRssKb: number;
  /** 50 sequential round trips on the warm agent: publish → matching result. */
  latencyMs: number[];
  /** 500 plans published back to back: first publish → 500th result. */
  totalS: number;
  plansPerS: number;
  /** Agent process CPU (utime + stime, children excluded) over the 500, divided by 500. */
  cpuMsPerPlan: number;
  /** Agent RSS 2 s after the 500th result. */
  rssAfter500Kb: number;
}

/** What only idem's reps have: its Body worker (a child process; the peer runs Bodies in its own process). */
export interface IdemExtra {
  /** Exec → online of the rep's first start, its executable's pages dropped from the page cache before. */
  coldOnlineMs?: number;
  /** The idle Body worker's RSS, read with the agent's idle RSS (undefined: no worker was running). */
  workerIdleRssKb: number | undefined;
  /** The worker's CPU over the 500 ÷ 500 (undefined: the worker changed during the run). */
  workerCpuMsPerPlan: number | undefined;
  /** RSS after each further 1,000 plans of a `--soak` (empty without it). */
  soakRssKb: number[];
  /**
   * The anonymous part of each of those (`RssAnon`: the agent's own memory, without the journal's and the
   * executable's mapped file pages); absent in figures from before it was recorded.
   */
  soakAnonKb?: number[];
  /** How many plans the soak sent (0 without it). */
  soakPlans: number;
  /** One round trip after the idle worker ended (30 s idle), minus the warm p50 (undefined: not measured). */
  workerColdMs: number | undefined;
}

const median = (xs: readonly number[]) => pct(xs, 50);

/**
 * The ratio with 2 decimals, or as many more as it takes (up to 6) not to read as the goal's limit when it is not
 * the limit: 0.1205 against "≤ 0.12" prints 0.1205, never 0.12 or 0.120 (session 15's launch read "0.12 … no");
 * closer still, its shortest exact text (`String`), which never equals the limit.
 */
export function ratioText(ratio: number, limit?: number): string {
  for (let digits = 2; digits <= 6; digits++) {
    const text = ratio.toFixed(digits);
    if (limit === undefined || ratio === limit || Number(text) !== limit) return text;
  }
  return String(ratio);
}

/**
 * Flat, for a soak's samples (taken after each 1,000 plans): no sample more than 10% above the first. Every
 * sample counts, so a rise part way that falls back by the end is not flat.
 */
export function isFlat(samples: readonly number[]): boolean {
  const first = samples[0] as number;
  return samples.every((sample) => sample <= first * 1.1);
}

/** One row: how to read a rep's value, its unit, the goal on the ratio idem ÷ peer, and the floor. */
interface RowSpec {
  name: string;
  peer: (rep: Rep) => number;
  idem: (rep: Rep, extra: IdemExtra) => number | undefined;
  unit: (value: number) => string;
  goal?: Goal;
  floor?: string;
  /** The floor in the row's unit, where one was measured: a goal beyond it is marked in the table. */
  floorValue?: number;
}

/** A goal on the ratio idem ÷ peer: at most `limit` (lower is better) or at least `limit` (higher is better). */
interface Goal {
  text: string;
  limit: number;
  higher: boolean;
  met: (ratio: number) => boolean;
}

const seconds = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
const millis = (v: number) => (v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`);
const perS = (v: number) => `${v.toFixed(1)}/s`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const atMost = (limit: number): Goal => ({
  text: `≤ ${limit}`,
  limit,
  higher: false,
  met: (ratio) => ratio <= limit,
});
const atLeast = (limit: number): Goal => ({
  text: `≥ ${limit}`,
  limit,
  higher: true,
  met: (ratio) => ratio >= limit,
});

function rows(floor: Floor): RowSpec[] {
  return [
    {
      name: "launch → first result",
      peer: (r) => r.startupMs,
      idem: (r) => r.startupMs,
      unit: seconds,
      goal: atMost(0.12),
      floor: `${seconds(floor.execMs)} (exec of dist/idem --version)`,
      floorValue: floor.execMs,
    },
    {
      name: "sequential round trip p50",
      peer: (r) => pct(r.latencyMs, 50),
      idem: (r) => pct(r.latencyMs, 50),
      unit: millis,
      goal: atMost(0.25),
      floor:
        floor.brokerRoundTripMs === undefined
          ? `${millis(floor.roundTripMs)} (a plan alone; the broker not measured)`
          : `${millis(floor.roundTripMs)} (a plan alone ${millis(floor.planMs)} + broker ${millis(floor.brokerRoundTripMs)})`,
      floorValue: floor.roundTripMs,
    },
    {
      name: "sequential round trip p90",
      peer: (r) => pct(r.latencyMs, 90),
      idem: (r) => pct(r.latencyMs, 90),
      unit: millis,
    },
    {
      name: "sequential round trip max",
      peer: (r) => Math.max(...r.latencyMs),
      idem: (r) => Math.max(...r.latencyMs),
      unit: millis,
    },
    {
      name: "500 queued plans",
      peer: (r) => r.plansPerS,
      idem: (r) => r.plansPerS,
      unit: perS,
      goal: atLeast(4),
      floor: perS(floor.plansPerS),
      floorValue: floor.plansPerS,
    },
    {
      name: "agent CPU per plan",
      peer: (r) => r.cpuMsPerPlan,
      idem: (r) => r.cpuMsPerPlan,
      unit: millis,
      goal: atMost(0.5),
      floor: millis(floor.cpuMsPerPlan),
      floorValue: floor.cpuMsPerPlan,
    },
    {
      name: "  + idem's Body worker",
      peer: (r) => r.cpuMsPerPlan,
      idem: (r, x) =>
        x.workerCpuMsPerPlan === undefined ? undefined : r.cpuMsPerPlan + x.workerCpuMsPerPlan,
      unit: millis,
    },
    { name: "idle RSS", peer: (r) => r.idleRssKb, idem: (r) => r.idleRssKb, unit: mb, goal: atMost(0.8) },
    {
      name: "  + idem's idle Body worker",
      peer: (r) => r.idleRssKb,
      idem: (r, x) => (x.workerIdleRssKb === undefined ? undefined : r.idleRssKb + x.workerIdleRssKb),
      unit: mb,
    },
    {
      name: "RSS after the 500",
      peer: (r) => r.rssAfter500Kb,
      idem: (r) => r.rssAfter500Kb,
      unit: mb,
      goal: atMost(1),
    },
  ];
}

/**
 * The goal in the row's unit on this run (the peer's median × the goal's ratio), marked `(beyond the floor)`
 * when even the floor measured in the same run does not reach it: work dir, spawn and the commits SPEC 5.1 asks
 * for (and for the round trip, the broker's own) take longer.
 */
function goalHere(spec: RowSpec, peerMedian: number | undefined): string {
  const { goal } = spec;
  if (goal === undefined || peerMedian === undefined) return "–";
  const value = peerMedian * goal.limit;
  const beyond =
    spec.floorValue !== undefined && (goal.higher ? spec.floorValue < value : spec.floorValue > value);
  return `${goal.higher ? "≥" : "≤"} ${spec.unit(value)}${beyond ? " (beyond the floor)" : ""}`;
}

/** Median [min..max] of the defined values, formatted; undefined when there are none. */
function cell(
  values: Array<number | undefined>,
  unit: (v: number) => string,
): { median?: number; text: string } {
  const xs = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (xs.length === 0) return { text: "n/a" };
  const m = median(xs);
  const range = xs.length > 1 ? ` [${unit(Math.min(...xs))}..${unit(Math.max(...xs))}]` : "";
  return { median: m, text: `${unit(m)}${range}` };
}

export interface Summary {
  header: string[];
  body: string[][];
  /** Row name → the ratio of medians and whether its goal is met (rows with a goal only). */
  goals: Record<string, { ratio: number; met: boolean }>;
}

/** The table of the reps (peer and idem interleaved, same count or fewer) and the floor. */
export function summarize(peer: Rep[], idem: Rep[], extra: IdemExtra[], floor: Floor): Summary {
  const header = ["", "murano-agent", "idem", "ratio idem/peer", "goal", "goal here", "met?", "floor"];
  const body: string[][] = [];
  const goals: Summary["goals"] = {};
  for (const spec of rows(floor)) {
    const p = cell(peer.map(spec.peer), spec.unit);
    const i = cell(
      idem.map((rep, n) => spec.idem(rep, extra[n] as IdemExtra)),
      spec.unit,
    );
    const ratio = p.median !== undefined && i.median !== undefined ? i.median / p.median : undefined;
    const met = ratio !== undefined && spec.goal ? spec.goal.met(ratio) : undefined;
    if (ratio !== undefined && met !== undefined) goals[spec.name] = { ratio, met };
    body.push([
      spec.name,
      p.text,
      i.text,
      ratio === undefined ? "n/a" : ratioText(ratio, spec.goal?.limit),
      spec.goal?.text ?? "–",
      goalHere(spec, p.median),
      met === undefined ? "–" : met ? "yes" : "no",
      spec.floor ?? "–",
    ]);
  }
  const cold = extra.map((x) => x.coldOnlineMs).filter((v): v is number => v !== undefined);
  if (cold.length > 0) body.push(coldRow(cold));
  const soaked = extra.find((x) => x.soakRssKb.length > 0);
  if (soaked) body.push(soakRow(soaked.soakRssKb, soaked.soakPlans, peer, goals));
  if (soaked?.soakAnonKb?.length) body.push(soakAnonRow(soaked.soakAnonKb));
  return { header, body, goals };
}

/**
 * RSS over the `--soak` plans (idem only), judged by its highest sample against the peer's RSS after its 500, and
 * flat ({@link isFlat}): met when both hold.
 */
function soakRow(soak: number[], plans: number, peer: Rep[], goals: Summary["goals"]): string[] {
  const last = soak.at(-1) as number;
  const highest = Math.max(...soak);
  const peerAfter = median(peer.map((r) => r.rssAfter500Kb));
  const ratio = highest / peerAfter;
  const flat = isFlat(soak);
  const met = ratio <= 1 && flat;
  goals["RSS after the soak"] = { ratio, met };
  const samples = soak.map(mb).join(", ");
  return [
    `RSS after ${plans.toLocaleString("en-US")} more`,
    `${mb(peerAfter)} (after its 500)`,
    `${mb(last)}, highest ${mb(highest)} (every 1,000: ${samples})`,
    ratioText(ratio, 1),
    "≤ 1, flat",
    `≤ ${mb(peerAfter)}, flat`,
    met ? "yes" : flat ? "no" : "no (not flat)",
    "–",
  ];
}

/** idem's start with its executable's pages not in the page cache (as after a boot), exec → online; no goal. */
function coldRow(cold: number[]): string[] {
  const values = cell(cold, seconds);
  return ["  idem, pages not cached: exec → online", "–", values.text, "–", "–", "–", "–", "–"];
}

/** Prints the table. */
export function printSummary(summary: Summary): void {
  printTable(summary.header, summary.body);
}

/** The soak's anonymous RSS (no goal: what the agent's own memory does while the journal's mapped pages grow). */
function soakAnonRow(anon: number[]): string[] {
  const flat = isFlat(anon);
  return [
    "  its anonymous part",
    "–",
    `${mb(anon.at(-1) as number)} (every 1,000: ${anon.map(mb).join(", ")})`,
    "–",
    "–",
    "–",
    flat ? "flat" : "not flat",
    "–",
  ];
}
