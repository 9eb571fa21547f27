/**
 * `idem forget KEY`: removes a key's record so that the next plan with that key runs (for example a
 * run-once-ever plan answered with 304 OutcomeUnknown, once an operator has checked the VM). It owns the data dir
 * while it works (SPEC 5.5): with the agent running it is refused, naming the agent's PID. A key with a queued or
 * running execution is refused too.
 */
import { IdemError } from "../errors.ts";
import * as machine from "../journal/record.ts";
import type { Command } from "./command.ts";
import { withOwnedJournal } from "./owned_journal.ts";

/** What `idem forget` removed: the record's state, attempts, last plan ID and result code (SPEC 5.1). */
export interface Forgotten {
  key: string;
  state: machine.RecordState;
  policy: string;
  attempts: number;
  lastPlanId: string;
  /** ErrorCode of the stored result; null when the key never finished an execution. */
  errorCode: number | null;
}

/**
 * Removes the key's record; resolves with what was removed, or undefined when the key had no record. Throws
 * IdemError(2) while a plan of the key is queued or running, or the data dir is owned by the agent.
 */
export function forgetKey(dataDir: string, key: string): Promise<Forgotten | undefined> {
  return withOwnedJournal(dataDir, "forget", async (journal) => {
    let removed: Forgotten | undefined;
    await journal.commit((tx) => {
      const record = journal.record(key);
      if (!record) return;
      if (machine.forget(record) !== undefined) return;
      tx.removeRecord(key);
      removed = {
        key,
        state: record.state,
        policy: record.policy,
        attempts: record.attempts,
        lastPlanId: record.lastPlanId,
        errorCode: record.result?.errorCode ?? null,
      };
    });
    return removed;
  });
}

/** The line `idem forget` prints for what it removed. */
export function forgottenText(removed: Forgotten): string {
  const code = removed.errorCode === null ? "none" : String(removed.errorCode);
  return `forgot key ${JSON.stringify(removed.key)}: it was ${removed.state} (policy ${removed.policy}, ${removed.attempts} attempt(s), last plan ${removed.lastPlanId}, result code ${code})`;
}

const string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export const forgetCommand: Command = {
  name: "forget",
  summary: 'let a key run again (e.g. after "304 OutcomeUnknown")',
  usage: `Usage: idem forget [--data-dir DIR] KEY

Remove KEY's record from the journal so that the next plan with that key runs (e.g. a run-once-ever
plan answered "304 OutcomeUnknown", once you have checked the VM). Not while the agent runs on that
data dir (refused, naming its PID), nor for a key with a queued or running plan.

  --data-dir DIR   the agent's data dir (IDEM_DATA_DIR; default ./idem-data)
  -h, --help       this text

Exit: 0 removed; 1 no record for KEY; 2 usage error, no journal there, or the data dir is in use.`,
  options: { "data-dir": { type: "string" } },
  allowPositionals: true,
  async run({ values, positionals, env, out }) {
    if (positionals.length !== 1)
      throw new IdemError(2, "Cannot forget: give exactly one key (idem forget KEY)");
    const key = positionals[0] as string;
    const dataDir = string(values["data-dir"]) ?? env.IDEM_DATA_DIR ?? "./idem-data";
    const found = await forgetKey(dataDir, key);
    out(found ? `${forgottenText(found)}\n` : `no record for key ${JSON.stringify(key)}\n`);
    return found ? 0 : 1;
  },
};
