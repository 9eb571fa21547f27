/**
 * The built artefacts and the runtimes that run them, for the tests of dist/ and for bench/startup.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/agent_process.ts";

export { REPO_ROOT };

export const EXECUTABLE = join(REPO_ROOT, "dist/idem");
export const BUNDLE = join(REPO_ROOT, "dist/idem.mjs");

/**
 * What `deno run dist/idem.mjs run …` needs (docs/deploy.md): files (data dir, plugins, scripts' work dirs),
 * the environment (IDEM_*), the broker, lmdb's native addon (ffi), the scripts (run) and the host name
 * (the default agent id).
 */
export const DENO_PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-run",
  "--allow-sys=hostname,uid,gid,statfs",
];

/**
 * Deno's own binary from the npm package `@deno/<platform>` (node_modules/.bin/deno is a Node wrapper when
 * npm install scripts did not run).
 */
export function denoBinary(): string {
  const require = createRequire(join(REPO_ROOT, "node_modules/deno/package.json"));
  const libc = process.platform === "linux" ? "-glibc" : "";
  try {
    const pkg = require.resolve(`@deno/${process.platform}-${process.arch}${libc}/package.json`);
    return join(pkg, "..", "deno");
  } catch {
    return join(REPO_ROOT, "node_modules/.bin/deno");
  }
}

/** Builds what is missing (the full build when `executable`), once per test file. */
export function ensureBuilt(options: { executable: boolean }): void {
  const missing = options.executable ? !existsSync(EXECUTABLE) : !existsSync(BUNDLE);
  if (!missing) return;
  const args = options.executable ? ["build.mjs"] : ["build.mjs", "--bundle-only"];
  execFileSync(process.execPath, args, { cwd: REPO_ROOT, stdio: "inherit" });
}
