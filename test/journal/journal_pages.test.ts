/**
 * The journal's mapped pages go back (agent/native/journal_pages.ts): after a release, the pages of data.mdb that
 * reads brought into this process's RSS are gone from it, and every read still returns what was written. A real
 * LMDB directory, this process's own /proc/self/smaps.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import type { JournalRecord } from "../../agent/journal/record.ts";
import { releaseJournalPages } from "../../agent/native/journal_pages.ts";
import { libc } from "../../agent/native/libc.ts";
import { fileIdentity } from "../../agent/native/mappings.ts";

/** kB of `file` resident in this process, over all its mappings (smaps' Rss lines). */
function residentKb(file: string): number {
  const { device, inode } = fileIdentity(file);
  let kb = 0;
  let inside = false;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ [0-9a-f]+ ([0-9a-f]+:[0-9a-f]+) (\d+)/.exec(line);
    if (head) {
      inside = head[1] === device && Number(head[2]) === inode;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && inside) kb += Number(rss[1]);
  }
  return kb;
}

function record(key: string): JournalRecord {
  const time = new Date().toISOString();
  return {
    key,
    fingerprint: `sha256:${key}`,
    policy: "always",
    state: "succeeded",
    attempts: 1,
    firstPlanId: key,
    lastPlanId: key,
    generation: null,
    bootId: null,
    pgid: null,
    createdAt: time,
    updatedAt: time,
    waiters: [],
    history: [],
    revision: 1,
    queued: [],
    // Big enough that the records fill a few hundred pages.
    result: { errorCode: 0, body: JSON.stringify("x".repeat(3000)), time, ranAs: key, attempt: 1 },
  } as JournalRecord;
}

test("the pages of the journal that reads brought in leave the RSS, and reads still give what was written", {
  skip: process.platform !== "linux" || "reason" in libc() ? "needs Linux and libc's madvise" : false,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "idem-journal-pages-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const journal = Journal.open(dir);
  t.after(() => journal.close());
  const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
  await journal.commit((tx) => {
    for (const key of keys) tx.putRecord(record(key));
  });
  const data = join(journal.path, "data.mdb");
  // Read back in a new read transaction (a commit ended the last): each read faults its page in.
  const read = () => keys.map((key) => journal.record(key)?.result?.ranAs);
  assert.deepEqual(read(), keys);
  const before = residentKb(data);
  assert.ok(before >= 400, `the reads brought ${before} kB of data.mdb in, expected its pages`);

  const advised = releaseJournalPages(journal.path);
  assert.ok(advised > 0, "no mapping of data.mdb was advised");
  const after = residentKb(data);
  assert.ok(after <= before / 10, `${after} kB of data.mdb still resident (${before} kB before the release)`);
  // The addresses stay valid: a read faults its page back in from the page cache.
  assert.deepEqual(read(), keys);
});
