import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RecordState } from "../../agent/mod.ts";
import always from "../../plugins/always.ts";
import maxRuns from "../../plugins/examples/max-runs.ts";
import runOnceEver from "../../plugins/run-once-ever.ts";
import skipIfIdentical from "../../plugins/skip-if-identical.ts";
import { contextFor, recordIn, testPolicy } from "../helpers/policy_conformance.ts";

testPolicy(always);
testPolicy(skipIfIdentical);
testPolicy(runOnceEver);
testPolicy(maxRuns, { options: { max: 2 } });

const OTHER = `sha256:${"b".repeat(64)}`;
type Row = [RecordState | "none" | "different", string, string, string];

// SPEC 5.2, row by row: state → always, skip-if-identical, run-once-ever ("reject:N" = reject with code N).
const TABLE: Row[] = [
  ["none", "run", "run", "run"],
  ["accepted", "run", "join", "join"],
  ["running", "run", "join", "join"],
  ["succeeded", "run", "replay", "replay"],
  ["failed", "run", "run", "replay"],
  ["interrupted", "run", "run", "reject:304"],
  ["different", "run", "run", "reject:303"],
];

describe("the built-in policies follow the SPEC 5.2 table", () => {
  for (const [state, ...expected] of TABLE) {
    [always, skipIfIdentical, runOnceEver].forEach((policy, column) => {
      test(`${policy.name} answers a ${state} key with ${expected[column]}`, async () => {
        const record =
          state === "none"
            ? undefined
            : state === "different"
              ? recordIn("succeeded", OTHER)
              : recordIn(state);
        const decision = await policy.decide(contextFor(record, { explicitKey: state === "different" }));
        const label = decision.kind === "reject" ? `reject:${decision.code}` : decision.kind;
        assert.equal(label, expected[column]);
      });
    });
  }

  test("skip-if-identical runs a success again once it is older than Options.window", async () => {
    const record = recordIn("succeeded");
    const now = new Date(Date.parse(record.result?.time ?? "") + 61_000);
    assert.equal(
      (await skipIfIdentical.decide(contextFor(record, { options: { window: 60 }, now }))).kind,
      "run",
    );
    assert.equal(
      (await skipIfIdentical.decide(contextFor(record, { options: { window: 120 }, now }))).kind,
      "replay",
    );
  });

  test("skip-if-identical replays a failure when Options.retryFailed is false", async () => {
    const decision = await skipIfIdentical.decide(
      contextFor(recordIn("failed"), { options: { retryFailed: false } }),
    );
    assert.equal(decision.kind, "replay");
  });
});
