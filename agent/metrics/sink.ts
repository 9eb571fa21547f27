/**
 * The shapes between the agent and its metrics (`../metrics.ts` starts them, `registry.ts` defines them,
 * `expose.ts` serves and writes them): what the metrics read, and what the agent tells them.
 */
import type { Config } from "../config.ts";
import type { Journal } from "../journal/journal.ts";
import type { Logger } from "../log.ts";
import type { AgentEvent } from "../pipeline/context.ts";

/** What the metrics read when they are collected (an HTTP scrape, a textfile write). */
export interface MetricsSources {
  journal: Journal;
  log: Logger;
  agentId: string;
  version: string;
  /** Plans executing now. */
  running(): number;
  /** Whether a broker session is up. */
  connected(): boolean;
  /** The agent's generation G (SPEC 5.3). */
  generation(): number;
}

/** The agent's side of the metrics: what it tells them. */
export interface MetricsSink {
  /** An event the agent emitted (SPEC 8): decisions, finished runs (`ErrorCode`, `Seconds`), interruptions. */
  event(event: AgentEvent): void;
  /** A broker session is up (called on every connect: the second and later ones count as reconnects). */
  sessionReady(): void;
  /** Writes the textfile one last time (the final counts) and closes the HTTP listener. */
  stop(): Promise<void>;
}

/** The `metrics` setting, when given. */
export type MetricsSettings = NonNullable<Config["metrics"]>;
