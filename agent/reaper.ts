/**
 * Finds and kills scripts left running by an earlier agent process of the same journal.
 *
 * Every script runs with `IDEM_JOURNAL=<journal path>` in its environment (inherited by its children), so at
 * start-up — when this agent runs nothing yet — every process carrying our journal's mark is an orphan. Its
 * whole process group is killed, and start-up waits until they are gone: an interrupted plan is never run
 * again while its first run is still alive. Linux /proc only; elsewhere nothing is found.
 */
import { readdirSync, readFileSync } from "node:fs";

function marked(journalPath: string): Map<number, number> {
  const mark = `IDEM_JOURNAL=${journalPath}`;
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
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      if (!environ.includes(mark)) continue;
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
