/**
 * Where lmdb's native addon comes from once the agent is bundled.
 *
 * From the sources, lmdb finds its addon in node_modules itself and nothing here runs. In the bundles, build.mjs
 * replaces lmdb's own loader (node-gyp-build-optional-packages, which cannot find the addon from `dist/`) with
 * {@link loadLmdbAddon}, and defers lmdb's initialisation to the first `open()`, so that the cache folder is
 * known by then. The addon is taken from, in this order:
 *
 * 1. `IDEM_LMDB_ADDON`: an explicit `.node` file;
 * 2. in the single executable, its embedded asset `lmdb.node`, written once to the cache folder as
 *    `<sha256>.node` (temp file + rename, so concurrent starts are safe) and loaded from there;
 * 3. in the ESM bundle, `lmdb.node` beside the bundle (build.mjs copies it there).
 *
 * The cache folder is `IDEM_CACHE_DIR`, else the folder given to {@link setNativeCacheDir}
 * (the agent passes `<data dir>/cache`), else `$IDEM_DATA_DIR/cache`, else `./idem-data/cache`.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IdemError } from "../errors.ts";

/** Set by build.mjs: "esm" in dist/idem.mjs, "sea" in the executable; undefined when running the sources. */
declare const __IDEM_TARGET__: string | undefined;
/** Set by build.mjs: SHA-256 of the embedded addon, so that a start does not hash 2 MB. */
declare const __IDEM_LMDB_SHA256__: string | undefined;

const ASSET = "lmdb.node";
const BESIDE_BUNDLE = "lmdb.node";
/** The code the agent's start-up errors use (see agent/policies.ts). */
const START_ERROR = 2;

/** Where the addon was loaded from, for the start-up log. */
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
let loaded: { exports: Record<string, unknown>; origin: NativeAddonOrigin } | undefined;

/** How the running code was built: "source", "esm" (dist/idem.mjs) or "sea" (dist/idem). */
export function buildTarget(): "source" | "esm" | "sea" {
  const target = typeof __IDEM_TARGET__ === "undefined" ? undefined : __IDEM_TARGET__;
  return target === "esm" || target === "sea" ? target : "source";
}

/** Sets the cache folder used when `IDEM_CACHE_DIR` is not set. Call it before the journal opens. */
export function setNativeCacheDir(dir: string): void {
  explicitCacheDir = resolve(dir);
}

/** The folder the executable writes its native addon to (see the module comment for the order). */
export function nativeCacheDir(): string {
  const fromEnv = process.env.IDEM_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  if (explicitCacheDir) return explicitCacheDir;
  return resolve(process.env.IDEM_DATA_DIR || "./idem-data", "cache");
}

/**
 * Loads the addon now, so that a bad cache folder is reported at start rather than at the first write.
 * A no-op when running the sources. Throws IdemError with a message that says which folder and what to set.
 */
export function prepareNativeAddon(options: { cacheDir?: string } = {}): NativeAddonOrigin {
  if (options.cacheDir !== undefined) setNativeCacheDir(options.cacheDir);
  if (buildTarget() === "source") return { source: "node_modules", path: "lmdb" };
  loadLmdbAddon();
  return (loaded as NonNullable<typeof loaded>).origin;
}

/** The loader build.mjs puts in place of lmdb's; returns the addon's exports. */
export function loadLmdbAddon(): Record<string, unknown> {
  if (loaded) return loaded.exports;
  const override = process.env.IDEM_LMDB_ADDON;
  let origin: NativeAddonOrigin;
  if (override) origin = { source: "env", path: resolve(override) };
  else if (buildTarget() === "sea") origin = { source: "sea", path: extractAsset(nativeCacheDir()) };
  else origin = { source: "bundle", path: join(dirname(fileURLToPath(import.meta.url)), BESIDE_BUNDLE) };
  loaded = { exports: dlopen(origin), origin };
  return loaded.exports;
}

function dlopen(origin: NativeAddonOrigin): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  try {
    process.dlopen(module, origin.path);
  } catch (cause) {
    const reason = (cause as Error).message;
    if (origin.source === "sea" && /failed to map segment|operation not permitted/i.test(reason)) {
      const dir = dirname(origin.path);
      throw new IdemError(
        START_ERROR,
        `Cannot load the lmdb native addon from ${origin.path} as its folder ${dir} does not allow executable code ` +
          `(mounted noexec?): set IDEM_CACHE_DIR to a folder on a filesystem mounted without noexec`,
        { cause },
      );
    }
    const hint =
      origin.source === "env"
        ? "check IDEM_LMDB_ADDON"
        : origin.source === "bundle"
          ? "rebuild with `node build.mjs` or set IDEM_LMDB_ADDON to lmdb's node.napi.glibc.node"
          : "delete the file to have it written again, or set IDEM_CACHE_DIR";
    throw new IdemError(
      START_ERROR,
      `Cannot load the lmdb native addon from ${origin.path}: ${reason}; ${hint}`,
      {
        cause,
      },
    );
  }
  return module.exports;
}

/** Writes the embedded addon to `dir` unless an identical copy is already there; returns its path. */
function extractAsset(dir: string): string {
  const sea = process.getBuiltinModule("node:sea") as typeof import("node:sea");
  const asset = new Uint8Array(sea.getAsset(ASSET));
  const digest =
    typeof __IDEM_LMDB_SHA256__ === "string"
      ? __IDEM_LMDB_SHA256__
      : createHash("sha256").update(asset).digest("hex");
  const file = join(dir, `${digest}.node`);
  const existing = sizeOf(file);
  if (existing === asset.byteLength) return file;

  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(temp, "wx", 0o644);
    try {
      writeSync(fd, asset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (cause) {
    rmSync(temp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code ?? "";
    const why = WRITE_FAILURES[code] ?? `cannot be written to (${(cause as Error).message})`;
    throw new IdemError(
      START_ERROR,
      `Cannot write the lmdb native addon to the cache folder ${dir} as it ${why}: ` +
        "set IDEM_CACHE_DIR to a writable folder on a filesystem mounted without noexec (default: <data dir>/cache)",
      { cause },
    );
  }
  return file;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}
