/**
 * lmdb's native addon (the journal) in the bundles: build.mjs replaces lmdb's own loader
 * (node-gyp-build-optional-packages, which cannot find the addon from `dist/`) with {@link loadLmdbAddon}, and
 * defers lmdb's initialisation to the first `open()`, so that the cache folder is known by then (addon.ts: where
 * the addon comes from, and how it is checked). From the sources lmdb finds its addon in node_modules itself.
 */
import {
  type AddonSpec,
  addonOrigin,
  buildTarget,
  loadAddon,
  type NativeAddonOrigin,
  setNativeCacheDir,
} from "./addon.ts";

/** Set by build.mjs: SHA-256 of the embedded addon, so that a start does not hash it. */
declare const __IDEM_LMDB_SHA256__: string | undefined;

const LMDB: AddonSpec = {
  name: "lmdb",
  file: "lmdb.node",
  envVar: "IDEM_LMDB_ADDON",
  digest: typeof __IDEM_LMDB_SHA256__ === "string" ? __IDEM_LMDB_SHA256__ : undefined,
  npmFile: "lmdb's node.napi.glibc.node",
};

/**
 * Loads the addon now, so that a bad cache folder is reported at start rather than at the first write.
 * A no-op when running the sources. Throws IdemError with a message that says which folder and what to set.
 */
export function prepareNativeAddon(options: { cacheDir?: string } = {}): NativeAddonOrigin {
  if (options.cacheDir !== undefined) setNativeCacheDir(options.cacheDir);
  if (buildTarget() === "source") return { source: "node_modules", path: "lmdb" };
  loadLmdbAddon();
  return addonOrigin(LMDB) as NativeAddonOrigin;
}

/** The loader build.mjs puts in place of lmdb's; returns the addon's exports. */
export function loadLmdbAddon(): Record<string, unknown> {
  return loadAddon(LMDB);
}
