/**
 * The batch follower (`journal.followBatches`, `commits.ts`): the runner's starts ride in the commit that made
 * them possible. It writes at the end of every batch's transaction, sees the batch's writes, hears whether the
 * batch became durable, and a follower that throws loses only its own writes. On a real LMDB directory, checked
 * by reopening it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import { outboxAfterReopen, reply, tempDataDirs } from "../helpers/journal_outbox.ts";

const dataDir = tempDataDirs("idem-follower-");

describe("the batch follower", () => {
  test("writes after the batch's writes, in its transaction, and hears once that the batch is durable", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    const heard: boolean[] = [];
    let sawBatch: string[] | undefined;
    journal.followBatches((tx) => {
      // The batch's writes are visible here, uncommitted: the follower reads what the commit made possible.
      sawBatch = journal.outbox().map((entry) => entry.payload);
      tx.addOutbox(reply("follower"));
      return (durable) => heard.push(durable);
    });
    // Two commits of one turn: one batch, one follower call after both.
    const first = journal.commit((tx) => void tx.addOutbox(reply("a")));
    const second = journal.commit((tx) => void tx.addOutbox(reply("b")));
    await Promise.all([first, second]);
    assert.deepEqual(sawBatch, ["a", "b"]);
    assert.deepEqual(heard, [true], "told once, after the batch");
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), ["a", "b", "follower"]);
  });

  test("a follower that throws loses its own writes only: the batch is kept and its commits resolve", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    let called = 0;
    journal.followBatches((tx) => {
      called++;
      tx.addOutbox(reply("half-written"));
      throw new Error("a bug in the follower");
    });
    await journal.commit((tx) => void tx.addOutbox(reply("kept")));
    assert.equal(called, 1);
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), ["kept"]);
  });

  test("a follower that writes nothing and asks for nothing changes nothing; without one, commits are as before", async () => {
    const dir = await dataDir();
    const journal = Journal.open(dir);
    let called = 0;
    journal.followBatches(() => {
      called++;
      return undefined;
    });
    await journal.commit((tx) => void tx.addOutbox(reply("x")));
    journal.followBatches(undefined);
    await journal.commit((tx) => void tx.addOutbox(reply("y")));
    assert.equal(called, 1, "called for the first batch only");
    await journal.close();
    assert.deepEqual(await outboxAfterReopen(dir), ["x", "y"]);
  });
});
