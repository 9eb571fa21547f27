/**
 * The agent's settings (SPEC 10): one TypeBox schema (agent/config/schema.ts) is the source of each setting's
 * type, default, documentation, flag and `IDEM_<NAME>` variable (agent/config/settings.ts). They are filled from
 * (lowest first) the defaults, a JSON config file (`--config FILE` or `IDEM_CONFIG`), the environment and the
 * flags, and checked strictly: an unknown key or a value of the wrong type is an error (exit 2) naming the key,
 * the source, what is accepted and what was given. This module is the face the rest of the agent imports.
 */
import { readFileSync } from "node:fs";
import { checkFiles } from "./config/files.ts";
import { configurationError, type Resolved, resolveAssignments } from "./config/resolve.ts";
import type { Config } from "./config/schema.ts";
import { type Assignment, fromEnv, fromFlags, fromObject, type SourcedProblem } from "./config/sources.ts";
import { IdemError } from "./errors.ts";
import { parseJson } from "./json/parse.ts";

export { brokerUrl, redactedUrl } from "./config/broker_url.ts";
export { defaultReplyTopics } from "./config/rules.ts";
export { BrokerSettings, Config } from "./config/schema.ts";
export type { Resolved };

/** Settings as a program gives them ({@link resolveConfig}): anything may be missing. */
export type PartialConfig = {
  [K in keyof Config]?: K extends "broker" ? Partial<Config["broker"]> : Config[K];
};

/** The text of a JSON config file as an object (unchecked). @throws IdemError(2) naming the file and the fault. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (cause as Error).message;
    throw new IdemError(
      2,
      `Cannot read config file ${file} (${why}): give --config (or IDEM_CONFIG) the path of a JSON file`,
      { cause },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    // Where, never what: V8's own message quotes the text around the fault, which may be a password.
    const parsed = parseJson(text);
    const why = parsed.ok ? "NaN and Infinity are not JSON" : parsed.reason;
    const at = parsed.ok ? "" : ` (${lineColumn(text, parsed.position)})`;
    throw new IdemError(
      2,
      `Cannot read config file ${file} as JSON: ${why}${at}: fix the file, then check it with idem config --check`,
      { cause },
    );
  }
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  return `line ${line} column ${position - before.lastIndexOf("\n")}`;
}

export interface LoadOptions {
  /** The config file (`--config` or `IDEM_CONFIG`), if any. */
  file?: string;
  env: Record<string, string | undefined>;
  /** Flag values as `parseArgs` returned them for `settingFlags()` (agent/config/flags.ts). */
  flags?: Record<string, unknown>;
  /** Check that the files it names (broker.ca, …) can be read. Default true. */
  files?: boolean;
}

/**
 * The configuration of `idem run` / `idem config`, with where each value came from.
 * @throws IdemError(2) listing every problem (SPEC 10).
 */
export function loadConfig(options: LoadOptions): Resolved {
  const problems: SourcedProblem[] = [];
  const assignments: Assignment[] = [];
  if (options.file !== undefined) {
    assignments.push(
      ...fromObject(readConfigFile(options.file), { kind: "file", file: options.file }, problems),
    );
  }
  assignments.push(...fromEnv(options.env, problems));
  assignments.push(...fromFlags(options.flags ?? {}, problems));
  const resolved = resolveAssignments(assignments, problems);
  if (options.files !== false) {
    checkFiles(resolved.config, resolved.sources, problems);
    if (problems.length > 0) throw configurationError(problems);
  }
  return resolved;
}

/** Layers given by a program (tests, embedding), later wins, checked like a file. @throws IdemError(2). */
export function resolveConfig(...layers: PartialConfig[]): Config {
  const problems: SourcedProblem[] = [];
  const assignments = layers.flatMap((layer) => fromObject(layer, { kind: "given" }, problems));
  return resolveAssignments(assignments, problems).config;
}
