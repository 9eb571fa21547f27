/**
 * What the operator commands (`forget`, `fence`) share: own the data dir (SPEC 5.5: refused, naming the PID,
 * while the agent or another command holds it), open its existing journal (never create one), do the work,
 * close and let go — also when the work throws.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, IdemError } from "../errors.ts";
import { Journal } from "../journal/journal.ts";
import { acquireOwnership } from "../journal/owner.ts";
import { journalUnfinished } from "../journal/take.ts";

/** Runs `work` on the journal of `dataDir` as command `command`; resolves with what `work` resolves with. */
export async function withOwnedJournal<T>(
  dataDir: string,
  command: string,
  work: (journal: Journal) => Promise<T>,
): Promise<T> {
  // Nothing to own where there is no journal: say so before the lock leaves anything in the folder.
  if (!existsSync(dataDir)) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot find data dir ${dataDir}: is --data-dir the agent's data dir?`,
    );
  }
  if (!existsSync(join(dataDir, "journal", "data.mdb"))) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot find a journal in ${join(dataDir, "journal")}: is --data-dir the agent's data dir?`,
    );
  }
  const ownership = await acquireOwnership(dataDir, command);
  try {
    if (journalUnfinished(dataDir)) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot find a journal in ${join(dataDir, "journal")}: its making did not finish (the agent makes it at its next start)`,
      );
    }
    const journal = Journal.open(dataDir, { create: false });
    try {
      return await work(journal);
    } finally {
      await journal.close();
    }
  } finally {
    await ownership.release();
  }
}
