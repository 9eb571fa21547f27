/**
 * Small helpers of the journal's commit tests (test/journal/deferred.test.ts, batch_follower.test.ts): temp data
 * dirs removed after the file's tests, a reply to put in the outbox, and the outbox read back after reopening.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";

/** A maker of fresh data dirs named `<prefix>…` in the temp dir, all removed once the file's tests are done. */
export function tempDataDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** An outbox entry for the results topic of agent `vm`. */
export const reply = (payload: string) => ({ topic: "idem/vm/results", payload });

/** The payloads left in the outbox of the journal in `dir`, read after reopening it. */
export async function outboxAfterReopen(dir: string): Promise<string[]> {
  const journal = Journal.open(dir);
  try {
    return journal.outbox().map((entry) => entry.payload);
  } finally {
    await journal.close();
  }
}
