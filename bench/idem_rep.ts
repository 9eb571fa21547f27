/**
 * One rep of idem, measuring exactly what peerbench's engine.py `one_rep` measures for murano-agent, on the same
 * broker node (RabbitMQ 3.10's MQTT plugin; the peer uses its AMQP side):
 *
 * - session: the executable's pages are dropped from the page cache (`evict`: as a VM's agent started after boot
 *   finds them, bench/page_cache.ts), then the agent (the shipped executable, concurrency 1, MQTT 3.1.1) starts
 *   once on a throw-away data dir — its exec → online is the cold start, reported apart, idem only — and stops, so
 *   that its persistent session holds its subscription (engine.py declares the peer's queue).
 * - (c) start-up: a plan is queued (PUBACK received), then the agent is spawned on a new empty data dir, with a
 *   vfork as engine.py's Popen spawns the peer (libc's posix_spawn); time from the spawn to that plan's
 *   result. Its pages are in the page cache, as the peer's are (engine.py imports the same libraries right before it
 *   starts murano-agent, and each rep reads them); they were read back by the session's start, not left from
 *   the build (a file just written sits in large folios and inflates the RSS, docs/benchmarks.md). Idle RSS
 *   5 s later, and the idle Body worker's (a child process).
 * - (a) 50 sequential round trips on the warm agent: publish → matching result.
 * - (b) 500 plans published back to back: first publish → 500th result, plans/s, the agent's own CPU
 *   (`/proc/PID/stat` utime + stime, children excluded) and its Body worker's, RSS 2 s after.
 * - `soak` (optional): that many more plans, in batches of 1,000, RSS after each batch.
 * - `coldWorker` (optional): once the idle Body worker has ended (30 s idle, worker_process.ts `IDLE_MS`), one
 *   more round trip: its excess over the warm p50 is the worker's cold start.
 *
 * Every result must be `Idem.Decision` run with ErrorCode 0 (else it throws). The 5 s and 2 s waits are when the
 * RSS is read (as engine.py reads it), not synchronisation.
 */
import { join } from "node:path";
import { spawnMethod } from "../agent/native/posix_spawn.ts";
import { BODY_WORKER_ARG } from "../agent/python/worker/worker_protocol.ts";
import { type AgentProcess, startAgent } from "../test/helpers/agent_process.ts";
import { childrenOf } from "../test/helpers/proc_children.ts";
import { benchPlan, Driver } from "./idem_driver.ts";
import { cpuMs, pct, rssKb, rssSplitKb } from "./lab.ts";
import { evictFromPageCache } from "./page_cache.ts";
import type { IdemExtra, Rep } from "./peer_table.ts";

export interface IdemRepOptions {
  /** The broker's MQTT port on 127.0.0.1. */
  port: number;
  /** The agent's command prefix (`[<repo>/dist/idem]`). */
  command: string[];
  /** A folder of this rep's own for the data dirs. */
  work: string;
  soak?: number;
  coldWorker?: boolean;
  /** Files to drop from the page cache before the session's start: the executable (`npm run bench` passes it). */
  evict?: readonly string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long the idle worker may take to end after its 30 s. */
const WORKER_END_MS = 45_000;

/** The agent's Body worker processes (children whose arguments include BODY_WORKER_ARG), if any are up. */
function workers(pid: number): number[] {
  return childrenOf(pid)
    .filter((child) => child.argv.includes(BODY_WORKER_ARG))
    .map((child) => child.pid);
}

/** Runs the rep; the agent is stopped (SIGTERM, then SIGKILL) whatever happens. */
export async function idemRep(options: IdemRepOptions): Promise<{ rep: Rep; extra: IdemExtra }> {
  const agentId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const agentOptions = {
    broker: `mqtt://127.0.0.1:${options.port}`,
    agentId,
    command: options.command,
    extraArgs: ["--broker-protocol", "4", "--concurrency", "1"],
    onlineTimeoutMs: 60_000,
  };
  const driver = await Driver.open(options.port, agentId);
  let agent: AgentProcess | undefined;
  try {
    evictFromPageCache(options.evict ?? []);
    const coldLaunched = performance.now();
    agent = await startAgent({ ...agentOptions, dataDir: join(options.work, "session") });
    const coldOnlineMs = performance.now() - coldLaunched;
    const stopped = await agent.stop();
    if (stopped.code !== 0)
      throw new Error(`The agent's first start exited ${JSON.stringify(stopped)}\n${agent.tail()}`);

    // (c) start-up with a plan already queued, the agent started with a vfork (libc's posix_spawn, loaded here
    // before the clock starts), as engine.py's Popen starts the peer: Node's fork of this large process would
    // add 5–10 ms before the agent exists (test/helpers/agent_process.ts, `spawner`).
    const spawner = spawnMethod();
    if (spawner.method !== "posix_spawn")
      throw new Error(`Cannot start the agent as engine.py starts the peer: ${spawner.reason}`);
    const first = benchPlan();
    await driver.queue(first);
    const launched = performance.now();
    agent = await startAgent({
      ...agentOptions,
      dataDir: join(options.work, "data"),
      waitOnline: false,
      spawner: "posix_spawn",
    });
    const [arrival] = await driver.waitAll([first.ID], agent);
    const startupMs = (arrival?.at as number) - launched;
    await sleep(5_000);
    const idleRssKb = rssKb(agent.pid);
    const [worker] = workers(agent.pid);
    const workerIdleRssKb = worker === undefined ? undefined : rssKb(worker);

    // (a) 50 sequential round trips
    const latencyMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const plan = benchPlan();
      const sent = performance.now();
      driver.send(plan);
      const [got] = await driver.waitAll([plan.ID], agent, 30_000);
      latencyMs.push((got?.at as number) - sent);
    }

    // (b) 500 plans back to back
    const plans = Array.from({ length: 500 }, benchPlan);
    const [busyWorker] = workers(agent.pid);
    const cpu0 = cpuMs(agent.pid);
    const workerCpu0 = busyWorker === undefined ? undefined : cpuMs(busyWorker);
    const t0 = performance.now();
    for (const plan of plans) driver.send(plan);
    const arrivals = await driver.waitAll(
      plans.map((p) => p.ID),
      agent,
    );
    const cpu = cpuMs(agent.pid) - cpu0;
    const workerCpuMsPerPlan =
      busyWorker !== undefined && workerCpu0 !== undefined && workers(agent.pid).includes(busyWorker)
        ? (cpuMs(busyWorker) - workerCpu0) / 500
        : undefined;
    const totalS = (Math.max(...arrivals.map((a) => a.at)) - t0) / 1000;
    await sleep(2_000);
    const rssAfter500Kb = rssKb(agent.pid);

    const { total: soakRssKb, anon: soakAnonKb } = options.soak
      ? await soak(driver, agent, options.soak)
      : { total: [], anon: [] };
    // Only when this plan's Body went to a worker at all (a bounded Body runs in the agent: no worker, no cold start).
    const workerColdMs =
      options.coldWorker && (worker ?? busyWorker) !== undefined
        ? await coldWorker(driver, agent, pct(latencyMs, 50))
        : undefined;
    driver.check();
    const exit = await agent.stop();
    if (exit.code !== 0) throw new Error(`The agent's stop exited ${JSON.stringify(exit)}\n${agent.tail()}`);
    return {
      rep: {
        startupMs,
        idleRssKb,
        latencyMs,
        totalS,
        plansPerS: 500 / totalS,
        cpuMsPerPlan: cpu / 500,
        rssAfter500Kb,
      },
      extra: {
        coldOnlineMs,
        workerIdleRssKb,
        workerCpuMsPerPlan,
        soakRssKb,
        soakAnonKb,
        soakPlans: options.soak ?? 0,
        workerColdMs,
      },
    };
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    await driver.close();
  }
}

/** `total` more plans in batches of 1,000 (each published back to back); RSS and its anonymous part after each. */
async function soak(
  driver: Driver,
  agent: AgentProcess,
  total: number,
): Promise<{ total: number[]; anon: number[] }> {
  const samples: number[] = [];
  const anon: number[] = [];
  for (let done = 0; done < total; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, total - done) }, benchPlan);
    for (const plan of batch) driver.send(plan);
    await driver.waitAll(
      batch.map((p) => p.ID),
      agent,
    );
    const rss = rssSplitKb(agent.pid);
    samples.push(rss.total);
    anon.push(rss.anon);
  }
  return { total: samples, anon };
}

/** Waits for the idle worker to end, then one round trip; returns its excess over `warmMs`. */
async function coldWorker(driver: Driver, agent: AgentProcess, warmMs: number): Promise<number | undefined> {
  const deadline = performance.now() + WORKER_END_MS;
  // Polls /proc (a bench measurement, not a test): the agent logs nothing when its idle worker ends.
  while (workers(agent.pid).length > 0) {
    if (performance.now() > deadline) return undefined;
    await sleep(250);
  }
  const plan = benchPlan();
  const sent = performance.now();
  driver.send(plan);
  const [got] = await driver.waitAll([plan.ID], agent, 30_000);
  return (got?.at as number) - sent - warmMs;
}
