import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { open } from "lmdb";
import { Journal } from "../../agent/journal/journal.ts";
import type { JournalRecord, RecordState } from "../../agent/journal/record.ts";
import { prune } from "../../agent/journal/retention.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "idem-journal-"));
  dirs.push(dir);
  return dir;
}

function record(key: string, state: RecordState, policy: string, updatedAt: string): JournalRecord {
  return {
    key,
    fingerprint: `sha256:${key}`,
    policy,
    state,
    attempts: 1,
    firstPlanId: "p1",
    lastPlanId: "p1",
    generation: null,
    bootId: null,
    pgid: null,
    createdAt: updatedAt,
    updatedAt,
    waiters: [],
    history: [],
    revision: 1,
    queued: state === "accepted" || state === "running" ? [1] : [],
  };
}

const reply = { topic: "idem/vm/results", sourceId: "p1" };

describe("journal (a real LMDB directory)", () => {
  test("what one commit wrote is there after the journal is closed and opened again", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    await journal.commit((tx) => {
      tx.putRecord(record("k1", "accepted", "always", new Date().toISOString()));
      tx.enqueue({
        key: "k1",
        planId: "p1",
        planText: "{}",
        reply,
        fingerprint: "sha256:k1",
        policy: "always",
        generation: 2,
        timeoutSeconds: null,
      });
      tx.addOutbox({ topic: "t", payload: "x" });
      tx.setHighWater(7);
      tx.markSeen("p1", { key: "k1", decision: "run", time: new Date().toISOString() });
    });
    await journal.close();

    const reopened = Journal.open(dir);
    assert.equal(reopened.record("k1")?.state, "accepted");
    assert.deepEqual(
      reopened.queued().map((e) => [e.seq, e.planId, e.generation]),
      [[1, "p1", 2]],
    );
    assert.deepEqual(
      reopened.outbox().map((e) => e.payload),
      ["x"],
    );
    assert.equal(reopened.highWater(), 7);
    assert.equal(reopened.seen("p1")?.decision, "run");
    assert.notEqual(reopened.bootId, journal.bootId, "every process has a boot id of its own");
    await reopened.close();
  });

  test("sequence numbers keep increasing across restarts, so the queue keeps arrival order", async () => {
    const dir = await dataDir();
    const first = Journal.open(dir);
    await first.commit((tx) => {
      tx.addOutbox({ topic: "t", payload: "a" });
      tx.addOutbox({ topic: "t", payload: "b" });
    });
    await first.close();
    const second = Journal.open(dir);
    await second.commit((tx) => void tx.addOutbox({ topic: "t", payload: "c" }));
    assert.deepEqual(
      second.outbox().map((e) => [e.seq, e.payload]),
      [
        [1, "a"],
        [2, "b"],
        [3, "c"],
      ],
    );
    await second.removeOutbox(2);
    assert.deepEqual(
      second.outbox().map((e) => e.payload),
      ["a", "c"],
    );
    await second.close();
  });

  test("a transaction whose callback throws writes nothing", async () => {
    const journal = Journal.open(await dataDir());
    await assert.rejects(
      journal.commit((tx) => {
        tx.putRecord(record("k1", "accepted", "always", new Date().toISOString()));
        throw new Error("boom");
      }),
    );
    assert.equal(journal.record("k1"), undefined);
    await journal.close();
  });

  test("commits issued in one turn share a batch: the one that throws is rejected alone, the others are on disk", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    const time = new Date().toISOString();
    const boom = new Error("boom");
    // Issued in one turn, so committed in one write transaction, each in a child transaction of its own.
    const settled = await Promise.allSettled([
      journal.commit((tx) => tx.putRecord(record("before", "accepted", "always", time))),
      journal.commit((tx) => {
        tx.putRecord(record("thrown", "accepted", "always", time));
        throw boom;
      }),
      journal.commit((tx) => tx.putRecord(record("after", "accepted", "always", time))),
    ]);
    assert.deepEqual(
      settled.map((outcome) => outcome.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    assert.equal((settled[1] as PromiseRejectedResult).reason, boom, "rejected with what the callback threw");
    await journal.close();
    // What the batch kept is on disk: the journal opened again reads it.
    const reopened = Journal.open(dir);
    assert.equal(reopened.record("before")?.state, "accepted");
    assert.equal(reopened.record("after")?.state, "accepted");
    assert.equal(reopened.record("thrown"), undefined);
    await reopened.close();
  });

  test("a commit issued in the turn the journal is closed is made before it closes", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    const committed = journal.commit((tx) =>
      tx.putRecord(record("k1", "accepted", "always", new Date().toISOString())),
    );
    await journal.close();
    await committed;
    const reopened = Journal.open(dir);
    assert.equal(reopened.record("k1")?.state, "accepted");
    await reopened.close();
  });

  test("a commit's writes are readable once it resolves, not before", async () => {
    const journal = Journal.open(await dataDir());
    const committed = journal.commit((tx) =>
      tx.putRecord(record("k1", "accepted", "always", new Date().toISOString())),
    );
    assert.equal(journal.record("k1"), undefined, "not written before the turn ends");
    await committed;
    assert.equal(journal.record("k1")?.state, "accepted");
    await journal.close();
  });

  test("retention prunes old finished records, but keeps run-once-ever, queued and recent ones", async () => {
    const journal = Journal.open(await dataDir());
    const old = "2026-01-01T00:00:00.000Z";
    const now = new Date("2026-03-01T00:00:00.000Z");
    await journal.commit((tx) => {
      tx.putRecord(record("old-done", "succeeded", "skip-if-identical", old));
      tx.putRecord(record("old-once", "succeeded", "run-once-ever", old));
      tx.putRecord(record("old-running", "running", "always", old));
      tx.putRecord(record("recent", "failed", "always", "2026-02-28T00:00:00.000Z"));
      tx.markSeen("old-plan", { key: "old-done", decision: "run", time: old });
    });
    const removed = await prune(journal, { retentionDays: 30, now });
    assert.equal(removed, 1);
    assert.deepEqual([...journal.records()].map((r) => r.key).sort(), ["old-once", "old-running", "recent"]);
    assert.equal(journal.seen("old-plan"), undefined);
    await journal.close();
  });

  test("a journal that fails to open after LMDB mapped it (its upgrade meets a damaged entry) is refused and left unmapped", async () => {
    const dir = await dataDir();
    const path = join(dir, "journal");
    await Journal.open(dir).close();
    // A schema-1 journal (the upgrade reads every queue entry) with an entry that is no queue entry.
    const raw = open({ path, maxDbs: 8 });
    raw.openDB<number | string, string>({ name: "meta" }).putSync("schema", 1);
    raw.openDB<null, number>({ name: "queue" }).putSync(1, null);
    await raw.close();
    const mapped = () => readFileSync("/proc/self/maps", "utf8").includes(join(path, "data.mdb"));
    assert.equal(mapped(), false);
    assert.throws(() => Journal.open(dir), /Cannot open the journal/);
    // lmdb keeps an environment per path and process: one left open would stay mapped (and be handed back).
    assert.equal(mapped(), false, "the refused journal's environment is closed");
  });
});
