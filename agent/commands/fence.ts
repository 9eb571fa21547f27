/**
 * `idem fence --generation N`: sets the journal's generation high-water mark by hand (SPEC 5.5, 10), up or down —
 * the way out when a plan raised it by mistake in adopt mode, or to fence a VM before its first plan. It owns
 * the data dir while it works: with the agent running it is refused, naming the agent's PID.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import { withOwnedJournal } from "./owned_journal.ts";

/**
 * Sets the high-water mark to `generation`; resolves with the mark it replaced. Throws IdemError(2), touching
 * nothing, for a generation that is not a whole number a plan could carry (0 … 2^53 − 1), a data dir without a
 * journal, or one another process owns.
 */
export async function fenceGeneration(dataDir: string, generation: number): Promise<number> {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot fence at generation ${generation}: give a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  return withOwnedJournal(dataDir, "fence", async (journal) => {
    const before = journal.highWater();
    await journal.commit((tx) => tx.setHighWater(generation));
    return before;
  });
}
