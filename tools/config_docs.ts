/**
 * Writes docs/configuration.md from the settings schema (agent/config/docs.ts): `npm run docs:config`.
 * `--check` only compares, exiting 1 when the file is not current.
 */
import { configurationMarkdown } from "../agent/config/docs.ts";
import { writeGenerated } from "./generated_file.ts";

writeGenerated(
  new URL("../docs/configuration.md", import.meta.url),
  configurationMarkdown(),
  "npm run docs:config",
);
