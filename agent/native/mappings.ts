/**
 * The memory mappings of this process as /proc tells them, and `madvise(MADV_DONTNEED)` on some of them: what
 * `start_pages.ts` (the executable's pages) and `journal_pages.ts` (the journal's memory map) give back with.
 * Linux only; {@link advise} does nothing without libc's functions (libc.ts).
 */
import { realpathSync, statSync } from "node:fs";
import { libc } from "./libc.ts";

const MADV_DONTNEED = 4;
const PAGE = 4096;

/** One mapping of /proc/self/smaps (or maps): its addresses, the file it maps (device, inode, path) and where,
 * whether it is shared, and whether any page of it was written. */
export interface Mapping {
  from: bigint;
  to: bigint;
  offset: number;
  /** `major:minor` in hex, as maps writes it. */
  device: string;
  inode: number;
  path: string;
  /** Mapped shared (`s` in its permissions): a file's pages, never a private copy of them. */
  shared: boolean;
  /** Mapped writable (`w` in its permissions): a page of it may be written any time, by any thread. */
  writable: boolean;
  /** Private_Dirty, Anonymous or Swap pages (smaps only): dropping them would lose what was written. */
  written: boolean;
}

/** The mappings of a /proc/PID/smaps (or maps) text. */
export function mappingsOf(smaps: string): Mapping[] {
  const found: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of smaps.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/.exec(line);
    if (head) {
      current = {
        from: BigInt(`0x${head[1]}`),
        to: BigInt(`0x${head[2]}`),
        offset: Number.parseInt(head[4] as string, 16),
        device: head[5] as string,
        inode: Number(head[6]),
        path: head[7] ?? "",
        shared: (head[3] as string)[3] === "s",
        writable: (head[3] as string)[1] === "w",
        written: false,
      };
      found.push(current);
      continue;
    }
    const field = /^(Private_Dirty|Anonymous|Swap):\s+(\d+) kB/.exec(line);
    if (field && current && Number(field[2]) > 0) current.written = true;
  }
  return found;
}

/** The whole pages of the file range `range` that `mapping` maps, or undefined when none. */
export function pagesOf(
  mapping: Mapping,
  range: { offset: number; size: number },
): { address: bigint; length: bigint } | undefined {
  const start = BigInt(Math.max(range.offset, mapping.offset));
  const end = BigInt(Math.min(range.offset + range.size, mapping.offset + Number(mapping.to - mapping.from)));
  const page = BigInt(PAGE);
  const base = mapping.from - BigInt(mapping.offset);
  const first = ((base + start + page - 1n) / page) * page;
  const last = ((base + end) / page) * page;
  return last > first ? { address: first, length: last - first } : undefined;
}

/** What tells a file's mappings in /proc/PID/maps: {@link fileIdentity}. */
export interface FileIdentity {
  /** `stat`'s device, `major:minor` in hex as maps writes it. */
  device: string;
  inode: number;
  /**
   * The file's path with every link resolved, as maps writes it (the kernel's path of the open file); undefined
   * when it cannot be resolved. Resolved on first use only: where the devices match it is never needed.
   */
  readonly path: string | undefined;
}

/**
 * The device, inode and resolved path of `path` (followed if a link, `/proc/self/exe` included): how a mapping of
 * that very file is recognised ({@link isMappingOf}). `path` is undefined when it cannot be resolved (a deleted
 * executable: maps then names it "… (deleted)").
 */
export function fileIdentity(path: string): FileIdentity {
  const stat = statSync(path);
  // Linux's dev_t: major in bits 8–19 (and 32+), minor in bits 0–7 (and 20–31); maps writes them in hex.
  const dev = BigInt(stat.dev);
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  let resolved: { path: string | undefined } | undefined;
  return {
    device: `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}`,
    inode: Number(stat.ino),
    get path() {
      if (resolved === undefined) {
        try {
          resolved = { path: realpathSync(path) };
        } catch {
          resolved = { path: undefined };
        }
      }
      return resolved.path;
    },
  };
}

/**
 * Whether `mapping` maps `file`: the same inode, and the same device or, where they differ, the same path. maps
 * writes the device of the file system's superblock, `stat` the file's own: on btrfs every subvolume has a
 * device of its own (`stat` 00:29, maps 00:28 for the same file), so the device alone never matched there and
 * nothing was given back (Fedora's default file system). The path settles it: maps writes the kernel's path of the
 * mapped file, which is what resolving the file's path gives while it is in place.
 */
export function isMappingOf(mapping: Mapping, file: FileIdentity): boolean {
  if (mapping.inode !== file.inode) return false;
  return mapping.device === file.device || (file.path !== undefined && mapping.path === file.path);
}

/** `madvise(MADV_DONTNEED)` on `pages`; the bytes advised, 0 when it failed or libc's functions are missing. */
export function advise(pages: { address: bigint; length: bigint }): bigint {
  const bound = libc();
  if ("reason" in bound) return 0n;
  return bound.functions.madvise(pages.address, pages.length, MADV_DONTNEED) === 0 ? pages.length : 0n;
}
