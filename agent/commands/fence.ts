/**
 * `idem fence --generation N`: sets the journal's generation high-water mark by hand (SPEC 5.5, 10), up or down —
 * the way out when a plan raised it by mistake in adopt mode, or to fence a VM before its first plan. It owns
 * the data dir while it works: with the agent running it is refused, naming the agent's PID.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import type { Command } from "./command.ts";
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

export const fenceCommand: Command = {
  name: "fence",
  summary: "set the VM's generation high-water mark",
  usage: `Usage: idem fence [--data-dir DIR] --generation N

Set the journal's generation high-water mark to N, up or down (SPEC 5.5): the way out when a plan raised
it by mistake in adopt mode, or to fence a VM before its first plan. Not while the agent runs on that
data dir (refused, naming its PID).

  --data-dir DIR     the agent's data dir (IDEM_DATA_DIR; default ./idem-data)
  --generation N     a whole number >= 0
  -h, --help         this text

Exit: 0 set (prints the old and new mark); 2 usage error, no journal there, or the data dir is in use.`,
  options: { "data-dir": { type: "string" }, generation: { type: "string" } },
  allowPositionals: false,
  async run({ values, env, out }) {
    const text = typeof values.generation === "string" ? values.generation : undefined;
    if (text === undefined) throw new IdemError(2, "Cannot fence: give --generation N (a whole number >= 0)");
    if (!/^\d+$/.test(text))
      throw new IdemError(2, `Cannot use --generation ${text}: give a whole number >= 0`);
    const dataDir =
      (typeof values["data-dir"] === "string" ? values["data-dir"] : undefined) ??
      env.IDEM_DATA_DIR ??
      "./idem-data";
    const generation = Number(text);
    const before = await fenceGeneration(dataDir, generation);
    out(`generation high-water mark of ${dataDir}: ${before} -> ${generation}\n`);
    return 0;
  },
};
