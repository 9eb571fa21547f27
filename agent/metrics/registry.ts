/**
 * The agent's metrics on a registry of their own (prom-client; nothing on its global registry). Names and what
 * they count:
 *
 * | metric                              | type      | meaning                                                                |
 * | ----------------------------------- | --------- | ---------------------------------------------------------------------- |
 * | `idem_decisions_total{decision}`    | counter   | plans decided: run, replay, join, reject, stale, future, invalid, unauthenticated |
 * | `idem_runs_total{code}`             | counter   | executions finished, by result ErrorCode (0 ok, 1 Body, 100 script…)   |
 * | `idem_run_seconds`                  | histogram | how long finished executions took, in seconds                         |
 * | `idem_events_total{event}`          | counter   | every event of `P/A/events` (SPEC 8) by name: also `interrupted`, …    |
 * | `idem_reconnects_total`             | counter   | broker sessions established after the first one                        |
 * | `idem_broker_connected`             | gauge     | 1 while a broker session is up                                         |
 * | `idem_running`                      | gauge     | plans executing now                                                    |
 * | `idem_queue_depth`                  | gauge     | plans queued to run (the running ones included)                        |
 * | `idem_outbox_depth`                 | gauge     | replies waiting for the broker's acknowledgement                       |
 * | `idem_journal_bytes`                | gauge     | size of the journal's data file (`data.mdb`) on disk, in bytes         |
 * | `idem_generation`                   | gauge     | the agent's generation G (SPEC 5.3)                                    |
 * | `idem_info{agent,version}`          | gauge     | always 1                                                               |
 * | `process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_start_time_seconds` | | the process |
 *
 * Depths and sizes are read when the metrics are collected, never kept up to date on the hot path. prom-client's
 * default Node metrics are left out: their event-loop monitor wakes an idle agent every 10 ms; the three process
 * metrics above are computed at collection instead.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AgentEvent } from "../pipeline/context.ts";
import type { MetricsSources } from "./sink.ts";

/** The events that are decisions about a plan (SPEC 8). */
const DECISIONS = ["run", "replay", "join", "reject", "stale", "future", "invalid", "unauthenticated"];
/** Seconds: a script takes from a fraction of a second to hours (default timeout 3600 s). */
const RUN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export interface AgentMetrics {
  readonly registry: Registry;
  event(event: AgentEvent): void;
  sessionReady(): void;
}

export function agentMetrics(sources: MetricsSources): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];
  const decisions = new Counter({
    name: "idem_decisions_total",
    help: "Plans decided, by decision (run, replay, join, reject, stale, future, invalid, unauthenticated)",
    labelNames: ["decision"],
    registers,
  });
  for (const decision of DECISIONS) decisions.inc({ decision }, 0);
  const runs = new Counter({
    name: "idem_runs_total",
    help: "Executions finished, by result ErrorCode",
    labelNames: ["code"],
    registers,
  });
  const runSeconds = new Histogram({
    name: "idem_run_seconds",
    help: "How long finished executions took, in seconds",
    buckets: RUN_BUCKETS,
    registers,
  });
  const events = new Counter({
    name: "idem_events_total",
    help: "Events published on the agent's events topic, by name (finished, interrupted, ...)",
    labelNames: ["event"],
    registers,
  });
  const reconnects = new Counter({
    name: "idem_reconnects_total",
    help: "Broker sessions established after the first one",
    registers,
  });
  const { journal } = sources;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge("idem_broker_connected", "1 while a broker session is up", () => (sources.connected() ? 1 : 0));
  gauge("idem_running", "Plans executing now", sources.running);
  gauge("idem_queue_depth", "Plans queued to run, the running ones included", () => journal.queueLength());
  gauge("idem_outbox_depth", "Replies waiting for the broker's acknowledgement", () =>
    journal.outboxLength(),
  );
  gauge("idem_journal_bytes", "Size of the journal's data file (data.mdb) on disk, in bytes", () =>
    fileSize(join(journal.path, "data.mdb")),
  );
  gauge("idem_generation", "The agent's generation G (SPEC 5.3)", sources.generation);
  new Gauge({
    name: "idem_info",
    help: "The agent's id and version; always 1",
    labelNames: ["agent", "version"],
    registers,
  }).set({ agent: sources.agentId, version: sources.version }, 1);
  processMetrics(registers);

  let sessions = 0;
  return {
    registry,
    event(event) {
      events.inc({ event: event.Event });
      if (DECISIONS.includes(event.Event)) decisions.inc({ decision: event.Event });
      else if (event.Event === "finished") {
        runs.inc({ code: String(event.ErrorCode) });
        if (typeof event.Seconds === "number") runSeconds.observe(event.Seconds);
      }
    },
    sessionReady() {
      if (++sessions > 1) reconnects.inc();
    },
  };
}

/** The standard `process_*` metrics the agent's operators want, computed at collection. */
function processMetrics(registers: Registry[]): void {
  new Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU time spent in seconds",
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since the Unix epoch in seconds",
    registers,
  }).set(Math.round(performance.timeOrigin / 1000));
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
