/** What every pipeline stage may use: settings, the journal, the policies, logging and events. */
import type { Config } from "../config.ts";
import type { Supersession } from "../incarnation.ts";
import type { Journal } from "../journal/journal.ts";
import type { JsonObject } from "../json/parse.ts";
import type { Logger } from "../log.ts";
import type { ReplyTarget } from "../mod.ts";
import type { Plan } from "../murano/plan.ts";
import type { PolicyRegistry } from "../policies.ts";
import type { DecodedPlans } from "./decoded_plans.ts";

export type AgentEventName =
  | "run"
  | "replay"
  | "join"
  | "reject"
  | "stale"
  | "future"
  | "invalid"
  | "unauthenticated"
  | "interrupted"
  | "finished"
  | "cancelled"
  | "reboot"
  | "journal-set-aside";

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
  /** Plans decided `run` by this process, decoded, until their execution takes them (`decoded_plans.ts`). */
  readonly decodedPlans: DecodedPlans;
  /** The agent's generation G = max(configured, high-water mark), as of now. */
  generation(): number;
  /** The result facts that do not depend on the plan. */
  facts(): { agentId: string; generation: number };
  /** Publishes an event (QoS 0) and logs it. */
  emit(event: AgentEvent): void;
  /** Called after every commit that may have added replies or queued runs. */
  afterCommit(): void;
  /**
   * A newer incarnation of this VM exists (SPEC 5.5): the agent stops acknowledging plans at once (the one being
   * taken included), leaves its session and stops. Returns at once.
   */
  supersede(by: Supersession): void;
}

/** A plan that passed decode, validation and the fence: what the decide and commit stages work on. */
export interface PlanRequest {
  planId: string;
  /** The validated plan, as policies see it (its plain view: numbers as JS numbers, objects without prototype). */
  plan: Readonly<Plan>;
  /** The payload text, queued as it is so that a restart can run it again. */
  text: string;
  /** The exact tree of that text's one parse (`plan` is its plain view): with `plan`, what execution reads. */
  exact: JsonObject;
  target: ReplyTarget;
  key: string;
  /** True when the key came from `Idempotency.Key`. */
  explicitKey: boolean;
  fingerprint: string;
  /** The name the plan asked for (or the default): the policy, if it is loaded. */
  policyName: string;
  options: Readonly<Record<string, unknown>>;
  /** The plan's own `Generation`, if any. */
  planGeneration: number | null;
  /** The agent's generation once the plan passed the fence. */
  generation: number;
  /** Adopt mode: the commit raises the high-water mark to `generation`. */
  adopt: boolean;
  timeoutSeconds: number | null;
  received: Date;
  /** Hash of a re-delivered payload whose delivery count the commit clears. */
  deliveryHash?: string;
}
