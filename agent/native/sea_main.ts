/**
 * The single executable's main script (build.mjs bundles it alone, as CommonJS): it compiles the agent's bundle,
 * the executable's asset `idem.cjs` (the CommonJS bundle wrapped in its module function at build time), with V8's
 * code cache `idem.cache`, and runs it as a CommonJS module.
 *
 * Why not Node's own SEA code cache (`useCodeCache`): Node makes that one by compiling the bundle without running
 * it, so it holds the top-level code only and every function is compiled again at each start, when first called.
 * build.mjs makes `idem.cache` instead by a training run of the executable (a broker, plans, results: the
 * functions a start and a first plan call), written by this script at exit when `IDEM_BUILD_CODE_CACHE` names a
 * file (build time only). Measured: exec → first result −34..41 ms (docs/benchmarks.md, "Session 7").
 *
 * V8 takes a cache only from the same V8 with the same flags: a process started with other flags (the Body worker,
 * `--node-options=--cpu-prof`) compiles from the source, as it would without a cache; `IDEM_DEBUG_CODE_CACHE=1`
 * says on stderr whether the cache was taken.
 */
import { writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { getAsset, getRawAsset } from "node:sea";
import { constants, Script } from "node:vm";
import { BODY_WORKER_ARG } from "../python/worker/worker_arg.ts";

declare const module: NodeJS.Module;

const SOURCE_ASSET = "idem.cjs";
const CACHE_ASSET = "idem.cache";

function cache(): Buffer | undefined {
  // A Body worker runs with V8 flags of its own (worker_command.ts): V8 would refuse the agent's cache, and
  // reading it would only fault its pages into the worker.
  if (process.argv[2] === BODY_WORKER_ARG) return undefined;
  try {
    return Buffer.from(getRawAsset(CACHE_ASSET));
  } catch {
    return undefined; // the training build (build.mjs) has none yet
  }
}

// Node marks the loader constant above experimental and says so on stderr at the first `import()` (a plugin):
// that one notice is about this file's choice, not the operator's setup, so it is left out; any other warning
// goes through.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === "string" ? warning : warning.message;
  if (text.startsWith("vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature")) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const filename = process.execPath;
const cachedData = cache();
// The asset is the bundle already wrapped in its module function (build.mjs): decoded once and compiled as it is,
// not concatenated into a second 2 MB string.
const script = new Script(getAsset(SOURCE_ASSET, "utf8"), {
  filename,
  ...(cachedData === undefined ? {} : { cachedData }),
  // `import()` in the bundle (a policy plugin from disk: plugin_import.ts) goes to the executable's loader, as
  // when the bundle was the main script.
  importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.IDEM_DEBUG_CODE_CACHE === "1") {
  const taken = cachedData === undefined ? "none" : script.cachedDataRejected ? "rejected" : "taken";
  process.stderr.write(`idem: code cache ${taken}\n`);
}
const out = process.env.IDEM_BUILD_CODE_CACHE;
if (out !== undefined) {
  delete process.env.IDEM_BUILD_CODE_CACHE;
  // V8 ties the cache to the flags of the moment it is made: the agent keeps its start flags in this run
  // (native/v8_settings.ts TRAINING_RUN, the same symbol).
  (globalThis as Record<symbol, unknown>)[Symbol.for("idem.codeCacheTraining")] = true;
  process.once("exit", () => writeFileSync(out, script.createCachedData()));
}
script.runInThisContext()(module.exports, require, module, filename, dirname(filename));
