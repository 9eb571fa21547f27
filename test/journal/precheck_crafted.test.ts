/**
 * The start-up check of the journal's files (agent/journal/precheck.ts) against data files made by hand: its walk of
 * the B-trees' branch pages reads bytes from disk that anything may have written. A branch page whose node offsets
 * go bad part way still has its good nodes followed; a file whose branch pages all point at one page, in a cycle,
 * is walked in memory bounded by its page count (found by a review: 6.7 MB of such pages took 375 MB).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkJournalFiles } from "../../agent/journal/precheck.ts";
import { tempDataDirs } from "../helpers/journal_outbox.ts";

const dataDir = tempDataDirs("idem-precheck-crafted-");
const NO_PAGE = 0xffffffffffffffffn;

/** An LMDB meta page: no free-page tree, the main tree at `mainRoot` (depth 1, no pages counted). */
function metaPage(pageSize: number, mainRoot: bigint, lastPage: bigint, txnid: bigint): Buffer {
  const page = Buffer.alloc(pageSize);
  page.writeUInt16LE(0x08, 0x12); // P_META
  page.writeUInt32LE(0xbeefc0de, 0x18);
  page.writeUInt32LE(pageSize, 0x30); // the free DB record's pad holds the page size
  page.writeBigUInt64LE(NO_PAGE, 0x30 + 0x28);
  page.writeUInt16LE(1, 0x60 + 6);
  page.writeBigUInt64LE(mainRoot, 0x60 + 0x28);
  page.writeBigUInt64LE(lastPage, 0x90);
  page.writeBigUInt64LE(txnid, 0x98);
  return page;
}

/** A branch page whose `pointers` node offsets all lead to one node naming `child`; `bad`: one more, past the page. */
function branchPage(pageSize: number, child: bigint, pointers: number, bad = false): Buffer {
  const page = Buffer.alloc(pageSize);
  page.writeUInt16LE(0x01, 0x12); // P_BRANCH
  const node = pageSize - 16;
  const offsets = bad ? [...Array(pointers).fill(node - 24), 0xfff0] : Array(pointers).fill(node - 24);
  page.writeUInt16LE(offsets.length * 2, 0x14);
  for (const [i, offset] of offsets.entries()) page.writeUInt16LE(offset, 24 + 2 * i);
  page.writeUInt16LE(Number(child & 0xffffn), node);
  page.writeUInt16LE(Number((child >> 16n) & 0xffffn), node + 2);
  page.writeUInt16LE(Number(child >> 32n), node + 4);
  return page;
}

async function journalOf(pages: Buffer[]): Promise<string> {
  const dir = join(await dataDir(), "journal");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "data.mdb"), Buffer.concat(pages));
  return dir;
}

test("a branch page whose node offsets go bad part way still has its good nodes followed", async () => {
  const size = 4096;
  // Three pages; the branch root's first node names page 99, its second offset points past the page.
  const dir = await journalOf([
    metaPage(size, 2n, 2n, 2n),
    metaPage(size, 2n, 2n, 1n),
    branchPage(size, 99n, 1, true),
  ]);
  assert.throws(
    () => checkJournalFiles(dir),
    /data\.mdb is truncated: 12288 bytes, where its trees use page 99/,
  );
});

test("branch pages that all point at one page, in a cycle, are walked in bounded memory", async () => {
  const size = 65536;
  const count = 100; // 6.5 MB: each page's 32,000 pointers name the next page, the last the first
  const pointers = (size - 16 - 24) / 2;
  const pages = [metaPage(size, 2n, BigInt(count + 1), 2n), metaPage(size, 2n, BigInt(count + 1), 1n)];
  for (let i = 0; i < count; i++) pages.push(branchPage(size, BigInt(2 + ((i + 1) % count)), pointers));
  const dir = await journalOf(pages);
  // In a child with a small heap: a walk that kept every pointer it read would run out of it and crash.
  const program = `import { checkJournalFiles } from ${JSON.stringify(new URL("../../agent/journal/precheck.ts", import.meta.url).href)};
    try { checkJournalFiles(${JSON.stringify(dir)}); console.log("accepted"); } catch (error) { console.log(error.message); }`;
  const child = spawnSync(
    process.execPath,
    ["--max-old-space-size=48", "--input-type=module", "-e", program],
    {
      encoding: "utf8",
    },
  );
  assert.deepEqual([child.status, child.signal], [0, null], child.stderr);
  assert.equal(child.stdout.trim(), "accepted");
});
