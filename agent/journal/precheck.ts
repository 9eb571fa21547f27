/**
 * A look at the journal's files before LMDB maps them (SPEC 5.5): a damaged file must be refused with a message,
 * never mapped — LMDB reading past the end of a truncated file dies by SIGBUS, and a 0-byte file would be taken
 * for a new, empty journal (a run-once-ever plan would then run again).
 *
 * What is checked, from LMDB's layout (lmdb-js 3, LMDB 1.0 "mdb.master3" format, read off its files): the data
 * file's two meta pages (page header 24 bytes, then `mm_magic` 0xBEEFC0DE, `mm_version`, `mm_address`,
 * `mm_mapsize`, two 48-byte DB records whose first holds the page size, `mm_last_pg`, `mm_txnid`): the first one
 * must be valid (LMDB takes the page size from it: measured, lmdb 3.5 dies by SIGSEGV without it), the DB
 * records' depth and root must be possible, and the file must hold every page the newest valid meta's trees use
 * (each root and every page their branch pages point to, and as many pages as their counts say, the named
 * databases' from the main DB's root leaf); and
 * the lock file's magic (only next to a data file: a lock file alone holds nothing, and a new journal's is written
 * out before LMDB initialises it, see `take.ts`). A journal folder or file that is not what it should be (a
 * directory named data.mdb, a file named journal) or cannot be read is refused the same way, never passed on to
 * LMDB. Damage inside the data pages is not looked for: LMDB may stop the process on it (an assertion, SIGABRT).
 */
import { closeSync, openSync, readdirSync, readSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { describe, ErrorCode, IdemError } from "../errors.ts";

const MAGIC = 0xbeefc0de;
const P_META = 0x08;
const FLAGS_AT = 0x12;
const MAGIC_AT = 0x18;
const PAGE_SIZE_AT = 0x30;
const LAST_PAGE_AT = 0x90;
const TXNID_AT = 0x98;
const META_BYTES = 0xa0;
const PAGE_SIZES = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
/**
 * A page's header (`MDB_page`, 24 bytes, `mp_lower` the end of its node offsets, counted from byte 24), a leaf's
 * node (8 bytes: data size in two halves, flags, key size; then key and data), a named DB's record (`MDB_db`).
 */
const PAGE_HEADER = 24;
const PAGE_LOWER_AT = 0x14;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const F_SUBDATA = 0x02;
const NODE_HEADER = 8;
const DB_BYTES = 48;
/** The free-page DB and the main DB records in a meta page, and fields within one (`MDB_db`). */
const DB_AT = [0x30, 0x60];
const DB_DEPTH_AT = 0x06;
const DB_ROOT_AT = 0x28;
/** No B-tree of a journal that fits a 64-bit file is deeper. */
const MAX_DEPTH = 64;
const NO_PAGE = 0xffffffffffffffffn;

/** An `MDB_db` record: its tree's root page (NO_PAGE when empty) and how many pages the tree uses. */
interface Tree {
  root: bigint;
  pages: bigint;
}

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnid: bigint;
  /** The free-page DB's tree and the main DB's. */
  trees: [Tree, Tree];
}

/** `MDB_db`'s page counts (branch, leaf, overflow: 64-bit each) after its pad, flags and depth. */
const DB_PAGES_AT = [0x08, 0x10, 0x18];

function tree(record: Buffer, at: number): Tree {
  const pages = DB_PAGES_AT.reduce((sum, field) => sum + record.readBigUInt64LE(at + field), 0n);
  return { root: record.readBigUInt64LE(at + DB_ROOT_AT), pages };
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

/** The meta page in `page`, when it is one whose fields LMDB can use (its two DB records' depth and root). */
function meta(page: Buffer): Meta | undefined {
  if (page.length < META_BYTES) return undefined;
  if (page.readUInt32LE(MAGIC_AT) !== MAGIC || (page.readUInt16LE(FLAGS_AT) & P_META) === 0) return undefined;
  const pageSize = page.readUInt32LE(PAGE_SIZE_AT);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const lastPage = page.readBigUInt64LE(LAST_PAGE_AT);
  for (const db of DB_AT) {
    const root = page.readBigUInt64LE(db + DB_ROOT_AT);
    if (page.readUInt16LE(db + DB_DEPTH_AT) > MAX_DEPTH || (root !== NO_PAGE && root > lastPage))
      return undefined;
  }
  const [free, main] = DB_AT.map((db) => tree(page, db)) as [Tree, Tree];
  return { pageSize, lastPage, txnid: page.readBigUInt64LE(TXNID_AT), trees: [free, main] };
}

/**
 * Where a page's nodes start (its `mp_ptrs`, up to `mp_lower`), as far as each leaves room for a node's header
 * in the page; `damaged` when one does not (the nodes before it are given).
 */
function nodesOf(page: Buffer): { nodes: number[]; damaged: boolean } {
  const lower = page.readUInt16LE(PAGE_LOWER_AT);
  const nodes: number[] = [];
  for (let at = PAGE_HEADER; at < PAGE_HEADER + lower && at + 2 <= page.length; at += 2) {
    const node = PAGE_HEADER + page.readUInt16LE(at);
    if (node + NODE_HEADER > page.length) return { nodes, damaged: true };
    nodes.push(node);
  }
  return { nodes, damaged: false };
}

/**
 * The named databases' trees (records, queue, …: their `MDB_db` records are the main DB's values), read from the
 * main DB's root when it is a single leaf page, as a journal's seven names keep it; none otherwise (the check then
 * counts the free and main trees alone). Reads only a page within the file.
 */
function namedTrees(data: string, newest: Meta, filePages: bigint): Tree[] {
  const main = newest.trees[1];
  if (main.root === NO_PAGE || main.root >= filePages) return [];
  const page = readAt(data, Number(main.root) * newest.pageSize, newest.pageSize);
  if (page.length < newest.pageSize || (page.readUInt16LE(FLAGS_AT) & P_LEAF) === 0) return [];
  const { nodes, damaged } = nodesOf(page);
  if (damaged) return [];
  const trees: Tree[] = [];
  for (const node of nodes) {
    const dataSize = page.readUInt16LE(node) | (page.readUInt16LE(node + 2) << 16);
    const flags = page.readUInt16LE(node + 4);
    const keySize = page.readUInt16LE(node + 6);
    const record = node + NODE_HEADER + keySize;
    if ((flags & F_SUBDATA) === 0 || dataSize < DB_BYTES || record + DB_BYTES > page.length) continue;
    trees.push(tree(page, record));
  }
  return trees;
}

/**
 * The first page a branch page of `roots`' trees points to that lies at or beyond `filePages` (a cut file: LMDB
 * would die by SIGBUS reading it), or undefined. Reads branch pages only (about 1% of a file), each once: a page
 * is noted when first pointed to, so that the pages still to read never outnumber the file's (a damaged file's
 * pointers may all name one page, or make a cycle). A branch node's child page number is its 48 bits of data
 * size and flags (LMDB `NODEPGNO`).
 */
function pageBeyond(data: string, pageSize: number, roots: bigint[], filePages: bigint): bigint | undefined {
  const noted = new Set<bigint>();
  const stack: bigint[] = [];
  const note = (page: bigint): boolean => {
    if (page >= filePages) return true;
    if (!noted.has(page)) {
      noted.add(page);
      stack.push(page);
    }
    return false;
  };
  for (const root of roots) if (root !== NO_PAGE && note(root)) return root;
  for (let page = stack.pop(); page !== undefined; page = stack.pop()) {
    const bytes = readAt(data, Number(page) * pageSize, pageSize);
    if (bytes.length < pageSize || (bytes.readUInt16LE(FLAGS_AT) & P_BRANCH) === 0) continue;
    for (const node of nodesOf(bytes).nodes) {
      const low = BigInt(bytes.readUInt16LE(node)) | (BigInt(bytes.readUInt16LE(node + 2)) << 16n);
      const child = low | (BigInt(bytes.readUInt16LE(node + 4)) << 32n);
      if (note(child)) return child;
    }
  }
  return undefined;
}

/** The file's stat, undefined when it does not exist; any other failure is thrown as it is. */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Throws IdemError(2) saying what is wrong with the journal in `path` and what to do; returns when its files are
 * absent (a new journal) or look whole.
 */
export function checkJournalFiles(path: string): void {
  const refuse = (what: string, cause?: unknown): never => {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot open the journal in ${path}: ${what}. It is not replaced by itself, as it may hold what this VM already ran: restore it from a backup, or start with --reset-journal to set it aside (kept, renamed) and begin a new one`,
      cause === undefined ? {} : { cause },
    );
  };
  try {
    checkFiles(path, refuse);
  } catch (error) {
    if (error instanceof IdemError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot open the journal in ${path}: ${describe(error)}. Its files must be the agent's user's to read and write: give them back to it (chown, chmod 600) and start again`,
        { cause: error },
      );
    }
    refuse(`its files cannot be read (${describe(error)})`, error);
  }
}

/** The file that marks a journal being made (`take.ts`): until its first commit it holds nothing. */
export const CREATING_MARKER = "creating";

function checkFiles(path: string, refuse: (what: string) => never): void {
  const folder = statOf(path);
  if (folder === undefined) return;
  if (!folder.isDirectory()) refuse("it is not a directory");
  const data = join(path, "data.mdb");
  const lock = join(path, "lock.mdb");
  const dataStat = statOf(data);
  if (dataStat === undefined) {
    // A journal being made is recognised by its marker (take.ts) before this check; a folder that holds files
    // but no data file lost it: taking it for a new journal would forget what this VM ran.
    const left = readdirSync(path);
    if (left.includes(CREATING_MARKER)) return;
    if (left.length > 0)
      refuse(`its data file data.mdb is missing, though the folder holds ${left.join(", ")}`);
    return;
  }
  if (!dataStat.isFile()) refuse("its data file data.mdb is not a regular file");
  const size = dataStat.size;
  if (size === 0) refuse("its data file data.mdb is empty (0 bytes)");
  const first = meta(readAt(data, 0, META_BYTES));
  // The second header page starts one page in: without a valid first one, at any page size LMDB allows.
  const offsets = first ? [first.pageSize] : PAGE_SIZES;
  const second = offsets
    .map((at) => (size > at ? meta(readAt(data, at, META_BYTES)) : undefined))
    .find((m, i) => m !== undefined && m.pageSize === offsets[i]);
  const pageSize = first?.pageSize ?? second?.pageSize ?? 4096;
  if (size < 2 * pageSize) refuse(`its data file data.mdb has ${size} bytes, less than its two header pages`);
  const newest = [first, second]
    .filter((m): m is Meta => m !== undefined)
    .sort((a, b) => (a.txnid < b.txnid ? 1 : a.txnid > b.txnid ? -1 : 0))[0];
  if (!newest)
    refuse("neither header page of its data file data.mdb is an LMDB header (zeroed or overwritten)");
  // LMDB reads its page size from the first header page: without it, it crashes (measured: SIGSEGV, lmdb 3.5).
  if (!first)
    refuse("the first header page of its data file data.mdb is not an LMDB header (zeroed or overwritten)");
  // Not `mm_last_pg` against the size: LMDB does not write a page it allocated and freed in one transaction (a
  // "loose" page), so a whole journal's file may end before its last page (found by test/journal/
  // queue_index.test.ts: a journal refused after a clean close). What a whole file must hold is every page in use:
  // each tree's root and every page their branch pages point to, and as many pages as the trees use. The size is
  // read again after the header pages: LMDB writes a commit's pages before its header, so a commit made while
  // this looks (`idem inspect` beside a running agent) cannot make a whole file look cut.
  const sizeNow = statOf(data)?.size ?? size;
  const filePages = BigInt(Math.floor(sizeNow / newest.pageSize));
  const trees = [...newest.trees, ...namedTrees(data, newest, filePages)];
  const used = trees.reduce((sum, t) => sum + t.pages, 2n);
  const roots = trees.map((t) => t.root);
  const beyond =
    roots.find((root) => root !== NO_PAGE && root >= filePages) ??
    pageBeyond(data, newest.pageSize, roots, filePages);
  if (beyond !== undefined || used > filePages) {
    const why =
      beyond !== undefined
        ? `its trees use page ${beyond}`
        : `its trees use ${used} pages of ${newest.pageSize} bytes`;
    refuse(`its data file data.mdb is truncated: ${sizeNow} bytes, where ${why}`);
  }
  const lockStat = statOf(lock);
  if (lockStat === undefined) return;
  const head = lockStat.isFile() ? readAt(lock, 0, 8) : Buffer.alloc(0);
  if (head.length < 8 || head.readUInt32LE(0) !== MAGIC) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot open the journal in ${path}: its lock file lock.mdb is not an LMDB lock file. It holds no data: with no agent running on this data dir, remove it and start again (or start with --reset-journal)`,
    );
  }
}
