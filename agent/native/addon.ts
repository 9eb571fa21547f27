/**
 * Where idem's native addons come from once the agent is bundled: lmdb's (the journal, lmdb_addon.ts) and koffi's
 * (libc's posix_spawn for scripts, posix_spawn.ts). Each is described by an {@link AddonSpec}.
 *
 * From the sources, each is found in node_modules and nothing of the checks below runs. In the bundles, an addon is
 * taken from, in this order:
 *
 * 1. its environment variable (`IDEM_LMDB_ADDON`, `IDEM_KOFFI_ADDON`): an explicit `.node` file;
 * 2. in the single executable, its embedded asset (`lmdb.node`, `koffi.node`), written once to the cache folder as
 *    `<sha256>.node` (temp file + rename, so concurrent starts are safe) and loaded from there — only from a
 *    folder of the agent's user that nobody else may write to, and only once the file's content hashes to the
 *    SHA-256 built into the executable (a file planted under that name is replaced, never loaded);
 * 3. in the ESM bundle, the file of that name beside the bundle (build.mjs copies it there), also checked against
 *    the SHA-256 built in.
 *
 * In the executable a checked file is loaded through `/proc/self/fd/N` of the descriptor that was hashed: nothing
 * can swap it in between.
 *
 * The cache folder is `IDEM_CACHE_DIR`, else the folder given to {@link setNativeCacheDir}
 * (the agent passes `<data dir>/cache`), else `$IDEM_DATA_DIR/cache`, else `./idem-data/cache`.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IdemError } from "../errors.ts";
import { formatLine } from "../log.ts";
import { privateDir } from "../private_files.ts";

/** Set by build.mjs: "esm" in dist/idem.mjs, "sea" in the executable; undefined when running the sources. */
declare const __IDEM_TARGET__: string | undefined;

/** The code the agent's start-up errors use (see agent/policies.ts). */
const START_ERROR = 2;

/** One native addon the bundles carry. */
export interface AddonSpec {
  /** What it is, for messages: "lmdb", "koffi". */
  name: string;
  /** The SEA asset's name, also the file's name beside the ESM bundle: "lmdb.node". */
  file: string;
  /** The variable that names an explicit `.node` file: "IDEM_LMDB_ADDON". */
  envVar: string;
  /** SHA-256 (hex) of the addon the build carries (build.mjs); undefined when running the sources. */
  digest: string | undefined;
  /** What to point `envVar` at, for messages: "lmdb's node.napi.glibc.node". */
  npmFile: string;
}

/** Where an addon was loaded from, for the start-up log. */
export interface NativeAddonOrigin {
  source: "node_modules" | "env" | "sea" | "bundle";
  path: string;
}

const WRITE_FAILURES: Record<string, string> = {
  EROFS: "is on a read-only filesystem (EROFS)",
  EACCES: "is not writable by this user (EACCES)",
  EPERM: "is not writable by this user (EPERM)",
  ENOSPC: "is on a full filesystem (ENOSPC)",
  ENOTDIR: "is not a folder (ENOTDIR)",
  EEXIST: "is not a folder (EEXIST)",
};

let explicitCacheDir: string | undefined;
const loaded = new Map<string, { exports: Record<string, unknown>; origin: NativeAddonOrigin }>();

/** How the running code was built: "source", "esm" (dist/idem.mjs) or "sea" (dist/idem). */
export function buildTarget(): "source" | "esm" | "sea" {
  const target = typeof __IDEM_TARGET__ === "undefined" ? undefined : __IDEM_TARGET__;
  return target === "esm" || target === "sea" ? target : "source";
}

/** Sets the cache folder used when `IDEM_CACHE_DIR` is not set. Call it before the journal opens. */
export function setNativeCacheDir(dir: string): void {
  explicitCacheDir = resolve(dir);
}

/** The folder the executable writes its native addons to (see the module comment for the order). */
export function nativeCacheDir(): string {
  const fromEnv = process.env.IDEM_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  if (explicitCacheDir) return explicitCacheDir;
  return resolve(process.env.IDEM_DATA_DIR || "./idem-data", "cache");
}

/**
 * The addon's exports, loaded on the first call (the bundles only: from the sources, import the npm package).
 * Throws IdemError(2) with a message that says which folder and what to set.
 */
export function loadAddon(spec: AddonSpec): Record<string, unknown> {
  const done = loaded.get(spec.name);
  if (done) return done.exports;
  const override = process.env[spec.envVar];
  let origin: NativeAddonOrigin;
  let verified: Verified | undefined;
  if (override) origin = { source: "env", path: resolve(override) };
  else if (buildTarget() === "sea") {
    verified = extractAsset(spec, nativeCacheDir());
    origin = { source: "sea", path: verified.path };
  } else {
    origin = { source: "bundle", path: join(dirname(fileURLToPath(import.meta.url)), spec.file) };
    verified = verifyBesideBundle(spec, origin.path);
  }
  try {
    loaded.set(spec.name, { exports: dlopen(spec, origin, verified?.loadPath ?? origin.path), origin });
  } catch (error) {
    if (verified?.fd !== undefined) closeSync(verified.fd);
    throw error;
  }
  // A loaded addon's descriptor stays open for the process's life: glibc's dlopen knows a library by the name it
  // was opened with, and `/proc/self/fd/N` of a closed N could name the next addon, which would then get this
  // one's exports.
  return loadAddon(spec);
}

/** Where the addon was loaded from, once it is. */
export function addonOrigin(spec: AddonSpec): NativeAddonOrigin | undefined {
  return loaded.get(spec.name)?.origin;
}

/**
 * A file whose content was checked: `loadPath` is what to dlopen — `/proc/self/fd/N` of the very file that was
 * hashed (`fd`, kept open once loaded), so that nothing can swap it between the check and the load.
 */
interface Verified {
  path: string;
  loadPath: string;
  fd?: number;
}

function dlopen(spec: AddonSpec, origin: NativeAddonOrigin, loadPath: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  try {
    process.dlopen(module, loadPath);
  } catch (cause) {
    const reason = (cause as Error).message;
    if (origin.source === "sea" && /failed to map segment|operation not permitted/i.test(reason)) {
      const dir = dirname(origin.path);
      throw new IdemError(
        START_ERROR,
        `Cannot load the ${spec.name} native addon from ${origin.path} as its folder ${dir} does not allow executable code ` +
          `(mounted noexec?): set IDEM_CACHE_DIR to a folder on a filesystem mounted without noexec`,
        { cause },
      );
    }
    const hint =
      origin.source === "env"
        ? `check ${spec.envVar}`
        : origin.source === "bundle"
          ? `rebuild with \`node build.mjs\` or set ${spec.envVar} to ${spec.npmFile}`
          : "delete the file to have it written again, or set IDEM_CACHE_DIR";
    throw new IdemError(
      START_ERROR,
      `Cannot load the ${spec.name} native addon from ${origin.path}: ${reason}; ${hint}`,
      {
        cause,
      },
    );
  }
  return module.exports;
}

/**
 * The embedded addon, from the cache folder (SPEC 9a). The folder must belong to the agent's user and be writable
 * by nobody else (else refused: a file planted there would run as the agent's user). A cached `<sha256>.node` is
 * loaded only when it is a regular file of the agent's user, writable by nobody else, whose content hashes to the
 * digest built into this executable; any other file under that name is replaced by the embedded one (temp file +
 * rename, so agents starting together are safe), with a warning.
 */
function extractAsset(spec: AddonSpec, dir: string): Verified {
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea");
  // The asset is a view of the executable's mapped blob: read only when the cached file must be written (or no
  // digest is built in). Its pages leave the agent's RSS once it is online (start_pages.ts).
  const asset = (): Uint8Array => new Uint8Array(sea.getRawAsset(spec.file));
  const digest = spec.digest ?? createHash("sha256").update(asset()).digest("hex");
  privateDir(dir, {
    what: "cache folder of the native addons",
    refuseWritable: true,
    allowReadOnly: true,
    advice:
      "set IDEM_CACHE_DIR to a folder that only the agent's user can write to, on a filesystem mounted without noexec (default: <data dir>/cache)",
  });
  const file = join(dir, `${digest}.node`);
  const found = openVerified(file, digest);
  if (found.kind === "ok") return found.verified;
  if (found.kind === "bad") {
    process.stderr.write(
      `${formatLine("warn", "native-addon-replaced", {
        path: file,
        reason: found.reason,
        message:
          "the cached file is not the addon this executable carries: it is not loaded, the embedded one is written in its place",
      })}\n`,
    );
  }
  const data = asset();
  if (createHash("sha256").update(data).digest("hex") !== digest) {
    throw new IdemError(
      START_ERROR,
      `Cannot load the ${spec.name} native addon as the copy this executable carries is damaged (its SHA-256 is not the one built in): reinstall the executable`,
    );
  }
  // Written through a descriptor of its own and loaded through it (/proc/self/fd): the bytes loaded are the ones
  // just written, whatever is renamed meanwhile. Not fsync'ed: a file a crash left torn fails its check at the
  // next start and is written again (above).
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx+", 0o600);
    // Every byte, or an error: a short write (a file size limit, a disk that fills) must never reach dlopen.
    for (let written = 0; written < data.length; ) {
      const wrote = writeSync(fd, data, written, data.length - written);
      if (wrote <= 0) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
      written += wrote;
    }
    renameSync(temp, file);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code ?? "";
    const why = WRITE_FAILURES[code] ?? `cannot be written to (${(cause as Error).message})`;
    const bad = found.kind === "bad" ? ` (the file there, ${file}, is refused: ${found.reason})` : "";
    throw new IdemError(
      START_ERROR,
      `Cannot write the ${spec.name} native addon to the cache folder ${dir} as it ${why}${bad}: ` +
        "set IDEM_CACHE_DIR to a writable folder on a filesystem mounted without noexec (default: <data dir>/cache)",
      { cause },
    );
  }
  const loadPath = existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : file;
  return { path: file, loadPath, fd };
}

/** The addon beside the ESM bundle, loaded only when its content is the one the bundle was built with. */
function verifyBesideBundle(spec: AddonSpec, path: string): Verified | undefined {
  const digest = spec.digest;
  if (digest === undefined) return undefined;
  // Loaded by its path: it is as trusted as the bundle beside it (and Deno refuses /proc/self/fd without --allow-all).
  const found = openVerified(path, digest, { anyOwner: true, byPath: true });
  if (found.kind === "ok") return found.verified;
  throw new IdemError(
    START_ERROR,
    `Cannot load the ${spec.name} native addon from ${path} as ${found.kind === "bad" ? found.reason : "it does not exist"}: rebuild with \`node build.mjs\` or set ${spec.envVar} to ${spec.npmFile}`,
  );
}

type Opened = { kind: "ok"; verified: Verified } | { kind: "missing" } | { kind: "bad"; reason: string };

/**
 * Opens `file` (not following a symbolic link) and checks it: a regular file, of the agent's user and writable by
 * nobody else (unless `anyOwner`: then only not writable by others), whose SHA-256 is `digest`.
 */
function openVerified(
  file: string,
  digest: string,
  options: { anyOwner?: boolean; byPath?: boolean } = {},
): Opened {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing" };
    if (code === "ELOOP") return { kind: "bad", reason: "it is a symbolic link" };
    return { kind: "bad", reason: `it cannot be read (${(error as Error).message})` };
  }
  const reason = problemOf(fd, digest, options);
  if (reason !== undefined) {
    closeSync(fd);
    return { kind: "bad", reason };
  }
  const loadPath = !options.byPath && existsSync(`/proc/self/fd/${fd}`) ? `/proc/self/fd/${fd}` : file;
  return { kind: "ok", verified: { path: file, loadPath, fd } };
}

function problemOf(fd: number, digest: string, options: { anyOwner?: boolean }): string | undefined {
  const stat = fstatSync(fd);
  if (!stat.isFile()) return "it is not a regular file";
  const euid = process.geteuid?.();
  if (!options.anyOwner && euid !== undefined && stat.uid !== euid) {
    return `it belongs to uid ${stat.uid}, not to the agent's user (uid ${euid})`;
  }
  const writable = options.anyOwner ? 0o002 : 0o022;
  if ((stat.mode & writable) !== 0) {
    return `others may write to it (mode 0${(stat.mode & 0o777).toString(8)})`;
  }
  const hash = createHash("sha256").update(readFileSync(fd)).digest("hex");
  if (hash !== digest) return `its content (sha256 ${hash}) is not the addon built in (sha256 ${digest})`;
  return undefined;
}
