/**
 * Decide: ask the plan's policy what to do. Every policy call goes through {@link callPolicy}, which turns a
 * sync or async answer, a throw, garbage or a timeout into a decision: a broken plugin refuses the plan with
 * code 305 and never stops the agent.
 */
import { Value } from "typebox/value";
import { ErrorCode } from "../errors.ts";
import type { Decision, Policy, PolicyContext } from "../mod.ts";
import type { PolicyRegistry } from "../policies.ts";

const KINDS = new Set(["run", "replay", "join", "reject"]);

export function selectPolicy(
  registry: PolicyRegistry,
  requested: string | undefined,
  fallback: string,
): { policy: Policy } | { decision: Decision } {
  const name = requested ?? fallback;
  const policy = registry.get(name);
  if (policy) return { policy };
  return {
    decision: {
      kind: "reject",
      code: ErrorCode.PolicyError,
      message: `Cannot run the plan with unknown policy "${name}": available policies are ${registry.names().join(", ")}`,
    },
  };
}

function isDecision(value: unknown): value is Decision {
  if (typeof value !== "object" || value === null) return false;
  const d = value as { kind?: unknown; code?: unknown; message?: unknown };
  if (typeof d.kind !== "string" || !KINDS.has(d.kind)) return false;
  if (d.kind !== "reject") return true;
  return Number.isInteger(d.code) && typeof d.message === "string";
}

function policyError(policy: Policy, what: string): Decision {
  return {
    kind: "reject",
    code: ErrorCode.PolicyError,
    message: `Cannot decide with policy "${policy.name}": ${what}`,
  };
}

export async function callPolicy(
  policy: Policy,
  context: PolicyContext,
  timeoutMs: number,
): Promise<Decision> {
  if (policy.options && !Value.Check(policy.options, context.options)) {
    const errors = [...Value.Errors(policy.options, context.options)].map(
      (e) => `${e.instancePath || "/"} ${e.message}`,
    );
    return policyError(policy, `Idempotency.Options do not fit it (${errors.join("; ")})`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const answer = await Promise.race([Promise.resolve().then(() => policy.decide(context)), timeout]);
    if (answer === "timeout") return policyError(policy, `it did not answer within ${timeoutMs} ms`);
    if (!isDecision(answer))
      return policyError(policy, `it returned ${JSON.stringify(answer) ?? String(answer)}, not a decision`);
    return answer;
  } catch (cause) {
    return policyError(policy, `it threw ${cause instanceof Error ? cause.message : String(cause)}`);
  } finally {
    clearTimeout(timer);
  }
}
