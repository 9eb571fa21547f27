/**
 * `idem forget KEY`: removes a key's record so that the next plan with that key runs (for example a
 * run-once-ever plan answered with 304 OutcomeUnknown, once an operator has checked the VM). LMDB allows this
 * while the agent runs; a key with a queued or running execution is refused.
 */
import { Journal } from "./journal/journal.ts";
import * as machine from "./journal/record.ts";

export async function forgetKey(dataDir: string, key: string): Promise<boolean> {
  const journal = Journal.open(dataDir);
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
}
