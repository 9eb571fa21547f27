/**
 * `npm run bench`: idem against murano-agent 10.0.0 (its peer) and the machine's floor, in one run, one table
 * (issue 11). Builds nothing itself: `npm run bench` runs `node build.mjs` first (the agent under test is the
 * shipped executable `dist/idem`).
 *
 *   npm run bench -- [--reps 10] [--soak [10000]] [--out FILE]
 *
 * 1. The peer is installed if it is not (../shared/peerbench/setup.sh, apt, once), its private RabbitMQ node
 *    starts with the MQTT plugin on a free loopback port: both agents use that one node (murano-agent over AMQP,
 *    idem over MQTT 3.1.1).
 * 2. `--reps` interleaved reps (default 10, as issue 11 measured its table: the peer's launch alone moves 1.6–3.4 s
 *    from rep to rep on one machine), peer then idem (A B A B …): peer.ts runs engine.py `perf 1`, idem_rep.ts the
 *    same measurements on idem, the executable's pages dropped from the page cache before each rep's first start
 *    (a build just written would show ≈ 10 MB more file-backed RSS than a VM's agent after boot:
 *    bench/page_cache.ts), whose exec → online is the cold start's row; the launch measured is the second start,
 *    its pages cached as the peer's are. The last idem rep also measures the Body worker's cold start and, with
 *    `--soak`, RSS over 10,000 (or N) more plans.
 * 3. floor.ts: work dir + spawn + the awaited LMDB puts a plan needs (two alone, one in a backlog), and exec of
 *    the executable; for the round trip also the broker's own (broker_echo.ts: an MQTT echo in the agent's
 *    place, on the same node).
 * 4. The node is stopped (also on an error or Ctrl-C: every process by its PID or process group id), the table is
 *    printed (peer_table.ts: medians [min..max], ratio idem/peer, goal, met?, floor) and written as JSON to
 *    `--out` (default `<tmp>/idem-bench-<time>.json`).
 *
 * Takes about 12–15 min with 10 reps (≈ 1–1.3 min per rep pair, plus the broker's boot, the cold worker and the
 * floor); `--soak` adds 2–6 min. Gives up after 40 min. Exits 1 on any failure (a wrong result, an
 * agent that dies, a timeout) with the reason; a goal not met is a figure, not a failure.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/agent_process.ts";
import { freePort } from "../test/helpers/server_process.ts";
import { measureBrokerRoundTrip } from "./broker_echo.ts";
import { COMMITS, type Floor, measureFloor } from "./floor.ts";
import { idemRep } from "./idem_rep.ts";
import { host, intArg, ms, pct, stringArg } from "./lab.ts";
import { ensurePeer, PEER_DIR, peerRep, startRabbit, stopPeer, stopRabbit } from "./peer.ts";
import { type IdemExtra, printSummary, type Rep, summarize } from "./peer_table.ts";

const USAGE = `usage: npm run bench -- [--reps 10] [--soak [10000]] [--out FILE]
  idem vs murano-agent 10.0.0 vs the machine's floor, one table (docs/benchmarks.md); about 12–15 min with 10 reps
  --reps N      interleaved rep pairs (peer, idem), default 10 (issue 11's method)
  --soak [N]    N more plans on idem's last rep (default 10,000), RSS after each 1,000
  --out FILE    the figures as JSON (default <tmp>/idem-bench-<time>.json)`;
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(USAGE);
  process.exit(0);
}
// A mistyped flag (`--rep 3`), a stray number or a value out of range must not start a long run with the defaults.
const refuse = (why: string): never => {
  console.error(`npm run bench: ${why}\n${USAGE}`);
  process.exit(2);
};
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] as string;
  const next = process.argv[i + 1];
  if (arg === "--reps") {
    if (next === undefined || !/^[1-9]\d*$/.test(next))
      refuse(`--reps takes a whole number ≥ 1, not ${JSON.stringify(next ?? "")}`);
    i++;
  } else if (arg === "--soak") {
    if (next !== undefined && /^\d+$/.test(next)) {
      if (!/^[1-9]\d*$/.test(next))
        refuse(`--soak takes a whole number ≥ 1 (or none: 10,000), not ${JSON.stringify(next)}`);
      i++;
    }
  } else if (arg === "--out") {
    if (next === undefined || next.startsWith("--")) refuse("--out takes a file name");
    i++;
  } else refuse(`unknown argument ${JSON.stringify(arg)}`);
}

const REPS = intArg("--reps", 10);
/** `--soak [N]`: N more plans (default 10,000) on idem's last rep; 0 without the flag. */
const SOAK = soakArg();
const OUT =
  stringArg("--out") ?? join(tmpdir(), `idem-bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
const EXECUTABLE = join(REPO_ROOT, "dist/idem");
const DEADLINE_MS = 40 * 60_000;

function soakArg(): number {
  const at = process.argv.indexOf("--soak");
  if (at < 0) return 0;
  const value = Number(process.argv[at + 1]);
  return Number.isInteger(value) && value > 0 ? value : 10_000;
}

const work = mkdtempSync(join(tmpdir(), "idem-bench-"));
let cleaning: Promise<void> | undefined;

/** Stops whatever this run started; safe to call twice. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    stopPeer();
    await stopRabbit().catch((error) => console.error(String(error)));
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

let aborting = false;

/** Prints why (the first reason only: what fails after a Ctrl-C is its consequence), cleans up, exits 1. */
async function abort(why: string): Promise<never> {
  if (!aborting) console.error(why);
  aborting = true;
  await cleanup();
  process.exit(1);
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void abort(`stopped by ${signal}`));
setTimeout(() => void abort(`Giving up after ${DEADLINE_MS / 60_000} min`), DEADLINE_MS).unref();

async function bench(): Promise<void> {
  if (!existsSync(EXECUTABLE))
    throw new Error(
      `Cannot benchmark as ${EXECUTABLE} is missing: run \`node build.mjs\` (npm run bench does)`,
    );
  const loadBefore = loadavg();
  const started = new Date();
  console.log(ensurePeer());
  const port = await freePort();
  console.log(await startRabbit(port));
  const peer: Rep[] = [];
  const idem: Rep[] = [];
  const extra: IdemExtra[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    peer.push(await peerRep());
    console.log(`rep ${rep + 1}/${REPS} murano-agent: ${line(peer.at(-1) as Rep)}`);
    const last = rep === REPS - 1;
    const dir = mkdtempSync(join(work, "rep-"));
    const result = await idemRep({
      port,
      command: [EXECUTABLE],
      work: dir,
      soak: last ? SOAK : 0,
      coldWorker: last,
      evict: [EXECUTABLE],
    });
    idem.push(result.rep);
    extra.push(result.extra);
    console.log(`rep ${rep + 1}/${REPS} idem:         ${line(result.rep)}`);
  }
  // Without it the run still has its table: the round trip's floor is then given without the broker.
  const brokerRoundTripMs = await measureBrokerRoundTrip(port).catch((error: unknown) => {
    console.error(`The broker's round trip was not measured: ${(error as Error).message}`);
    return undefined;
  });
  await stopRabbit();
  const floor = await measureFloor(EXECUTABLE, { brokerRoundTripMs });
  await cleanup();
  report({ peer, idem, extra, floor, started, loadBefore });
}

/** The checkout's commit (with `-dirty` when it has changes), or undefined outside a git checkout. */
function headCommit(): string | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: REPO_ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "-dirty" : ""}`;
  } catch {
    return undefined;
  }
}

function line(rep: Rep): string {
  return (
    `launch → result ${ms(rep.startupMs)}, round trip p50 ${ms(pct(rep.latencyMs, 50))}, ` +
    `500 in ${rep.totalS.toFixed(2)} s (${rep.plansPerS.toFixed(1)}/s), CPU/plan ${ms(rep.cpuMsPerPlan)}, ` +
    `RSS idle ${(rep.idleRssKb / 1024).toFixed(0)} MB, after ${(rep.rssAfter500Kb / 1024).toFixed(0)} MB`
  );
}

interface Run {
  peer: Rep[];
  idem: Rep[];
  extra: IdemExtra[];
  floor: Floor;
  started: Date;
  loadBefore: number[];
}

function report(run: Run): void {
  const load = (values: number[]) => values.map((l) => l.toFixed(2)).join(" ");
  const loadAfter = loadavg();
  const minutes = (Date.now() - run.started.getTime()) / 60_000;
  const machine = host();
  const commit = headCommit();
  console.log();
  console.log(
    `${run.started.toISOString()}, ${machine.cores} cores (${machine.model}), node ${machine.node}; ` +
      `load before ${load(run.loadBefore)}, after ${load(loadAfter)}; commit ${commit ?? "?"}; ${minutes.toFixed(1)} min`,
  );
  console.log(
    `murano-agent 10.0.0 (+ upstream write-mode fix) over AMQP vs idem (dist/idem, concurrency 1, its pages dropped from the page cache before each rep's first start) over MQTT 3.1.1, ` +
      `one RabbitMQ 3.10 node (${PEER_DIR}); ${REPS} interleaved reps, median [min..max]`,
  );
  const summary = summarize(run.peer, run.idem, run.extra, run.floor);
  printSummary(summary);
  const f = run.floor;
  console.log(
    `floor: work dir + spawn ${ms(f.workdirSpawnMs)}; a plan alone + ${COMMITS.alone} × awaited LMDB put ${ms(f.lmdbPutMs)} = ` +
      `${ms(f.planMs)}, + the broker's round trip ${f.brokerRoundTripMs === undefined ? "(not measured)" : ms(f.brokerRoundTripMs)} (an MQTT echo in the agent's place) = ` +
      `${ms(f.roundTripMs)} per round trip; ` +
      `a plan of a backlog + ${COMMITS.backlog} put = ${ms(f.backlogPlanMs)} ` +
      `(${f.plansPerS.toFixed(0)}/s); fdatasync of 500 B ${ms(f.fdatasyncMs)}; exec of dist/idem ${ms(f.execMs)}`,
  );
  const last = run.extra.at(-1);
  const worker = run.extra.map((x) => x.workerIdleRssKb).filter((kb) => kb !== undefined);
  console.log(
    `idem's Body worker (a child process for Bodies not bounded by construction, kept 30 s idle): idle RSS ${
      worker.length ? `${(pct(worker, 50) / 1024).toFixed(0)} MB` : "n/a (none running)"
    }, cold start ${last?.workerColdMs === undefined ? "n/a" : ms(last.workerColdMs)} (one round trip after it ended, minus the warm p50)`,
  );
  console.log("check: every idem result run/0, every peer result ErrorCode 0");
  const figures = { ...run, loadAfter, minutes, machine, commit, reps: REPS, soak: SOAK, summary };
  writeFileSync(OUT, `${JSON.stringify(figures, null, 1)}\n`);
  console.log(`figures: ${OUT}`);
}

try {
  await bench();
  process.exit(0);
} catch (error) {
  await abort(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
