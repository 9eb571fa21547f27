/**
 * A node that keeps closing the connection right after its CONNACK (pure, `agent/transport/flapping.ts`): three
 * closes in a row within 10 s of CONNACK on one node are diagnosed, again every three after; a connection that
 * lasted clears the count; attempts without a CONNACK neither count nor clear; nodes are counted apart.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FLAP_WINDOW_MS,
  FLAPS_BEFORE_BACKOFF,
  FLAPS_BEFORE_DIAGNOSIS,
  FlapDetector,
  flappingAdvice,
} from "../../agent/transport/flapping.ts";

const A = "mqtt://10.0.0.1:1883";
const B = "mqtt://10.0.0.2:1883";
const now = 1_000_000;
const flap = (detector: FlapDetector, node = A) => detector.closed({ node, connackAt: now - 50 }, now);

test("three closes in a row right after CONNACK are diagnosed, and again every three after", () => {
  const detector = new FlapDetector();
  const verdicts = Array.from({ length: 3 * FLAPS_BEFORE_DIAGNOSIS }, () => flap(detector));
  assert.deepEqual(
    verdicts.map((v) => v.inARow),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    verdicts.map((v) => v.flapping),
    [false, false, true, true, true, true, true, true, true],
  );
  assert.deepEqual(
    verdicts.flatMap((v) => (v.report ? [v.inARow] : [])),
    [3, 6, 9],
  );
  assert.equal(verdicts[0]?.livedMs, 50);
});

test("a connection that lasted the window clears the count; a failed attempt neither counts nor clears", () => {
  const detector = new FlapDetector();
  flap(detector);
  flap(detector);
  assert.deepEqual(detector.closed({ node: A }, now), {
    inARow: 0,
    flapping: false,
    report: false,
    backOff: false,
  });
  assert.equal(flap(detector).report, true, "the attempt without CONNACK did not break the row");
  const lasted = detector.closed({ node: A, connackAt: now - FLAP_WINDOW_MS }, now);
  assert.equal(lasted.flapping, false);
  assert.equal(flap(detector).inARow, 1, "counting starts again");
});

test("each node is counted on its own", () => {
  const detector = new FlapDetector();
  flap(detector, A);
  flap(detector, B);
  flap(detector, A);
  flap(detector, B);
  assert.equal(flap(detector, A).report, true);
  assert.equal(flap(detector, B).inARow, 3);
});

test("the advice names the RabbitMQ header, the broker log, ACLs and a duplicate agent id, and what the agent does", () => {
  const one = flappingAdvice(3, 1);
  for (const needle of ["x-mqtt-publish-qos", "broker's log", "ACLs", "same agent id", "growing delay"]) {
    assert.ok(one.includes(needle), `${needle} in: ${one}`);
  }
  assert.match(flappingAdvice(3, 3), /moves to the next node/);
});

test("from twelve flaps in a row on, a flap is backed off whatever was in flight", () => {
  const detector = new FlapDetector();
  const verdicts = Array.from({ length: FLAPS_BEFORE_BACKOFF + 1 }, () => flap(detector));
  assert.deepEqual(
    verdicts.map((v) => v.backOff),
    [...Array(FLAPS_BEFORE_BACKOFF - 1).fill(false), true, true],
  );
});
