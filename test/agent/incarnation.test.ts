/**
 * Who serves, from a received status (SPEC 5.5), pure: the order (generation, then start time, then boot id),
 * what makes an agent stand down, and what it answers with its own status instead.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareIncarnations, type Incarnation, judgeStatus } from "../../agent/incarnation.ts";

const self: Incarnation = {
  agentId: "vm-1",
  generation: 2,
  startedAt: "2026-11-30T10:00:00.000Z",
  bootId: "b-self",
};
const status = (fields: Record<string, unknown>) =>
  new TextEncoder().encode(
    JSON.stringify({
      State: "online",
      AgentID: "vm-1",
      Generation: 2,
      BootId: "b-other",
      StartedAt: "2026-11-30T10:00:05.000Z",
      LastWill: false,
      ...fields,
    }),
  );
const judge = (fields: Record<string, unknown>, takenOver = false) =>
  judgeStatus(status(fields), self, { takenOver }).kind;

test("incarnations are ordered by generation, then start time, then boot id, alike from either side", () => {
  const other = { ...self, bootId: "b-other" };
  const cases: Array<[Incarnation, number]> = [
    [{ ...other, generation: 3, startedAt: "2026-11-30T09:00:00.000Z" }, 1],
    [{ ...other, generation: 1, startedAt: "2026-11-30T11:00:00.000Z" }, -1],
    [{ ...other, startedAt: "2026-11-30T10:00:01.000Z" }, 1],
    [{ ...other, startedAt: "" }, -1],
    [{ ...other, bootId: "a" }, -1],
    [{ ...other, bootId: "c" }, 1],
  ];
  for (const [incarnation, sign] of cases) {
    assert.equal(Math.sign(compareIncarnations(incarnation, self)), sign, JSON.stringify(incarnation));
    assert.equal(Math.sign(compareIncarnations(self, incarnation)), -sign, "the other side agrees");
  }
});

test("a higher generation supersedes whatever its state; the same one only online, or by its Will after a takeover", () => {
  for (const State of ["online", "offline", "superseded"])
    assert.equal(judge({ State, Generation: 3 }), "newer");
  assert.equal(judge({ State: "online" }), "newer", "same generation, started later, online");
  assert.equal(
    judge({ State: "offline", LastWill: true }, true),
    "newer",
    "its Will, after a takeover of ours",
  );
  assert.equal(judge({ State: "offline", LastWill: true }, false), "older", "a dead predecessor's Will");
  assert.equal(judge({ State: "offline" }, true), "older", "it stopped cleanly");
  assert.equal(judge({ State: "superseded" }, true), "older", "it stood down");
});

test("an older incarnation's status, whatever its state, is answered with ours", () => {
  for (const State of ["online", "offline", "superseded"]) {
    assert.equal(judge({ State, Generation: 1, StartedAt: "2026-11-30T11:00:00.000Z" }), "older");
    assert.equal(judge({ State, StartedAt: "2026-11-30T09:00:00.000Z" }, true), "older");
  }
  assert.equal(
    judge({ StartedAt: undefined }),
    "older",
    "a status without StartedAt ranks first at equal generation",
  );
});

test("a status of this VM's own past (its InstanceID) never supersedes it, whatever its generation", () => {
  const vm = { ...self, instanceId: "i-1" };
  const past = (fields: Record<string, unknown>) =>
    judgeStatus(status({ InstanceID: "i-1", ...fields }), vm, { takenOver: true }).kind;
  // `idem fence` lowered the mark a plan had raised to 50; the last status of this VM still says 50.
  for (const State of ["offline", "superseded", "online"]) {
    assert.equal(past({ State, Generation: 50, StartedAt: "2026-11-30T09:00:00.000Z" }), "older", State);
  }
  assert.equal(
    past({ State: "offline", LastWill: true, Generation: 50 }),
    "older",
    "its Will, started later",
  );
  // Online and started after this one: a live VM with the same identity (a clone), judged as any other.
  assert.equal(past({ State: "online", Generation: 50 }), "newer");
  assert.equal(
    judgeStatus(status({ InstanceID: "i-2", Generation: 50, State: "offline" }), vm, { takenOver: false })
      .kind,
    "newer",
    "another VM's",
  );
});

test("our own status, another agent's, and what is not a status are ignored", () => {
  assert.equal(judge({ BootId: "b-self", Generation: 9 }), "ignore");
  assert.equal(judge({ AgentID: "vm-2", Generation: 9 }), "ignore");
  assert.equal(judge({ BootId: undefined, Generation: 9 }), "ignore");
  assert.equal(judge({ State: "gone", Generation: 9 }), "ignore");
  assert.equal(judge({ Generation: "9" }), "ignore");
  for (const payload of ["", "not json", "[1]", "null"]) {
    assert.equal(judgeStatus(new TextEncoder().encode(payload), self, { takenOver: true }).kind, "ignore");
  }
});

test("the verdict says by whom and why", () => {
  const verdict = judgeStatus(status({ Generation: 3, BootId: "b-new" }), self, { takenOver: false });
  assert.equal(verdict.kind, "newer");
  if (verdict.kind !== "newer") return;
  assert.deepEqual(
    { ...verdict.by, reason: undefined },
    {
      source: "status",
      generation: 3,
      bootId: "b-new",
      startedAt: "2026-11-30T10:00:05.000Z",
      reason: undefined,
    },
  );
  assert.match(verdict.by.reason, /generation 3 \(online\) is newer than this agent's generation 2/);
});
