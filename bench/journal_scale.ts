/**
 * The journal at scale (issue 11 item 5): the same figures with a small and a large journal, side by side.
 *
 *   node --expose-gc bench/journal_scale.ts [--records 1000000] [--small 1000] [--starts 3] [--rounds 10]
 *     [--per-round 100]
 *
 * Each journal is built through the journal's own API (bench/journal_build.ts; cached in the temp dir, keyed by
 * schema and size) with 1% of its plans 40 days old, which a 30-day retention removes. Then:
 * - the agent itself (`node agent/main.ts run`, from the sources) on a mosquitto of its own: spawn → `event=online`
 *   (median of `--starts`), its RSS (VmRSS, and RssAnon: the process's own memory without mapped journal pages)
 *   once online and once its start-up retention pass logged `event=pruned`; an agent on an empty data dir is
 *   the baseline;
 * - in this process (bench/journal_probe.ts): Journal.open, a retention pass (time, longest event-loop block,
 *   heap growth), a streamed scan of every record (retention without the expiry index), and decisions (one
 *   durable replay commit each, random keys).
 * The expired plans are put back before each start and each pass. Page cache warm (the journal was just
 * written or read). Run with `--expose-gc` for steadier heap figures.
 */
import { readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../test/helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../test/helpers/broker.ts";
import { buildJournal, topUpExpired } from "./journal_build.ts";
import { type DecisionCost, decisions, openMs, retentionPass, streamedScan } from "./journal_probe.ts";
import { cpuMs, intArg, machine, ms, printTable, rssKb } from "./lab.ts";

const LARGE = intArg("--records", 1_000_000);
const SMALL = intArg("--small", 1_000);
const STARTS = intArg("--starts", 3);
const ROUNDS = intArg("--rounds", 10);
const PER_ROUND = intArg("--per-round", 100);
const PRUNED_TIMEOUT_MS = 120_000;

interface AgentFigures {
  onlineMs: number[];
  /** CPU time (user + system) of the agent until online, ms: the work, whatever the machine's load. */
  cpuOnlineMs: number[];
  rssOnlineKb: number;
  anonOnlineKb: number;
  rssPrunedKb: number;
  anonPrunedKb: number;
  pruned: string;
}

/** RssAnon of process `pid`, kB: its own memory, without the journal's mapped file pages. */
function anonKb(pid: number): number {
  const match = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? Number.NaN);
}

/** Starts the agent on `dataDir` `STARTS` times (expired plans put back each time, when `expired` > 0). */
async function agentFigures(
  broker: MosquittoBroker,
  dataDir: string,
  expired: number,
): Promise<AgentFigures> {
  const figures: AgentFigures = {
    onlineMs: [],
    cpuOnlineMs: [],
    rssOnlineKb: 0,
    anonOnlineKb: 0,
    rssPrunedKb: 0,
    anonPrunedKb: 0,
    pruned: "–",
  };
  for (let run = 0; run < STARTS; run++) {
    if (expired > 0) await topUpExpired(dataDir, expired);
    const started = performance.now();
    const agent = await startAgent({
      broker,
      agentId: uniqueAgentId("scale"),
      dataDir,
      onlineTimeoutMs: 60_000,
    });
    figures.onlineMs.push(performance.now() - started);
    figures.cpuOnlineMs.push(cpuMs(agent.pid));
    figures.rssOnlineKb = Math.max(figures.rssOnlineKb, rssKb(agent.pid));
    figures.anonOnlineKb = Math.max(figures.anonOnlineKb, anonKb(agent.pid));
    if (expired > 0) {
      const [line] = await agent.waitForLog(/\bevent=pruned\b/, { timeoutMs: PRUNED_TIMEOUT_MS });
      figures.pruned = /records=(\d+)/.exec(line ?? "")?.[1] ?? "?";
      figures.rssPrunedKb = Math.max(figures.rssPrunedKb, rssKb(agent.pid));
      figures.anonPrunedKb = Math.max(figures.anonPrunedKb, anonKb(agent.pid));
    }
    const exit = await agent.stop();
    if (exit.code !== 0)
      throw new Error(`Cannot measure: the agent exited with ${exit.code}\n${agent.tail()}`);
  }
  return figures;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const ratio = (small: number, large: number) => `${(large / small).toFixed(2)}×`;

const loadBefore = loadavg().map((l) => l.toFixed(2));
const machineLine = machine(tmpdir());
const broker = await startBroker({ durable: false });
const empty = await makeTempDir("scale-empty");
const rows: string[][] = [];
try {
  const baseline = await agentFigures(broker, join(empty, "data"), 0);
  const sizes = [];
  for (const records of [SMALL, LARGE]) {
    const expired = Math.max(1, Math.round(records / 100));
    const built = await buildJournal(records, expired);
    if (built.buildSeconds > 0) console.log(`built ${records} plans in ${built.buildSeconds.toFixed(1)} s`);
    const agent = await agentFigures(broker, built.dataDir, expired);
    await topUpExpired(built.dataDir, expired);
    const open = await openMs(built.dataDir);
    const pass = await retentionPass(built.dataDir);
    const scan = await streamedScan(built.dataDir);
    sizes.push({ records, expired, built, agent, open, pass, scan });
  }
  const [small, large] = sizes as [(typeof sizes)[0], (typeof sizes)[0]];
  const journals = sizes.map((s) => ({ dataDir: s.built.dataDir, records: s.records - s.expired }));
  const [smallDecided, largeDecided] = (await decisions(journals, {
    rounds: ROUNDS,
    perRound: PER_ROUND,
  })) as [DecisionCost, DecisionCost];
  const row = (name: string, s: string, l: string, r: string, goal = "") => rows.push([name, s, l, r, goal]);
  row("journal file (data.mdb)", mb(small.built.fileBytes / 1024), mb(large.built.fileBytes / 1024), "");
  const online = [small, large].map((s) => median(s.agent.onlineMs));
  row(
    `agent spawn → online, median of ${STARTS} (empty data dir: ${ms(median(baseline.onlineMs))})`,
    ms(online[0] as number),
    ms(online[1] as number),
    ratio(online[0] as number, online[1] as number),
    "≤ 1 s at 1M",
  );
  const cpu = [small, large].map((s) => median(s.agent.cpuOnlineMs));
  row(
    `agent CPU until online (empty data dir: ${ms(median(baseline.cpuOnlineMs))})`,
    ms(cpu[0] as number),
    ms(cpu[1] as number),
    ratio(cpu[0] as number, cpu[1] as number),
  );
  const rss = (s: AgentFigures, which: "Online" | "Pruned") =>
    `${mb(s[`rss${which}Kb`])} (anon ${mb(s[`anon${which}Kb`])})`;
  row(
    `agent RSS online (empty: ${rss(baseline, "Online")})`,
    rss(small.agent, "Online"),
    rss(large.agent, "Online"),
    "",
    "≤ 100 MB",
  );
  row(
    "agent RSS after its retention pass",
    rss(small.agent, "Pruned"),
    rss(large.agent, "Pruned"),
    "",
    "≤ 100 MB",
  );
  row("agent's start-up pass removed (records)", small.agent.pruned, large.agent.pruned, "");
  row("Journal.open", ms(small.open), ms(large.open), ratio(small.open, large.open));
  const passCell = (p: (typeof small)["pass"]) => `${ms(p.ms)}, ${p.items} removed`;
  row("retention pass (index)", passCell(small.pass), passCell(large.pass), "");
  const block = (p: (typeof small)["pass"]) => `${ms(p.maxBlockMs)} (p99 ${ms(p.p99BlockMs)})`;
  row("  longest event-loop block", block(small.pass), block(large.pass), "", "≤ 50 ms");
  const heap = (p: (typeof small)["pass"]) =>
    `peak +${p.heapGrowthMB.toFixed(1)} MB, retained +${p.heapRetainedMB.toFixed(1)} MB`;
  row("  heap (peak incl. garbage; retained after GC)", heap(small.pass), heap(large.pass), "", "a few MB");
  const scanCell = (p: (typeof small)["scan"]) =>
    `${ms(p.ms)}, block ${ms(p.maxBlockMs)}, heap +${p.heapGrowthMB.toFixed(0)} MB`;
  row(
    "streamed scan of every record (no index)",
    scanCell(small.scan),
    scanCell(large.scan),
    ratio(small.scan.ms, large.scan.ms),
  );
  row(
    `decision: read + durable replay commit, median of ${ROUNDS} × ${PER_ROUND}, interleaved`,
    ms(smallDecided.medianMs),
    ms(largeDecided.medianMs),
    ratio(smallDecided.medianMs, largeDecided.medianMs),
    "≤ 1.3×",
  );
  const us = (v: number) => `${v.toFixed(1)} µs`;
  row(
    "  CPU per decision",
    us(smallDecided.cpuUs),
    us(largeDecided.cpuUs),
    ratio(smallDecided.cpuUs, largeDecided.cpuUs),
    "≤ 1.3×",
  );
  row(
    "  record() + seen(), random keys",
    us(smallDecided.readUs),
    us(largeDecided.readUs),
    ratio(smallDecided.readUs, largeDecided.readUs),
  );
} finally {
  await broker.dispose();
  await removeDir(empty);
}
console.log(machineLine);
console.log(
  `load average before: ${loadBefore.join(" ")}, after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
printTable(["", `${SMALL} plans`, `${LARGE} plans`, "ratio", "goal"], rows);
