// max-runs.ts — run a key at most Options.max times (default 3), then refuse it with 303
import { definePolicy, ErrorCode, Type } from "idem";

export default definePolicy({
  name: "max-runs", // [a-z0-9][a-z0-9._-]*, unique among loaded policies
  description: "Run a key at most Options.max times (default 3), then refuse it",
  options: Type.Object({ max: Type.Optional(Type.Integer({ minimum: 1 })) }), // checks Idempotency.Options
  decide({ record, key, options }) {
    const max = options.max ?? 3;
    if (record === undefined) return { kind: "run" };
    if (record.state === "accepted" || record.state === "running") return { kind: "join" };
    if (record.attempts < max) return { kind: "run" };
    return {
      kind: "reject",
      code: ErrorCode.IdempotencyConflict,
      message: `Cannot run key "${key}" again as it already ran ${record.attempts} times (max ${max})`,
    };
  },
});
