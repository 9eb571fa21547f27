/**
 * Validate: a plan idem can take, and an answer that can be delivered.
 *
 * - The reply target (SPEC 3 `ReplyTo`, SPEC 2 Response Topic): the plan's `ReplyTo`, else the MQTT 5 Response
 *   Topic, else the default results topic. A target the agent may not publish to refuses the plan with code 2,
 *   answered on the default topic, before anything runs: one that is not a valid MQTT topic name (a reply the
 *   broker would refuse is never journaled), one that names an agent's own topics (`P/<any>/plans`, `status`,
 *   `events`, `control`: a plan must not forge plans, presence, events or operator requests), or one that matches none of the configured
 *   `replyTopics` filters (default `P/+/results`, `P/A/#`).
 *
 *   Brokers that rewrite `.` and `/` (RabbitMQ's MQTT plugin routes `a.b/c` as `a.b.c`, the same as `a/b/c`;
 *   `transport/topic.ts`): the filters are matched against the name exactly as the plan gives it — what an
 *   engine subscribed on mosquitto sees — while the agents' own topics are refused in either spelling
 *   (`idem.vm-2.plans`, `idem/web/prod/plans` for agent `web.prod`), so a rewriting broker cannot turn an allowed
 *   name into another agent's plans, status or events. What stays open there (an id that extends another with
 *   `.`: `idem/web/prod/results` is allowed to agent `web` by `P/A/#` and is agent `web.prod`'s results topic on
 *   RabbitMQ) is closed by the broker's own permissions (docs/security.md).
 * - The plan: murano-agent's rules and idem's extension fields (`murano/validate.ts`), then the Body is
 *   compiled, so that an unsafe construct refuses the plan before anything runs (SPEC 6).
 */
import { type Config, defaultReplyTopics } from "../config.ts";
import { ErrorCode, IdemError } from "../errors.ts";
import type { ReplyTarget } from "../mod.ts";
import type { Plan } from "../murano/plan.ts";
import { validatePlan } from "../murano/validate.ts";
import { ensureEngineStack } from "../native/v8_settings.ts";
import { compile } from "../python/mod.ts";
import { topicNameProblem } from "../transport/topic.ts";
import { matchesFilter } from "../transport/topic_filter.ts";

export interface Addressed {
  target: ReplyTarget;
  /** Why the plan's own reply topic cannot be used (the whole sentence); the answer then goes to the default topic. */
  problem?: string;
}

/** Where an agent may publish replies: its default results topic, and what `replyTopics` allows. */
export interface ReplyScope {
  /** `P/A/results`: where a plan without a reply topic, or with one it may not use, is answered. */
  defaultTopic: string;
  /** The topic prefix `P`: `P/<any agent>/plans|status|events` are never reply topics. */
  prefix: string;
  /** MQTT topic filters a reply topic must match (SPEC 3 `replyTopics`). */
  filters: readonly string[];
}

/** The control topics of every agent: never a reply topic. */
const CONTROL_LEAVES = new Set(["plans", "status", "events", "control"]);

/** The reply scope of an agent with these settings (and this default topic, `P/A/results` unless given). */
export function replyScope(
  config: Pick<Config, "prefix" | "agentId" | "replyTopics">,
  defaultTopic = `${config.prefix}/${config.agentId}/results`,
): ReplyScope {
  return {
    defaultTopic,
    prefix: config.prefix,
    filters: config.replyTopics ?? defaultReplyTopics(config.prefix, config.agentId),
  };
}

/** Where the answer to `plan` goes. */
export function address(
  plan: Readonly<Record<string, unknown>>,
  planId: string,
  message: { responseTopic?: string; correlationData?: Uint8Array },
  scope: ReplyScope,
): Addressed {
  const fallback: ReplyTarget = { topic: scope.defaultTopic, sourceId: planId };
  const own = plan.ReplyTo;
  const [field, topic] =
    own !== undefined && own !== null ? ["ReplyTo", own] : ["Response Topic", message.responseTopic];
  if (topic === undefined || topic === null) return { target: withCorrelation(fallback, message) };
  const refuse = (why: string): Addressed => ({
    target: fallback,
    problem: `Cannot answer plan "${planId}" where it asks as ${why}`,
  });
  if (typeof topic !== "string") return refuse(`its ${field} is not a string but ${typeof topic}`);
  const named = `its ${field} ${JSON.stringify(topic)}`;
  const problem = topicNameProblem(topic);
  if (problem !== undefined) {
    return refuse(
      `${named} ${problem}: give a topic name without wildcards or control characters, at most 1024 bytes`,
    );
  }
  if (topic !== scope.defaultTopic) {
    const leaf = controlLeaf(topic, scope.prefix);
    if (leaf !== undefined) {
      return refuse(
        `${named} is an agent's ${leaf} topic, which a plan may not publish to: give a results topic`,
      );
    }
    if (!scope.filters.some((filter) => matchesFilter(filter, topic))) {
      return refuse(
        `${named} matches none of the reply topics this agent may publish to (${scope.filters.join(", ")}): give one of those, or none to be answered on ${scope.defaultTopic}`,
      );
    }
  }
  return { target: withCorrelation({ topic, sourceId: planId }, message) };
}

/**
 * The leaf (`plans`, `status`, `events`, `control`) when `topic` is `P/<agent>/<leaf>` (or below `control`) of some agent, in the spelling given or
 * as a broker that swaps `.` and `/` routes it (an agent id may hold `.`, so any number of levels between the
 * prefix and the leaf); else undefined.
 */
function controlLeaf(topic: string, prefix: string): string | undefined {
  const dotted = (name: string) => name.replaceAll(".", "/");
  for (const [name, head] of [
    [topic, `${prefix}/`],
    [dotted(topic), `${dotted(prefix)}/`],
  ] as const) {
    if (!name.startsWith(head)) continue;
    const rest = name.slice(head.length);
    const cut = rest.lastIndexOf("/");
    const leaf = rest.slice(cut + 1);
    if (cut > 0 && CONTROL_LEAVES.has(leaf)) return leaf;
    // Below an agent's control topic (its replies to operators' requests): no plan may answer there either.
    if (rest.indexOf("/control/") > 0) return "control";
  }
  return undefined;
}

function withCorrelation(target: ReplyTarget, message: { correlationData?: Uint8Array }): ReplyTarget {
  if (!message.correlationData) return target;
  return { ...target, correlationData: Buffer.from(message.correlationData).toString("base64") };
}

/**
 * The plan (decode's plain view) as a typed {@link Plan} when idem can take it: its reply target is usable, it
 * passes murano-agent's rules and idem's (murano/validate.ts), and its Body compiles.
 *
 * @throws IdemError (code 2 or 9, or 1 for a Body that is not Python: the plan's fault) when it cannot be taken.
 */
export function validate(plan: unknown, addressed: Addressed): Plan {
  if (addressed.problem !== undefined) throw new IdemError(ErrorCode.InvalidPlan, addressed.problem);
  const typed = validatePlan(plan);
  // The plan's scripts are known here: an unknown name (a misspelled script) is refused before anything runs. On
  // the stack a Body nested as deep as CPython allows needs (native/v8_settings.ts).
  ensureEngineStack();
  compile(typed.Body, { scripts: new Set(Object.keys(typed.Scripts)) });
  return typed;
}
