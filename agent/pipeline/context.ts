/** What every pipeline stage may use: settings, the journal, the policies, logging and events. */
import type { Config } from "../config.ts";
import type { Journal } from "../journal/journal.ts";
import type { Logger } from "../log.ts";
import type { PolicyRegistry } from "../policies.ts";

export type AgentEventName =
  | "run"
  | "replay"
  | "join"
  | "reject"
  | "stale"
  | "future"
  | "invalid"
  | "interrupted"
  | "finished";

/** One message on `P/A/events` (SPEC 8); `Time` is added when it is published. */
export interface AgentEvent {
  Event: AgentEventName;
  Key: string | null;
  SourceID: string | null;
  Generation: number | null;
  [field: string]: unknown;
}

export interface PipelineContext {
  readonly config: Config;
  readonly journal: Journal;
  readonly policies: PolicyRegistry;
  readonly log: Logger;
  readonly defaultReplyTopic: string;
  /** The agent's generation G = max(configured, high-water mark), as of now. */
  generation(): number;
  /** The result facts that do not depend on the plan. */
  facts(): { agentId: string; generation: number };
  /** Publishes an event (QoS 0) and logs it. */
  emit(event: AgentEvent): void;
  /** Called after every commit that may have added replies or queued runs. */
  afterCommit(): void;
}
