/**
 * A setting given as text — an `IDEM_<NAME>` variable or a flag's value — read by the setting's type
 * (agent/config/schema.ts): a whole number for an integer (`"30"` → 30), a number, `true`/`false` (also `1`/`0`)
 * for a boolean, the text for a string, one of the listed values for a choice (`"5"` → 5 for
 * `broker.protocol`), and a JSON value for an array or an object (`IDEM_PLUGINS='["/etc/idem/plugins"]'`).
 * Bounds are checked afterwards with everything else (agent/config/check.ts); here only the form.
 */
import type { SettingSchema } from "./settings.ts";

export type TextOutcome = { ok: true; value: unknown } | { ok: false };

const WHOLE = /^[+-]?\d+$/;

/** The value `text` stands for as a setting of this schema, or `{ok: false}` when it cannot be one. */
export function fromText(schema: SettingSchema, text: string): TextOutcome {
  if (schema.anyOf) {
    for (const member of schema.anyOf) {
      const outcome = fromText(member, text);
      if (outcome.ok) return outcome;
    }
    return { ok: false };
  }
  if (schema.const !== undefined) {
    return String(schema.const) === text ? { ok: true, value: schema.const } : { ok: false };
  }
  switch (schema.type) {
    case "string":
      return { ok: true, value: text };
    case "integer":
      return WHOLE.test(text) ? { ok: true, value: Number(text) } : { ok: false };
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
    }
    case "boolean":
      if (text === "true" || text === "1") return { ok: true, value: true };
      if (text === "false" || text === "0") return { ok: true, value: false };
      return { ok: false };
    default:
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        return { ok: false };
      }
  }
}

/** How to write a value of this schema as text, for messages: `a whole number ≥ 5`, `a JSON array …`. */
export function textForm(schema: SettingSchema): "json" | "text" {
  return schema.type === "array" || schema.type === "object" ? "json" : "text";
}
