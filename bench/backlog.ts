/**
 * A backlog (issue 7): N plans (default 2,000) wait for an agent that was down. Does the agent spend as much
 * CPU per plan at the end of the backlog as at its start, or does a long queue make every plan dearer?
 *
 *   node build.mjs && node_modules/.bin/node bench/backlog.ts [--n 2000] [--window 200] [--same-key]
 *     [--concurrency 1] [--exe FILE | --bundle FILE [--node-flags "--cpu-prof --cpu-prof-dir=DIR"]]
 *
 * `--same-key`: the gate and every plan have one idempotency key (policy `always`: each runs after the one
 * before), so the whole backlog waits behind one key's head — the runner must not read it all at each commit
 * (agent/journal/queue_index.ts). `--concurrency N`: the agent's (default 1).
 *
 * - The agent (bench/agent_command.ts: `--exe FILE`, else dist/idem.mjs on Node 24 with npm start's V8 flags;
 *   concurrency `--concurrency`) starts once, so that its persistent session exists,
 *   and stops. A private mosquitto (persistence off) then queues a *gate* plan and the N plans for it: trivial
 *   Application plans (`echo ok`), each with content of its own, so each is decided `run` and runs once.
 * - The agent starts again and takes the backlog from the broker (intake: decide, journal, acknowledge) while
 *   the gate's script keeps the runner busy, so the two phases are measured apart: intake fills the journal's
 *   run queue from 0 to N, then the gate is released and the runner empties it from N to 0.
 * - The agent's CPU time (utime + stime from `/proc/<pid>/stat`, all threads, 10 ms ticks; its scripts not
 *   included) and the wall clock are sampled at window edges: for intake when the agent logs its decisions,
 *   for runs when the results arrive. Windows: the first, the middle and the last W plans.
 *
 * - The agent's fsync-family system calls (`perf stat` on the syscall tracepoints, `lab.ts` `countSyncs`) are
 *   counted for each phase and divided by N: the durable commits a plan costs (intake's count includes the
 *   start-up's few commits). The agent's idle RSS is read 2 s after its first start went online.
 *
 * Issue 7 asks that CPU per finished plan at the end of the backlog stay within 1.2× of its start. The program
 * prints figures and exits non-zero only when something fails (a wrong result, a stall, an agent that dies).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { type AgentProcess, startAgent } from "../test/helpers/agent_process.ts";
import { startBroker } from "../test/helpers/broker.ts";
import type { Result } from "../test/helpers/engine.ts";
import type { MuranoPlan } from "../test/helpers/plans.ts";
import { agentCommand } from "./agent_command.ts";
import {
  connectClient,
  countSyncs,
  cpuMs,
  cpuSplitMs,
  intArg,
  machine,
  ms,
  printTable,
  rssKb,
  rssSplitKb,
  scriptPlan,
} from "./lab.ts";

if (process.argv.includes("--help")) {
  console.log(
    "usage: node_modules/.bin/node bench/backlog.ts [--n 2000] [--window 200] [--same-key] [--concurrency 1]\n" +
      "  [--exe FILE | --bundle FILE [--node-flags FLAGS]]: CPU per plan at a backlog's start, middle and end",
  );
  process.exit(0);
}
const N = intArg("--n", 2000);
const CONCURRENCY = intArg("--concurrency", 1);
const SAME_KEY = process.argv.includes("--same-key");
/** With `--same-key`: one key for the gate and the backlog, each plan run after the one before. */
const IDEMPOTENCY = SAME_KEY ? { idempotency: { Policy: "always", Key: "backlog" } } : {};
const WINDOW = Math.min(intArg("--window", 200), Math.floor(N / 3));
/** The run fails when the agent makes no progress for this long. */
const STALL_MS = 60_000;
const DEADLINE_MS = 15 * 60_000;
/** How long the first start idles before its RSS is read (a measurement, not a synchronisation). */
const IDLE_MS = 2_000;
const OK_SCRIPT = "#!/bin/sh\necho ok\n";
/** A decision logged by the agent (not `run-failed` and the like). */
const DECIDED = /\bevent=run /;

/** The agent's CPU time, RSS and the wall clock once `done` plans of a phase were through. */
interface Sample {
  done: number;
  cpuMs: number;
  wallMs: number;
  rssKb: number;
}

function sample(pid: number, done: number): Sample {
  return { done, cpuMs: cpuMs(pid), wallMs: performance.now(), rssKb: rssKb(pid) };
}

/** Window edges (plans through) of the first, middle and last windows. */
const middle = Math.floor((N - WINDOW) / 2);
const WINDOWS: Array<{ name: string; from: number; to: number }> = [
  { name: `first ${WINDOW}`, from: 0, to: WINDOW },
  { name: `middle ${WINDOW}`, from: middle, to: middle + WINDOW },
  { name: `last ${WINDOW}`, from: N - WINDOW, to: N },
];
/** The agent under test: `--exe FILE`, or the bundle with `--node-flags` (default: npm start's flags). */
const AGENT = agentCommand();
const EDGES = [...new Set(WINDOWS.flatMap(({ from, to }) => [from, to]))].sort((a, b) => a - b);

async function bench(): Promise<void> {
  setTimeout(() => {
    console.error(`Giving up after ${DEADLINE_MS / 1000} s`);
    process.exit(1);
  }, DEADLINE_MS).unref();
  const loadBefore = loadavg();
  const work = mkdtempSync(join(tmpdir(), "idem-bench-backlog-"));
  const broker = await startBroker({ durable: false });
  const agentId = `bench-backlog-${Math.random().toString(36).slice(2, 8)}`;
  const options = {
    broker: broker.url,
    agentId,
    dataDir: join(work, "data"),
    command: AGENT.command,
    extraArgs: ["--concurrency", `${CONCURRENCY}`],
  };
  const gateFile = join(work, "gate-open");
  let agent: AgentProcess | undefined;
  let engine: MqttClient | undefined;
  let intake: Sample[] = [];
  let runs: Sample[] = [];
  let check = "";
  const extra: Extra = { idleRssKb: Number.NaN, syncs: {} };
  try {
    // The agent's session exists and holds its subscription; the agent is down.
    agent = await startAgent(options);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    extra.idleRssKb = rssKb(agent.pid);
    extra.idleSplit = rssSplitKb(agent.pid);
    await agent.stop();

    engine = await connectClient(broker.port, "bench-engine");
    await engine.subscribeAsync(`idem/${agentId}/results`, { qos: 1 });
    const effects = join(work, "effects.log"); // not written: the scripts are replaced
    const gate = scriptPlan(`#!/bin/sh\nwhile [ ! -e '${gateFile}' ]; do sleep 0.05; done\necho open\n`, {
      effects,
      tag: "gate",
      ...IDEMPOTENCY,
    });
    const backlog = Array.from({ length: N }, (_, i) =>
      scriptPlan(OK_SCRIPT, { effects, tag: `backlog-${i}`, ...IDEMPOTENCY }),
    );
    const finished = new Finished(engine, gate, backlog);
    for (const plan of [gate, ...backlog]) {
      await engine.publishAsync(`idem/${agentId}/plans`, JSON.stringify(plan), { qos: 1 });
    }

    // Intake: the agent decides the gate, then the backlog, one plan at a time.
    agent = await startAgent({ ...options, waitOnline: false });
    const intakeSyncs = countSyncs(agent.pid);
    intake = await sampleDecisions(agent);
    extra.syncs.intake = await intakeSyncs.stop();

    // Runs: the gate opens; the runner empties the journal's queue.
    const running = agent;
    finished.onEdge = (done) => sample(running.pid, done);
    const runSyncs = countSyncs(running.pid);
    const splitBefore = cpuSplitMs(running.pid);
    writeFileSync(gateFile, "");
    runs = await finished.all(running);
    extra.syncs.runs = await runSyncs.stop();
    const splitAfter = cpuSplitMs(running.pid);
    extra.runSplit = {
      user: splitAfter.user - splitBefore.user,
      system: splitAfter.system - splitBefore.system,
    };
    extra.endRssKb = rssKb(running.pid);
    extra.endSplit = rssSplitKb(running.pid);
    check = finished.check();
    await agent.stop();
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    await engine?.endAsync(true);
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  report({ intake, runs, check }, loadBefore);
  reportExtra(extra, runs);
}

interface Extra {
  idleRssKb: number;
  endRssKb?: number;
  idleSplit?: { anon: number; file: number };
  endSplit?: { anon: number; file: number };
  syncs: { intake?: number | undefined; runs?: number | undefined };
  /** The agent's user and system CPU over the runs phase, ms. */
  runSplit?: { user: number; system: number };
}

/** fsyncs per plan of each phase, throughput of the runs, idle RSS and RSS after the backlog. */
function reportExtra(extra: Extra, runs: Sample[]): void {
  const perPlan = (count: number | undefined) => (count === undefined ? "n/a" : (count / N).toFixed(2));
  console.log(
    `fsync-family syscalls per plan: intake ${perPlan(extra.syncs.intake)}, runs ${perPlan(extra.syncs.runs)}`,
  );
  const [first] = runs;
  const last = runs.at(-1);
  if (first && last && last.done > first.done) {
    const seconds = (last.wallMs - first.wallMs) / 1000;
    const cpu = (last.cpuMs - first.cpuMs) / (last.done - first.done);
    console.log(
      `runs: ${((last.done - first.done) / seconds).toFixed(1)} plans/s, ${ms(cpu)} agent CPU per plan (all ${last.done - first.done})`,
    );
  }
  if (extra.runSplit) {
    console.log(
      `runs: ${ms(extra.runSplit.user / N)} user + ${ms(extra.runSplit.system / N)} system CPU per plan`,
    );
  }
  const mb = (kb: number | undefined) => (kb === undefined ? "n/a" : `${(kb / 1024).toFixed(0)} MB`);
  const split = (s: { anon: number; file: number } | undefined) =>
    s ? ` (anon ${mb(s.anon)} + file ${mb(s.file)})` : "";
  console.log(
    `agent RSS: idle ${mb(extra.idleRssKb)}${split(extra.idleSplit)}, after the backlog ${mb(extra.endRssKb)}${split(extra.endSplit)}`,
  );
}

/** Waits for each window edge of the intake (decisions logged) and samples the agent there. */
async function sampleDecisions(agent: AgentProcess): Promise<Sample[]> {
  const samples: Sample[] = [];
  let since = 0;
  let decided = 0;
  // The gate is decided first: the backlog's intake starts then.
  for (const edge of EDGES) {
    const target = edge + 1;
    if (decided < target) {
      await agent.waitForLog(DECIDED, { since, count: target - decided, timeoutMs: STALL_MS });
      const mark = agent.mark();
      decided += agent.matching(DECIDED, since).length;
      since = mark;
    }
    samples.push(sample(agent.pid, decided - 1));
  }
  return samples;
}

/** The results of the gate and the backlog, as they arrive; samples the agent at each window edge. */
class Finished {
  onEdge: ((done: number) => Sample) | undefined;
  readonly #samples: Sample[] = [];
  readonly #backlog: Set<string>;
  readonly #gate: string;
  readonly #seen = new Set<string>();
  readonly #kinds = new Map<string, number>();
  #progress: (() => void) | undefined;

  constructor(engine: MqttClient, gate: MuranoPlan, backlog: MuranoPlan[]) {
    this.#gate = gate.ID;
    this.#backlog = new Set(backlog.map((plan) => plan.ID));
    engine.on("message", (_topic, payload) => {
      const result = JSON.parse(payload.toString("utf8")) as Result;
      const id = result.SourceID;
      if (this.#seen.has(id)) return; // a re-sent outbox entry: results are at-least-once
      if (id !== this.#gate && !this.#backlog.has(id)) return;
      this.#seen.add(id);
      if (id === this.#gate) return this.#edge(0);
      const kind = `${result.Idem?.Decision}/${result.ErrorCode}`;
      this.#kinds.set(kind, (this.#kinds.get(kind) ?? 0) + 1);
      const done = this.#seen.size - 1;
      if (EDGES.includes(done)) this.#edge(done);
      this.#progress?.();
    });
  }

  #edge(done: number): void {
    const taken = this.onEdge?.(done);
    if (taken) this.#samples.push(taken);
  }

  /** Resolves with the samples once every backlog plan has its result; fails on a stall or the agent's exit. */
  all(agent: AgentProcess): Promise<Sample[]> {
    return new Promise((resolve, reject) => {
      let last = Date.now();
      const check = setInterval(() => {
        if (agent.exited) fail(`The agent exited (${JSON.stringify(agent.exited)})`);
        else if (Date.now() - last > STALL_MS) fail(`No result for ${STALL_MS / 1000} s`);
      }, 1000);
      const fail = (why: string) => {
        clearInterval(check);
        reject(new Error(`${why} after ${this.#seen.size - 1}/${N} results\n${agent.tail()}`));
      };
      this.#progress = () => {
        last = Date.now();
        if (this.#seen.size - 1 < N) return;
        clearInterval(check);
        resolve(this.#samples);
      };
    });
  }

  /** The outcomes counted (`run/0` expected for every plan); throws when any other came back. */
  check(): string {
    const line = [...this.#kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
    if (this.#kinds.get("run/0") !== N) throw new Error(`Cannot report the backlog as results were: ${line}`);
    return `${N}/${N} run/0`;
  }
}

function report(
  { intake, runs, check }: { intake: Sample[]; runs: Sample[]; check: string },
  loadBefore: number[],
): void {
  const load = (values: number[]) => values.map((l) => l.toFixed(2)).join(" ");
  console.log(machine(tmpdir()));
  console.log(`load average before: ${load(loadBefore)}, after: ${load(loadavg())}`);
  console.log(
    `broker: its own mosquitto on 127.0.0.1, persistence off; N=${N} plans queued while the agent was down, behind a gate plan${SAME_KEY ? ", all of one key" : ""}; agent: ${AGENT.describe}, concurrency ${CONCURRENCY}`,
  );
  const at = (samples: Sample[], done: number) => {
    const found = samples.find((s) => s.done >= done);
    if (!found) throw new Error(`Cannot report the window at ${done} plans as it was not sampled`);
    return found;
  };
  const rows: string[][] = [];
  const ratios: string[] = [];
  for (const [phase, samples, queue] of [
    ["intake", intake, (done: number) => done],
    ["runs", runs, (done: number) => N - done],
  ] as const) {
    const cost = WINDOWS.map(({ name, from, to }) => {
      const [a, b] = [at(samples, from), at(samples, to)];
      const plans = b.done - a.done;
      const perPlan = { cpu: (b.cpuMs - a.cpuMs) / plans, wall: (b.wallMs - a.wallMs) / plans };
      rows.push([
        `${phase}: ${name}`,
        String(plans),
        `${queue(a.done)} → ${queue(b.done)}`,
        ms(perPlan.cpu),
        ms(perPlan.wall),
        `${(b.rssKb / 1024).toFixed(0)} MB`,
      ]);
      return perPlan;
    });
    const [first, , last] = cost;
    if (first && last) {
      ratios.push(
        `${phase}: last/first ${WINDOW} — CPU per plan ${(last.cpu / first.cpu).toFixed(2)}×, wall per plan ${(last.wall / first.wall).toFixed(2)}×`,
      );
    }
  }
  printTable(["window", "plans", "journal queue", "CPU/plan", "wall/plan", "agent RSS at end"], rows);
  for (const line of ratios) console.log(line);
  console.log(`check: ${check}`);
}

await bench();
