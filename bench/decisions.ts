/**
 * What durability costs: idem's three decision paths against baselines measured in the same run, on the same
 * machine, through the same broker.
 *
 *   node bench/decisions.ts [--n 2000] [--window 50] [--m 200] [--run-window 1]
 *
 * - disk: one awaited lmdb `put` per commit (fsync each), as the journal commits — the ceiling of any path
 *   that makes one durable decision per plan.
 * - MQTT echo: a trivial responder client (QoS 1 in, QoS 1 reply, no disk) answering N requests of the same
 *   size as the plans, W outstanding.
 * - idem replay: one plan executed once, then re-sent N times with fresh IDs (decision `replay`: one durable
 *   commit per plan, no script), W outstanding.
 * - idem refusal: N plans with Generation 1 to an agent at `--generation 5` (code 301), W outstanding.
 * - spawn: `/bin/sh -c './"deploy.sh" tag'` (a `true`-like script) M times from Node, one after the other,
 *   as the agent's runner spawns it.
 * - idem run: M distinct plans whose script is that same `true`-like file, each a real child process; the
 *   agent runs one plan at a time (`concurrency` 1), so by default one plan is outstanding.
 *
 * Latency is from the publish call to the reply's arrival at the sender. The broker is a mosquitto of its own
 * on a loopback port with persistence off, so that it is not the bottleneck. Everything listed is measured;
 * nothing is hard-coded. On a busy machine compare the ratios, and the agent's CPU per plan.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import { connect, type MqttClient } from "mqtt";
import { type AgentProcess, startAgent } from "../test/helpers/agent_process.ts";
import { startBroker } from "../test/helpers/broker.ts";
import { applicationPlan, type MuranoPlan, type Result } from "../test/helpers/engine.ts";

const N = intArg("--n", 2000);
const WINDOW = intArg("--window", 50);
const M = intArg("--m", 200);
const RUN_WINDOW = intArg("--run-window", 1);
const WARMUP = 50;
/** A phase fails when no reply arrived for this long. */
const STALL_MS = 20_000;
/** The whole program gives up after this long. */
const DEADLINE_MS = 170_000;
const AGENT_GENERATION = 5;
const TRUE_SCRIPT = "#!/bin/sh\ntrue\n";
/** USER_HZ: /proc reports CPU time in 1/100 s on Linux x86-64 and arm64. */
const CLOCK_TICKS = 100;

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
  versus?: { measured: Measured; name: string };
  agentCpuMs?: number;
  check: string;
}

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
const agentId = `bench-decisions-${Math.random().toString(36).slice(2, 8)}`;
const resultsTopic = `idem/${agentId}/results`;
const plansTopic = `idem/${agentId}/plans`;
const rows: Row[] = [];
let agent: AgentProcess | undefined;
let requester: MqttClient | undefined;
let responder: MqttClient | undefined;
try {
  // disk ceiling
  const disk = await lmdbCommits(join(work, "lmdb"), 1000);
  rows.push({ path: "disk: awaited lmdb put (fsync each)", window: 1, measured: disk, unit: "commits/s", check: "" });

  // MQTT echo baseline
  requester = await client("bench-requester");
  responder = await client("bench-responder");
  const echoResponder = responder;
  echoResponder.on("message", (_topic, payload) => {
    echoResponder.publish("bench/echo/replies", payload, { qos: 1 });
  });
  await responder.subscribeAsync("bench/echo/requests", { qos: 1 });
  await requester.subscribeAsync({ "bench/echo/replies": { qos: 1 }, [resultsTopic]: { qos: 1 } });
  const replies = new Replies(requester);
  const echoPlan = () => applicationPlan({ effects, tag: "replay" });
  const echo = (count: number) =>
    replies.load(count, WINDOW, () => send(requester as MqttClient, "bench/echo/requests", echoPlan()));
  await echo(WARMUP * 4);
  const echoed = await echo(N);
  rows.push({
    path: "MQTT echo, QoS 1, no disk (baseline)",
    window: WINDOW,
    measured: echoed,
    unit: "msg/s",
    check: `${replies.take().get("echo") ?? 0}/${N} echoed`,
  });

  // idem: one agent from the sources, fencing at generation 5
  agent = await startAgent({
    broker,
    agentId,
    dataDir: join(work, "data"),
    generation: AGENT_GENERATION,
  });
  const agentPid = agent.pid;
  const toAgent = (plan: MuranoPlan) => send(requester as MqttClient, plansTopic, plan);
  const idemLoad = async (count: number, window: number, plan: (i: number) => MuranoPlan) => {
    const cpuBefore = cpuMs(agentPid);
    const measured = await replies.load(count, window, (i) => toAgent(plan(i)));
    return { measured, agentCpuMs: (cpuMs(agentPid) - cpuBefore) / count };
  };

  // replay path
  await replies.load(1, 1, () => toAgent(applicationPlan({ effects, tag: "replay" })));
  await replies.load(WARMUP, WINDOW, () => toAgent(applicationPlan({ effects, tag: "replay" })));
  replies.take();
  const replay = await idemLoad(N, WINDOW, () => applicationPlan({ effects, tag: "replay" }));
  rows.push({
    path: "idem replay (1 durable decision)",
    window: WINDOW,
    unit: "results/s",
    versus: { measured: echoed, name: "echo" },
    ...replay,
    check: outcome(replies.take(), "replay/0", N),
  });

  // refusal path
  const stale = () => applicationPlan({ effects, tag: "stale", generation: 1 });
  await replies.load(WARMUP, WINDOW, () => toAgent(stale()));
  replies.take();
  const refusal = await idemLoad(N, WINDOW, stale);
  rows.push({
    path: `idem refusal (stale, code 301)`,
    window: WINDOW,
    unit: "results/s",
    versus: { measured: echoed, name: "echo" },
    ...refusal,
    check: outcome(replies.take(), "stale/301", N),
  });

  // spawn baseline, then the run path
  const spawned = await spawnLoop(join(work, "spawn"), M);
  rows.push({
    path: "spawn /bin/sh -c true-like (baseline)",
    window: 1,
    measured: spawned,
    unit: "spawns/s",
    check: `${M}/${M} exit 0`,
  });
  let distinct = 0;
  const runPlan = () => truePlan(`run-${distinct++}`);
  await replies.load(5, RUN_WINDOW, () => toAgent(runPlan()));
  replies.take();
  const run = await idemLoad(M, RUN_WINDOW, runPlan);
  rows.push({
    path: "idem run (script = 1 child process)",
    window: RUN_WINDOW,
    unit: "plans/s",
    versus: { measured: spawned, name: "spawn" },
    ...run,
    check: outcome(replies.take(), "run/0", M),
  });
} finally {
  await agent?.stop().catch(() => agent?.kill9());
  await requester?.endAsync(true);
  await responder?.endAsync(true);
  await broker.dispose();
  rmSync(work, { recursive: true, force: true });
}

const fmtLoad = (load: number[]) => load.map((l) => l.toFixed(2)).join(" ");
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${mosquittoVersion()}, journal on ${filesystem(tmpdir())}`,
);
console.log(`load average before: ${fmtLoad(loadBefore)}, after: ${fmtLoad(loadavg())}`);
console.log(
  `broker: its own mosquitto on 127.0.0.1, persistence off (not the bottleneck); N=${N}, W=${WINDOW}, M=${M}; warm-up excluded`,
);
printTable(
  ["path", "count", "window", "rate", "p50", "p99", "vs baseline", "agent CPU/plan", "check"],
  rows.map((row) => {
    const rate = row.measured.count / row.measured.seconds;
    const versus = row.versus
      ? `${((rate / (row.versus.measured.count / row.versus.measured.seconds)) * 100).toFixed(0)}% of ${row.versus.name}`
      : "–";
    return [
      row.path,
      String(row.measured.count),
      String(row.window),
      `${rate.toFixed(0)} ${row.unit}`,
      ms(percentile(row.measured.latencies, 0.5)),
      ms(percentile(row.measured.latencies, 0.99)),
      versus,
      row.agentCpuMs === undefined ? "–" : ms(row.agentCpuMs),
      row.check,
    ];
  }),
);

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

function send(mqtt: MqttClient, topic: string, plan: MuranoPlan): string {
  mqtt.publish(topic, JSON.stringify(plan), { qos: 1 });
  return plan.ID;
}

/** A distinct plan whose entry point is `true`-like and whose Body returns its exit code. */
function truePlan(tag: string): MuranoPlan {
  const plan = applicationPlan({ effects, tag, body: "return deploy(args.tag).exitCode" });
  const scripts = plan.Scripts as Record<string, { EntryPoint: string }>;
  const files = plan.Files as Record<string, { Body: string }>;
  const entry = files[scripts.deploy?.EntryPoint ?? ""];
  if (!entry) throw new Error("Cannot find the entry point of the test plan");
  entry.Body = TRUE_SCRIPT;
  return plan;
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

async function client(clientId: string): Promise<MqttClient> {
  const mqtt = connect({ host: broker.host, port: broker.port, protocolVersion: 5, clientId, clean: true });
  await new Promise<void>((resolve, reject) => {
    mqtt.once("connect", () => resolve());
    mqtt.once("error", reject);
  });
  return mqtt;
}

function outcome(kinds: Map<string, number>, expected: string, count: number): string {
  const others = [...kinds].filter(([kind]) => kind !== expected).map(([kind, n]) => `${n} ${kind}`);
  return [`${kinds.get(expected) ?? 0}/${count} ${expected}`, ...others].join(", ");
}

/** User + system CPU time of the process (all its threads) so far; 10 ms resolution. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function mosquittoVersion(): string {
  try {
    execFileSync("mosquitto", ["-h"], { encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout ?? "");
    return out.split("\n")[0]?.trim() || "mosquitto";
  }
  return "mosquitto";
}

function filesystem(path: string): string {
  try {
    const [, line] = execFileSync("df", ["-T", path], { encoding: "utf8" }).split("\n");
    const [device, type] = (line ?? "").split(/\s+/);
    return `${path} (${type} on ${device})`;
  } catch {
    return path;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

function intArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`Cannot run the bench as ${name} is not a positive integer`);
  return value;
}

function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of body) console.log(line(row));
}
