/**
 * Validate: a plan idem can take, and an answer that can be delivered.
 *
 * - The reply target (SPEC 3 `ReplyTo`, SPEC 2 Response Topic): the plan's `ReplyTo`, else the MQTT 5 Response
 *   Topic, else the default results topic. A target that is not a valid MQTT topic name refuses the plan with
 *   code 2, answered on the default topic: a reply the broker would refuse is never journaled.
 * - The plan: murano-agent's rules and idem's extension fields (`murano/validate.ts`), then the Body is
 *   compiled, so that an unsafe construct refuses the plan before anything runs (SPEC 6).
 */
import { ErrorCode, IdemError } from "../errors.ts";
import type { ReplyTarget } from "../mod.ts";
import { compileBody } from "../murano/body.ts";
import { validatePlan } from "../murano/validate.ts";
import { topicNameProblem } from "../transport/topic.ts";

export interface Addressed {
  target: ReplyTarget;
  /** Why the plan's own reply topic cannot be used; the answer then goes to the default topic. */
  problem?: string;
}

/** Where the answer to `plan` goes. */
export function address(
  plan: Readonly<Record<string, unknown>>,
  planId: string,
  message: { responseTopic?: string; correlationData?: Uint8Array },
  defaultTopic: string,
): Addressed {
  const fallback: ReplyTarget = { topic: defaultTopic, sourceId: planId };
  const own = plan.ReplyTo;
  const [field, topic] =
    own !== undefined && own !== null ? ["ReplyTo", own] : ["Response Topic", message.responseTopic];
  if (topic === undefined || topic === null) return { target: withCorrelation(fallback, message) };
  if (typeof topic !== "string") {
    return { target: fallback, problem: `its ${field} is not a string but ${typeof topic}` };
  }
  const problem = topicNameProblem(topic);
  if (problem !== undefined) {
    return { target: fallback, problem: `its ${field} ${JSON.stringify(topic)} ${problem}` };
  }
  return { target: withCorrelation({ topic, sourceId: planId }, message) };
}

function withCorrelation(target: ReplyTarget, message: { correlationData?: Uint8Array }): ReplyTarget {
  if (!message.correlationData) return target;
  return { ...target, correlationData: Buffer.from(message.correlationData).toString("base64") };
}

/** Throws IdemError (code 2 or 9: the plan's fault) when the plan cannot be taken. */
export function validate(
  plan: Readonly<Record<string, unknown>>,
  planId: string,
  addressed: Addressed,
): void {
  if (addressed.problem !== undefined) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot answer plan "${planId}" where it asks as ${addressed.problem}: give a topic name without wildcards or control characters, at most 1024 bytes`,
    );
  }
  validatePlan(plan as Record<string, unknown>);
  compileBody(typeof plan.Body === "string" ? plan.Body : "");
}
