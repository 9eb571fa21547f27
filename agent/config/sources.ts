/**
 * Where settings come from (SPEC 10), lowest first: the schema's defaults, a JSON config file, `IDEM_<NAME>`
 * variables, flags. Each source gives {@link Assignment}s — a key path, a value and where it came from — so that
 * a problem names its source (`IDEM_GENERATION`, `--generation`, `config file /etc/idem/config.json`) and
 * `idem config --print` shows where each value came from. How a flag or a variable's text is read:
 * agent/config/text.ts. An empty variable counts as not set.
 */
import type { Problem } from "./check.ts";
import { editDistance, expected, hidden, holdsSecrets, nearest, preview } from "./check.ts";
import { isSettingGroup, SETTINGS, type Setting, type SettingSchema, schemaAt, words } from "./settings.ts";
import { fromText } from "./text.ts";

export type Source =
  | { kind: "default" }
  | { kind: "file"; file: string }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string }
  /** Given by a program (tests, embedding), not by an operator. */
  | { kind: "given" };

export interface Assignment {
  path: string[];
  value: unknown;
  source: Source;
}

/** A problem found while reading a source, with the source named. */
export interface SourcedProblem extends Problem {
  source: Source;
}

/** `default`, `file F`, `env IDEM_X`, `flag --x`, `given`: how `idem config --print` and messages name a source. */
export function sourceLabel(source: Source): string {
  switch (source.kind) {
    case "file":
      return `config file ${source.file}`;
    case "env":
      return `env ${source.name}`;
    case "flag":
      return `flag --${source.name}`;
    default:
      return source.kind;
  }
}

/**
 * The assignments of a settings object (a config file's, or a program's): groups (`broker`, `metrics`, `runAs`)
 * are walked into, every other value is assigned whole, unknown keys too (the check names them). A group given
 * as something else than an object is a problem at once: nothing below it can be read.
 */
export function fromObject(
  value: unknown,
  source: Source,
  problems: SourcedProblem[],
  path: string[] = [],
): Assignment[] {
  const schema = schemaAt(path) as SettingSchema;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({
      path,
      source,
      message: `give ${path.length === 0 ? "a JSON object of settings" : expected(schema)}; got ${describe(value)}`,
    });
    return [];
  }
  const out: Assignment[] = [];
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const at = [...path, name];
    const child = schema.properties?.[name];
    if (child && isSettingGroup(child)) out.push(...fromObject(item, source, problems, at));
    else out.push({ path: at, value: item, source });
  }
  return out;
}

function describe(value: unknown): string {
  return typeof value === "string" ? `the string ${preview(value)}` : preview(value);
}

/**
 * `IDEM_*` variables the agent reads that are not settings (the config file, the native addon's cache and path,
 * the marks the agent gives its scripts, test hooks): never mistaken for a misspelled setting.
 */
const OTHER_VARIABLES = /^IDEM_(CONFIG|CACHE_DIR|LMDB_ADDON|EXECUTION|JOURNAL|FAILPOINT\w*|TEST_\w+)$/;

/**
 * The assignments of the `IDEM_<NAME>` variables that are set (and not empty). A set `IDEM_*` variable that is no
 * setting's but one or two letters from one (`IDEM_GENERATON`) is a problem naming the one meant: ignored, it would
 * leave the agent unfenced or on the default broker without a word (the strictness of SPEC 10's config files).
 */
export function fromEnv(env: Record<string, string | undefined>, problems: SourcedProblem[]): Assignment[] {
  const out: Assignment[] = [];
  const known = new Map(SETTINGS.map((setting) => [setting.env, setting]));
  // A name the rule would give a setting whose variable keeps an older name (IDEM_BROKER_URL → IDEM_BROKER).
  const guesses = new Map(known);
  for (const setting of SETTINGS) {
    const ruled = `IDEM_${setting.path.flatMap(words).join("_").toUpperCase()}`;
    if (!known.has(ruled)) guesses.set(ruled, setting);
  }
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("IDEM_") || known.has(name) || OTHER_VARIABLES.test(name)) continue;
    if (text === undefined || text === "") continue;
    const near = nearest(name, [...guesses.keys()]);
    const meant = near === undefined ? undefined : guesses.get(near);
    if (meant === undefined || editDistance(name, near as string) > 2) continue;
    problems.push({
      path: meant.path,
      source: { kind: "env", name },
      message: `no setting has this variable: did you mean ${meant.env}? (idem config --help lists them)`,
    });
  }
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    if (text === undefined || text === "") continue;
    const source: Source = { kind: "env", name: setting.env };
    readText(setting, text, source, out, problems);
  }
  return out;
}

/**
 * The assignments of flags as `node:util` `parseArgs` returned them for {@link settingFlags}: a repeated flag's
 * values are the array; a switch is true, its `--no-` form false.
 */
export function fromFlags(values: Record<string, unknown>, problems: SourcedProblem[]): Assignment[] {
  const out: Assignment[] = [];
  for (const setting of SETTINGS) {
    if (setting.flag === undefined) continue;
    const given = values[setting.flag];
    const source: Source = { kind: "flag", name: setting.flag };
    if (setting.boolean) {
      if (values[`no-${setting.flag}`] === true)
        out.push({ path: setting.path, value: false, source: { kind: "flag", name: `no-${setting.flag}` } });
      else if (given === true) out.push({ path: setting.path, value: true, source });
    } else if (setting.repeated && Array.isArray(given)) {
      out.push({ path: setting.path, value: given, source });
    } else if (typeof given === "string") {
      readText(setting, given, source, out, problems);
    }
  }
  return out;
}

function readText(
  setting: Setting,
  text: string,
  source: Source,
  out: Assignment[],
  problems: SourcedProblem[],
): void {
  const read = fromText(setting.schema, text);
  if (read.ok) {
    out.push({ path: setting.path, value: read.value, source });
    return;
  }
  const json = setting.schema.type === "array" || setting.schema.type === "object" ? "JSON: " : "";
  problems.push({
    path: setting.path,
    source,
    message: `give ${json}${expected(setting.schema)}; got ${holdsSecrets(setting.schema) ? hidden(text) : JSON.stringify(text)}`,
  });
}
