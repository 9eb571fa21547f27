/**
 * The status refresh (SPEC 8): published again when what it shows changed, at most once a second, the last change
 * always published eventually. Pure timing logic: fake timers, a recorded publisher.
 */
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { type Activity, StatusRefresh } from "../../agent/status_refresh.ts";

/** A refresh over a mutable activity whose publisher records what it would have published. */
function harness() {
  const activity: Activity = { Running: null, Queued: 0, Outbox: 0 };
  const published: Activity[] = [];
  const refresh = new StatusRefresh({
    read: () => ({ ...activity }),
    publish: () => {
      const shown = { ...activity };
      published.push(shown);
      refresh.published(shown);
    },
  });
  return { activity, published, refresh };
}

test("a change after a quiet second is published at the next turn, several in one turn once", (t) => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const { activity, published, refresh } = harness();
  activity.Queued = 1;
  refresh.changed();
  activity.Queued = 2;
  refresh.changed();
  assert.deepEqual(published, []);
  mock.timers.tick(0);
  assert.deepEqual(published, [{ Running: null, Queued: 2, Outbox: 0 }]);
});

test("changes within a second of a publish wait for the end of that second and go out together", (t) => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const { activity, published, refresh } = harness();
  activity.Queued = 1;
  refresh.changed();
  mock.timers.tick(0);
  mock.timers.tick(100);
  activity.Running = { Key: "k", SourceID: "p", Since: "2025-01-01T00:00:00.000Z" };
  refresh.changed();
  mock.timers.tick(400);
  activity.Queued = 0;
  activity.Outbox = 1;
  refresh.changed();
  mock.timers.tick(499);
  assert.equal(published.length, 1, "not before the second is over");
  mock.timers.tick(1);
  assert.deepEqual(published.at(-1), {
    Running: { Key: "k", SourceID: "p", Since: "2025-01-01T00:00:00.000Z" },
    Queued: 0,
    Outbox: 1,
  });
  assert.equal(published.length, 2);
});

test("a refresh that would show what the last status showed publishes nothing", (t) => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const { activity, published, refresh } = harness();
  // What a (re)connect's online status showed counts as shown.
  refresh.published({ ...activity });
  mock.timers.tick(2000);
  refresh.changed();
  mock.timers.tick(0);
  assert.deepEqual(published, []);
  activity.Outbox = 3;
  activity.Outbox = 0;
  refresh.changed();
  mock.timers.tick(1000);
  assert.deepEqual(published, []);
});

test("a stopped refresh publishes nothing more, even what was pending", (t) => {
  mock.timers.enable({ apis: ["setTimeout", "Date"] });
  t.after(() => mock.timers.reset());
  const { activity, published, refresh } = harness();
  activity.Queued = 5;
  refresh.changed();
  refresh.stop();
  refresh.changed();
  mock.timers.tick(5000);
  assert.deepEqual(published, []);
});
