/**
 * Taking the journal at start-up (SPEC 5.5), in this order, touching nothing before the first step succeeds:
 * 1. own the data dir (`owner.ts`): a second agent on it stops here, exit 2, naming the owner's PID;
 * 2. on `--reset-journal`, set the journal aside (kept, renamed) and begin a new one;
 * 3. check its files and open it (`precheck.ts`): a damaged journal is refused, never replaced silently;
 * 4. compare the VM identity it records with this VM's (`identity.ts`): another VM's journal (a clone) is set
 *    aside and a new one begins, with a warning.
 */
import { mkdirSync } from "node:fs";
import { describe, ErrorCode, IdemError } from "../errors.ts";
import { instanceIdentity } from "./identity.ts";
import { Journal } from "./journal.ts";
import { acquireOwnership, type Ownership } from "./owner.ts";
import { setAside } from "./set_aside.ts";

export interface TakenJournal {
  journal: Journal;
  ownership: Ownership;
  instanceId: string;
  /** What start-up did to earlier journals, for the log and the events. */
  setAside: Array<{ reason: "reset" | "other-instance"; path: string; instance?: string }>;
}

export interface TakeOptions {
  /** The `instanceId` setting (else cloud-init's instance-id, else /etc/machine-id). */
  instanceId?: string;
  /** `--reset-journal`: set the journal aside before opening. */
  reset?: boolean;
  /** Who takes it ("run", "forget", "fence"): told to a second process. Default "run". */
  command?: string;
}

/** Takes `<dataDir>/journal` for this process. Throws IdemError(2) with what to do when it cannot. */
export async function takeJournal(dataDir: string, options: TakeOptions = {}): Promise<TakenJournal> {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot create data dir ${dataDir}: ${describe(cause)}`, {
      cause,
    });
  }
  const ownership = await acquireOwnership(dataDir, options.command ?? "run");
  try {
    const aside: TakenJournal["setAside"] = [];
    if (options.reset) {
      const path = setAside(dataDir, "reset");
      if (path) aside.push({ reason: "reset", path });
    }
    const identity = instanceIdentity(options.instanceId);
    let journal = Journal.open(dataDir);
    const recorded = journal.instance();
    if (recorded !== undefined && recorded !== identity.id) {
      await journal.close();
      const path = setAside(dataDir, "other-instance");
      if (path) aside.push({ reason: "other-instance", path, instance: recorded });
      journal = Journal.open(dataDir);
    }
    if (journal.instance() !== identity.id) await journal.commit((tx) => tx.setInstance(identity.id));
    return { journal, ownership, instanceId: identity.id, setAside: aside };
  } catch (error) {
    await ownership.release();
    throw error;
  }
}
