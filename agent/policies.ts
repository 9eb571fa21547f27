/**
 * The policy registry: the built-ins from `plugins/` plus every plugin file found in the configured
 * directories, loaded once at start-up. Two policies with one name stop the start, naming both files.
 *
 * A configured directory that does not exist is a warning (`event=plugins-missing`), not an error: plugins are
 * optional, and a VM image may list `/etc/idem/policies` before anything is put there (docs/deploy.md). One that
 * exists but cannot be read (not a directory, no permission) stops the start: plugins the operator put there
 * would silently be missing.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import always from "../plugins/always.ts";
import runOnceEver from "../plugins/run-once-ever.ts";
import skipIfIdentical from "../plugins/skip-if-identical.ts";
import { IdemError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { Policy } from "./mod.ts";
import { importPlugin } from "./native/plugin_import.ts";

export interface PolicyRegistry {
  get(name: string): Policy | undefined;
  names(): string[];
}

const BUILT_IN: readonly Policy[] = [always, skipIfIdentical, runOnceEver] as Policy[];
const PLUGIN_FILE = /\.(mjs|js|cjs|ts|mts)$/;

function isPolicy(value: unknown): value is Policy {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Policy>;
  return typeof candidate.name === "string" && typeof candidate.decide === "function";
}

/**
 * Loads the built-ins and the plugins of `dirs`. Throws IdemError (exit 2) when a directory cannot be read or a
 * plugin cannot be used; a missing directory is only logged to `options.log` (at `warn`).
 */
export async function loadPolicies(
  dirs: readonly string[],
  options: { log?: Logger } = {},
): Promise<PolicyRegistry> {
  const byName = new Map<string, { policy: Policy; source: string }>();
  const add = (policy: Policy, source: string) => {
    const existing = byName.get(policy.name);
    if (existing) {
      throw new IdemError(
        2,
        `Cannot load policy "${policy.name}" from ${source} as ${existing.source} already defines it: rename one of them`,
      );
    }
    byName.set(policy.name, { policy, source });
  };
  for (const policy of BUILT_IN) add(policy, `built-in policy ${policy.name}`);

  for (const dir of dirs) {
    const folder = resolve(dir);
    let files: string[];
    try {
      files = readdirSync(folder).filter(
        (f) => PLUGIN_FILE.test(f) && !f.endsWith(".d.ts") && !f.includes(".test."),
      );
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
        options.log?.warn("plugins-missing", {
          path: folder,
          message: "no such directory: no policy plugins loaded from it (create it and restart to add some)",
        });
        continue;
      }
      throw new IdemError(
        2,
        `Cannot read plugin directory ${folder}: ${(cause as Error).message}: make it a directory the agent's user can read, or leave it out of plugins (--plugins)`,
        { cause },
      );
    }
    for (const name of files.sort()) {
      const file = join(folder, name);
      if (!statSync(file).isFile()) continue;
      let exported: unknown;
      try {
        exported = await importPlugin(file);
      } catch (cause) {
        throw new IdemError(2, `Cannot load policy plugin ${file}: ${(cause as Error).message}`, { cause });
      }
      if (!isPolicy(exported)) {
        throw new IdemError(
          2,
          `Cannot use ${file} as a policy plugin: its default export must be made with definePolicy({ name, decide })`,
        );
      }
      add(exported, file);
    }
  }
  return {
    get: (name) => byName.get(name)?.policy,
    names: () => [...byName.keys()].sort(),
  };
}
