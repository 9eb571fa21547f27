/**
 * The files a configuration names for the agent to read (settings marked `file` in agent/config/schema.ts:
 * `broker.ca`, `broker.cert`, `broker.key`), read once at start so that a missing or unreadable one is an
 * error naming the setting and its source — not an `ENOENT` from deep inside a connection attempt.
 */
import { accessSync, constants, statSync } from "node:fs";
import type { Config } from "./schema.ts";
import { SETTINGS } from "./settings.ts";
import type { Source, SourcedProblem } from "./sources.ts";

/** Appends a problem for each file setting whose file cannot be read. */
export function checkFiles(config: Config, sources: Map<string, Source>, problems: SourcedProblem[]): void {
  for (const setting of SETTINGS) {
    if (!setting.schema.file) continue;
    let value: unknown = config;
    for (const name of setting.path) value = (value as Record<string, unknown> | undefined)?.[name];
    if (typeof value !== "string") continue;
    const problem = unreadable(value);
    if (problem === undefined) continue;
    problems.push({
      path: setting.path,
      source: sources.get(setting.key) ?? { kind: "default" },
      message: `cannot read ${value} (${problem}): give the path of a PEM file the agent's user can read`,
    });
  }
}

function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return "not a file";
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code);
  }
}
