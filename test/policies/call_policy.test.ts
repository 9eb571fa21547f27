/**
 * How the agent calls a policy (`pipeline/decide.ts` callPolicy): a synchronous answer is taken as it is (no
 * timer), an asynchronous one within `policyTimeoutMs`; a policy that throws, rejects, answers late or answers
 * something that is not a decision gets its plan refused with 305, with a message saying which.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Type from "typebox";
import { type Decision, definePolicy } from "../../agent/mod.ts";
import { callPolicy } from "../../agent/pipeline/decide.ts";
import { contextFor } from "../helpers/policy_conformance.ts";

const policyOf = (decide: () => unknown) => definePolicy({ name: "probe", decide: decide as () => Decision });

async function answer(decide: () => unknown, timeoutMs = 1000): Promise<Decision> {
  return await callPolicy(policyOf(decide), contextFor(undefined), timeoutMs);
}

function refused(decision: Decision, why: RegExp): void {
  assert.equal(decision.kind, "reject", JSON.stringify(decision));
  if (decision.kind !== "reject") return;
  assert.equal(decision.code, 305);
  assert.match(decision.message, why);
}

describe("calling a policy", () => {
  test("a synchronous and an asynchronous answer are both taken", async () => {
    assert.deepEqual(await answer(() => ({ kind: "replay" })), { kind: "replay" });
    assert.deepEqual(await answer(async () => ({ kind: "join" })), { kind: "join" });
    assert.deepEqual(await answer(() => ({ kind: "reject", code: 409, message: "no", extra: 1 })), {
      kind: "reject",
      code: 409,
      message: "no",
    });
  });

  test("an asynchronous answer that does not come in time is refused with 305", async () => {
    refused(await answer(() => new Promise(() => {}), 30), /did not answer within 30 ms/);
  });

  test("a throw, a rejection and an answer that is not a decision are refused with 305", async () => {
    refused(
      await answer(() => {
        throw new Error("boom");
      }),
      /it threw .*boom/,
    );
    refused(await answer(async () => Promise.reject(new Error("late boom"))), /it threw .*late boom/);
    refused(await answer(() => ({ kind: "maybe" })), /not a decision/);
    refused(await answer(() => undefined), /not a decision/);
    refused(await answer(async () => 42), /it returned 42, not a decision/);
    // An answer whose fields throw when they are read is the policy's fault too, never the agent's.
    const trap = {
      get kind(): string {
        throw new Error("a getter's trap");
      },
    };
    refused(await answer(() => trap), /it threw .*a getter's trap/);
    refused(await answer(async () => trap), /it threw .*a getter's trap/);
  });

  test("options that do not fit the policy's schema are refused before it is asked", async () => {
    let asked = false;
    const policy = definePolicy({
      name: "needs-max",
      options: Type.Object({ max: Type.Integer() }),
      decide: () => {
        asked = true;
        return { kind: "run" };
      },
    });
    const decision = await callPolicy(policy, contextFor(undefined, { options: { max: "x" } }), 1000);
    refused(decision, /Idempotency.Options do not fit it/);
    assert.equal(asked, false);
  });
});
