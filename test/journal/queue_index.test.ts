/**
 * The queue index (`queue_index.ts`): the runner's view of the queue by key. Its heads are always those of the
 * queue table — after commits that queue and dequeue, after a write that throws (its child transaction aborted),
 * inside a commit for the batch follower (the commit's own writes count), and after a reopen (loaded from the
 * table), and after a batch that a full disk did not let commit. On a real LMDB directory; a property test
 * (fast-check, seed printed on failure) drives random batches of commits.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { QueueEntry } from "../../agent/journal/journal.ts";
import { Journal } from "../../agent/journal/journal.ts";
import { QueueIndex } from "../../agent/journal/queue_index.ts";
import { tempDataDirs } from "../helpers/journal_outbox.ts";
import { CAN_MOUNT, holdJournalSnapshot, mountSmallDisk } from "../helpers/small_disk.ts";

const dataDir = tempDataDirs("idem-queue-index-");

function entry(key: string): Omit<QueueEntry, "seq"> {
  return {
    key,
    planId: `plan-${key}-${Math.random().toString(36).slice(2)}`,
    planText: "{}",
    reply: { topic: "idem/vm-1/results", sourceId: "x" },
    fingerprint: "sha256:0",
    policy: "always",
    generation: null,
    timeoutSeconds: null,
  };
}

/** The heads as the queue table says: each key's first seq, ascending. */
function tableHeads(journal: Journal): number[] {
  const first = new Map<string, number>();
  for (const queued of journal.pending()) if (!first.has(queued.key)) first.set(queued.key, queued.seq);
  return [...first.values()].sort((a, b) => a - b);
}

describe("the queue index", () => {
  test("heads: each key's first seq in arrival order; an undo puts a change back", () => {
    const index = new QueueIndex();
    index.add(1, "a");
    index.add(2, "b");
    index.add(3, "a");
    assert.deepEqual([...index.heads()], [1, 2]);
    const undo = index.remove(1);
    assert.deepEqual([...index.heads()], [2, 3]);
    undo();
    assert.deepEqual([...index.heads()], [1, 2], "the removed head is back in its place");
    index.remove(2)();
    index.add(4, "c")();
    assert.deepEqual([...index.heads()], [1, 2]);
    assert.equal(index.keyOf(3), "a");
    assert.equal(index.keyOf(4), undefined);
  });

  test("a write that throws leaves the index as the table; the follower sees its commit's queue", async () => {
    const journal = Journal.open(await dataDir());
    await journal.commit((tx) => {
      tx.enqueue(entry("a"));
      tx.enqueue(entry("a"));
    });
    assert.deepEqual([...journal.queueHeads()], [1]);
    await assert.rejects(
      journal.commit((tx) => {
        tx.enqueue(entry("b"));
        tx.dequeue(1);
        throw new Error("a bug after the writes");
      }),
      /a bug after the writes/,
    );
    assert.deepEqual([...journal.queueHeads()], [1], "nothing of the aborted write");
    const seen: number[][] = [];
    journal.followBatches(() => {
      seen.push([...journal.queueHeads()]);
      return undefined;
    });
    await journal.commit((tx) => {
      tx.dequeue(1);
      tx.enqueue(entry("c"));
    });
    assert.deepEqual(seen, [[2, 4]], "inside the commit: key a's next entry is its head, c's new one too");
    assert.deepEqual([...journal.queueHeads()], tableHeads(journal));
    await journal.close();
  });

  // Found by the property below (seed 823800626): LMDB does not write a page it allocated and freed in one
  // transaction, so this journal's file ends one page before its header's last page; the start-up check of the
  // files (journal/precheck.ts) refused it after a clean close, as if truncated.
  test("a journal whose file ends before its header's last page (LMDB's loose page) opens again", async () => {
    const dir = await dataDir();
    let journal = Journal.open(dir);
    await journal.commit((tx) => tx.enqueue(entry("a")));
    // As the property's ops: a dequeue takes the first entry the journal lists when there is one.
    const dequeueFirst = (tx: Parameters<Parameters<Journal["commit"]>[0]>[0]) => {
      const seq = first(journal);
      if (seq !== undefined) tx.dequeue(seq);
    };
    await Promise.all([
      journal.commit(dequeueFirst),
      journal.commit((tx) => {
        tx.enqueue(entry("a"));
        dequeueFirst(tx);
      }),
    ]);
    await journal.commit(dequeueFirst);
    await journal.close();
    const file = readFileSync(join(dir, "journal", "data.mdb"));
    const lastPages = [0, 4096].map((at) => [
      file.readBigUInt64LE(at + 0x98),
      file.readBigUInt64LE(at + 0x90),
    ]);
    const [, lastPage] = lastPages.sort((a, b) =>
      (a[0] as bigint) < (b[0] as bigint) ? 1 : -1,
    )[0] as bigint[];
    assert.ok(
      BigInt(file.length) < ((lastPage as bigint) + 1n) * 4096n,
      "the case: the file ends before the last page",
    );
    journal = Journal.open(dir);
    assert.deepEqual([...journal.queueHeads()], []);
    await journal.close();
  });

  test("random batches of commits, some throwing: the index is the table's, every entry in its turn, after a reopen", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("enqueue" as const), key: fc.constantFrom("a", "b", "c", "d") }),
      fc.record({ kind: fc.constant("dequeue" as const), pick: fc.nat(20) }),
    );
    const commit = fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 5 }), throws: fc.boolean() });
    // Commits of one batch are issued in one turn: one transaction, each write a child transaction of its own.
    const batch = fc.array(commit, { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 6 }), async (batches) => {
        const dir = await dataDir();
        let journal = Journal.open(dir);
        try {
          for (const commits of batches) {
            const issued = commits.map(({ ops, throws }) =>
              journal.commit((tx) => {
                for (const step of ops) {
                  if (step.kind === "enqueue") tx.enqueue(entry(step.key));
                  else {
                    const seqs = [...journal.pending()].map((queued) => queued.seq);
                    if (seqs.length > 0) tx.dequeue(seqs[step.pick % seqs.length] as number);
                  }
                }
                if (throws) throw new Error("thrown");
              }),
            );
            await Promise.allSettled(issued);
            assert.deepEqual([...journal.queueHeads()], tableHeads(journal));
          }
          const before = [...journal.queueHeads()];
          await journal.close();
          journal = Journal.open(dir);
          assert.deepEqual([...journal.queueHeads()], before, "loaded from the table at open");
          // Every entry becomes a head in its turn: the index is right about the others too.
          for (let head = first(journal); head !== undefined; head = first(journal)) {
            const seq = head;
            await journal.commit((tx) => tx.dequeue(seq));
            assert.deepEqual([...journal.queueHeads()], tableHeads(journal));
          }
        } finally {
          await journal.close();
        }
      }),
      { numRuns: 25, verbose: 1 },
    );
  });

  test("a batch that cannot be committed (a full disk) leaves the index as the table", {
    skip: CAN_MOUNT ? false : "needs root to mount a small tmpfs",
  }, async (t) => {
    const disk = await mountSmallDisk(t);
    const journal = Journal.open(join(disk.dir, "data"));
    try {
      await journal.commit((tx) => {
        tx.enqueue(entry("a"));
        tx.enqueue(entry("b"));
      });
      holdJournalSnapshot(t, journal.path);
      disk.fill();
      const big = { ...entry("a"), planText: "x".repeat(256 * 1024) };
      await assert.rejects(
        journal.commit((tx) => {
          tx.dequeue(1);
          tx.enqueue(big);
        }),
        (error: Error) => error.name === "JournalUnavailable",
      );
      assert.deepEqual([...journal.queueHeads()], [1, 2], "nothing of the batch that was not committed");
      assert.deepEqual([...journal.queueHeads()], tableHeads(journal));
      disk.free();
      await journal.commit((tx) => tx.dequeue(1));
      assert.deepEqual([...journal.queueHeads()], [2]);
    } finally {
      await journal.close();
    }
  });
});

/** The first queued seq in arrival order, or undefined when the queue is empty. */
function first(journal: Journal): number | undefined {
  for (const queued of journal.pending()) return queued.seq;
  return undefined;
}
