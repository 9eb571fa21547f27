/**
 * The flags of the settings (`idem run`, `idem config`), derived from the schema by agent/config/settings.ts:
 * `node:util` `parseArgs` options, and the lines of `--help` that list them with their variables and defaults.
 * A string-array setting's flag is repeated (`--plugins A --plugins B`); a switch has a `--no-` form; an object
 * or an array of objects takes a JSON value (`--environment '{"HTTP_PROXY": "http://proxy:3128"}'`).
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { SETTINGS, type Setting } from "./settings.ts";

/** `parseArgs` options for every setting that has a flag. */
export function settingFlags(): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = {};
  for (const setting of SETTINGS) {
    if (setting.flag === undefined) continue;
    if (setting.boolean) {
      options[setting.flag] = { type: "boolean" };
      options[`no-${setting.flag}`] = { type: "boolean" };
    } else {
      options[setting.flag] = { type: "string", ...(setting.repeated ? { multiple: true } : {}) };
    }
  }
  return options;
}

/** `--broker-keepalive-seconds N` style synopsis of one setting's flag. */
export function flagSynopsis(setting: Setting): string {
  if (setting.flag === undefined) return "";
  if (setting.boolean) return `--[no-]${setting.flag}`;
  const schema = setting.schema;
  const value =
    schema.type === "integer" || schema.type === "number"
      ? "N"
      : schema.anyOf?.every((m) => m.const !== undefined)
        ? schema.anyOf.map((m) => String(m.const)).join("|")
        : schema.type === "array" || schema.type === "object"
          ? setting.repeated
            ? "TEXT"
            : "JSON"
          : "TEXT";
  return `--${setting.flag} ${value}${setting.repeated ? "..." : ""}`;
}

/** One line per setting for `--help`: flag, variable, default. */
export function settingsHelp(): string {
  const rows = SETTINGS.map((s) => {
    const flag = s.flag === undefined ? "(no flag: secret)" : flagSynopsis(s);
    const fallback =
      s.schema.defaultText ?? (s.schema.default === undefined ? "" : JSON.stringify(s.schema.default));
    return [flag, s.env, fallback ? `default ${fallback}` : ""];
  });
  const width = Math.max(...rows.map((r) => (r[0] as string).length));
  const envWidth = Math.max(...rows.map((r) => (r[1] as string).length));
  return rows
    .map(([flag, env, fallback]) =>
      `  ${(flag as string).padEnd(width)}  ${(env as string).padEnd(envWidth)}  ${fallback}`.trimEnd(),
    )
    .join("\n");
}
