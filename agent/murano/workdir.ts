/**
 * The work directory of one execution, laid out as murano-agent's FilesManager lays out its cache folder:
 *
 *   <dir>/<file id>                 the content of a Text/Base64 file (Base64 decoded to bytes)
 *   <dir>/<file id>/                a Downloadable file's folder (git clone, svn checkout or the downloaded file)
 *   <dir>/<script>/<Name>           a symlink to the above, for every file of the script and its entry point
 *
 * A script's files are placed the first time the script is called (murano-agent's `ScriptRunner._load`), support
 * files first, then the entry point. A `Scripts.*.Files` entry `{"<file id>": "<name>"}` places that file
 * under `<name>` instead of its own Name (murano-agent 10.0.0 accepts such entries in validation but crashes on
 * them at run time). The entry point is made `r-x------` before every run, as murano-agent does.
 *
 * The work root and every work directory are mode 0700 (`private_files.ts`). With `runAs` the work directory
 * stays the agent's (mode 0711: the user passes through, lists and changes nothing) and what is in it — stored
 * files, download folders, script folders — belongs to that user; the links are relative, so that the script
 * reaches its files from its own folder although the data dir above it is the agent's alone (the script is
 * started in its folder before it switches to its user, `script_runner.ts`). The agent (root) therefore never
 * works by path inside a folder of that user's, where a process of theirs (one an earlier script of the plan
 * left running) could swap a name for a link: it creates in its own folders (a script's folder and a download
 * folder are the agent's, mode 0700, until complete), gives the contents before their folder, and has that user's
 * folders emptied by that user.
 *
 * The small file operations (mkdtemp, mkdir, write, symlink, chmod, chown) are synchronous: each takes microseconds
 * on a local disk, while the same operation through the thread pool cost ~10× that in CPU (a hand-off, a wake-up
 * and a callback each; issue 11 measured ~25 of them per plan). Downloads stay asynchronous. Removal:
 * workdir_removal.ts.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { lchown, lstat, readdir } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { ErrorCode, IdemError } from "../errors.ts";
import { privateDir } from "../private_files.ts";
import { download } from "./download.ts";
import type { PlanFile, Script } from "./plan.ts";
import { type MadeEntry, removeMadeTree, removeWorkDir, SPARE_PREFIX } from "./workdir_removal.ts";

export type { PlanFile };

/** A plan script (already validated): what placing its files reads. */
export type PlanScript = Pick<Script, "EntryPoint" | "Files">;

export interface PlacedScript {
  /** Where the script's process starts: the entry point's folder, or with `runAs` the script's own folder. */
  cwd: string;
  /**
   * With `runAs`, the entry point's folder relative to `cwd` when it is below it (a Name with a folder): the
   * script's shell enters it as the user (script_runner.ts); the agent never changes into a folder of the user's.
   */
  subfolder?: string;
  /** The entry point's file name inside its folder. */
  entryPoint: string;
}

export interface WorkDir {
  readonly path: string;
  /** Places the script's files (once per script) and makes its entry point executable. */
  placeScript(name: string, script: PlanScript, options?: { signal?: AbortSignal }): Promise<PlacedScript>;
  /** Removes the directory and everything in it; never throws. */
  remove(): Promise<void>;
}

export interface WorkDirOptions {
  /** The user scripts run as (`runAs`): the directory and everything placed in it become theirs. */
  owner?: { uid: number; gid: number };
  /** The environment of git/svn for Downloadable files (the scripts', never the agent's own). */
  env?: Record<string, string>;
}

/**
 * Creates a fresh, empty work directory below `workRoot` (made mode 0700 too, 0711 with `owner`): mode 0700, or
 * with `owner` the agent's still but 0711, so that the user's scripts pass through it to their files and change
 * nothing in it.
 */
export async function createWorkDir(
  workRoot: string,
  files: Readonly<Record<string, PlanFile>>,
  options: WorkDirOptions = {},
): Promise<WorkDir> {
  const { owner } = options;
  const path = takeSpare(workRoot, owner !== undefined) ?? emptyWorkDir(workRoot, owner !== undefined);
  const stored = new Map<string, Promise<string>>();
  const placed = new Map<string, Promise<PlacedScript>>();
  // What the agent made here, in order, while it is all the agent knows is here (no runAs, no download, no
  // nested Name, no failed placement): removed entry by entry then (workdir_removal.ts removeMadeTree).
  let made: MadeEntry[] | undefined = owner ? undefined : [];

  const store = (id: string, signal: AbortSignal | undefined): Promise<string> => {
    let promise = stored.get(id);
    if (promise === undefined) {
      const file = fileOf(files, id);
      if ("Type" in file) made = undefined;
      promise = storeFile(path, id, file, { signal, env: options.env, owner });
      stored.set(id, promise);
      made?.push({ folder: false, path: join(path, id) });
    }
    return promise;
  };

  const place = async (folder: string, id: string, name: string, signal?: AbortSignal): Promise<string> => {
    const target = await store(id, signal);
    const link = join(folder, name);
    const linkFolder = dirname(link);
    if (linkFolder !== folder) {
      mkdirSync(linkFolder, { recursive: true });
      made = undefined;
    }
    if (!exists(link)) {
      symlinkSync(relative(linkFolder, target), link);
      made?.push({ folder: false, path: link });
    }
    return link;
  };

  // The script's folder is built as the agent's, mode 0700 (no process of the user can reach into it, even one an
  // earlier script of the plan left running), and given to the user once complete, its contents first.
  const placeAll = async (name: string, script: PlanScript, signal?: AbortSignal): Promise<PlacedScript> => {
    const folder = join(path, name);
    mkdirSync(folder, owner ? { mode: 0o700 } : {});
    made?.push({ folder: true, path: folder });
    try {
      for (const entry of script.Files ?? []) {
        if (typeof entry === "string") {
          await place(folder, entry, fileOf(files, entry).Name, signal);
        } else {
          const [id, rename] = Object.entries(entry)[0] ?? [];
          if (id === undefined) continue;
          await place(folder, id, typeof rename === "string" ? rename : fileOf(files, id).Name, signal);
        }
      }
      const entryPoint = await place(
        folder,
        script.EntryPoint,
        fileOf(files, script.EntryPoint).Name,
        signal,
      );
      if (owner) await giveTree(folder, owner);
      const subfolder = relative(folder, dirname(entryPoint));
      return owner && subfolder !== ""
        ? { cwd: folder, subfolder, entryPoint: basename(entryPoint) }
        : { cwd: dirname(entryPoint), entryPoint: basename(entryPoint) };
    } catch (error) {
      // Still the agent's alone (given last): removed so that the next call places it afresh.
      made = undefined;
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
  };

  return {
    path,
    async placeScript(name, script, options = {}) {
      let promise = placed.get(name);
      if (promise === undefined) {
        promise = placeAll(name, script, options.signal);
        placed.set(name, promise);
        // A failed placement is retried on the next call rather than remembered.
        promise.catch(() => placed.delete(name));
      }
      const result = await promise;
      const placedPath = join(result.cwd, result.subfolder ?? "", result.entryPoint);
      if (owner) makeExecutableAsOwner(placedPath, await store(script.EntryPoint, options.signal), owner);
      else chmodSync(placedPath, 0o500); // through the link, as murano-agent does
      return result;
    },
    async remove() {
      if (made && removeMadeTree(path, made)) return;
      await removeWorkDir(path, owner !== undefined);
    },
  };
}

/**
 * A new empty work directory `<prefix>XXXXXX` in `workRoot` (made private first): mode 0700, or 0711 when
 * `passable` (runAs).
 */
function emptyWorkDir(workRoot: string, passable: boolean, prefix = "run-"): string {
  privateDir(workRoot, { what: "work folder", ...(passable ? { passable: true } : {}) });
  const path = mkdtempSync(join(workRoot, prefix));
  try {
    chmodSync(path, passable ? 0o711 : 0o700);
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    throw error;
  }
  return path;
}

/**
 * The spare: one empty work directory made ahead of need ({@link prepareSpareWorkDir}) for the next
 * {@link createWorkDir} in the same root with the same mode, which renames it `run-*`: its root's check and its
 * three syscalls are then off the next plan's round trip (issue 11). The root was checked when the spare was made
 * (`privateDir`), moments before: a plan that takes it does not check it again. One per process;
 * {@link discardSpareWorkDir} removes it on the way out, start-up a spare a killed agent left (workdir_removal.ts).
 */
let spare: { root: string; passable: boolean; path: string } | undefined;

/**
 * Makes the spare work directory of `workRoot` if there is none: for a moment when the agent waits anyway (a
 * script running). Never throws: without a spare the next work directory is made as usual, and says why not.
 */
export function prepareSpareWorkDir(workRoot: string, options: Pick<WorkDirOptions, "owner"> = {}): void {
  const passable = options.owner !== undefined;
  if (spare?.root === workRoot && spare.passable === passable) return;
  discardSpareWorkDir();
  try {
    spare = { root: workRoot, passable, path: emptyWorkDir(workRoot, passable, SPARE_PREFIX) };
  } catch {
    // the next createWorkDir makes its own and reports what failed
  }
}

/**
 * Removes the spare work directory, if there is one (the agent stops). Never throws: a spare that cannot be
 * removed is left to the next start's removal of leftovers.
 */
export function discardSpareWorkDir(): void {
  const taken = spare;
  spare = undefined;
  if (taken) removeSpare(taken.path);
}

function removeSpare(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // left for the next start (workdir_removal.ts)
  }
}

/** The spare work directory of `workRoot` with that mode, renamed `run-*`; undefined if none (or it is gone). */
function takeSpare(workRoot: string, passable: boolean): string | undefined {
  const taken = spare;
  if (taken?.root !== workRoot || taken.passable !== passable) return undefined;
  spare = undefined;
  const path = join(workRoot, `run-${basename(taken.path).slice(SPARE_PREFIX.length)}`);
  try {
    // rename(2) would replace an empty folder of that name: only the agent makes folders here, and it is between
    // two of its own synchronous calls.
    if (exists(path)) throw new Error(`${path} exists`);
    renameSync(taken.path, path);
  } catch {
    // Gone (an operator emptied the work root), or the name taken: the work dir is made afresh.
    removeSpare(taken.path);
    return undefined;
  }
  return path;
}

function fileOf(files: Readonly<Record<string, PlanFile>>, id: string): PlanFile {
  const file = Object.hasOwn(files, id) ? files[id] : undefined;
  if (file === undefined) throw new IdemError(ErrorCode.InvalidPlan, `The plan has no file with id ${id}`);
  return file;
}

/**
 * Stores file `id` as `<dir>/<id>` (`dir` is the agent's): a Text/Base64 file written, a Downloadable file's folder
 * filled. With `owner` each is given to that user: the file through its descriptor as it is created, the folder
 * once filled (the agent's, mode 0700, until then: git and svn run as the agent, confined, download.ts).
 */
async function storeFile(
  dir: string,
  id: string,
  file: PlanFile,
  options: {
    signal?: AbortSignal | undefined;
    env?: Record<string, string> | undefined;
    owner?: { uid: number; gid: number } | undefined;
  },
): Promise<string> {
  const { owner } = options;
  const target = join(dir, id);
  if ("Type" in file) {
    mkdirSync(target, owner ? { mode: 0o700 } : {});
    // With runAs git and svn run as the agent, confined (download.ts): svn's configuration in a folder of the
    // agent's, in its work dir.
    const confined = owner ? { configDir: mkdtempSync(join(dir, ".svn-config-")) } : undefined;
    await download(file.URL, target, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(confined ? { confined } : {}),
    });
    if (owner) await giveTree(target, owner);
  } else {
    const bytes =
      file.BodyType === "Base64" ? Buffer.from(file.Body, "base64") : Buffer.from(file.Body, "utf8");
    const fd = openSync(target, "wx");
    try {
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      writeFileSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
  }
  return target;
}

/**
 * Makes a `runAs` script's entry point `r-x------` before a run without the agent (root) following a link of the
 * user's: the file at `placed` itself when it is a regular file of the user's (a script replaced its link with a
 * file: the user could chmod it too), else the stored file `stored` in the agent's folder, which the placed link
 * points at unless the user changed it (then it runs what the user's link points at, with the user's rights).
 * Nothing else is changed: not a file of another owner (a hard link to one), not what a link points at.
 */
function makeExecutableAsOwner(placed: string, stored: string, owner: { uid: number; gid: number }): void {
  let fd: number;
  try {
    fd = openSync(placed, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") chmodNoFollow(stored, 0o500);
    return; // gone: the run says so (sh: not found)
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.uid === owner.uid) fchmodSync(fd, 0o500);
  } finally {
    closeSync(fd);
  }
}

/**
 * `chmod` of `path` itself, refused (ELOOP) when it is a link; opened non-blocking, so that a FIFO put there
 * cannot hold the agent.
 */
function chmodNoFollow(path: string, mode: number): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/**
 * Gives `path` and everything below it (links themselves, not their targets) to `owner`, the contents before the
 * folder that holds them: `path` is the agent's until its own turn (mode 0700), so no process of that user can
 * change what is walked. Asynchronous (a checkout of 200,000 files took 2 s of lchown calls): the event loop goes on.
 */
async function giveTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  if ((await lstat(path)).isDirectory()) {
    for (const entry of await readdir(path)) await giveTree(join(path, entry), owner);
  }
  await lchown(path, owner.uid, owner.gid);
}

function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}
