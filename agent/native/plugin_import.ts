/**
 * Loads a policy plugin file from disk and returns its default export, the same way whether the agent runs
 * from its sources (Node ≥ 22.15 / 24), as dist/idem.mjs on Node or Deno, or as the single executable.
 *
 * A plugin imports the agent's public API with the bare specifier `idem` (`import { definePolicy } from "idem"`).
 * Nothing named `idem` exists on disk next to a plugin (the executable cannot even expose its bundled modules),
 * so a module resolution hook, registered once on first use, resolves `idem` to a small virtual module that
 * re-exports this very agent's `agent/mod.ts` from memory: a plugin gets the same `definePolicy`, error classes
 * and `VERSION` as the built-in policies. `module.registerHooks` does that on Node ≥ 22.15 (the executable is
 * Node 24) and on Deno ≥ 2.x; on older Node, `module.register` (off-thread hooks) is the fallback.
 *
 * Module formats, by extension: `.mjs` and `.js` (ESM; a `.js` next to a package.json with "type": "commonjs"
 * is CommonJS), `.cjs` (CommonJS, `require("idem")`), and `.ts`/`.mts` (types are stripped: erasable syntax
 * only). A plugin may import relative files and Node built-ins; bare packages only if a node_modules next to
 * the plugin holds them.
 */
import nodeModule from "node:module";
import { pathToFileURL } from "node:url";
import * as api from "../mod.ts";

/** The specifier plugins import the public API with. */
export const API_SPECIFIER = "idem";
const API_URL = "idem:api";
const API_GLOBAL = "__idemPluginApi";

let installed = false;

/** Imports `file` (an absolute or relative path) and returns its default export. */
export async function importPlugin(file: string): Promise<unknown> {
  installApiResolver();
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  return module.default;
}

/** Source of the virtual module `idem`: one named export per export of agent/mod.ts. */
function apiModuleSource(): string {
  const names = Object.keys(api).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default");
  const lines = names.map((name) => `export const ${name} = api.${name};`);
  return [`const api = globalThis[${JSON.stringify(API_GLOBAL)}];`, ...lines, "export default api;"].join(
    "\n",
  );
}

function installApiResolver(): void {
  if (installed) return;
  installed = true;
  Object.defineProperty(globalThis, API_GLOBAL, { value: api, enumerable: false });
  const source = apiModuleSource();

  if (typeof nodeModule.registerHooks === "function") {
    nodeModule.registerHooks({
      resolve(specifier, context, nextResolve) {
        if (specifier === API_SPECIFIER) return { url: API_URL, format: "module", shortCircuit: true };
        return nextResolve(specifier, context);
      },
      load(url, context, nextLoad) {
        if (url === API_URL) return { format: "module", source, shortCircuit: true };
        return nextLoad(url, context);
      },
    });
    return;
  }
  if (typeof nodeModule.register === "function") {
    // Off-thread hooks (Node 20.6 – 22.14): they cannot see this thread's globals, but the module they return
    // runs on this thread, where API_GLOBAL is set.
    const hooks = `
      const SOURCE = ${JSON.stringify(source)};
      export async function resolve(specifier, context, next) {
        if (specifier === ${JSON.stringify(API_SPECIFIER)}) return { url: ${JSON.stringify(API_URL)}, format: "module", shortCircuit: true };
        return next(specifier, context);
      }
      export async function load(url, context, next) {
        if (url === ${JSON.stringify(API_URL)}) return { format: "module", source: SOURCE, shortCircuit: true };
        return next(url, context);
      }`;
    nodeModule.register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  }
}
