/**
 * `npm run check` fails on any import cycle (issue 10): biome.json makes Biome's `noImportCycles` an error,
 * type-only imports included (`ignoreTypes: false`). Proven on a scratch project with the repository's
 * biome.json, and the repository itself (agent/, plugins/, test/, bench/) has none.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../helpers/agent_process.ts";

const BIOME = join(REPO_ROOT, "node_modules/.bin/biome");

function lintCycles(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(BIOME, ["lint", "--only=suspicious/noImportCycles", "--max-diagnostics=200", "."], {
    cwd,
    encoding: "utf8",
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test("the project's Biome configuration refuses an import cycle, a type-only one too", () => {
  const dir = mkdtempSync(join(tmpdir(), "idem-cycles-"));
  try {
    copyFileSync(join(REPO_ROOT, "biome.json"), join(dir, "biome.json"));
    writeFileSync(join(dir, ".gitignore"), "");
    assert.equal(spawnSync("git", ["init", "-q", "."], { cwd: dir }).status, 0); // biome.json reads .gitignore
    mkdirSync(join(dir, "agent"));
    const files: Record<string, string> = {
      "a.ts": 'import { b } from "./b.ts";\n\nexport const a = (): number => b() + 1;\n',
      "b.ts": 'import { a } from "./a.ts";\n\nexport const b = (): number => (a.length > 1 ? 0 : 1);\n',
      "c.ts": 'import type { D } from "./d.ts";\n\nexport type C = { d?: D };\n',
      "d.ts": 'import type { C } from "./c.ts";\n\nexport type D = { c?: C };\n',
      "leaf.ts": "export const leaf = 1;\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "agent", name), text);
    const { status, output } = lintCycles(dir);
    assert.equal(status, 1, output);
    for (const name of ["a", "b", "c", "d"]) {
      assert.match(output, new RegExp(`agent/${name}\\.ts:1:\\d+ lint/suspicious/noImportCycles`), output);
    }
    assert.doesNotMatch(output, /leaf\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the repository has no import cycles", () => {
  const { status, output } = lintCycles(REPO_ROOT);
  const cycles = output.split("\n").filter((line) => line.includes("noImportCycles"));
  assert.deepEqual(cycles, [], output);
  assert.equal(status, 0, output);
});
