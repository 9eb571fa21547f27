/**
 * The generation fence (SPEC 5.3), applied before any policy: a plan addressed to an older incarnation of
 * this VM is stale; one addressed to a newer incarnation means this agent is the outdated one (strict: it is
 * superseded and stands down, SPEC 5.5), or raises the agent's generation (adopt, when no generation is
 * configured). A plan more than `maxGenerationStep` above is neither believed nor adopted: 302, and the agent
 * keeps serving (one bad plan must not stop it).
 */
import { ErrorCode } from "../errors.ts";

export type FenceVerdict =
  | { kind: "pass"; generation: number }
  | { kind: "adopt"; generation: number }
  /** Strict: a newer incarnation of this VM exists; the agent stands down without answering the plan. */
  | { kind: "superseded"; generation: number; message: string }
  | { kind: "stale" | "future" | "missing"; code: number; message: string };

export interface FenceOptions {
  /** The agent's generation G = max(configured, high-water mark). */
  generation: number;
  /** A generation was configured: newer plans are refused (strict) instead of adopted. */
  strict: boolean;
  requireGeneration: boolean;
  /**
   * The most one plan may raise the generation at once (SPEC 5.5 `maxGenerationStep`): adopted (adopt mode), or
   * taken as a newer incarnation (strict).
   */
  maxStep: number;
}

export function fence(
  planId: string,
  planGeneration: number | undefined,
  options: FenceOptions,
): FenceVerdict {
  const agent = options.generation;
  if (planGeneration === undefined) {
    if (!options.requireGeneration) return { kind: "pass", generation: agent };
    return {
      kind: "missing",
      code: ErrorCode.StaleGeneration,
      message: `Cannot run plan "${planId}" as it has no Generation and this agent requires one (generation ${agent})`,
    };
  }
  if (planGeneration < agent) {
    return {
      kind: "stale",
      code: ErrorCode.StaleGeneration,
      message: `Cannot run plan "${planId}" as its generation ${planGeneration} is older than the agent's generation ${agent}`,
    };
  }
  if (planGeneration > agent) {
    if (!options.strict && planGeneration - agent <= options.maxStep)
      return { kind: "adopt", generation: planGeneration };
    if (!options.strict) {
      return {
        kind: "future",
        code: ErrorCode.FutureGeneration,
        message: `Cannot adopt generation ${planGeneration} of plan "${planId}": it is more than maxGenerationStep (${options.maxStep}) above the agent's generation ${agent}. If the VM really is that generation, set it with idem fence --generation ${planGeneration}`,
      };
    }
    if (planGeneration - agent <= options.maxStep) {
      return {
        kind: "superseded",
        generation: planGeneration,
        message: `a plan for generation ${planGeneration} (plan "${planId}") is newer than this agent's generation ${agent}`,
      };
    }
    return {
      kind: "future",
      code: ErrorCode.FutureGeneration,
      message: `Cannot run plan "${planId}" as its generation ${planGeneration} is more than maxGenerationStep (${options.maxStep}) above the agent's generation ${agent}: not taken for a newer incarnation of this VM`,
    };
  }
  return { kind: "pass", generation: agent };
}
