/**
 * Taking the journal at start-up (SPEC 5.5), in this order, touching nothing before the first step succeeds:
 * 1. own the data dir (`owner.ts`): a second agent on it stops here, exit 2, naming the owner's PID;
 * 2. on `--reset-journal`, set the journal aside (kept, renamed) and begin a new one;
 * 3. check its files and open it (`precheck.ts`): a damaged journal is refused, never replaced silently;
 * 4. compare the VM identity it records with this VM's (`identity.ts`): another VM's journal (a clone) is set
 *    aside and a new one begins, with a warning.
 *
 * A new journal is made under a marker file (`journal/creating`), removed once its first commit (the VM's
 * identity) is durable. A start that died while making it (a full disk, a kill) leaves the marker, and the next
 * start makes it again, instead of refusing the half-made files as a damaged journal: they never held a plan.
 * It is made only with at least {@link MIN_FREE_BYTES} free on its disk, and its lock file is written out in full
 * before LMDB maps it: a full disk is then a refusal that says so, never a signal. (Measured, lmdb 3.5 on a full
 * tmpfs: a sparse lock file dies by SIGBUS when LMDB first writes to it; a data file that cannot take its two
 * header pages dies by SIGSEGV; a few pages more and LMDB fails with ENOSPC or EIO.)
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, ErrorCode, IdemError } from "../errors.ts";
import { privateDir } from "../private_files.ts";
import { instanceIdentity } from "./identity.ts";
import { Journal } from "./journal.ts";
import { acquireOwnership, type Ownership } from "./owner.ts";
import { CREATING_MARKER, checkJournalFiles } from "./precheck.ts";
import { setAside } from "./set_aside.ts";

export interface TakenJournal {
  journal: Journal;
  ownership: Ownership;
  /** This VM's identity; undefined when this boot cannot tell (`identity.ts`), and the journal was not judged. */
  instanceId: string | undefined;
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
  /** Scripts run as another user (`runAs`): the data dir is made 0711, passable (private_files.ts). */
  passable?: boolean;
}

/** The marker of a journal being made, inside its folder. */
const CREATING = CREATING_MARKER;
/** Bytes written to a new lock file: more than LMDB's for its default 126 readers (8272), in whole pages. */
const LOCK_BYTES = 16384;
/** LMDB's codes for a file it cannot make sense of: MDB_PAGE_NOTFOUND … MDB_INVALID. */
const LMDB_DAMAGE = new Set([-30797, -30796, -30795, -30794, -30793]);
/** The least free space a new journal is made with: its lock file and first pages, and room to take plans. */
const MIN_FREE_BYTES = 1024 * 1024;
/** A disk that is full, as Node (`ENOSPC`) and LMDB (errno 28, 122) say it. */
const NO_SPACE = new Set<string | number>(["ENOSPC", "EDQUOT", 28, 122]);

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
  let journal: Journal | undefined;
  try {
    // The journal holds plan parameters and script output: the data dir is the agent's alone (SPEC 9a).
    privateDir(dataDir, { what: "data dir", ...(options.passable ? { passable: true } : {}) });
    const aside: TakenJournal["setAside"] = [];
    if (options.reset) {
      const path = setAside(dataDir, "reset");
      if (path) aside.push({ reason: "reset", path });
    }
    const identity = instanceIdentity(options.instanceId);
    journal = openJournal(dataDir);
    const recorded = journal.instance();
    if (identity.id !== undefined && recorded !== undefined && recorded !== identity.id) {
      // Another VM's journal is set aside only when a new one can be made: the warning is not lost to a full disk.
      ensureRoom(dataDir);
      await journal.close();
      journal = undefined;
      const path = setAside(dataDir, "other-instance");
      if (path) aside.push({ reason: "other-instance", path, instance: recorded });
      journal = openJournal(dataDir);
    }
    const opened = journal;
    const id = identity.id;
    try {
      if (id !== undefined && opened.instance() !== id) await opened.commit((tx) => tx.setInstance(id));
      // A new journal's first commit, also when this boot cannot tell the VM's identity.
      else if (journalUnfinished(dataDir)) await opened.commit((tx) => tx.setHighWater(opened.highWater()));
    } catch (cause) {
      throw failure(opened.path, cause, { doing: "write" });
    }
    finishCreation(opened.path);
    return { journal: opened, ownership, instanceId: id, setAside: aside };
  } catch (error) {
    await journal?.close().catch(() => {});
    await ownership.release();
    throw error;
  }
}

/** True when `<dataDir>/journal` is a journal whose making did not finish: it holds nothing yet. */
export function journalUnfinished(dataDir: string): boolean {
  return existsSync(join(dataDir, "journal", CREATING));
}

/** Opens the journal, making a new one (marker, lock file) when there is none or its making did not finish. */
function openJournal(dataDir: string): Journal {
  const path = join(dataDir, "journal");
  try {
    if (existsSync(join(path, CREATING))) rmSync(path, { recursive: true, force: true });
    // Damage first: a journal folder that is a file must be refused as damaged, not "made" over.
    checkJournalFiles(path);
    if (!existsSync(join(path, "data.mdb"))) {
      ensureRoom(dataDir);
      mkdirSync(path, { recursive: true, mode: 0o700 });
      writeDurably(join(path, CREATING), "");
      writeFileSync(join(path, "lock.mdb"), Buffer.alloc(LOCK_BYTES), { mode: 0o600 });
      syncFolder(path);
      syncFolder(dataDir);
    }
  } catch (cause) {
    throw failure(path, cause, { doing: "create" });
  }
  try {
    return Journal.open(dataDir);
  } catch (error) {
    throw failure(path, error, { original: error });
  }
}

/** Throws IdemError(2) when the disk of `dataDir` has less than {@link MIN_FREE_BYTES} free for a new journal. */
function ensureRoom(dataDir: string): void {
  const { bavail, bsize } = statfsSync(dataDir);
  if (bavail * bsize >= MIN_FREE_BYTES) return;
  throw new IdemError(
    ErrorCode.InvalidPlan,
    `Cannot create the journal in ${join(dataDir, "journal")}: no space left on the disk (${bavail * bsize} bytes free, a new journal needs ${MIN_FREE_BYTES}). Free some space on its file system and start again`,
  );
}

/** The journal's first commit is durable: it is no longer being made. */
function finishCreation(path: string): void {
  const marker = join(path, CREATING);
  if (!existsSync(marker)) return;
  try {
    unlinkSync(marker);
    syncFolder(path);
  } catch (cause) {
    throw failure(path, cause, { doing: "create" });
  }
}

/**
 * The IdemError(2) for a journal that cannot be made, opened or written at start: a full disk and LMDB's
 * "damaged" codes say what to do; anything else is `original` when given (a precheck's refusal), else described.
 */
function failure(
  path: string,
  cause: unknown,
  options: { doing?: "create" | "open" | "write"; original?: unknown } = {},
): unknown {
  const doing = options.doing ?? "open";
  const code = codeOf(cause);
  if (code !== undefined && NO_SPACE.has(code)) {
    return new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot ${doing} the journal in ${path}: no space left on the disk (${typeof code === "number" ? `errno ${code}` : code}). Free some space on its file system and start again`,
      { cause },
    );
  }
  if (typeof code === "number" && LMDB_DAMAGE.has(code)) {
    return new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot open the journal in ${path}: LMDB finds it damaged (${describe(cause)}). It is not replaced by itself, as it may hold what this VM already ran: restore it from a backup, or start with --reset-journal to set it aside (kept, renamed) and begin a new one`,
      { cause },
    );
  }
  if (options.original !== undefined) return options.original;
  if (cause instanceof IdemError) return cause;
  return new IdemError(ErrorCode.InvalidPlan, `Cannot ${doing} the journal in ${path}: ${describe(cause)}`, {
    cause,
  });
}

/** The first errno-style code along `error`'s causes (`ENOSPC`, an LMDB code), skipping IdemError's result codes. */
function codeOf(error: unknown): string | number | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Object; depth++) {
    if (!(current instanceof IdemError)) {
      const { code, errno } = current as { code?: unknown; errno?: unknown };
      const found = code ?? errno;
      if (typeof found === "string" || typeof found === "number") return found;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function writeDurably(file: string, text: string): void {
  const fd = openSync(file, "w", 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncFolder(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
