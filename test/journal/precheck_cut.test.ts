/**
 * The start-up check of the journal's files (agent/journal/precheck.ts) against journals cut short by a few
 * pages: each cut is either refused with a message, or the journal opens and every entry reads back (in a child
 * process: LMDB reading past the end of a cut file dies by SIGBUS). Found by a review: with roots and page counts
 * alone, a journal cut by its last page passed the check and then killed the process at open.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { QueueEntry } from "../../agent/journal/journal.ts";
import { Journal } from "../../agent/journal/journal.ts";
import { checkJournalFiles } from "../../agent/journal/precheck.ts";
import { tempDataDirs } from "../helpers/journal_outbox.ts";

const dataDir = tempDataDirs("idem-precheck-cut-");

function entry(n: number): Omit<QueueEntry, "seq"> {
  return {
    key: `k${n % 7}`,
    planId: `plan-${n}`,
    planText: "x".repeat(100),
    reply: { topic: "idem/vm-1/results", sourceId: "x" },
    fingerprint: "sha256:0",
    policy: "always",
    generation: null,
    timeoutSeconds: null,
  };
}

/** Opens the journal in `dir` and reads every queued entry, in a child process; its exit status. */
function readsBack(dir: string): { status: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const program = `import { Journal } from ${JSON.stringify(new URL("../../agent/journal/journal.ts", import.meta.url).href)};
    const journal = Journal.open(${JSON.stringify(dir)}); let n = 0; for (const e of journal.pending()) n += e.planText.length; await journal.close();`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", program], { encoding: "utf8" });
  return { status: child.status, signal: child.signal, stderr: child.stderr };
}

test("a journal cut by its last pages is refused, or opens and reads back whole", async () => {
  const dir = await dataDir();
  const journal = Journal.open(dir);
  // One commit each, then 90% of them dequeued one by one: free pages among the used ones, as retention leaves them.
  const seqs: number[] = [];
  for (let n = 0; n < 400; n++) await journal.commit((tx) => void seqs.push(tx.enqueue(entry(n))));
  for (const [i, seq] of seqs.entries()) if (i % 10 !== 0) await journal.commit((tx) => tx.dequeue(seq));
  await journal.close();
  const file = join(dir, "journal", "data.mdb");
  const pages = Math.floor(statSync(file).size / 4096);
  let refused = 0;
  for (const cut of [1, 2, 4, 8, 16]) {
    const copy = join(await dataDir(), "journal");
    mkdirSync(copy, { recursive: true });
    copyFileSync(file, join(copy, "data.mdb"));
    copyFileSync(join(dir, "journal", "lock.mdb"), join(copy, "lock.mdb"));
    truncateSync(join(copy, "data.mdb"), (pages - cut) * 4096);
    try {
      checkJournalFiles(copy);
    } catch (error) {
      assert.match((error as Error).message, /data\.mdb is truncated/);
      refused++;
      continue;
    }
    const read = readsBack(join(copy, ".."));
    assert.deepEqual(
      [read.status, read.signal],
      [0, null],
      `cut by ${cut} pages, passed the check: ${read.stderr}`,
    );
  }
  assert.ok(refused > 0, "some cut was refused");
});
