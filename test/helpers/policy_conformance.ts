/**
 * The policy conformance suite: every built-in policy passes it, and a plugin author runs it on their own
 * policy (see docs/plugins.md):
 *
 *   import { testPolicy } from "idem/test/helpers/policy_conformance.ts";
 *   testPolicy(myPolicy, { options: { max: 2 } });
 *
 * It checks what the agent relies on, for every record state and for same and different content: the
 * answer is a well-formed decision (sync or async), it is deterministic, it never asks to replay a result
 * that does not exist or to join an execution that is not pending or running, a reject carries a result code
 * and a message, and the policy does not modify what it is given.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Decision, Policy, PolicyContext, PolicyRecord, RecordState } from "../../agent/mod.ts";

const STATES: Array<RecordState | "none"> = [
  "none",
  "accepted",
  "running",
  "succeeded",
  "failed",
  "interrupted",
];
const FINGERPRINT = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** A record in `state`, as the journal would hold it. */
export function recordIn(state: RecordState, fingerprint = FINGERPRINT): PolicyRecord {
  const time = "2026-01-01T00:00:00.000Z";
  const finished = state === "succeeded" || state === "failed";
  return {
    key: "key-1",
    fingerprint,
    policy: "test",
    state,
    attempts: state === "accepted" ? 0 : 1,
    firstPlanId: "plan-1",
    lastPlanId: "plan-1",
    generation: 1,
    createdAt: time,
    updatedAt: time,
    ...(finished
      ? {
          result: {
            errorCode: state === "failed" ? 100 : 0,
            body: '"ok"',
            time,
            ranAs: "plan-1",
            attempt: 1,
          },
        }
      : {}),
    history: [{ planId: "plan-1", fingerprint, decision: "run", time }],
  };
}

/** A policy context for a plan with `fingerprint` meeting `record`. */
export function contextFor(
  record: PolicyRecord | undefined,
  options: {
    fingerprint?: string;
    explicitKey?: boolean;
    options?: Record<string, unknown>;
    now?: Date;
  } = {},
): PolicyContext {
  const fingerprint = options.fingerprint ?? FINGERPRINT;
  return deepFreeze({
    plan: { ID: "plan-2", FormatVersion: "2.1.0", Body: "return 1" },
    planId: "plan-2",
    key: options.explicitKey ? "key-1" : fingerprint,
    explicitKey: options.explicitKey ?? false,
    fingerprint,
    record,
    options: options.options ?? {},
    agent: { id: "vm-1", generation: 1, bootId: "boot-2" },
    now: options.now ?? new Date("2026-01-02T00:00:00.000Z"),
    history: () => record?.history ?? [],
  });
}

function assertDecision(value: unknown): asserts value is Decision {
  assert.ok(typeof value === "object" && value !== null, "a decision is an object");
  const kind = (value as { kind?: unknown }).kind;
  assert.ok(
    ["run", "replay", "join", "reject"].includes(kind as string),
    `unknown decision kind ${String(kind)}`,
  );
  if (kind === "reject") {
    const { code, message } = value as { code?: unknown; message?: unknown };
    assert.ok(Number.isInteger(code) && (code as number) > 0, "a reject carries a result code > 0");
    assert.ok(typeof message === "string" && message.length > 0, "a reject carries a message");
  }
}

export function testPolicy(policy: Policy, settings: { options?: Record<string, unknown> } = {}): void {
  describe(`policy conformance: ${policy.name}`, () => {
    test("has a usable name and a decide function", () => {
      assert.match(policy.name, /^[a-z0-9][a-z0-9._-]{0,63}$/);
      assert.equal(typeof policy.decide, "function");
    });

    for (const state of STATES) {
      for (const same of [true, false]) {
        if (state === "none" && !same) continue;
        const label =
          state === "none"
            ? "an unknown key"
            : `a ${state} record with ${same ? "the same" : "other"} content`;
        test(`answers ${label} with a decision the agent can honour`, async () => {
          const record =
            state === "none" ? undefined : deepFreeze(recordIn(state, same ? FINGERPRINT : OTHER));
          const context = contextFor(record, {
            explicitKey: !same,
            ...(settings.options ? { options: settings.options } : {}),
          });
          const first = await policy.decide(context);
          assertDecision(first);
          if (first.kind === "replay") assert.ok(record?.result, "replay needs a stored result");
          if (first.kind === "join") {
            assert.ok(
              record?.state === "accepted" || record?.state === "running",
              "join needs a pending or running execution",
            );
          }
          assert.deepEqual(await policy.decide(context), first, "the same context gets the same decision");
        });
      }
    }

    if (policy.rerunsInterrupted === true) {
      // The agent starts such a policy's plans in their decision's commit (docs/plugins.md): a crash right after
      // it leaves them interrupted, and this policy must then run them.
      test("says rerunsInterrupted, and runs an interrupted plan of the same content again", async () => {
        const record = deepFreeze(recordIn("interrupted", FINGERPRINT));
        const decision = await policy.decide(
          contextFor(record, settings.options ? { options: settings.options } : {}),
        );
        assert.equal(decision.kind, "run");
      });
    }

    test("runs a key it has never seen", async () => {
      const decision = await policy.decide(
        contextFor(undefined, settings.options ? { options: settings.options } : {}),
      );
      assert.equal(decision.kind, "run");
    });
  });
}
