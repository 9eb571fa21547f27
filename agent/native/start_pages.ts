/**
 * Gives back pages of the single executable that the agent no longer uses, so that they leave its RSS (issue 11,
 * idle RSS; docs/benchmarks.md "Session 7"):
 *
 * - {@link releaseStartPages}, the first time the agent has gone quiet: the SEA blob (the agent's bundle as
 *   source, its V8 code cache, the addons — agent/native/sea_main.ts, addon.ts), read whole by the start and never
 *   again: 5.5 MB.
 * - {@link releaseExecutablePages}, 2.5 s after that: Node's code and constants (the executable's read-only
 *   segments) as far as they are resident, most of them touched only by the start (Node's
 *   bootstrap, its built-in modules' sources, ICU and V8's start-up data): the agent's next plan faults the
 *   pages it uses back in (minor faults, from the page cache), the rest stays out: ≈ 17 MB.
 *
 * Both with `madvise(MADV_DONTNEED)` on clean pages of the file mapped read-only: nothing is lost — they stay in
 * the page cache, and a read faults a page back in from there. A mapping with any page written (the relocated
 * RELRO, say), swapped or anonymous is never touched, and only mappings of the running executable's own inode
 * are (`/proc/self/exe`, never a path that may name another file by now). The blob is found without trusting a
 * fixed address: it is the ELF note `NODE_SEA_BLOB` (postject's, which Node looks up the same way), placed with
 * `/proc/self/smaps`.
 *
 * Only in the single executable on Linux with libc's functions (libc.ts); elsewhere they do nothing.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { libc } from "./libc.ts";
import { advise, fileIdentity, isMappingOf, type Mapping, mappingsOf, pagesOf } from "./mappings.ts";

const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_W = 2;
const BLOB_NOTE = "NODE_SEA_BLOB";

interface Segment {
  type: number;
  flags: number;
  offset: number;
  size: number;
}

/** The program headers of the 64-bit little-endian ELF file open as `fd` (the executable is Node for Linux). */
function segments(read: (position: number, length: number) => Buffer): Segment[] | undefined {
  const header = read(0, 64);
  if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
  const phoff = Number(header.readBigUInt64LE(32));
  const phentsize = header.readUInt16LE(54);
  const phnum = header.readUInt16LE(56);
  const table = read(phoff, phentsize * phnum);
  return Array.from({ length: phnum }, (_, i) => {
    const entry = table.subarray(i * phentsize);
    return {
      type: entry.readUInt32LE(0),
      flags: entry.readUInt32LE(4),
      offset: Number(entry.readBigUInt64LE(8)),
      size: Number(entry.readBigUInt64LE(32)),
    };
  });
}

function withFile<T>(exe: string, use: (read: (position: number, length: number) => Buffer) => T): T {
  const fd = openSync(exe, "r");
  try {
    return use((position, length) => {
      const buffer = Buffer.alloc(length);
      const got = readSync(fd, buffer, 0, length, position);
      return buffer.subarray(0, got);
    });
  } finally {
    closeSync(fd);
  }
}

/** File range of the SEA blob in `exe` (the desc of its `NODE_SEA_BLOB` note), or undefined when it has none. */
export function seaBlobInFile(exe: string): { offset: number; size: number } | undefined {
  return withFile(exe, (read) => {
    for (const segment of segments(read) ?? []) {
      if (segment.type !== PT_NOTE) continue;
      const end = segment.offset + segment.size;
      for (let at = segment.offset; at + 12 <= end; ) {
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
  });
}

/** File ranges of the read-only loaded segments of `exe` (code, constants; PF_W unset). */
export function readOnlySegments(exe: string): Array<{ offset: number; size: number }> {
  return withFile(exe, (read) =>
    (segments(read) ?? [])
      .filter((segment) => segment.type === PT_LOAD && (segment.flags & PF_W) === 0)
      .map(({ offset, size }) => ({ offset, size })),
  );
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** This process's executable as the kernel knows it (its mappings: mappings.ts `isMappingOf`, by inode and
 * device, or inode and path where the devices differ, as on btrfs). */
const SELF = "/proc/self/exe";

/**
 * The clean read-only mappings of this process's executable: none written, swapped or anonymous, and none
 * writable (a page of a writable private mapping could be written by another thread between the look and the
 * madvise, and DONTNEED would lose that write).
 */
function cleanMappingsOfSelf(): Mapping[] {
  const self = fileIdentity(SELF);
  return mappingsOf(readFileSync("/proc/self/smaps", "utf8")).filter(
    (m) => isMappingOf(m, self) && !m.written && !m.writable,
  );
}

function inExecutable(): boolean {
  const sea = process.getBuiltinModule?.("node:sea") as typeof import("node:sea") | undefined;
  return sea?.isSea() === true && !("reason" in libc());
}

/** `release` at most once, in the executable only; 0 when it did not run, and nothing lost when it throws. */
function once(release: () => bigint): () => number {
  let done = false;
  return () => {
    if (done || !inExecutable()) return 0;
    done = true;
    try {
      return Number(release());
    } catch {
      return 0; // the pages stay where they were
    }
  };
}

/**
 * Drops the SEA blob's pages from the agent's mapping (once; later calls do nothing). Returns the bytes given
 * up, or 0 when there was nothing to do (not the executable, no libc functions, no such note or mapping).
 */
export const releaseStartPages: () => number = once(() => {
  const blob = seaBlobInFile(SELF);
  let advised = 0n;
  for (const mapping of blob ? cleanMappingsOfSelf() : []) {
    const pages = pagesOf(mapping, blob as { offset: number; size: number });
    if (pages) advised += advise(pages);
  }
  return advised;
});

/**
 * Drops the resident pages of the executable's read-only segments from the agent's mapping (once; later calls
 * do nothing), skipping any mapping with a written, swapped or anonymous page. Returns the bytes of the mappings
 * advised (their resident part is what leaves the RSS), 0 when there was nothing to do.
 */
export const releaseExecutablePages: () => number = once(() => {
  const ranges = readOnlySegments(SELF);
  let advised = 0n;
  for (const mapping of cleanMappingsOfSelf()) {
    // A mapping is made for one segment (its last page may reach into the next one's alignment gap).
    if (!ranges.some((range) => mapping.offset >= range.offset && mapping.offset < range.offset + range.size))
      continue;
    advised += advise({ address: mapping.from, length: mapping.to - mapping.from });
  }
  return advised;
});
