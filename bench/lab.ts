/**
 * What the benchmarks share: a process's CPU time and memory from /proc, the machine they ran on, an MQTT
 * client, their command-line numbers, a plan with a script of one's own, and the table they print.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { connect, type MqttClient } from "mqtt";
import { applicationPlan, type MuranoPlan, type PlanOptions } from "../test/helpers/plans.ts";

/** USER_HZ: /proc reports CPU time in 1/100 s on Linux x86-64 and arm64. */
const CLOCK_TICKS = 100;

/** User + system CPU time of the process (all its threads) so far; 10 ms resolution. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** User and system CPU time of the process (all its threads) so far, in ms; 10 ms resolution. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    user: (Number(fields[11]) * 1000) / CLOCK_TICKS,
    system: (Number(fields[12]) * 1000) / CLOCK_TICKS,
  };
}

/** Resident memory of the process now, in kB. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

/**
 * Resident memory of the process now, in kB, split as /proc reports it: `anon` (heap, stacks: the process's own)
 * and `file` (pages of mapped files: the node binary, the executable's blob, the journal's memory map; shared
 * with the page cache and reclaimable).
 */
export function rssSplitKb(pid: number): { total: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { total: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile") + field("RssShmem") };
}

/** The machine the figures come from: its cores, their model, and this Node's version. */
export function host(): { cores: number; model: string; node: string } {
  return { cores: cpus().length, model: cpus()[0]?.model ?? "?", node: process.version };
}

/** One line saying where the figures come from: cores, Node, mosquitto, and the file system of `journalDir`. */
export function machine(journalDir: string): string {
  const { cores, model, node } = host();
  return `machine: ${cores} cores (${model}), node ${node}, ${mosquittoVersion()}, journal on ${filesystem(journalDir)}`;
}

/**
 * A test plan (fresh ID, Stamp and file ids; see `applicationPlan`) whose entry point is `script` instead of
 * the side-effect script. Distinct `tag`s make distinct content.
 */
export function scriptPlan(script: string, options: PlanOptions): MuranoPlan {
  const plan = applicationPlan(options);
  const scripts = plan.Scripts as Record<string, { EntryPoint: string }>;
  const files = plan.Files as Record<string, { Body: string; BodyType: string }>;
  const entry = files[scripts.deploy?.EntryPoint ?? ""];
  if (!entry) throw new Error("Cannot find the entry point of the test plan");
  entry.Body = script;
  entry.BodyType = "Text";
  return plan;
}

/**
 * An MQTT client on the loopback broker at `port`, connected: MQTT 5 unless `protocolVersion` 4 (3.1.1: RabbitMQ
 * 3.10, NATS 2.9), a clean session unless `clean` is false (a persistent one, as the agent's). `noDelay` turns
 * Nagle's algorithm off on its socket, as an engine should (peerbench README: murano's AMQP client does; without
 * it a small publish can wait for a delayed ACK). Rejects, the client ended, when the broker refuses or closes
 * the connection before its CONNACK.
 */
export async function connectClient(
  port: number,
  clientId: string,
  options: { protocolVersion?: 4 | 5; noDelay?: boolean; clean?: boolean } = {},
): Promise<MqttClient> {
  const mqtt = connect({
    host: "127.0.0.1",
    port,
    protocolVersion: options.protocolVersion ?? 5,
    clientId,
    clean: options.clean ?? true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      mqtt.once("connect", () => resolve());
      mqtt.once("error", reject);
      mqtt.once("close", () => reject(new Error(`Cannot connect to the MQTT broker on 127.0.0.1:${port}`)));
    });
  } catch (error) {
    mqtt.end(true);
    throw error;
  }
  if (options.noDelay) (mqtt.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return mqtt;
}

/** Percentile `p` (0–100) with linear interpolation between ranks, as peerbench engine.py's `pct`. */
export function pct(values: readonly number[], p: number): number {
  const xs = [...values].sort((a, b) => a - b);
  const k = ((xs.length - 1) * p) / 100;
  const f = Math.floor(k);
  const c = Math.min(f + 1, xs.length - 1);
  return (xs[f] as number) + ((xs[c] as number) - (xs[f] as number)) * (k - f);
}

/** A duration for a table: two decimals below 10 ms, one above. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

/** The integer (≥ `least`, default 1) after `name` on the command line, else `fallback`. */
export function intArg(name: string, fallback: number, least = 1): number {
  const at = process.argv.indexOf(name);
  const given = at >= 0 ? (process.argv[at + 1] ?? "").trim() : undefined;
  // Number("") is 0: an empty or missing value is refused, not taken as zero.
  const value = given === undefined ? fallback : given === "" ? Number.NaN : Number(given);
  if (!Number.isInteger(value) || value < least)
    throw new Error(`Cannot run the bench as ${name} is not an integer ≥ ${least}`);
  return value;
}

/** The text after `name` on the command line, else undefined. */
export function stringArg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined) throw new Error(`Cannot run the bench as ${name} has no value`);
  return value;
}

/** A Markdown table, columns padded to their widest cell. */
export function printTable(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of body) console.log(line(row));
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

/**
 * Counts the fsync-family system calls (`fdatasync`, `fsync`, `msync`) of process `pid` and the threads it starts,
 * with `perf stat` on the kernel's syscall tracepoints (no ptrace: the agent is not slowed down). Undefined when
 * perf cannot attach (not installed, or `kernel.perf_event_paranoid` forbids it): the bench then prints "n/a".
 * `stop()` ends perf and resolves with the total.
 */
export function countSyncs(pid: number): { stop(): Promise<number | undefined> } {
  const events = ["fdatasync", "fsync", "msync"].map((name) => `syscalls:sys_enter_${name}`).join(",");
  let perf: ChildProcess;
  try {
    perf = spawn("perf", ["stat", "-x", ",", "-e", events, "-p", String(pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch {
    return { stop: async () => undefined };
  }
  let text = "";
  perf.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    perf.once("error", () => resolve());
    perf.once("close", () => resolve());
  });
  return {
    async stop() {
      perf.kill("SIGINT");
      await exited;
      const counts = text
        .split("\n")
        .filter((line) => line.includes("syscalls:sys_enter_"))
        .map((line) => Number(line.split(",")[0]));
      return counts.length === 0 || counts.some(Number.isNaN) ? undefined : counts.reduce((a, b) => a + b, 0);
    },
  };
}
