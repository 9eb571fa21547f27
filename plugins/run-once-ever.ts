/**
 * `run-once-ever`: a key executes at most once, ever. Repeats are answered from the stored result (or join
 * the running execution); an interrupted execution is never re-run by itself (its outcome is unknown), and
 * other content under the same explicit key is a conflict.
 */
import { definePolicy, ErrorCode } from "../agent/mod.ts";

export default definePolicy({
  name: "run-once-ever",
  description:
    "Execute a key at most once; repeats get the stored result; an interrupted run is never re-run",
  decide({ record, fingerprint, key }) {
    if (record === undefined) return { kind: "run" };
    if (record.fingerprint !== fingerprint) {
      return {
        kind: "reject",
        code: ErrorCode.IdempotencyConflict,
        message: `Cannot run a plan with key "${key}" as that key already ran with other content (${record.fingerprint})`,
      };
    }
    switch (record.state) {
      case "accepted":
      case "running":
        return { kind: "join" };
      case "interrupted":
        return {
          kind: "reject",
          code: ErrorCode.OutcomeUnknown,
          message: `Cannot run key "${key}" again as its run (plan "${record.lastPlanId}") was interrupted and its outcome is unknown: check the VM, then forget the key to allow a new run`,
        };
      case "succeeded":
      case "failed":
        return { kind: "replay" };
    }
  },
});
