/**
 * What durability costs: idem's three decision paths against baselines measured in the same run, on the same
 * machine, through the same broker.
 *
 *   node bench/decisions.ts [--n 2000] [--window 50] [--m 200] [--run-window 1]
 *
 * - disk: one awaited lmdb `put` per commit (fsync each), as the journal commits — the ceiling of any path
 *   that makes one durable decision per plan. Sampled at the start and again after the decision paths; the
 *   "% of disk" ratios use the faster sample.
 * - MQTT echo: a trivial responder client (QoS 1 in, QoS 1 reply, no disk) answering N requests of the same
 *   size as the plans, W outstanding.
 * - idem replay: one plan executed once, then re-sent N times with fresh IDs (decision `replay`: one durable
 *   commit per plan, no script), W outstanding.
 * - the echo and the replay once more with one request outstanding: latency without queueing.
 * - idem refusal: N plans with Generation 1 to an agent at `--generation 5` (code 301), W outstanding.
 * - spawn: `/bin/sh -c './"deploy.sh" tag'` (a `true`-like script) M times from Node, one after the other,
 *   as the agent's runner spawns it.
 * - idem run: M distinct plans whose script is that same `true`-like file, each a real child process; the
 *   agent runs one plan at a time (`concurrency` 1), so by default one plan is outstanding.
 * - diagnostic: the run path again with a second agent whose sockets get TCP_NODELAY (a preload; mqtt.js
 *   leaves Nagle's algorithm on), to show how much of the run path's latency is a Nagle/delayed-ACK stall.
 *
 * Latency is from the publish call to the reply's arrival at the sender. The broker is a mosquitto of its own
 * on a loopback port with persistence off, so that it is not the bottleneck. The echo responder is a process of
 * its own (this file, `--responder PORT`), as the agent is. "CPU/item" is the user + system time of the process
 * that does the work (the bench itself for disk and spawn, the responder, the agent; scripts not included);
 * "commits/plan" counts the journal's LMDB transactions (`lastTxnId`) over the phase. Everything listed is
 * measured; nothing is hard-coded. On a busy machine compare the ratios and the CPU per item.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open } from "lmdb";
import type { MqttClient } from "mqtt";
import { type AgentProcess, registerChild, startAgent } from "../test/helpers/agent_process.ts";
import { startBroker } from "../test/helpers/broker.ts";
import type { Result } from "../test/helpers/engine.ts";
import { applicationPlan, type MuranoPlan } from "../test/helpers/plans.ts";
import { connectClient, cpuMs, intArg, machine, ms, printTable, scriptPlan } from "./lab.ts";

const N = intArg("--n", 2000);
const WINDOW = intArg("--window", 50);
const M = intArg("--m", 200);
const RUN_WINDOW = intArg("--run-window", 1);
const WARMUP = 50;
/** Requests of the one-at-a-time rows (no queueing: latency is the cost of one). */
const SINGLE = Math.min(500, N);
/** A phase fails when no reply arrived for this long. */
const STALL_MS = 20_000;
/** The whole program gives up after this long. */
const DEADLINE_MS = 115_000;
const AGENT_GENERATION = 5;
const DISK_COMMITS = 1000;
const TRUE_SCRIPT = "#!/bin/sh\ntrue\n";
/** Preloaded into the diagnostic agent: every socket it opens gets TCP_NODELAY (Nagle's algorithm off). */
const NODELAY_PRELOAD = `data:text/javascript,${encodeURIComponent(
  'import net from "node:net"; const connect = net.Socket.prototype.connect; net.Socket.prototype.connect = function (...args) { this.setNoDelay(true); return connect.apply(this, args); };',
)}`;

interface Measured {
  count: number;
  seconds: number;
  latencies: number[];
}

interface Row {
  path: string;
  window: number;
  measured: Measured;
  unit: string;
  versus?: Array<{ measured: Measured; name: string }>;
  /** CPU time of the working process per item. */
  cpuMs: number;
  commitsPerPlan?: number;
  check: string;
}

/** The agent under test, for failure messages. */
let agent: AgentProcess | undefined;

/** Replies to the requester, matched to what it sent by plan ID; `load` keeps `window` requests outstanding. */
class Replies {
  readonly #pending = new Map<string, number>();
  #kinds = new Map<string, number>();
  #onReply: (() => void) | undefined;
  #latencies: number[] = [];

  constructor(requester: MqttClient) {
    requester.on("message", (topic, payload) => {
      const arrived = performance.now();
      const message = JSON.parse(payload.toString("utf8")) as Partial<Result> & { ID: string };
      const echo = topic === "bench/echo/replies";
      const id = echo ? message.ID : (message.SourceID ?? "");
      const sent = this.#pending.get(id);
      if (sent === undefined) return; // a duplicate (at-least-once) or a late warm-up reply
      this.#pending.delete(id);
      this.#latencies.push(arrived - sent);
      const kind = echo ? "echo" : `${message.Idem?.Decision}/${message.ErrorCode}`;
      this.#kinds.set(kind, (this.#kinds.get(kind) ?? 0) + 1);
      this.#onReply?.();
    });
  }

  /** The reply kinds counted since the last call (`echo`, `replay/0`, `stale/301`, …). */
  take(): Map<string, number> {
    const kinds = this.#kinds;
    this.#kinds = new Map();
    return kinds;
  }

  /** Sends `count` requests (`send(i)` publishes one and returns its ID), `window` outstanding at a time. */
  load(count: number, window: number, send: (i: number) => string): Promise<Measured> {
    this.#latencies = [];
    let sent = 0;
    let done = 0;
    let lastProgress = Date.now();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const next = () => {
        const id = send(sent++);
        this.#pending.set(id, performance.now());
      };
      const stall = setInterval(() => {
        if (Date.now() - lastProgress < STALL_MS) return;
        clearInterval(stall);
        this.#onReply = undefined;
        reject(new Error(`No reply for ${STALL_MS} ms after ${done}/${count}\n${agent?.tail() ?? ""}`));
      }, 1000);
      this.#onReply = () => {
        done++;
        lastProgress = Date.now();
        if (done === count) {
          clearInterval(stall);
          this.#onReply = undefined;
          resolve({ count, seconds: (performance.now() - started) / 1000, latencies: this.#latencies });
        } else if (sent < count) next();
      };
      for (let i = 0; i < Math.min(window, count); i++) next();
    });
  }
}

async function bench(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`Giving up after ${DEADLINE_MS / 1000} s`);
    process.exit(1);
  }, DEADLINE_MS);
  watchdog.unref();
  const loadBefore = loadavg();
  const work = mkdtempSync(join(tmpdir(), "idem-bench-decisions-"));
  chmodSync(work, 0o777);
  const effects = join(work, "effects.log");
  const broker = await startBroker({ durable: false });
  const rows: Row[] = [];
  let responder: ChildProcess | undefined;
  let requester: MqttClient | undefined;
  try {
    // The disk's ceiling: one fsynced commit at a time, in this process.
    const disk = await withCpu(process.pid, DISK_COMMITS, () =>
      lmdbCommits(join(work, "lmdb"), DISK_COMMITS),
    );
    /** The better of the two disk samples (start and end): other sessions' I/O makes either one low. */
    const diskBest: Measured = { ...disk.measured };
    rows.push({
      path: "disk: awaited lmdb put (fsync each)",
      window: 1,
      unit: "commits/s",
      ...disk,
      check: "",
    });

    // MQTT echo baseline, the responder in a process of its own.
    responder = await startResponder(broker.port);
    const responderPid = responder.pid as number;
    requester = await connectClient(broker.port, "bench-requester");
    await requester.subscribeAsync({
      "bench/echo/replies": { qos: 1 },
      "idem/+/results": { qos: 1 },
    });
    const mqtt = requester;
    const replies = new Replies(mqtt);
    const request = () => publish(mqtt, "bench/echo/requests", applicationPlan({ effects, tag: "replay" }));
    await replies.load(WARMUP * 4, WINDOW, request);
    replies.take();
    const echoed = await withCpu(responderPid, N, () => replies.load(N, WINDOW, request));
    rows.push({
      path: "MQTT echo, QoS 1, no disk (baseline)",
      window: WINDOW,
      unit: "msg/s",
      ...echoed,
      check: outcome(replies.take(), "echo", N),
    });
    const echoedAlone = await withCpu(responderPid, SINGLE, () => replies.load(SINGLE, 1, request));
    rows.push({
      path: "MQTT echo, one at a time",
      window: 1,
      unit: "msg/s",
      ...echoedAlone,
      check: outcome(replies.take(), "echo", SINGLE),
    });

    const lab = { work, brokerUrl: broker.url, requester: mqtt, replies };
    // idem: one agent from the sources, fencing at generation 5.
    const fenced = await measuredAgent(lab, "fenced", (options) =>
      startAgent({ ...options, generation: AGENT_GENERATION }),
    );
    const idem = fenced.load;
    const toAgent = fenced.send;

    // Replay: executed once, then the same content with fresh IDs.
    const same = () => applicationPlan({ effects, tag: "replay" });
    await replies.load(1, 1, () => toAgent(same()));
    await replies.load(WARMUP, WINDOW, () => toAgent(same()));
    replies.take();
    const replay = await idem(N, WINDOW, same);
    rows.push({
      path: "idem replay (1 durable decision)",
      window: WINDOW,
      unit: "results/s",
      versus: [
        { measured: echoed.measured, name: "echo" },
        { measured: diskBest, name: "disk" },
      ],
      ...replay,
      check: outcome(replies.take(), "replay/0", N),
    });
    const replayAlone = await idem(SINGLE, 1, same);
    rows.push({
      path: "idem replay, one at a time",
      window: 1,
      unit: "results/s",
      versus: [
        { measured: echoedAlone.measured, name: "echo" },
        { measured: diskBest, name: "disk" },
      ],
      ...replayAlone,
      check: outcome(replies.take(), "replay/0", SINGLE),
    });

    // Refusal: Generation 1 at an agent fencing at 5.
    const stale = () => applicationPlan({ effects, tag: "stale", generation: 1 });
    await replies.load(WARMUP, WINDOW, () => toAgent(stale()));
    replies.take();
    const refusal = await idem(N, WINDOW, stale);
    rows.push({
      path: `idem refusal (Generation 1 < ${AGENT_GENERATION}: 301)`,
      window: WINDOW,
      unit: "results/s",
      versus: [
        { measured: echoed.measured, name: "echo" },
        { measured: diskBest, name: "disk" },
      ],
      ...refusal,
      check: outcome(replies.take(), "stale/301", N),
    });

    // The disk once more, after the decision paths.
    const diskAgain = await withCpu(process.pid, DISK_COMMITS, () =>
      lmdbCommits(join(work, "lmdb-again"), DISK_COMMITS),
    );
    rows.push({
      path: "disk again, after the decision paths",
      window: 1,
      unit: "commits/s",
      ...diskAgain,
      check: "",
    });
    if (rate(diskAgain.measured) > rate(diskBest)) Object.assign(diskBest, diskAgain.measured);

    // Spawn baseline, then the run path with the same script.
    const spawned = await withCpu(process.pid, M, () => spawnLoop(join(work, "spawn"), M));
    rows.push({
      path: "spawn /bin/sh -c true-like (baseline)",
      window: 1,
      unit: "spawns/s",
      ...spawned,
      check: `${M}/${M} exit 0`,
    });
    let distinct = 0;
    const runPlan = () => truePlan(effects, `run-${distinct++}`);
    await replies.load(5, RUN_WINDOW, () => toAgent(runPlan()));
    replies.take();
    const run = await idem(M, RUN_WINDOW, runPlan);
    rows.push({
      path: "idem run (script = 1 child process)",
      window: RUN_WINDOW,
      unit: "plans/s",
      versus: [{ measured: spawned.measured, name: "spawn" }],
      ...run,
      check: outcome(replies.take(), "run/0", M),
    });
    await fenced.stop();

    // Diagnostic: the same run path with Nagle's algorithm off on the agent's sockets (mqtt.js leaves it on).
    const noDelay = await measuredAgent(lab, "nodelay", (options) =>
      startAgent({ ...options, command: [process.execPath, "--import", NODELAY_PRELOAD, "agent/main.ts"] }),
    );
    await replies.load(5, RUN_WINDOW, () => noDelay.send(runPlan()));
    replies.take();
    const runNoDelay = await noDelay.load(M, RUN_WINDOW, runPlan);
    rows.push({
      path: "idem run, agent with TCP_NODELAY (diagnostic)",
      window: RUN_WINDOW,
      unit: "plans/s",
      versus: [{ measured: spawned.measured, name: "spawn" }],
      ...runNoDelay,
      check: outcome(replies.take(), "run/0", M),
    });
    await noDelay.stop();
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    await requester?.endAsync(true);
    responder?.kill("SIGKILL");
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  printReport(rows, loadBefore);
}

/**
 * Starts an agent (through `start`, given the broker, a fresh agent id and data dir) and returns how to send it
 * plans, how to measure a load (with the agent's CPU time and journal commits per plan) and how to stop it.
 */
async function measuredAgent(
  lab: { work: string; brokerUrl: string; requester: MqttClient; replies: Replies },
  name: string,
  start: (options: { broker: string; agentId: string; dataDir: string }) => Promise<AgentProcess>,
) {
  const agentId = `bench-${name}-${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = join(lab.work, agentId);
  const started = await start({ broker: lab.brokerUrl, agentId, dataDir });
  agent = started;
  const journal = open({ path: join(dataDir, "journal"), readOnly: true, maxDbs: 8 });
  const txnId = () => (journal.getStats() as { lastTxnId: number }).lastTxnId;
  const send = (plan: MuranoPlan) => publish(lab.requester, `idem/${agentId}/plans`, plan);
  return {
    send,
    async load(count: number, window: number, plan: () => MuranoPlan) {
      const before = txnId();
      const measured = await withCpu(started.pid, count, () =>
        lab.replies.load(count, window, () => send(plan())),
      );
      // The outbox entry of the last reply may be removed just after the reply arrived.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { ...measured, commitsPerPlan: (txnId() - before) / count };
    },
    async stop() {
      await journal.close();
      await started.stop();
      agent = undefined;
    },
  };
}

/** Runs `work` and adds the CPU time `pid` spent meanwhile, per item. */
async function withCpu(
  pid: number,
  count: number,
  work: () => Promise<Measured>,
): Promise<{ measured: Measured; cpuMs: number }> {
  const before = cpuMs(pid);
  const measured = await work();
  return { measured, cpuMs: (cpuMs(pid) - before) / count };
}

function printReport(rows: Row[], loadBefore: number[]): void {
  const fmtLoad = (load: number[]) => load.map((l) => l.toFixed(2)).join(" ");
  console.log(machine(tmpdir()));
  console.log(`load average before: ${fmtLoad(loadBefore)}, after: ${fmtLoad(loadavg())}`);
  console.log(
    `broker: its own mosquitto on 127.0.0.1, persistence off (not the bottleneck); N=${N}, W=${WINDOW}, M=${M}; warm-up excluded`,
  );
  printTable(
    ["path", "count", "window", "rate", "p50", "p99", "vs baseline", "CPU/item", "commits/plan", "check"],
    rows.map((row) => {
      const perSecond = rate(row.measured);
      const versus = (row.versus ?? [])
        .map(({ measured, name }) => `${((perSecond / rate(measured)) * 100).toFixed(0)}% of ${name}`)
        .join(", ");
      return [
        row.path,
        String(row.measured.count),
        String(row.window),
        `${perSecond.toFixed(0)} ${row.unit}`,
        ms(percentile(row.measured.latencies, 0.5)),
        ms(percentile(row.measured.latencies, 0.99)),
        versus || "–",
        ms(row.cpuMs),
        row.commitsPerPlan === undefined ? "–" : row.commitsPerPlan.toFixed(2),
        row.check,
      ];
    }),
  );
}

/** The echo responder (`--responder PORT`): every request back on `bench/echo/replies`, QoS 1 both ways. */
async function respond(port: number): Promise<void> {
  const mqtt = await connectClient(port, "bench-responder");
  mqtt.on("message", (_topic, payload) => {
    mqtt.publish("bench/echo/replies", payload, { qos: 1 });
  });
  await mqtt.subscribeAsync("bench/echo/requests", { qos: 1 });
  process.stdout.write("ready\n");
}

/** Starts this file as the responder; resolves once it has subscribed. */
async function startResponder(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--responder", String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  registerChild(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) =>
      reject(new Error(`The echo responder exited (code ${code}) before subscribing`)),
    );
  });
  return child;
}

function publish(mqtt: MqttClient, topic: string, plan: MuranoPlan): string {
  mqtt.publish(topic, JSON.stringify(plan), { qos: 1 });
  return plan.ID;
}

/** A distinct plan whose entry point is `true`-like and whose Body returns its exit code. */
function truePlan(effects: string, tag: string): MuranoPlan {
  return scriptPlan(TRUE_SCRIPT, { effects, tag, body: "return deploy(args.tag).exitCode" });
}

/** `count` awaited puts of 491-byte records: each resolves once fsynced, as the journal's commits do. */
async function lmdbCommits(path: string, count: number): Promise<Measured> {
  const db = open({ path, overlappingSync: false });
  const record = { text: "x".repeat(470), n: 0 };
  const latencies: number[] = [];
  try {
    for (let i = 0; i < 20; i++) await db.put(`warm-${i}`, record);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await db.put(`k-${i}`, { ...record, n: i });
      latencies.push(performance.now() - t);
    }
    return { count, seconds: (performance.now() - started) / 1000, latencies };
  } finally {
    await db.close();
  }
}

/** Spawns the runner's command line `count` times, one after the other, as the agent does with concurrency 1. */
async function spawnLoop(dir: string, count: number): Promise<Measured> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "deploy.sh"), TRUE_SCRIPT, { mode: 0o700 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const child: ChildProcess = spawn("/bin/sh", ["-c", './"deploy.sh" tag'], {
        cwd: dir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout?.resume();
      child.stderr?.resume();
      child.once("error", reject);
      child.once("close", (code) => (code === 0 ? resolve(code) : reject(new Error(`exit ${code}`))));
    });
  for (let i = 0; i < 5; i++) await once();
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await once();
    latencies.push(performance.now() - t);
  }
  return { count, seconds: (performance.now() - started) / 1000, latencies };
}

function outcome(kinds: Map<string, number>, expected: string, count: number): string {
  const others = [...kinds].filter(([kind]) => kind !== expected).map(([kind, n]) => `${n} ${kind}`);
  return [`${kinds.get(expected) ?? 0}/${count} ${expected}`, ...others].join(", ");
}

function rate(measured: Measured): number {
  return measured.count / measured.seconds;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

if (process.argv[2] === "--responder") {
  await respond(Number(process.argv[3]));
} else {
  await bench();
}
