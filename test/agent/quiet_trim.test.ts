/**
 * agent/native/malloc_trim.ts: glibc's free memory is given back once the agent has been quiet for QUIET_MS after
 * its last commit — once per quiet spell, never while commits keep coming — and the call itself works here.
 */
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { QUIET_MS, QuietTrim, trimNow } from "../../agent/native/malloc_trim.ts";

test("the trim runs once the agent has been quiet for QUIET_MS after its last commit, once per quiet spell", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    let trims = 0;
    const trim = new QuietTrim(() => trims++);
    trim.poke();
    mock.timers.tick(QUIET_MS - 1);
    trim.poke(); // a commit just before: the quiet time starts again
    mock.timers.tick(QUIET_MS - 1);
    assert.equal(trims, 0);
    mock.timers.tick(1);
    assert.equal(trims, 1);
    mock.timers.tick(QUIET_MS * 10);
    assert.equal(trims, 1, "nothing more until the next commit");
    trim.poke();
    trim.stop();
    mock.timers.tick(QUIET_MS);
    assert.equal(trims, 1, "stopped: no trim after the agent's stop");
  } finally {
    mock.timers.reset();
  }
});

test("malloc_trim is called through libc, off the event loop, on this machine (glibc)", async () => {
  assert.equal(await trimNow(), true);
});
