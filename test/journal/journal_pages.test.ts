/**
 * The journal's mapped pages go back (agent/native/journal_pages.ts): after a release, the pages of data.mdb that
 * reads brought into this process's RSS are gone from it, and every read still returns what was written. A real
 * LMDB directory, this process's own /proc/self/smaps.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import type { JournalRecord } from "../../agent/journal/record.ts";
import { releaseJournalPages } from "../../agent/native/journal_pages.ts";
import { libc } from "../../agent/native/libc.ts";
import { fileIdentity, isMappingOf, mappingsOf } from "../../agent/native/mappings.ts";

/** kB of `file` resident in this process, over all its mappings (smaps' Rss lines). */
function residentKb(file: string): number {
  const identity = fileIdentity(file);
  let kb = 0;
  let inside = false;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      const [mapping] = mappingsOf(line);
      inside = mapping !== undefined && isMappingOf(mapping, identity);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && inside) kb += Number(rss[1]);
  }
  return kb;
}

/** The device /proc/self/maps writes for `file`'s mappings (the first one found), if it is mapped. */
function mappedDevice(file: string): string | undefined {
  const identity = fileIdentity(file);
  return mappingsOf(readFileSync("/proc/self/maps", "utf8")).find((m) => isMappingOf(m, identity))?.device;
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

const NEEDS_MADVISE =
  process.platform !== "linux" || "reason" in libc() ? "needs Linux and libc's madvise" : false;

/**
 * A journal in `dir` whose records fill a few hundred pages, read back: the release drops their pages from this
 * process's RSS and every read still returns what was written. `mapped(data)` runs before the journal is closed,
 * with data.mdb's path.
 */
async function releasesItsPages(dir: string, mapped: (data: string) => void = () => {}): Promise<void> {
  const journal = Journal.open(dir);
  try {
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
    assert.ok(
      after <= before / 10,
      `${after} kB of data.mdb still resident (${before} kB before the release)`,
    );
    // The addresses stay valid: a read faults its page back in from the page cache.
    assert.deepEqual(read(), keys);
    mapped(data);
  } finally {
    await journal.close();
  }
}

test("the pages of the journal that reads brought in leave the RSS, and reads still give what was written", {
  skip: NEEDS_MADVISE,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "idem-journal-pages-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await releasesItsPages(dir);
});

/** Why a btrfs file system cannot be mounted here for a test, or undefined when it can (root, btrfs-progs). */
function btrfsUnavailable(): string | undefined {
  if (NEEDS_MADVISE) return NEEDS_MADVISE;
  if (process.getuid?.() !== 0) return "needs root to mount a btrfs image";
  try {
    execFileSync("mkfs.btrfs", ["--version"], { stdio: "ignore" });
  } catch {
    return "needs mkfs.btrfs (Debian's btrfs-progs; .ci/run installs it)";
  }
  return undefined;
}

test("on btrfs, where stat's device is not the one /proc/self/maps writes, the journal's pages leave the RSS too", {
  skip: btrfsUnavailable() ?? false,
}, async (t) => {
  const work = await mkdtemp(join(tmpdir(), "idem-journal-btrfs-"));
  try {
    const image = join(work, "fs.img");
    const mountPoint = join(work, "mnt");
    mkdirSync(mountPoint);
    // 200 MB sparse: above mkfs.btrfs's minimum; only what is written takes space.
    writeFileSync(image, "");
    truncateSync(image, 200 * 1024 * 1024);
    execFileSync("mkfs.btrfs", ["-q", image], { stdio: "ignore" });
    try {
      execFileSync("mount", ["-o", "loop", image, mountPoint], { stdio: "pipe" });
    } catch (error) {
      // Root without loop devices or btrfs (a container, say): nothing of idem's to test here.
      t.skip(
        `cannot mount a btrfs image here: ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`,
      );
      return;
    }
    try {
      await releasesItsPages(join(mountPoint, "journal"), (data) => {
        // What made the device alone miss it: stat's device is the subvolume's, maps writes the file system's.
        assert.notEqual(mappedDevice(data), fileIdentity(data).device);
      });
    } finally {
      // Lazy: detached at once, the loop device freed once nothing holds the file system any more.
      execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
