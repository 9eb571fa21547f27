/**
 * Example plugin: `max-runs` runs a key at most `Options.max` times (default 3), then refuses it with code
 * 303. A repeat of a running key joins it. Load it with `idem run --plugins plugins/examples`.
 */
import Type from "typebox";
import { definePolicy, ErrorCode } from "../../agent/mod.ts";

export default definePolicy({
  name: "max-runs",
  description: "Run a key at most Options.max times (default 3), then refuse it",
  options: Type.Object({ max: Type.Optional(Type.Integer({ minimum: 1 })) }),
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
