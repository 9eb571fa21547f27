/**
 * Writes docs/configuration.md from the settings schema (agent/config/docs.ts): `npm run docs:config`.
 * `--check` only compares, exiting 1 when the file is not current.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { configurationMarkdown } from "../agent/config/docs.ts";

const file = new URL("../docs/configuration.md", import.meta.url);
const text = configurationMarkdown();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current !== text) {
    process.stderr.write("docs/configuration.md is not current: run npm run docs:config\n");
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  process.stdout.write("wrote docs/configuration.md\n");
}
