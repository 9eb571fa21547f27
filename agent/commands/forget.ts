/**
 * `idem forget KEY`: removes a key's record so that the next plan with that key runs (for example a
 * run-once-ever plan answered with 304 OutcomeUnknown, once an operator has checked the VM). It owns the data dir
 * while it works (SPEC 5.5): with the agent running it is refused, naming the agent's PID. A key with a queued or
 * running execution is refused too.
 */
import * as machine from "../journal/record.ts";
import { withOwnedJournal } from "./owned_journal.ts";

/** Resolves true when the key had a record (now removed), false when it had none. */
export function forgetKey(dataDir: string, key: string): Promise<boolean> {
  return withOwnedJournal(dataDir, "forget", async (journal) => {
    let found = false;
    await journal.commit((tx) => {
      const record = journal.record(key);
      if (!record) return;
      found = true;
      if (machine.forget(record) === undefined) tx.removeRecord(key);
    });
    return found;
  });
}
