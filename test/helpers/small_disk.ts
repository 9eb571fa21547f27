/**
 * A small disk for full-disk tests: a tmpfs of its own (mounting needs root; CI runs as root), a filler file
 * that takes every free block, and removing it to give the space back. And a reader that holds a journal's
 * snapshot, so that every later commit must grow the journal's file instead of reusing freed pages.
 */
import { execFileSync } from "node:child_process";
import { closeSync, fstatSync, ftruncateSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { makeTempDir, removeDir } from "./agent_process.ts";

/** True when this process may mount a tmpfs. */
export const CAN_MOUNT: boolean = process.getuid?.() === 0;

export interface SmallDisk {
  /** The mount point. */
  readonly dir: string;
  /**
   * Takes every free block (writes zeros until ENOSPC), then gives back `leaveBytes` (rounded up to whole
   * 4 KiB pages; default 0) so that exactly that much can still be written.
   */
  fill(options?: { leaveBytes?: number }): void;
  /** Gives all the space back. */
  free(): void;
}

export interface SmallDiskOptions {
  /** Size of the tmpfs. Default 6 MiB. */
  sizeBytes?: number;
}

/**
 * Mounts a fresh tmpfs in a folder of its own (never inside a scene's folder, which is removed while the mount
 * may still be busy) and registers its unmount with `hooks.after`.
 */
export async function mountSmallDisk(
  hooks: { after(fn: () => Promise<void>): void },
  options: SmallDiskOptions = {},
): Promise<SmallDisk> {
  const dir = await makeTempDir("small-disk");
  const size = options.sizeBytes ?? 6 * 1024 * 1024;
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
  hooks.after(async () => {
    // Lazy: an agent killed a moment ago may still hold files open there.
    execFileSync("umount", ["-l", dir]);
    await removeDir(dir);
  });
  const filler = join(dir, "filler");
  return {
    dir,
    fill(fillOptions = {}) {
      const fd = openSync(filler, "w");
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      }
      try {
        // The file system counts whole pages: a partly written last page is taken all the same.
        const page = 4096;
        const taken = Math.ceil(fstatSync(fd).size / page) * page;
        const leave = Math.ceil((fillOptions.leaveBytes ?? 0) / page) * page;
        if (leave > taken)
          throw new Error(`Cannot leave ${leave} bytes free as the filler only took ${taken}`);
        if (leave > 0) ftruncateSync(fd, taken - leave);
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
  };
}

/**
 * Opens a read transaction on the LMDB journal in `journalDir` (from this process, as any other reader would)
 * and holds it until the test ends. LMDB reuses a freed page only once no reader's snapshot can still see it:
 * from now on every commit needs new pages at the end of the file, however small it is. Without this, whether
 * a small commit (an outbox entry's removal, say) needs the disk depends on what earlier commits freed.
 */
export function holdJournalSnapshot(
  hooks: { after(fn: () => Promise<void>): void },
  journalDir: string,
): void {
  const env = open({ path: journalDir, readOnly: true });
  const transaction = env.useReadTransaction();
  env.get("snapshot", { transaction }); // the transaction is live once something is read through it
  hooks.after(async () => {
    transaction.done();
    await env.close();
  });
}
