/**
 * The reconnect schedule (pure): delays double from the first to the longest with ±50 % jitter, a connection
 * that stayed up resets them, a hang-up on one of our own publishes does not double them, and log lines come once
 * per step (then once every 10 attempts at the longest).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LOG_EVERY_AT_MAX, ReconnectSchedule } from "../../agent/transport/reconnect.ts";

const failed = { publishesLost: false };

test("delays double from the first to the longest, each within ±50 %", () => {
  for (const random of [0, 0.5, 0.999]) {
    const schedule = new ReconnectSchedule({ firstMs: 1000, maxMs: 60_000, random: () => random });
    const delays = Array.from({ length: 9 }, () => schedule.next(failed).delayMs);
    const steps = [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000];
    delays.forEach((delay, i) => {
      const step = steps[i] as number;
      assert.ok(delay >= step * 0.5 && delay <= step * 1.5, `delay ${i + 1}: ${delay} for step ${step}`);
    });
    if (random === 0.5) assert.deepEqual(delays, steps);
  }
});

test("a connection that stayed up 30 s starts again from the first delay; a shorter one does not", () => {
  const schedule = new ReconnectSchedule({ firstMs: 1000, random: () => 0.5 });
  for (let i = 0; i < 4; i++) schedule.next(failed);
  const now = 1_000_000;
  assert.equal(schedule.next({ readySince: now - 5_000, publishesLost: false }, now).delayMs, 16_000);
  const reset = schedule.next({ readySince: now - 30_000, publishesLost: false }, now);
  assert.deepEqual(reset, { attempt: 1, delayMs: 1000, log: true });
});

test("a connection the broker closed on our own publish is retried at the current step, not a doubled one", () => {
  const schedule = new ReconnectSchedule({ firstMs: 200, random: () => 0.5 });
  assert.equal(schedule.next({ publishesLost: true }).delayMs, 200, "from nothing: the first step");
  assert.equal(schedule.next({ publishesLost: true }).delayMs, 200);
  assert.equal(schedule.next(failed).delayMs, 400);
  assert.equal(schedule.next({ publishesLost: true }).delayMs, 400);
});

test("the first failure and every new step are logged, then one in 10 at the longest delay", () => {
  const schedule = new ReconnectSchedule({ firstMs: 1000, maxMs: 8000, random: () => 0.5 });
  const logged = Array.from({ length: 4 + 2 * LOG_EVERY_AT_MAX }, () => schedule.next(failed))
    .filter((next) => next.log)
    .map((next) => next.attempt);
  assert.deepEqual(logged, [1, 2, 3, 4, 4 + LOG_EVERY_AT_MAX, 4 + 2 * LOG_EVERY_AT_MAX]);
});
