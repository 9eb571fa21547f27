/**
 * In-process measurements of a journal for bench/journal_scale.ts: opening it, a retention pass (time, longest
 * event-loop block, heap growth), a streamed full scan of every record (what retention would cost without the
 * expiry index), and the cost of a decision (read the record, commit the replay and the plan ID durably).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Journal } from "../agent/journal/journal.ts";
import * as machine from "../agent/journal/record.ts";
import { expired as isExpired } from "../agent/journal/record_shape.ts";
import { pruneDetailed } from "../agent/journal/retention.ts";

export interface Pass {
  ms: number;
  /** Longest event-loop block seen while it ran, ms (perf_hooks monitorEventLoopDelay, 1 ms resolution). */
  maxBlockMs: number;
  /** 99th percentile of the event-loop delay, ms. */
  p99BlockMs: number;
  /** Most heap in use above what was in use before it, MB (sampled every ms; garbage not yet collected included). */
  heapGrowthMB: number;
  /** Heap still in use after it and a full GC, above before, MB (NaN without --expose-gc). */
  heapRetainedMB: number;
  /** What it removed (retention) or read (scan). */
  items: number;
  /** The scan: how many of the records read had expired. */
  expired?: number;
}

/** Runs `work` while watching the event loop and the heap. */
async function watched(work: () => Promise<number>): Promise<Pass> {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 1);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  const items = await work();
  const ms = performance.now() - started;
  delay.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  globalThis.gc?.();
  const retained = globalThis.gc ? process.memoryUsage().heapUsed - before : Number.NaN;
  return {
    ms,
    maxBlockMs: delay.max / 1e6,
    p99BlockMs: delay.percentile(99) / 1e6,
    heapGrowthMB: (peak - before) / 1e6,
    heapRetainedMB: retained / 1e6,
    items,
  };
}

/** Journal.open of the data dir, ms (the journal is closed again). */
export async function openMs(dataDir: string): Promise<number> {
  const started = performance.now();
  const journal = Journal.open(dataDir);
  const ms = performance.now() - started;
  await journal.close();
  return ms;
}

/** One retention pass (30 days, as the agent's default) over the journal. */
export async function retentionPass(dataDir: string): Promise<Pass> {
  const journal = Journal.open(dataDir);
  try {
    return await watched(async () => (await pruneDetailed(journal, { retentionDays: 30 })).records);
  } finally {
    await journal.close();
  }
}

/** Reads every record, 1000 per event-loop turn, counting the expired ones: retention without an index. */
export async function streamedScan(dataDir: string): Promise<Pass> {
  const journal = Journal.open(dataDir);
  const cutoff = Date.now() - 30 * 86_400_000;
  try {
    let expired = 0;
    const pass = await watched(async () => {
      let read = 0;
      for (const record of journal.records()) {
        if (isExpired(record, cutoff)) expired++;
        if (++read % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      return read;
    });
    return { ...pass, expired };
  } finally {
    await journal.close();
  }
}

export interface DecisionCost {
  /** Median wall time of one decision, ms (one durable commit each, awaited one at a time). */
  medianMs: number;
  /** CPU time (user + system) of this process per decision, µs. */
  cpuUs: number;
  /** One `record()` + `seen()` of random keys, µs (no commit). */
  readUs: number;
}

/**
 * Replay decisions on random keys `k0…k<records-1>` of each journal, `perRound` at a time, the journals taking
 * turns for `rounds` rounds (the machine's noise then falls on all of them alike). Each decision reads the
 * record and the new plan ID, then commits the replayed record and the plan ID, as the pipeline's replay does.
 */
export async function decisions(
  journals: { dataDir: string; records: number }[],
  options: { rounds: number; perRound: number },
): Promise<DecisionCost[]> {
  const opened = journals.map((j) => ({
    ...j,
    journal: Journal.open(j.dataDir),
    times: [] as number[],
    cpuUs: 0,
  }));
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const side of opened) {
        const cpu = process.cpuUsage();
        for (let i = 0; i < options.perRound; i++)
          side.times.push(await decideOnce(side.journal, side.records));
        const used = process.cpuUsage(cpu);
        side.cpuUs += used.user + used.system;
      }
    }
    return opened.map((side) => ({
      medianMs: median(side.times),
      cpuUs: side.cpuUs / side.times.length,
      readUs: readCost(side.journal, side.records),
    }));
  } finally {
    for (const side of opened) await side.journal.close();
  }
}

function randomKey(records: number): string {
  return `k${Math.floor(Math.random() * records)}`;
}

async function decideOnce(journal: Journal, records: number): Promise<number> {
  const started = performance.now();
  const key = randomKey(records);
  const planId = `decision-${Math.random().toString(36).slice(2)}`;
  const record = journal.record(key);
  if (!record || journal.seen(planId)) throw new Error(`Cannot replay key ${key}: it has no record`);
  const at = { time: new Date().toISOString(), planId, fingerprint: record.fingerprint };
  await journal.commit((tx) => {
    tx.putRecord(machine.replay(record, at));
    tx.markSeen(planId, { key, decision: "replay", time: at.time, fingerprint: record.fingerprint });
  });
  return performance.now() - started;
}

/** One `record()` + `seen()` of random keys, µs (100,000 of them). */
function readCost(journal: Journal, records: number): number {
  const reads = 100_000;
  let found = 0;
  const started = performance.now();
  for (let i = 0; i < reads; i++) if (journal.record(randomKey(records)) && !journal.seen(`p-${i}`)) found++;
  if (found < reads / 2) throw new Error(`Cannot measure reads: only ${found} of ${reads} keys found`);
  return ((performance.now() - started) * 1000) / reads;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
