/**
 * Removing work directories (workdir.ts makes them): after a run, and at start-up those a killed agent left.
 * A plan's own small tree synchronously (0.3 ms of CPU instead of 0.8 ms with `fs.promises.rm`, measured), a
 * bigger one by `rm -rf` in a child process, so that a script's big checkout never blocks the agent; a folder of
 * the scripts' user (`runAs`) emptied with that user's rights ({@link removeAsOwner}).
 */
import { lstatSync, readdirSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCommand } from "./script_runner.ts";

/** The name prefix of the spare work directory (workdir.ts): not a run's yet, so start-up removes it uncounted. */
export const SPARE_PREFIX = "spare-";

/**
 * Removes work directory `path` (never throws; true when it is gone). The folders in it that belong to another
 * user (the scripts', `runAs`; looked for when `othersInside`) are emptied as that user first
 * ({@link removeAsOwner}); the rest is the agent's: a small tree at once ({@link removeSmallTree}), the rest by
 * `rm -rf` ({@link removeBigTree}). A folder of another user that cannot be emptied keeps the whole work dir (never removed by
 * the agent: a path swapped inside it mid-removal could make the agent delete anything). A work dir that is
 * another user's itself (made before 2026-11-30, left by a killed agent) is removed as that user.
 */
export async function removeWorkDir(path: string, othersInside: boolean): Promise<boolean> {
  const agent = process.getuid?.();
  const ownerOf = (at: string) => {
    const stat = lstatSync(at, { throwIfNoEntry: false });
    return stat?.isDirectory() && agent !== undefined && stat.uid !== agent
      ? { uid: stat.uid, gid: stat.gid }
      : undefined;
  };
  const gone = () => lstatSync(path, { throwIfNoEntry: false }) === undefined;
  try {
    const owner = ownerOf(path);
    if (owner) {
      await removeAsOwner(path, owner);
      return gone();
    }
    if (othersInside) {
      // The work dir is the agent's and nobody else may change it: its entries are what the agent made.
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const folder = join(path, entry.name);
        const user = ownerOf(folder);
        if (user && !(await removeAsOwner(folder, user))) return false;
      }
    }
  } catch {
    return gone(); // the work dir is not there (or cannot be listed: then it stays)
  }
  if (!removeSmallTree(path)) await removeBigTree(path);
  return gone();
}

/**
 * Removes a tree of the agent's beyond the synchronous budget: by `rm -rf` in a child process (coreutils' rm never
 * follows a link), as `fs.promises.rm` of Node 24 holds the event loop for long stretches of a big tree (50,000
 * files: 1.3 s in all, the loop stopped for up to 509 ms, measured); by `fs.promises.rm` where there is no `rm`.
 */
async function removeBigTree(path: string): Promise<void> {
  const removed = await runCommand(["rm", "-rf", "--", path], { output: false }).then(
    (result) => result.exitCode === 0,
    () => false,
  );
  if (!removed) await rm(path, { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
}

/**
 * Removes the work directories in `workRoot` (`run-*`) as they are now: listed before this returns, removed one
 * after another in the background (each as after a run: {@link removeWorkDir}), each tried whatever the others
 * did; resolves with how many were removed and the paths left. For start-up, after the orphans of an earlier
 * process are dead and before this process starts an execution (recovery.ts): a crash mid-run leaves its
 * execution's directory behind, with the plan's files in it, and a directory made after the listing is never
 * touched.
 */
export function removeLeftoverWorkDirs(workRoot: string): Promise<{ removed: number; failed: string[] }> {
  let all: string[];
  try {
    all = readdirSync(workRoot);
  } catch {
    return Promise.resolve({ removed: 0, failed: [] }); // no work root yet
  }
  const names = all.filter((name) => name.startsWith("run-"));
  // An empty spare (workdir.ts) no run had taken yet: removed, not counted; one that cannot be is left.
  for (const name of all) {
    if (!name.startsWith(SPARE_PREFIX)) continue;
    try {
      rmSync(join(workRoot, name), { recursive: true, force: true });
    } catch {
      // left for the next start; the runs' leftovers are removed all the same
    }
  }
  return (async () => {
    const failed: string[] = [];
    for (const name of names) {
      const path = join(workRoot, name);
      if (!(await removeWorkDir(path, true))) failed.push(path);
    }
    return { removed: names.length - failed.length, failed };
  })();
}

/** How long a removal as the scripts' user may take before its processes are killed (what is left stays). */
export const OWNER_REMOVAL_TIMEOUT_MS = 60_000;

/**
 * Removes folder `path`, which belongs to the scripts' user (`runAs`, SPEC 9a least privilege): its contents with
 * that user's rights, by `find . -mindepth 1 -delete` started in it as that user (find never follows a link),
 * then the folder itself, which the agent removes once it is empty (its parent is the agent's: the user cannot
 * have swapped it). Whatever the scripts left there — links anywhere, a process of theirs still swapping a
 * folder for a link while it is removed — the removal reaches nothing that user could not remove itself;
 * removed by the agent (root), it could reach anything. Bounded by `timeoutMs` (a process of that user may stop
 * find): then find's group is killed. Never throws; true when the folder is gone. What the user cannot remove
 * stays, with the folder (the caller has nothing to do about it).
 */
export async function removeAsOwner(
  path: string,
  owner: { uid: number; gid: number },
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  await runCommand(["find", ".", "-mindepth", "1", "-delete"], {
    cwd: path,
    user: owner,
    timeoutMs: options.timeoutMs ?? OWNER_REMOVAL_TIMEOUT_MS,
    // Ends with find's exit: a process of the user that attached to find (ptrace) could start one that keeps
    // pipes open for good.
    output: false,
  }).catch(() => {});
  try {
    rmdirSync(path);
  } catch {
    // not empty (what the user could not remove), or gone
  }
  return lstatSync(path, { throwIfNoEntry: false }) === undefined;
}

/**
 * One entry of a work directory, in the order it was made (workdir.ts records them when the agent owns it all): a
 * folder (rmdir) or anything else, a file or a link (unlink).
 */
export type MadeEntry = { folder: boolean; path: string };

/**
 * Removes a work directory whose every entry the agent made and knows (`made`, in making order; then `path`
 * itself) with one unlink or rmdir each — 5 calls for a one-file script instead of ~19 for the walk — when it is
 * still exactly that tree. True when `path` is gone. False as soon as it is not (a script added, removed or
 * replaced something: an rmdir finds the folder not empty, an unlink finds a folder): what is left is for
 * {@link removeWorkDir}. A folder is checked to be a folder (not a link a script put in its place) before
 * anything inside it is unlinked by path. Only for a work dir without `runAs`: scripts then run with the agent's
 * own rights, and a tree of the scripts' user is never touched by path (removeAsOwner).
 */
export function removeMadeTree(path: string, made: readonly MadeEntry[]): boolean {
  // As many calls as the walk would make at once at most: a bigger tree is the walk's (and rm -rf's).
  if (made.length > SYNC_REMOVAL_ENTRIES) return false;
  try {
    if (!lstatSync(path).isDirectory()) return false;
    // A folder is checked once; a process the script left could swap it after that, but it runs with the agent's
    // own rights (no runAs here): it gains nothing it did not have.
    const checked = new Set<string>([path]);
    for (let i = made.length - 1; i >= 0; i--) {
      const entry = made[i] as MadeEntry;
      const parent = dirname(entry.path);
      if (!checked.has(parent)) {
        if (!lstatSync(parent).isDirectory()) return false;
        checked.add(parent);
      }
      if (entry.folder) rmdirSync(entry.path);
      else unlinkSync(entry.path);
    }
    rmdirSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Entries a work directory's removal deletes synchronously before it hands the rest to the thread pool. */
export const SYNC_REMOVAL_ENTRIES = 256;

/**
 * A folder whose size (`st_size`) is above this is not listed synchronously. ext4, xfs, btrfs and tmpfs grow a
 * folder's size with its entries (ext4: 4 KiB up to ~100 entries, 60 KiB for 3000): 16 KiB is a few hundred of
 * them. A filesystem that reports a fixed size gets no such guard.
 */
const MAX_SYNC_LISTING_BYTES = 16 * 1024;

/**
 * Removes directory `path` and everything below it (links themselves, never their targets) synchronously, as
 * long as it holds at most {@link SYNC_REMOVAL_ENTRIES} entries. True when `path` is gone; false when the tree
 * was bigger or an entry could not be removed (what is left is for {@link removeBigTree}).
 */
export function removeSmallTree(path: string): boolean {
  let budget = SYNC_REMOVAL_ENTRIES;
  const removeDir = (dir: string): boolean => {
    // Checked right before it is listed: a folder swapped for a link since its parent was listed is not followed
    // (the rest is rm -rf's, which does not follow links either), and a folder too big to list at once is
    // not listed here (readdirSync returns the whole listing before the budget can stop it: a flat folder of 400k
    // entries blocked the event loop for 440 ms, measured).
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.size > MAX_SYNC_LISTING_BYTES) return false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (--budget < 0) return false;
      const child = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!removeDir(child)) return false;
      } else unlinkSync(child);
    }
    rmdirSync(dir);
    return true;
  };
  try {
    return removeDir(path);
  } catch {
    return false;
  }
}
