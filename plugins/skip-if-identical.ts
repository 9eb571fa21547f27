/**
 * `skip-if-identical` (the default): a repeat of a plan that succeeded is answered from the stored result;
 * a repeat of a running plan joins it; a failed or interrupted plan runs again; new content under an explicit
 * key runs and replaces the record.
 */
import Type from "typebox";
import { definePolicy } from "../agent/mod.ts";

export default definePolicy({
  name: "skip-if-identical",
  description: "Replay the stored result of an identical plan that succeeded; join one that is running",
  // An interrupted plan runs again (decide below): its start may share its decision's commit.
  rerunsInterrupted: true,
  options: Type.Object({
    /** A stored success older than this many seconds is run again instead of replayed. */
    window: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Run a failed plan again (default true); false: replay its failure. */
    retryFailed: Type.Optional(Type.Boolean()),
  }),
  decide({ record, fingerprint, options, now }) {
    if (record === undefined || record.fingerprint !== fingerprint) return { kind: "run" };
    switch (record.state) {
      case "accepted":
      case "running":
        return { kind: "join" };
      case "interrupted":
        return { kind: "run" };
      case "failed":
        return options.retryFailed === false ? { kind: "replay" } : { kind: "run" };
      case "succeeded": {
        const finished = Date.parse(record.result?.time ?? record.updatedAt);
        const expired = options.window !== undefined && now.getTime() - finished > options.window * 1000;
        return expired ? { kind: "run" } : { kind: "replay" };
      }
    }
  },
});
