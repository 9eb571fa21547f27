/**
 * Memory over a long run (issue 11 item 4): N plans (default 10,000) stream through one agent, `--window` (default
 * 20) outstanding at a time, and the agent's RSS, CPU per plan and throughput are printed every `--every` (default
 * 1,000) results. "Flat" means the RSS of the last rows stays where the first rows left it.
 *
 *   node build.mjs && node_modules/.bin/node bench/soak.ts [--n 10000] [--window 20] [--every 1000]
 *     [--exe FILE | --bundle FILE [--node-flags "FLAGS"]]
 *
 * - The agent (bench/agent_command.ts): `--exe FILE`, else the bundle (default dist/idem.mjs) on Node 24 with
 *   `--node-flags`, by default the V8 flags `npm start` and the executable use (build.mjs); concurrency 1. Broker: its own mosquitto (persistence
 *   off, `set_tcp_nodelay true`). Each plan is a trivial Application plan (`echo ok`) with content of its own.
 * - The RSS is read from /proc when a row's last result arrives; CPU is the agent process's own (utime + stime,
 *   10 ms ticks; its scripts and Body worker not included). Exits non-zero on a wrong result or a stall.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { type AgentProcess, startAgent } from "../test/helpers/agent_process.ts";
import { startBroker } from "../test/helpers/broker.ts";
import type { Result } from "../test/helpers/engine.ts";
import { agentCommand } from "./agent_command.ts";
import { connectClient, cpuMs, intArg, machine, ms, printTable, rssSplitKb, scriptPlan } from "./lab.ts";

const N = intArg("--n", 10_000);
const WINDOW = intArg("--window", 20);
const EVERY = intArg("--every", 1_000);
/** The agent under test: `--exe FILE`, or the bundle with `--node-flags` (default: npm start's flags). */
const AGENT = agentCommand();
const STALL_MS = 60_000;

interface Row {
  done: number;
  rssKb: number;
  anonKb: number;
  fileKb: number;
  cpuMs: number;
  wallMs: number;
}

async function soak(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "idem-bench-soak-"));
  const broker = await startBroker({ durable: false });
  const agentId = `bench-soak-${Math.random().toString(36).slice(2, 8)}`;
  let agent: AgentProcess | undefined;
  let engine: MqttClient | undefined;
  const rows: Row[] = [];
  try {
    agent = await startAgent({
      broker: broker.url,
      agentId,
      dataDir: join(work, "data"),
      command: AGENT.command,
    });
    const running = agent;
    engine = await connectClient(broker.port, "bench-soak-engine");
    await engine.subscribeAsync(`idem/${agentId}/results`, { qos: 1 });
    const sample = (done: number): Row => {
      const rss = rssSplitKb(running.pid);
      const [rssKb, anonKb, fileKb] = [rss.total, rss.anon, rss.file];
      return { done, rssKb, anonKb, fileKb, cpuMs: cpuMs(running.pid), wallMs: performance.now() };
    };
    rows.push(sample(0));
    const client = engine;
    await new Promise<void>((resolve, reject) => {
      const seen = new Set<string>();
      let sent = 0;
      let last = Date.now();
      const send = () => {
        while (sent < N && sent - seen.size < WINDOW) {
          const plan = scriptPlan("#!/bin/sh\necho ok\n", { effects: join(work, "e"), tag: `soak-${sent}` });
          sent += 1;
          client.publish(`idem/${agentId}/plans`, JSON.stringify(plan), { qos: 1 });
        }
      };
      const watchdog = setInterval(() => {
        if (running.exited) fail(`the agent exited (${JSON.stringify(running.exited)})`);
        else if (Date.now() - last > STALL_MS) fail(`no result for ${STALL_MS / 1000} s`);
      }, 1000);
      const fail = (why: string) => {
        clearInterval(watchdog);
        reject(new Error(`Cannot finish the soak: ${why} after ${seen.size}/${N}\n${running.tail()}`));
      };
      client.on("message", (_topic, payload) => {
        const result = JSON.parse(payload.toString("utf8")) as Result;
        if (seen.has(result.SourceID)) return; // a re-sent outbox entry: results are at-least-once
        if (result.ErrorCode !== 0) return fail(`plan ${result.SourceID} answered ${JSON.stringify(result)}`);
        seen.add(result.SourceID);
        last = Date.now();
        if (seen.size % EVERY === 0 || seen.size === N) {
          rows.push(sample(seen.size));
          console.error(`${seen.size}/${N}: RSS ${((rows.at(-1)?.rssKb ?? 0) / 1024).toFixed(0)} MB`);
        }
        if (seen.size === N) {
          clearInterval(watchdog);
          resolve();
        } else send();
      });
      send();
    });
    await agent.stop();
  } finally {
    await agent?.stop().catch(() => agent?.kill9());
    await engine?.endAsync(true);
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  report(rows);
}

function report(rows: Row[]): void {
  console.log(machine(tmpdir()));
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(`agent: ${AGENT.describe}, concurrency 1; ${N} plans, ${WINDOW} outstanding`);
  const body = rows.slice(1).map((row, i) => {
    const prev = rows[i] as Row;
    const plans = row.done - prev.done;
    return [
      String(row.done),
      `${(row.rssKb / 1024).toFixed(0)} MB`,
      `${(row.anonKb / 1024).toFixed(0)} MB`,
      `${(row.fileKb / 1024).toFixed(0)} MB`,
      ms((row.cpuMs - prev.cpuMs) / plans),
      ((plans * 1000) / (row.wallMs - prev.wallMs)).toFixed(1),
    ];
  });
  const first = rows[0] as Row;
  printTable(
    ["plans done", "agent RSS", "anon", "file", "CPU/plan (row)", "plans/s (row)"],
    [
      ["0", ...[first.rssKb, first.anonKb, first.fileKb].map((kb) => `${(kb / 1024).toFixed(0)} MB`), "", ""],
      ...body,
    ],
  );
}

await soak();
