/**
 * Gives back the pages of the single executable that only its start reads: the SEA blob (the agent's bundle as
 * source, its V8 code cache, the compressed addons — agent/native/sea_main.ts, addon.ts). Node maps the blob with
 * the executable; the start reads it whole (the source is copied into V8's heap, the cache deserialized, an addon
 * decompressed when its cache file is written), and nothing reads it afterwards, yet its pages stay in the
 * agent's RSS: 5.5 MB of 69 (issue 11, idle RSS; docs/benchmarks.md "Session 7").
 *
 * `madvise(MADV_DONTNEED)` over the blob drops them from the agent's mapping: they are clean pages of a file
 * mapped read-only, so nothing is lost — they stay in the page cache, and a read of one (none is expected) faults
 * it in again from there. Found without trusting a fixed address: the blob is the ELF note `NODE_SEA_BLOB`
 * (postject's, which Node looks up the same way) in `/proc/self/exe`, placed with `/proc/self/maps`.
 *
 * Only in the single executable on Linux with libc's functions (libc.ts); elsewhere it does nothing.
 */
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from "node:fs";
import { libc } from "./libc.ts";

const PT_NOTE = 4;
const MADV_DONTNEED = 4;
const PAGE = 4096;
const BLOB_NOTE = "NODE_SEA_BLOB";

/** File range of the SEA blob in `exe` (the desc of its `NODE_SEA_BLOB` note), or undefined when it has none. */
export function seaBlobInFile(exe: string): { offset: number; size: number } | undefined {
  const fd = openSync(exe, "r");
  try {
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const got = readSync(fd, buffer, 0, length, position);
      return buffer.subarray(0, got);
    };
    const header = read(0, 64);
    // 64-bit little-endian ELF only (the executable is Node for linux-x64 / arm64).
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = read(phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const entry = table.subarray(i * phentsize);
      if (entry.readUInt32LE(0) !== PT_NOTE) continue;
      const start = Number(entry.readBigUInt64LE(8));
      const end = start + Number(entry.readBigUInt64LE(32));
      for (let at = start; at + 12 <= end; ) {
        const note = read(at, 12 + 16);
        const nameSize = note.readUInt32LE(0);
        const descSize = note.readUInt32LE(4);
        const descAt = at + 12 + align4(nameSize);
        if (
          nameSize === BLOB_NOTE.length + 1 &&
          note.toString("latin1", 12, 12 + BLOB_NOTE.length) === BLOB_NOTE
        )
          return { offset: descAt, size: descSize };
        at = descAt + align4(descSize);
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * The whole pages of `range` (a file range of `exe`) as this process maps them, from `/proc/self/maps`; undefined
 * when the range is not mapped in one piece.
 */
export function mappedPages(
  maps: string,
  exe: string,
  range: { offset: number; size: number },
): { address: bigint; length: bigint } | undefined {
  for (const line of maps.split("\n")) {
    const fields = line.split(/\s+/);
    if (fields.length < 6 || fields.slice(5).join(" ") !== exe) continue;
    const [from, to] = (fields[0] as string).split("-").map((hex) => BigInt(`0x${hex}`)) as [bigint, bigint];
    const offset = BigInt(`0x${fields[2]}`);
    const begin = BigInt(range.offset);
    const end = begin + BigInt(range.size);
    if (begin < offset || end > offset + (to - from)) continue;
    const page = BigInt(PAGE);
    const first = ((from + begin - offset + page - 1n) / page) * page;
    const last = ((from + end - offset) / page) * page;
    return last > first ? { address: first, length: last - first } : undefined;
  }
  return undefined;
}

let released = false;

/**
 * Drops the SEA blob's pages from the agent's mapping (once; later calls do nothing). Returns the bytes given
 * up, or 0 when there was nothing to do (not the executable, no libc functions, no such note or mapping).
 */
export function releaseStartPages(): number {
  if (released) return 0;
  released = true;
  const sea = process.getBuiltinModule?.("node:sea") as typeof import("node:sea") | undefined;
  if (!sea?.isSea()) return 0;
  const bound = libc();
  if ("reason" in bound) return 0;
  try {
    const exe = readlinkSync("/proc/self/exe");
    const range = seaBlobInFile(exe);
    const pages = range && mappedPages(readFileSync("/proc/self/maps", "utf8"), exe, range);
    if (!pages) return 0;
    if (bound.functions.madvise(pages.address, pages.length, MADV_DONTNEED) !== 0) return 0;
    return Number(pages.length);
  } catch {
    return 0; // nothing lost: the pages stay where they were
  }
}
