/**
 * `idem forget KEY`: removes a key's record so that the next plan with that key runs (for example a
 * run-once-ever plan answered with 304 OutcomeUnknown, once an operator has checked the VM). LMDB allows this
 * while the agent runs; a key with a queued or running execution is refused.
 */
import { IdemError } from "./errors.ts";
import { Journal } from "./journal/journal.ts";

export async function forgetKey(dataDir: string, key: string): Promise<boolean> {
  const journal = Journal.open(dataDir);
  try {
    const record = journal.record(key);
    if (!record) return false;
    if (record.state === "accepted" || record.state === "running") {
      throw new IdemError(2, `Cannot forget key "${key}" while it is ${record.state}: wait for it to end`);
    }
    await journal.commit((tx) => tx.removeRecord(key));
    return true;
  } finally {
    await journal.close();
  }
}
