/**
 * The machine's floor for one trivial plan (issue 11): what any agent must do for `#!/bin/sh\necho ok` whatever
 * its design, measured in the same run as the agents: the least the text of SPEC 2, 5.1 and 6 allows. Per plan: a fresh work dir, `run.sh` written into it,
 * `./run.sh` spawned from Node with its output read (without a shell between, as the agent starts a plain command
 * line since session 7, agent/murano/direct_exec.ts; with libc's posix_spawn, the cheapest start open to a Node
 * program and the agent's own: agent/native/posix_spawn.ts; libuv's fork costs ~6 ms of CPU more on a VM where
 * page faults are dear), plus the durable commits SPEC 5.1 and the ack rule ask for, as awaited LMDB puts.
 * `fdatasync` of 500 B is measured too, as the disk's own cost of one commit.
 *
 * - A plan alone: two commits — its decision, which carries its start when it starts at once (the decision
 *   durable before the PUBACK, the start before the script), and its finish before the result. idem makes these
 *   two since session 13 for a policy that runs an interrupted plan again (the default); a `run-once-ever` plan
 *   keeps a start commit of its own (docs/reliability.md, "What waits for an fsync").
 * - A backlog: one commit per plan — the previous plan's finish and the next one's start share one (between two
 *   scripts nothing less is durable), and the decisions of the queued plans share a few.
 *
 *   planMs = work dir + spawn + 2 × put;  roundTripMs = planMs + brokerRoundTripMs
 *   backlogPlanMs = work dir + spawn + 1 × put;  plansPerS = 1000 / backlogPlanMs
 *
 * The round trip's floor adds the broker's own round trip when the caller measured it on the agents' broker
 * (bench/broker_echo.ts: an echo client in the agent's place): no agent answers faster than its broker relays.
 * Also the launch floor: exec of the executable to its exit (`dist/idem --version`: the runtime alone, no
 * broker). Medians of `n` samples (default 200; 5 for the exec). Nothing here fails on a slow machine; a wrong
 * script output throws.
 */
import { execFileSync } from "node:child_process";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import { startProcess } from "../agent/native/posix_spawn.ts";
import { pct } from "./lab.ts";

export interface Floor {
  /** `write` + `fdatasync` of 500 B at offset 0 of one file, median, ms. */
  fdatasyncMs: number;
  /** One awaited `put` of 500 B (`overlappingSync: false`, as the journal opens LMDB), median, ms. */
  lmdbPutMs: number;
  /** Fresh work dir + write run.sh + spawn `./run.sh` + its output read to the exit, median, ms. */
  workdirSpawnMs: number;
  /** This process's CPU (user + system) per work dir + spawn and one put (a backlog's plan), ms. */
  cpuMsPerPlan: number;
  /** workdirSpawnMs + 2 × lmdbPutMs: a plan alone. */
  planMs: number;
  /** An MQTT echo's round trip through the agents' broker (bench/broker_echo.ts), median, ms; undefined when not measured. */
  brokerRoundTripMs: number | undefined;
  /** planMs + brokerRoundTripMs (planMs alone when it was not measured): one sequential round trip's floor. */
  roundTripMs: number;
  /** workdirSpawnMs + lmdbPutMs: a plan of a backlog. */
  backlogPlanMs: number;
  /** 1000 / backlogPlanMs. */
  plansPerS: number;
  /** `dist/idem --version` from exec to exit, median of 5, ms. */
  execMs: number;
}

/** Commits of a plan alone (its decision with its start, its finish) and per plan of a backlog. */
export const COMMITS = { alone: 2, backlog: 1 } as const;
const SCRIPT = "#!/bin/sh\necho ok\n";

/**
 * Measures the floor in a temp folder of its own (removed at the end); `brokerRoundTripMs`: the broker's share,
 * measured by the caller while its broker runs (none: a round trip's floor without the broker).
 */
export async function measureFloor(
  executable: string,
  options: { brokerRoundTripMs?: number | undefined; n?: number } = {},
): Promise<Floor> {
  const n = options.n ?? 200;
  const { brokerRoundTripMs } = options;
  const work = mkdtempSync(join(tmpdir(), "idem-bench-floor-"));
  try {
    const fdatasyncMs = syncs(join(work, "sync"), n);
    const puts = await lmdbPuts(join(work, "lmdb"), n);
    const spawns = await spawnsInWorkDirs(join(work, "plans"), n);
    const planMs = spawns.ms + COMMITS.alone * puts.ms;
    const backlogPlanMs = spawns.ms + COMMITS.backlog * puts.ms;
    return {
      fdatasyncMs,
      lmdbPutMs: puts.ms,
      workdirSpawnMs: spawns.ms,
      cpuMsPerPlan: spawns.cpuMs + COMMITS.backlog * puts.cpuMs,
      planMs,
      brokerRoundTripMs,
      roundTripMs: planMs + (brokerRoundTripMs ?? 0),
      backlogPlanMs,
      plansPerS: 1000 / backlogPlanMs,
      execMs: execs(executable, 5),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function syncs(file: string, n: number): number {
  const fd = openSync(file, "w");
  const block = Buffer.alloc(500, 120);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, block, 0, block.length, 0);
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  return pct(times, 50);
}

async function lmdbPuts(path: string, n: number): Promise<{ ms: number; cpuMs: number }> {
  const root = open({ path, overlappingSync: false, maxDbs: 8 });
  const db = root.openDB({ name: "records" });
  const value = "x".repeat(500);
  const times: number[] = [];
  const cpu = process.cpuUsage();
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await db.put(`key-${i}`, value);
      times.push(performance.now() - t);
    }
  } finally {
    await root.close();
  }
  return { ms: pct(times, 50), cpuMs: cpuMsSince(cpu) / n };
}

async function spawnsInWorkDirs(parent: string, n: number): Promise<{ ms: number; cpuMs: number }> {
  mkdtempSync(`${parent}-`); // warms the path's dentry cache like the agent's existing data dir
  const times: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const dir = mkdtempSync(`${parent}-`);
    writeFileSync(join(dir, "run.sh"), SCRIPT, { mode: 0o755 });
    const out = await run(dir);
    times.push(performance.now() - t);
    if (out !== "ok\n") throw new Error(`Cannot measure the floor as run.sh printed ${JSON.stringify(out)}`);
  }
  return { ms: pct(times, 50), cpuMs: cpuMsSince(cpu) / n };
}

async function run(cwd: string): Promise<string> {
  const child = await startProcess({
    file: "./run.sh",
    args: [],
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.resume();
  const { code } = await child.closed;
  if (code !== 0) throw new Error(`Cannot measure the floor as run.sh exited ${code}`);
  return out;
}

function execs(executable: string, n: number): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    execFileSync(executable, ["--version"], { stdio: "pipe" });
    times.push(performance.now() - t);
  }
  return pct(times, 50);
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
