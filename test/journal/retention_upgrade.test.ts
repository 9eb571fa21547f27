import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { open } from "lmdb";
import { Journal } from "../../agent/journal/journal.ts";
import { pruneDetailed } from "../../agent/journal/retention.ts";
import { SCHEMA } from "../../agent/journal/upgrade.ts";
import { dataDir, mixedSpecs, NOW, OLD, RECENT, record, writeOldJournal } from "./retention_fixture.ts";

const RETENTION = { retentionDays: 30, now: NOW };

/** The "schema" stored in the journal's meta, read with lmdb directly after the journal is closed. */
async function storedSchema(dir: string): Promise<unknown> {
  const root = open({ path: `${dir}/journal`, maxDbs: 8 });
  const schema = root.openDB<number, string>({ name: "meta" }).get("schema");
  await root.close();
  return schema;
}

describe("an older journal is upgraded to the expiry index (a real LMDB directory)", () => {
  test("schema 2: opening only marks it; the first pass indexes in batches and removes exactly the expired", async () => {
    const dir = await dataDir();
    const { specs, expired } = mixedSpecs(2_500);
    await writeOldJournal(dir, 2, specs);

    const journal = Journal.open(dir);
    assert.equal(journal.expiry.size(), 0, "opening reads no record");
    assert.equal(journal.expiry.complete, false);
    // Written after the upgrade, before the index caught up: an old expired record gets a new plan.
    const revived = specs[0];
    assert.ok(revived && expired.has(revived.key));
    await journal.commit((tx) => tx.putRecord(record({ ...revived, state: "accepted" }, 2)));

    const pruned = await pruneDetailed(journal, { ...RETENTION, batchSize: 113 });

    assert.equal(journal.expiry.complete, true);
    assert.equal(pruned.records, expired.size - 1);
    const kept = specs.filter((s) => !expired.has(s.key) || s.key === revived.key).map((s) => s.key);
    assert.deepEqual(
      [...journal.records()].map((r) => r.key),
      kept,
    );
    for (const spec of specs) {
      assert.equal(journal.seen(`plan-${spec.key}`) !== undefined, spec.updatedAt === RECENT, spec.key);
    }
    // 2,500 records and 2,500 plan IDs indexed 113 at a time, then the removals.
    assert.ok(pruned.batches >= Math.ceil(5_000 / 113), `${pruned.batches} batches`);
    await journal.close();
    assert.equal(await storedSchema(dir), SCHEMA);
  });

  test("schema 1: records get revisions and their queued plans in batches, then the expiry index", async () => {
    const dir = await dataDir();
    const { specs, expired } = mixedSpecs(2_500);
    await writeOldJournal(dir, 1, specs);

    const journal = Journal.open(dir);
    const running = specs.filter((s) => s.state === "running");
    const queued = new Map(journal.queued().map((e) => [e.key, e.seq]));
    assert.equal(queued.size, running.length);
    for (const spec of running) {
      const upgraded = journal.record(spec.key);
      assert.deepEqual(upgraded?.queued, [queued.get(spec.key)], `${spec.key} knows its queued plan`);
      assert.equal(upgraded?.revision, 0);
    }
    const pruned = await pruneDetailed(journal, { ...RETENTION, batchSize: 500 });
    assert.equal(pruned.records, expired.size);
    assert.equal(journal.record(running[0]?.key ?? "")?.state, "running", "queued records stay");
    await journal.close();
    assert.equal(await storedSchema(dir), SCHEMA);
  });

  test("a new journal needs no catch-up: its index is complete from the first commit", async () => {
    const journal = Journal.open(await dataDir());
    assert.equal(journal.expiry.complete, true);
    await journal.commit((tx) =>
      tx.putRecord(record({ key: "a", state: "succeeded", policy: "always", updatedAt: OLD })),
    );
    const pruned = await pruneDetailed(journal, RETENTION);
    assert.deepEqual(pruned, { records: 1, seen: 0, batches: 1 });
    await journal.close();
  });
});
