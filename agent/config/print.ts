/**
 * `idem config --print`: the effective configuration, one setting a line, `KEY = VALUE  (SOURCE)` where the
 * source is `default`, `config file F`, `env IDEM_X` or `flag --x`. Secrets — the schema's `secret` settings
 * (`broker.password`, the PEM of `trustedKeys`, the values of `environment`) — are shown as `"***"`.
 */
import type { Resolved } from "./resolve.ts";
import { SETTINGS, type SettingSchema } from "./settings.ts";
import { sourceLabel } from "./sources.ts";

export const MASK = "***";

/** The lines of `idem config --print` (no trailing newline). */
export function printConfig(resolved: Resolved): string {
  const rows = SETTINGS.map((setting) => {
    let value: unknown = resolved.config;
    for (const name of setting.path) value = (value as Record<string, unknown> | undefined)?.[name];
    const source = resolved.sources.get(setting.key);
    const shown = value === undefined ? "(not set)" : JSON.stringify(masked(setting.schema, value));
    // A value no source set is derived from others (`broker.urls` from `broker.url`, the default `replyTopics`).
    const from = source !== undefined ? `(${sourceLabel(source)})` : value === undefined ? "" : "(derived)";
    return [setting.key, shown, from] as const;
  });
  const keyWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.min(48, Math.max(...rows.map((r) => r[1].length)));
  return rows
    .map(([key, value, source]) =>
      `${key.padEnd(keyWidth)} = ${value.padEnd(valueWidth)}  ${source}`.trimEnd(),
    )
    .join("\n");
}

/** `value` with every string the schema marks `secret` replaced by {@link MASK}. */
export function masked(schema: SettingSchema, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (schema.secret) return MASK;
  if (Array.isArray(value))
    return schema.items ? value.map((item) => masked(schema.items as SettingSchema, item)) : value;
  if (typeof value === "object") {
    const map = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      const child = schema.properties?.[name] ?? map;
      out[name] = child ? masked(child, item) : item;
    }
    return out;
  }
  return value;
}
