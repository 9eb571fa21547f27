/**
 * A/B of idem executables on the bench's broker (issue 11): for a change whose effect is smaller than the
 * machine's drift between runs, the only comparison that counts is interleaved rounds in one run. Each round
 * starts every candidate in turn on a fresh data dir (concurrency 1, MQTT 3.1.1, one private RabbitMQ node as
 * `npm run bench` uses), warms it with `--warmup` plans (default 60), waits `--idle` seconds (default 0), then
 * measures `--n` sequential round trips (the bench's plan: bench/idem_driver.ts) and, with `--burst N`, N plans
 * published back to back. Prints, per candidate, the median over rounds of each round's p50 round trip, its range,
 * the agent's CPU per plan of the round trips, and the burst's plans/s.
 *
 * - `--warmup 1 --idle 5` measures as the bench's rep does: an agent that has run its first plan and then had its
 *   first quiet moment (bench/idem_rep.ts).
 * - `--evict` drops each executable from the page cache before each of its starts (bench/page_cache.ts), so that
 *   the measured agent runs on pages a start read back, as after a boot and as in the bench's reps (which drop
 *   them before a first, unmeasured start), not on a fresh build's large folios.
 * - `--sequence` prints each round's round trips in order: a warm-up shows as a slope.
 *
 *   node_modules/.bin/node bench/ab.ts --exe /tmp/a/idem --exe /tmp/b/idem [--rounds 6] [--n 100] [--burst 300]
 *     [--warmup 60] [--idle 0] [--evict] [--sequence]
 *
 * Build the candidates with `node build.mjs --out DIR` (DIR/idem is the executable). Needs the peer's RabbitMQ
 * (bench/peer.ts `ensurePeer`: ../shared/peerbench set up). Every result must be run/0, else it throws.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startAgent } from "../test/helpers/agent_process.ts";
import { freePort } from "../test/helpers/server_process.ts";
import { benchPlan, Driver } from "./idem_driver.ts";
import { cpuMs, intArg, ms, pct, printTable } from "./lab.ts";
import { evictFromPageCache } from "./page_cache.ts";
import { ensurePeer, startRabbit, stopRabbit } from "./peer.ts";

if (process.argv.includes("--help")) {
  console.log(
    "usage: node bench/ab.ts --exe PATH --exe PATH [...] [--rounds 6] [--n 100] [--burst 0]\n" +
      "         [--warmup 60] [--idle 0] [--evict] [--sequence]\n" +
      "  interleaved rounds of idem executables on one private RabbitMQ: p50 round trip, CPU/plan, burst plans/s\n" +
      "  --rounds N    rounds, each starting every candidate once (default 6)\n" +
      "  --n N         measured sequential round trips per start (default 100)\n" +
      "  --burst N     then N plans published back to back: plans/s (default none)\n" +
      "  --warmup N    unmeasured round trips first (default 60; 0 allowed)\n" +
      "  --idle S      whole seconds of quiet after the warm-up (default 0; the bench's rep: --warmup 1 --idle 5)\n" +
      "  --evict       drop each executable from the page cache before its start (read back by the start)\n" +
      "  --sequence    print each round's round trips in order",
  );
  process.exit(0);
}
const executables = process.argv.flatMap((arg, i) =>
  arg === "--exe" ? [process.argv[i + 1] as string] : [],
);
if (executables.length === 0 || executables.some((exe) => exe === undefined || exe.startsWith("--"))) {
  throw new Error("Cannot run the A/B without candidates: give each executable as --exe PATH (see --help)");
}
const rounds = intArg("--rounds", 6);
const n = intArg("--n", 100);
const warmup = intArg("--warmup", 60, 0);
const idleMs = intArg("--idle", 0, 0) * 1000;
const evict = process.argv.includes("--evict");
const sequence = process.argv.includes("--sequence");
const burstAt = process.argv.indexOf("--burst");
const burst = burstAt >= 0 ? intArg("--burst", 1) : 0;
interface Figures {
  p50: number[];
  cpu: number[];
  rate: number[];
}
const figures: Figures[] = executables.map(() => ({ p50: [], cpu: [], rate: [] }));

ensurePeer();
const port = await freePort();
await startRabbit(port);
const work = mkdtempSync(join(tmpdir(), "idem-ab-"));
try {
  for (let round = 0; round < rounds; round++) {
    // Every other round in the other order: neither candidate always follows the other.
    const order = executables.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const exe = executables[i] as string;
      const agentId = `ab-${Math.random().toString(36).slice(2, 8)}`;
      const driver = await Driver.open(port, agentId);
      if (evict) evictFromPageCache([exe]);
      const agent = await startAgent({
        broker: `mqtt://127.0.0.1:${port}`,
        agentId,
        command: [exe],
        extraArgs: ["--broker-protocol", "4", "--concurrency", "1"],
        onlineTimeoutMs: 60_000,
        dataDir: join(work, `${round}-${i}`),
      });
      try {
        const roundTrip = async () => {
          const plan = benchPlan();
          const sent = performance.now();
          driver.send(plan);
          const [got] = await driver.waitAll([plan.ID], agent);
          return (got?.at as number) - sent;
        };
        for (let k = 0; k < warmup; k++) await roundTrip();
        if (idleMs > 0) await sleep(idleMs);
        const cpu0 = cpuMs(agent.pid);
        const times: number[] = [];
        for (let k = 0; k < n; k++) times.push(await roundTrip());
        const mine = figures[i] as Figures;
        mine.cpu.push((cpuMs(agent.pid) - cpu0) / n);
        mine.p50.push(pct(times, 50));
        if (burst > 0) {
          const plans = Array.from({ length: burst }, benchPlan);
          const t0 = performance.now();
          for (const plan of plans) driver.send(plan);
          const arrivals = await driver.waitAll(
            plans.map((p) => p.ID),
            agent,
          );
          mine.rate.push(burst / ((Math.max(...arrivals.map((a) => a.at)) - t0) / 1000));
        }
        driver.check();
        console.log(`round ${round + 1}/${rounds} ${exe}: p50 ${ms(pct(times, 50))}`);
        if (sequence) console.log(times.map((t) => t.toFixed(1)).join(" "));
      } finally {
        await agent.stop();
        await driver.close();
      }
    }
  }
} finally {
  await stopRabbit();
  rmSync(work, { recursive: true, force: true });
}

printTable(
  ["executable", "round trip p50 (median of rounds)", "range", "CPU per plan", "burst plans/s"],
  executables.map((exe, i) => {
    const f = figures[i] as Figures;
    return [
      exe,
      ms(pct(f.p50, 50)),
      `${ms(Math.min(...f.p50))}..${ms(Math.max(...f.p50))}`,
      ms(pct(f.cpu, 50)),
      f.rate.length > 0 ? `${pct(f.rate, 50).toFixed(0)}/s` : "–",
    ];
  }),
);
