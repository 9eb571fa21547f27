/**
 * The journal's files, for the tests of SPEC 5.5: where they are, the damage a disk or an operator can do to
 * them, a copy of a whole data dir (`cp -a`, as a disk image or a backup carries it), the folders start-up set
 * aside, and the one-shot commands (`idem forget`, `idem fence`) as child processes.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function journalDir(dataDir: string): string {
  return join(dataDir, "journal");
}

export function dataFile(dataDir: string): string {
  return join(dataDir, "journal", "data.mdb");
}

export function lockFile(dataDir: string): string {
  return join(dataDir, "journal", "lock.mdb");
}

/** Damage done to a stopped agent's journal; each returns nothing and leaves the files for the agent to find. */
export const damage = {
  /** `data.mdb` of 0 bytes. */
  empty(dataDir: string): void {
    truncateSync(dataFile(dataDir), 0);
  },
  /** `data.mdb` cut to `bytes`, or to half its size. */
  truncate(dataDir: string, bytes?: number): void {
    truncateSync(dataFile(dataDir), bytes ?? Math.floor(statSync(dataFile(dataDir)).size / 2));
  },
  /** The first `bytes` of `data.mdb` overwritten with zeros (8 KiB: both header pages). */
  zeroStart(dataDir: string, bytes: number): void {
    overwrite(dataFile(dataDir), Buffer.alloc(bytes));
  },
  /** All of `data.mdb` overwritten with random bytes, its size kept. */
  garbage(dataDir: string): void {
    overwrite(dataFile(dataDir), randomBytes(statSync(dataFile(dataDir)).size));
  },
  /** `lock.mdb` overwritten with random bytes, its size kept. */
  garbageLock(dataDir: string): void {
    overwrite(lockFile(dataDir), randomBytes(statSync(lockFile(dataDir)).size));
  },
};

function overwrite(file: string, bytes: Buffer): void {
  const content = readFileSync(file);
  bytes.copy(content, 0, 0, Math.min(bytes.length, content.length));
  writeFileSync(file, content);
}

/** Copies a whole data dir as `cp -a` does (modes, times), as a disk image or a restored backup would. */
export function copyDataDir(from: string, to: string): void {
  execFileSync("cp", ["-a", from, to]);
}

/** The folders start-up set aside in `dataDir` for `reason` (`journal.<reason>.<time>`), full paths, sorted. */
export function setAsideFolders(dataDir: string, reason: "other-instance" | "reset"): string[] {
  return readdirSync(dataDir)
    .filter((name) => name.startsWith(`journal.${reason}.`))
    .sort()
    .map((name) => join(dataDir, name));
}
