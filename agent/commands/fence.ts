/**
 * `idem fence --generation N`: sets the journal's generation high-water mark by hand (SPEC 5.5, 10), up or down —
 * the way out when a plan raised it by mistake in adopt mode, or to fence a VM before its first plan. It owns
 * the data dir while it works: with the agent running it is refused, naming the agent's PID.
 */
import { Journal } from "../journal/journal.ts";
import { acquireOwnership } from "../journal/owner.ts";

/** Sets the high-water mark to `generation`; resolves with the mark it replaced. */
export async function fenceGeneration(dataDir: string, generation: number): Promise<number> {
  const ownership = await acquireOwnership(dataDir, "fence");
  try {
    const journal = Journal.open(dataDir, { create: false });
    try {
      const before = journal.highWater();
      await journal.commit((tx) => tx.setHighWater(generation));
      return before;
    } finally {
      await journal.close();
    }
  } finally {
    await ownership.release();
  }
}
