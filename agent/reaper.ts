/**
 * Finds and kills scripts left running by an earlier agent process of the same journal.
 *
 * Every script runs with `IDEM_JOURNAL=<journal path>` in its environment (inherited by its children), so at
 * start-up — when this agent runs nothing yet — every process carrying our journal's mark is an orphan. Its
 * whole process group is killed, and start-up waits until they are gone: an interrupted plan is never run
 * again while its first run is still alive. Linux /proc only; elsewhere nothing is found.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";

/** One scan's read buffer: reused for every `environ` (one open, reads, one close, no string made), grown as needed. */
interface Scratch {
  buffer: Buffer;
}

/**
 * Whether `/proc/<pid>/environ` holds `entry` (`\0`-framed: a whole `NAME=value` entry, not a part of one),
 * its bytes as the process has them (a journal path that is not ASCII is matched as its UTF-8 bytes).
 * @throws when the file cannot be opened or read (the process ended, or is not ours to read).
 */
function environHas(pid: number, entry: Buffer, scratch: Scratch): boolean {
  const fd = openSync(`/proc/${pid}/environ`, "r");
  try {
    // scratch[0] is a \0 before the first entry; the read bytes follow; a \0 closes the last entry.
    let length = 1;
    for (;;) {
      if (length + 1 >= scratch.buffer.length) {
        const grown = Buffer.allocUnsafe(scratch.buffer.length * 2);
        scratch.buffer.copy(grown, 0, 0, length);
        scratch.buffer = grown;
      }
      const read = readSync(fd, scratch.buffer, length, scratch.buffer.length - length - 1, null);
      if (read <= 0) break;
      length += read;
    }
    const bytes = scratch.buffer;
    bytes[0] = 0;
    bytes[length] = 0;
    return bytes.subarray(0, length + 1).includes(entry);
  } finally {
    closeSync(fd);
  }
}

function marked(journalPath: string): Map<number, number> {
  const entry = Buffer.from(`\0IDEM_JOURNAL=${journalPath}\0`);
  // Dropped with the scan: a process with a huge environment must not leave the agent holding a huge buffer.
  const scratch: Scratch = { buffer: Buffer.allocUnsafe(16 * 1024) };
  const found = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return found;
  }
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      if (!environHas(pid, entry, scratch)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue;
      found.set(pid, Number(fields[2]));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // Already gone.
  }
}

/** Kills every process (and its group) marked with `journalPath`; resolves with their count once all are gone. */
export async function reapOrphans(
  journalPath: string,
  options: { timeoutMs?: number } = {},
): Promise<number> {
  const orphans = marked(journalPath);
  if (orphans.size === 0) return 0;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const alive = marked(journalPath);
    if (alive.size === 0) return orphans.size;
    for (const [pid, pgid] of alive) {
      orphans.set(pid, pgid);
      if (pgid > 1) signal(-pgid, "SIGKILL");
      signal(pid, "SIGKILL");
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Cannot start: processes ${[...alive.keys()].join(", ")} of an earlier run survive SIGKILL`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
