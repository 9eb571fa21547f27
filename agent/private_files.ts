/**
 * Files at rest are the agent's alone (SPEC 9a): its folders (data dir, journal, work folders, the native addon's
 * cache) are mode 0700 and its journal files 0600, whatever the umask, also when they exist already — fixed with
 * chmod when they belong to the agent's user, refused (with what to do) when they belong to another user or
 * cannot be fixed. Plan parameters (passwords) and script output live in the journal: no other local user may
 * read them.
 */
import { chmodSync, mkdirSync, readFileSync, type Stats, statSync } from "node:fs";
import { describe, ErrorCode, IdemError } from "./errors.ts";

export interface PrivateDirOptions {
  /** What the folder is, for messages: "data dir", "journal folder", "work folder", "cache folder". */
  what: string;
  /** What the operator can do when it is refused; default: give it to the agent's user or choose another. */
  advice?: string;
  /**
   * Refuse a folder that group or others may write to, instead of fixing its mode: something may have been
   * planted in it already (the native addon's cache). Default false.
   */
  refuseWritable?: boolean;
  /** A folder on a read-only file system keeps its mode, when nobody else may write to it. Default false. */
  allowReadOnly?: boolean;
  /**
   * Mode 0711 instead of 0700: others may pass through it to what they know the name of (and may open), never
   * list or change it. For the data dir and the work root when scripts run as another user (`runAs`): a script's
   * shell resolves its own folder's absolute path (dash's `cd dir`, `$(pwd)/file`), which must be passable for
   * that user; what the data dir holds besides is 0700/0600. Without it, a 0711 folder is left as it is (an agent
   * with `runAs` made it so), anything more open is made 0700.
   */
  passable?: boolean;
}

/**
 * Makes `path` (created if missing, with its parents) a folder of mode 0700 (0711 with `passable`) owned by the
 * agent's user.
 */
export function privateDir(path: string, options: PrivateDirOptions): void {
  const { what } = options;
  const advice = options.advice ?? "give it to the agent's user (chown) or choose another folder";
  try {
    mkdirSync(path, { recursive: true, mode: options.passable ? 0o711 : 0o700 });
  } catch (cause) {
    const hint = options.advice === undefined ? "" : `: ${options.advice}`;
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot create the ${what} ${path}: ${describe(cause)}${hint}`,
      {
        cause,
      },
    );
  }
  const stat = statOf(path, what);
  if (!stat.isDirectory()) {
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot use the ${what} ${path} as it is not a folder`);
  }
  const euid = process.geteuid?.();
  if (euid === undefined) return;
  if (stat.uid !== euid) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot use the ${what} ${path} as it belongs to ${userName(stat.uid)}, not to the agent's user ${userName(euid)}: ${advice}`,
    );
  }
  const mode = stat.mode & 0o7777;
  const target = options.passable ? 0o711 : 0o700;
  if (mode === target || (!options.passable && mode === 0o711)) return;
  if (options.refuseWritable && (mode & 0o022) !== 0) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot use the ${what} ${path} as ${writers(mode)} may write to it (mode ${octal(mode)}), so what they plant there would run as the agent's user: ${advice}`,
    );
  }
  try {
    chmodSync(path, target);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (options.allowReadOnly && code === "EROFS" && (mode & 0o022) === 0) return;
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot make the ${what} ${path} private (mode ${octal(target)}, it is ${octal(mode)}) as ${describe(cause)}: ${advice}`,
      { cause },
    );
  }
}

/** Makes the existing file `path` mode 0600; refuses one that belongs to another user. */
export function privateFile(path: string, what: string): void {
  const stat = statOf(path, what);
  const euid = process.geteuid?.();
  if (euid === undefined) return;
  if (stat.uid !== euid) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot use the ${what} ${path} as it belongs to ${userName(stat.uid)}, not to the agent's user ${userName(euid)}: give it to the agent's user (chown)`,
    );
  }
  if ((stat.mode & 0o7777) === 0o600) return;
  try {
    chmodSync(path, 0o600);
  } catch (cause) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot make the ${what} ${path} private (mode 0600): ${describe(cause)}`,
      {
        cause,
      },
    );
  }
}

function statOf(path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (cause) {
    throw new IdemError(ErrorCode.InvalidPlan, `Cannot use the ${what} ${path}: ${describe(cause)}`, {
      cause,
    });
  }
}

/** `uid 1000 (alice)`, or `uid 1000` when the user database does not know it. */
export function userName(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const fields = line.split(":");
      if (fields[2] === String(uid)) return `uid ${uid} (${fields[0]})`;
    }
  } catch {
    // no /etc/passwd
  }
  return `uid ${uid}`;
}

function writers(mode: number): string {
  if (mode & 0o020 && mode & 0o002) return "its group and all other users";
  return mode & 0o002 ? "all other users" : "its group";
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
