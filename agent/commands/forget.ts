/**
 * `idem forget KEY`: removes a key's record so that the next plan with that key runs (for example a
 * run-once-ever plan answered with 304 OutcomeUnknown, once an operator has checked the VM). It owns the data dir
 * while it works (SPEC 5.5): with the agent running it is refused, naming the agent's PID. A key with a queued or
 * running execution is refused too.
 */
import { join } from "node:path";
import { ErrorCode, IdemError } from "../errors.ts";
import { Journal } from "../journal/journal.ts";
import { acquireOwnership } from "../journal/owner.ts";
import * as machine from "../journal/record.ts";
import { journalUnfinished } from "../journal/take.ts";

/** Resolves true when the key had a record (now removed), false when it had none. */
export async function forgetKey(dataDir: string, key: string): Promise<boolean> {
  const ownership = await acquireOwnership(dataDir, "forget");
  try {
    if (journalUnfinished(dataDir)) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot find a journal in ${join(dataDir, "journal")}: its making did not finish (the agent makes it at its next start)`,
      );
    }
    const journal = Journal.open(dataDir, { create: false });
    try {
      let found = false;
      await journal.commit((tx) => {
        const record = journal.record(key);
        if (!record) return;
        found = true;
        if (machine.forget(record) === undefined) tx.removeRecord(key);
      });
      return found;
    } finally {
      await journal.close();
    }
  } finally {
    await ownership.release();
  }
}
