/**
 * Settings from their sources → the agent's {@link Config} (SPEC 10): assignments applied lowest source first
 * (defaults, file, environment, flags: a later one replaces an earlier one's value at the same key), the schema's
 * defaults filled in, everything checked strictly (agent/config/check.ts), then the rules a schema cannot say
 * (agent/config/rules.ts). Every problem is reported at once, one line each, naming its source and key.
 */
import { hostname } from "node:os";
import { Value } from "typebox/value";
import { IdemError } from "../errors.ts";
import { checkValue, type Problem } from "./check.ts";
import { applyRules } from "./rules.ts";
import { type Config, Config as ConfigSchema } from "./schema.ts";
import { CONFIG_SCHEMA, SETTINGS } from "./settings.ts";
import type { Assignment, Source, SourcedProblem } from "./sources.ts";

export interface Resolved {
  config: Config;
  /** Where each setting's value came from, by key (`broker.url`); a setting without a value has none. */
  sources: Map<string, Source>;
}

/**
 * The configuration the assignments make. `problems`: those the sources found while reading (a variable that is
 * not a number, say). @throws IdemError(2) listing every problem, each as `SOURCE: KEY: give …; got …`.
 */
export function resolveAssignments(assignments: Assignment[], problems: SourcedProblem[] = []): Resolved {
  const merged: Record<string, unknown> = {};
  const sources = new Map<string, Source>();
  const defaultSource: Source = { kind: "default" };
  assign(merged, sources, { path: ["agentId"], value: hostname().split(".")[0], source: defaultSource });
  for (const assignment of assignments) assign(merged, sources, assignment);
  for (const setting of SETTINGS) {
    if (setting.schema.default === undefined || sources.has(setting.key)) continue;
    const parent = setting.path.slice(0, -1);
    const group = parent.length === 0 ? merged : lookup(merged, parent);
    const needed = parent.length === 0 || CONFIG_SCHEMA.required?.includes(parent[0] as string);
    if (group === undefined && !needed) continue;
    const value = structuredClone(setting.schema.default);
    assign(merged, sources, { path: setting.path, value, source: defaultSource });
  }
  const found: Problem[] = [];
  checkValue(CONFIG_SCHEMA, merged, [], found);
  const all: SourcedProblem[] = [
    ...problems,
    ...found.map((p) => ({ ...p, source: sourceOf(p.path, sources) })),
  ];
  if (all.length === 0) applyRules(merged as Config, sources, all);
  if (all.length > 0) throw configurationError(all);
  if (!Value.Check(ConfigSchema, merged)) {
    // The check above reads every keyword schema.ts uses; reaching this is a bug in agent/config/check.ts.
    const first = [...Value.Errors(ConfigSchema, merged)][0];
    throw new IdemError(2, `Cannot start with this configuration: ${first?.instancePath} ${first?.message}`);
  }
  return { config: merged as Config, sources };
}

function assign(target: Record<string, unknown>, sources: Map<string, Source>, assignment: Assignment): void {
  const { path, value, source } = assignment;
  let at = target;
  for (const name of path.slice(0, -1)) {
    const next = at[name];
    if (typeof next !== "object" || next === null || Array.isArray(next)) at[name] = {};
    at = at[name] as Record<string, unknown>;
  }
  at[path[path.length - 1] as string] = value;
  sources.set(path.join("."), source);
}

function lookup(value: Record<string, unknown>, path: string[]): unknown {
  let at: unknown = value;
  for (const name of path) at = (at as Record<string, unknown> | undefined)?.[name];
  return at;
}

/** The source of the value at `path`: that of the longest key path assigned that starts it. */
function sourceOf(path: string[], sources: Map<string, Source>): Source {
  for (let n = path.length; n > 0; n--) {
    const source = sources.get(path.slice(0, n).join("."));
    if (source) return source;
  }
  return { kind: "default" };
}

/** One IdemError(2) for all the problems: a line each, `SOURCE: KEY: give …; got …`. */
export function configurationError(problems: SourcedProblem[]): IdemError {
  const lines = problems.map((p) => `  ${problemLine(p)}`);
  const one = problems.length === 1;
  return new IdemError(
    2,
    `Cannot start with this configuration${one ? "" : ` (${problems.length} problems)`}:\n${lines.join("\n")}\nEvery setting, its flag and variable: idem config --help`,
  );
}

/** `flag --generation (generation): give …`, `config file F: broker: give …`, `env IDEM_X (key): give …`. */
export function problemLine(problem: SourcedProblem): string {
  const key = problem.path.join(".") || "(the whole file)";
  const { source } = problem;
  if (source.kind === "env" || source.kind === "flag") {
    const name = source.kind === "env" ? source.name : `--${source.name}`;
    return `${name} (${key}): ${problem.message}`;
  }
  return source.kind === "file"
    ? `config file ${source.file}: ${key}: ${problem.message}`
    : `${key}: ${problem.message}`;
}
