/**
 * A look at the journal's files before LMDB maps them (SPEC 5.5): a damaged file must be refused with a message,
 * never mapped — LMDB reading past the end of a truncated file dies by SIGBUS, and a 0-byte file would be taken
 * for a new, empty journal (a run-once-ever plan would then run again).
 *
 * What is checked, from LMDB's layout (lmdb-js 3, LMDB 1.0 "mdb.master3" format, read off its files): the data
 * file's two meta pages (page header 24 bytes, then `mm_magic` 0xBEEFC0DE, `mm_version`, `mm_address`,
 * `mm_mapsize`, two 48-byte DB records whose first holds the page size, `mm_last_pg`, `mm_txnid`), the newest
 * valid meta's last page against the file's size; and the lock file's magic.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, IdemError } from "../errors.ts";

const MAGIC = 0xbeefc0de;
const P_META = 0x08;
const FLAGS_AT = 0x12;
const MAGIC_AT = 0x18;
const PAGE_SIZE_AT = 0x30;
const LAST_PAGE_AT = 0x90;
const TXNID_AT = 0x98;
const META_BYTES = 0xa0;

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnid: bigint;
}

function readAt(file: string, position: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function meta(page: Buffer): Meta | undefined {
  if (page.length < META_BYTES) return undefined;
  if (page.readUInt32LE(MAGIC_AT) !== MAGIC || (page.readUInt16LE(FLAGS_AT) & P_META) === 0) return undefined;
  const pageSize = page.readUInt32LE(PAGE_SIZE_AT);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return { pageSize, lastPage: page.readBigUInt64LE(LAST_PAGE_AT), txnid: page.readBigUInt64LE(TXNID_AT) };
}

/**
 * Throws IdemError(2) saying what is wrong with the journal in `path` and what to do; returns when its files are
 * absent (a new journal) or look whole.
 */
export function checkJournalFiles(path: string): void {
  const data = join(path, "data.mdb");
  const lock = join(path, "lock.mdb");
  const refuse = (what: string): never => {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot open the journal in ${path}: ${what}. It is not replaced by itself, as it may hold what this VM already ran: restore it from a backup, or start with --reset-journal to set it aside (kept, renamed) and begin a new one`,
    );
  };
  if (existsSync(data)) {
    const size = statSync(data).size;
    if (size === 0) refuse("its data file data.mdb is empty (0 bytes)");
    const first = meta(readAt(data, 0, META_BYTES));
    const pageSize = first?.pageSize ?? 4096;
    if (size < 2 * pageSize)
      refuse(`its data file data.mdb has ${size} bytes, less than its two header pages`);
    const second = meta(readAt(data, pageSize, META_BYTES));
    const newest = [first, second]
      .filter((m): m is Meta => m !== undefined)
      .sort((a, b) => (a.txnid < b.txnid ? 1 : a.txnid > b.txnid ? -1 : 0))[0];
    if (!newest)
      return refuse(
        "neither header page of its data file data.mdb is an LMDB header (zeroed or overwritten)",
      );
    const needed = (newest.lastPage + 1n) * BigInt(newest.pageSize);
    if (BigInt(size) < needed) {
      refuse(`its data file data.mdb is truncated: ${size} bytes, where its header says ${needed}`);
    }
  }
  if (existsSync(lock)) {
    const head = readAt(lock, 0, 8);
    if (head.length < 8 || head.readUInt32LE(0) !== MAGIC) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot open the journal in ${path}: its lock file lock.mdb is not an LMDB lock file. It holds no data: with no agent running on this data dir, remove it and start again (or start with --reset-journal)`,
      );
    }
  }
}
