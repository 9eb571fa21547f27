/**
 * Deferred journal writes (`Journal.defer`, docs/reliability.md "deferred writes"): a write no guarantee needs
 * durable at once rides in the next commit's batch, or is committed on its own within DEFER_MS; it is applied
 * before anything committed after it, a throwing one harms no other commit, and `close()` keeps it. On a real
 * LMDB directory, checked by reopening it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import { outboxAfterReopen, reply, tempDataDirs } from "../helpers/journal_outbox.ts";

const dataDir = tempDataDirs("idem-deferred-");

describe("deferred journal writes", () => {
  test("a deferred write is durable once the next commit is, and is applied before that commit's writes", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    await journal.commit((tx) => {
      tx.addOutbox(reply("a"));
      tx.addOutbox(reply("b"));
    });
    const removed = journal.removeOutboxLater(1);
    let sawRemoval: boolean | undefined;
    await journal.commit((tx) => {
      // Inside the commit, the deferred removal is already applied: it runs first in the batch.
      sawRemoval = journal.outboxEntry(1) === undefined;
      tx.addOutbox(reply("c"));
    });
    await removed;
    assert.equal(sawRemoval, true, "the commit saw the deferred removal made before it");
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), ["b", "c"]);
  });

  test("with no commit to ride in, a deferred write is committed on its own", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    await journal.commit((tx) => tx.addOutbox(reply("a")));
    await journal.removeOutboxLater(1); // resolves only once durable: the DEFER_MS timer committed it
    assert.equal(journal.outboxEntry(1), undefined);
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), []);
  });

  test("a deferred write that throws is rejected alone: the commit beside it is kept", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    const broken = journal.defer(() => {
      throw new Error("deferred write fails");
    });
    await journal.commit((tx) => tx.addOutbox(reply("kept")));
    await assert.rejects(broken, /deferred write fails/);
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), ["kept"]);
  });

  test("a commit that throws does not lose the deferred writes of its batch", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    await journal.commit((tx) => tx.addOutbox(reply("a")));
    const removed = journal.removeOutboxLater(1);
    await assert.rejects(
      journal.commit(() => {
        throw new Error("the step's own bug");
      }),
      /the step's own bug/,
    );
    await removed;
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), []);
  });

  test("close() commits what is still deferred", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    await journal.commit((tx) => {
      tx.addOutbox(reply("a"));
      tx.addOutbox(reply("b"));
    });
    const removed = journal.removeOutboxLater(2);
    await journal.close();
    await removed;
    assert.deepEqual(await outboxAfterReopen(dir), ["a"]);
  });
});
