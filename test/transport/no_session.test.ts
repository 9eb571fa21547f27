/**
 * A broker that takes connections and never completes the MQTT session (pure, `agent/transport/flapping.ts`): the
 * shape of a NATS cluster without JetStream quorum — the surviving node closes each CONNECT without a CONNACK, the
 * others refuse the connection. Said once after every node of `broker.urls` was tried 3 times without a CONNACK
 * and 3 of those attempts were hang-ups; again only after a CONNACK started a new streak; never for a broker that
 * only refuses connections (it is down, not sessionless), nor before the agent's first CONNACK (`refusal.ts` tells
 * those hang-ups apart).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FlapDetector,
  hungUpBeforeConnack,
  noSessionAdvice,
  ROUNDS_BEFORE_NO_SESSION,
} from "../../agent/transport/flapping.ts";

const [A, B, C] = ["mqtt://10.0.0.1:1883", "mqtt://10.0.0.2:1883", "mqtt://10.0.0.3:1883"] as const;
const now = 1_000_000;

/** A detector for `nodes` nodes that saw a session end (the agent was online once). */
function afterASession(nodes: number): FlapDetector {
  const detector = new FlapDetector(nodes);
  detector.closed({ node: A, connackAt: now - 60_000 }, now);
  return detector;
}

/** One round of attempts in `broker.urls` order: `live` hangs up before CONNACK, the others refuse. */
function round(detector: FlapDetector, live: string) {
  return [A, B, C].map((node) => detector.closed({ node, hungUp: node === live }, now));
}

test("one node hanging up before CONNACK, the others down: said once, after the third round, naming both kinds", () => {
  const detector = afterASession(3);
  const verdicts = Array.from({ length: 5 }, () => round(detector, B)).flat();
  const said = verdicts.flatMap((v, i) => (v.noSession ? [{ i, ...v.noSession }] : []));
  assert.deepEqual(said, [{ i: 3 * ROUNDS_BEFORE_NO_SESSION - 1, hungUp: [B], down: [A, C], attempts: 9 }]);
  const advice = noSessionAdvice(said[0] as (typeof said)[0]);
  assert.match(advice, /accepts connections but never completes the MQTT session/);
  assert.match(advice, /without quorum/);
  assert.match(advice, new RegExp(`${B} took the connection`));
  assert.match(advice, new RegExp(`${A}, ${C} refused the connection`));
  for (const v of verdicts) assert.equal(v.flapping, false, "no flap without a CONNACK");
});

test("a single node that hangs up on every CONNECT: said after three attempts", () => {
  const detector = afterASession(1);
  const verdicts = Array.from({ length: 4 }, () => detector.closed({ node: A, hungUp: true }, now));
  assert.deepEqual(
    verdicts.map((v) => v.noSession !== undefined),
    [false, false, true, false],
  );
});

test("a CONNACK from any node ends the streak: said again only after three more rounds", () => {
  const detector = afterASession(3);
  for (let i = 0; i < ROUNDS_BEFORE_NO_SESSION; i++) round(detector, B);
  detector.closed({ node: A, connackAt: now - 60_000 }, now);
  const again = Array.from({ length: ROUNDS_BEFORE_NO_SESSION }, () => round(detector, C)).flat();
  assert.deepEqual(
    again.flatMap((v) => (v.noSession ? [v.noSession.hungUp] : [])),
    [[C]],
  );
});

test("a cluster that only refuses connections (all down) is no sessionless broker: never said", () => {
  const detector = afterASession(3);
  const verdicts = Array.from({ length: 10 }, () => round(detector, "none")).flat();
  assert.equal(
    verdicts.some((v) => v.noSession),
    false,
  );
});

test("fewer rounds than the rule on some node: not yet said, whatever the hang-ups elsewhere", () => {
  const detector = afterASession(3);
  // Node C is never tried (say the session keeps landing on A and B): no full round, no diagnosis.
  const verdicts = Array.from({ length: 10 }, () => [
    detector.closed({ node: A, hungUp: true }, now),
    detector.closed({ node: B, hungUp: true }, now),
  ]).flat();
  assert.equal(
    verdicts.some((v) => v.noSession),
    false,
  );
});

test("what counts as a hang-up before CONNACK: a close with no error, a reset, a CONNACK timeout — not a refusal", () => {
  assert.equal(hungUpBeforeConnack(undefined), true);
  assert.equal(hungUpBeforeConnack("ECONNRESET"), true);
  assert.equal(hungUpBeforeConnack("EPIPE"), true);
  for (const code of [
    "ECONNREFUSED",
    "EHOSTUNREACH",
    "ENOTFOUND",
    "ETIMEDOUT",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    5,
  ]) {
    assert.equal(hungUpBeforeConnack(code), false, String(code));
  }
});

test("before the first CONNACK since start, hang-ups are never this diagnosis", () => {
  const detector = new FlapDetector(3);
  const verdicts = Array.from({ length: 10 }, () => round(detector, B)).flat();
  assert.equal(
    verdicts.some((v) => v.noSession),
    false,
  );
});
