/** The `Idem` facts of a plain result (a plan of policy `always`, run once) for tests that build result payloads. */
import type { ResultFacts } from "../../agent/pipeline/reply.ts";

export function resultFacts(agentId: string): ResultFacts {
  return {
    agentId,
    generation: 1,
    key: "sha256:00",
    fingerprint: "sha256:00",
    policy: "always",
    decision: "run",
    attempt: 1,
    ranAs: null,
    replayed: false,
  };
}
