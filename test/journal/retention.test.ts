import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Journal, type JournalWriter } from "../../agent/journal/journal.ts";
import { pruneDetailed } from "../../agent/journal/retention.ts";
import { dataDir, fill, mixedSpecs, NOW, OLD, RECENT, record } from "./retention_fixture.ts";

const RETENTION = { retentionDays: 30, now: NOW };

/** Keys of every record in the journal, sorted. */
function keys(journal: Journal): string[] {
  return [...journal.records()].map((r) => r.key).sort();
}

/**
 * The same journal, whose `commit` first runs `before` (its own commit: another writer, a plan arriving)
 * each time a commit is asked for — what a pass read is then changed before the pass's commit runs.
 */
function racing(journal: Journal, before: (n: number) => ((tx: JournalWriter) => void) | undefined): Journal {
  let n = 0;
  return new Proxy(journal, {
    get(target, name) {
      if (name === "commit") {
        return async (write: (tx: JournalWriter) => void) => {
          const change = before(n++);
          if (change) await target.commit(change);
          return target.commit(write);
        };
      }
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("retention streams in batches (a real LMDB directory)", () => {
  test("a pass over several batches removes exactly the expired records and plan IDs", async () => {
    const journal = Journal.open(await dataDir());
    const { specs, expired } = mixedSpecs(2_500);
    await fill(journal, specs);
    // Every record that may expire, and every plan ID, is in the index; nothing else is.
    assert.equal(journal.expiry.size(), 1_500 + 2_500);

    const pruned = await pruneDetailed(journal, { ...RETENTION, batchSize: 97 });

    assert.equal(pruned.records, expired.size);
    const kept = specs.filter((s) => !expired.has(s.key)).map((s) => s.key);
    assert.deepEqual(keys(journal), kept, "the recent, run-once-ever and queued records stay");
    const oldPlans = specs.filter((s) => s.updatedAt === OLD).length;
    assert.equal(pruned.seen, oldPlans, "every plan ID older than the retention is forgotten");
    for (const spec of specs) {
      const remembered = journal.seen(`plan-${spec.key}`) !== undefined;
      assert.equal(remembered, spec.updatedAt === RECENT, `plan-${spec.key} remembered: ${remembered}`);
    }
    // (1000 expired records + 2000 old plan IDs) / 97 per batch.
    assert.ok(pruned.batches >= Math.ceil(3_000 / 97), `${pruned.batches} batches`);
    assert.equal(journal.expiry.size(), 1_000, "what remains indexed: the recent records and their plan IDs");
    assert.equal((await pruneDetailed(journal, RETENTION)).records, 0, "a second pass finds nothing");
    await journal.close();
  });

  test("a record changed after its batch was read is not removed, the rest of the batch is", async () => {
    const journal = Journal.open(await dataDir());
    const specs = Array.from({ length: 300 }, (_, i) => ({
      key: `k${String(i).padStart(3, "0")}`,
      state: "succeeded" as const,
      policy: "always",
      updatedAt: OLD,
    }));
    await fill(journal, specs);
    // Before the first batch commits: k000 gets a new revision at the same old time (only the revision check
    // keeps it), k001 a new plan (accepted, queued: not expired any more).
    const raced = racing(journal, (n) =>
      n === 0
        ? (tx) => {
            tx.putRecord(record(specs[0] as (typeof specs)[0], 2));
            tx.putRecord(record({ ...(specs[1] as (typeof specs)[0]), state: "accepted" }, 2));
          }
        : undefined,
    );

    const pruned = await pruneDetailed(raced, { ...RETENTION, batchSize: 100 });

    assert.equal(pruned.records, 298);
    assert.deepEqual(keys(journal), ["k000", "k001"]);
    assert.equal(journal.record("k000")?.revision, 2);
    assert.equal(journal.record("k001")?.state, "accepted");
    // k000 is still expired and indexed: the next pass removes it; k001 is not indexed while queued.
    assert.equal((await pruneDetailed(journal, RETENTION)).records, 1);
    assert.deepEqual(keys(journal), ["k001"]);
    await journal.close();
  });

  test("other commits and timers run between batches: a pass never holds the journal", async () => {
    const journal = Journal.open(await dataDir());
    const specs = Array.from({ length: 1_000 }, (_, i) => ({
      key: `k${String(i).padStart(4, "0")}`,
      state: "failed" as const,
      policy: "always",
      updatedAt: OLD,
    }));
    await fill(journal, specs);
    const order: string[] = [];
    const raced = racing(journal, (n) => {
      order.push(`batch ${n}`);
      if (n === 1) {
        // While the pass is under way: a timer, and a plan decided by "the pipeline".
        setTimeout(() => order.push("timer"), 0);
        void journal
          .commit((tx) =>
            tx.putRecord(record({ key: "new", state: "succeeded", policy: "always", updatedAt: RECENT })),
          )
          .then(() => order.push("plan committed"));
      }
      return undefined;
    });

    const pruned = await pruneDetailed(raced, { ...RETENTION, batchSize: 100 });
    order.push("pass done");

    assert.equal(pruned.records, 1_000);
    assert.ok(order.indexOf("timer") < order.indexOf("batch 3"), order.join(", "));
    assert.ok(order.indexOf("plan committed") < order.indexOf("batch 3"), order.join(", "));
    assert.equal(order.at(-1), "pass done");
    assert.deepEqual(keys(journal), ["new"]);
    await journal.close();
  });

  test("an aborted pass stops between batches and keeps what it committed", async () => {
    const journal = Journal.open(await dataDir());
    const specs = Array.from({ length: 500 }, (_, i) => ({
      key: `k${String(i).padStart(3, "0")}`,
      state: "succeeded" as const,
      policy: "always",
      updatedAt: OLD,
    }));
    await fill(journal, specs);
    const abort = new AbortController();
    const raced = racing(journal, (n) => {
      if (n === 2) abort.abort();
      return undefined;
    });

    const options = { ...RETENTION, batchSize: 100, budgetMs: Number.POSITIVE_INFINITY };
    const pruned = await pruneDetailed(raced, { ...options, signal: abort.signal });

    assert.equal(pruned.records, 300, "the batch under way when the signal came is committed, no more");
    assert.equal(keys(journal).length, 200);
    await journal.close();
  });

  test("a batch whose time budget runs out stops there; the next batches remove the rest", async () => {
    const journal = Journal.open(await dataDir());
    const { specs, expired } = mixedSpecs(100);
    await fill(journal, specs);

    // 200 entries in the index (records that may expire, and plan IDs), 1000 a batch: one batch without a budget.
    const pruned = await pruneDetailed(journal, { ...RETENTION, batchSize: 1_000, budgetMs: 0 });

    assert.equal(pruned.records, expired.size);
    assert.deepEqual(
      keys(journal),
      specs.filter((s) => !expired.has(s.key)).map((s) => s.key),
    );
    assert.ok(pruned.batches > 10, `${pruned.batches} batches: each stopped after its first entries`);
    await journal.close();
  });

  test("a batch size that is not a positive integer is refused", async () => {
    const journal = Journal.open(await dataDir());
    await assert.rejects(pruneDetailed(journal, { ...RETENTION, batchSize: 0 }), /batch size 0/);
    await journal.close();
  });
});
