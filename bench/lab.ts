/**
 * What the benchmarks share: a process's CPU time and memory from /proc, the machine they ran on, an MQTT
 * client, their command-line numbers, a plan with a script of one's own, and the table they print.
 */
import { execFileSync } from "node:child_process";
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

/** Resident memory of the process now, in kB. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

/** One line saying where the figures come from: cores, Node, mosquitto, and the file system of `journalDir`. */
export function machine(journalDir: string): string {
  return `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${mosquittoVersion()}, journal on ${filesystem(journalDir)}`;
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

/** An MQTT 5 client on the loopback broker at `port`, connected. */
export async function connectClient(port: number, clientId: string): Promise<MqttClient> {
  const mqtt = connect({ host: "127.0.0.1", port, protocolVersion: 5, clientId, clean: true });
  await new Promise<void>((resolve, reject) => {
    mqtt.once("connect", () => resolve());
    mqtt.once("error", reject);
  });
  return mqtt;
}

/** A duration for a table: two decimals below 10 ms, one above. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

/** The positive integer after `name` on the command line, else `fallback`. */
export function intArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`Cannot run the bench as ${name} is not a positive integer`);
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
