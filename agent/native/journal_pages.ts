/**
 * Gives back the pages of the journal's memory map that the agent's reads brought into its RSS (issue 11: RSS flat
 * over a long run; docs/benchmarks.md, "Session 9"). lmdb maps `data.mdb` read-only and shared (lmdb-js without
 * `useWritemap`: commits write with pwrite), and each read of a record faults the page it reads into the agent's
 * RSS, so the RSS grew with the journal (63 → 89 MB over 10,000 plans while the anonymous memory stayed flat).
 * `madvise(MADV_DONTNEED)` on a shared mapping of a file only drops its pages from the agent's page tables: they
 * stay in the page cache, the next read of one faults it back in (a minor fault) and every address stays valid,
 * so nothing lmdb holds is affected. Only shared mappings of `data.mdb` itself are advised (mappings.ts
 * `isMappingOf`).
 *
 * Linux with libc's functions only (libc.ts); elsewhere it does nothing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { libc } from "./libc.ts";
import { advise, fileIdentity, isMappingOf, mappingsOf } from "./mappings.ts";

/** lmdb's data file in a journal folder. */
const DATA_FILE = "data.mdb";

/**
 * Drops the resident pages of the journal in `journalDir` from the agent's mappings; returns the bytes of the
 * mappings advised (their resident part is what leaves the RSS), 0 when there was nothing to do or it failed
 * (the pages then stay: nothing is lost either way). Reads /proc/self/maps: ≈ 0.2 ms.
 */
export function releaseJournalPages(journalDir: string): number {
  if (process.platform !== "linux" || "reason" in libc()) return 0;
  try {
    const file = fileIdentity(join(journalDir, DATA_FILE));
    let advised = 0n;
    for (const mapping of mappingsOf(readFileSync("/proc/self/maps", "utf8"))) {
      if (!mapping.shared || !isMappingOf(mapping, file)) continue;
      advised += advise({ address: mapping.from, length: mapping.to - mapping.from });
    }
    return Number(advised);
  } catch {
    return 0;
  }
}
