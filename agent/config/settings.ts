/**
 * The settings as a flat list, derived from the schema (agent/config/schema.ts): one entry per leaf, with its
 * key path, its flag and its environment variable. The rule (SPEC 10), applied to the key path:
 *
 * - a leaf is a value that is not an object of named settings: a string, number, boolean, an array, or a
 *   name → value map (`environment`); objects of named settings (`broker`, `metrics`, `runAs`) are walked into;
 * - flag: `--` and the path's words in kebab case (`broker.keepaliveSeconds` → `--broker-keepalive-seconds`);
 * - variable: `IDEM_` and the path's words in upper snake case (`IDEM_BROKER_KEEPALIVE_SECONDS`);
 * - a schema's `flag` / `env` keyword keeps an older name (`broker.url`: `--broker`, `IDEM_BROKER`);
 * - a secret (`broker.password`) has no flag: a file or its variable only.
 *
 * How a text (a flag's or a variable's value) becomes a value is agent/config/text.ts.
 */
import { Config } from "./schema.ts";

/** The JSON Schema of one setting, with idem's own keywords (schema.ts). */
export interface SettingSchema {
  type?: string;
  const?: unknown;
  anyOf?: SettingSchema[];
  items?: SettingSchema;
  properties?: Record<string, SettingSchema>;
  patternProperties?: Record<string, SettingSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
  /** What a string with a `pattern` must be, in words (for messages). */
  accepts?: string;
  defaultText?: string;
  example?: unknown;
  flag?: string;
  env?: string;
  secret?: boolean;
  /** A path of a file the agent reads. */
  file?: boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
}

export interface Setting {
  /** Key path, e.g. `["broker", "keepaliveSeconds"]`. */
  path: string[];
  /** `broker.keepaliveSeconds`. */
  key: string;
  schema: SettingSchema;
  /** Without the leading `--`; none for a secret (a flag's value is seen by anyone who can list processes). */
  flag: string | undefined;
  env: string;
  /** An array of strings: its flag is given once per element (`--plugins A --plugins B`). */
  repeated: boolean;
  /** The flag is a switch (`--x` / `--no-x`). */
  boolean: boolean;
}

/** The schema of the whole configuration, as the walkers of agent/config/ read it. */
export const CONFIG_SCHEMA = Config as unknown as SettingSchema;

/** `keepaliveSeconds` → `["keepalive", "seconds"]`; `bodyMemoryMB` → `["body", "memory", "mb"]`. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(" ");
}

/** An object of named settings (walked into), as opposed to a map of any names (`environment`). */
export function isSettingGroup(schema: SettingSchema): boolean {
  return schema.type === "object" && schema.properties !== undefined;
}

function collect(schema: SettingSchema, path: string[], out: Setting[]): void {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const at = [...path, name];
    if (isSettingGroup(child)) {
      collect(child, at, out);
      continue;
    }
    const all = at.flatMap(words);
    out.push({
      path: at,
      key: at.join("."),
      schema: child,
      flag: child.secret ? undefined : (child.flag ?? all.join("-")),
      env: child.env ?? `IDEM_${all.join("_").toUpperCase()}`,
      repeated: child.type === "array" && child.items?.type === "string",
      boolean: child.type === "boolean",
    });
  }
}

/** Every setting, in the schema's order. */
export const SETTINGS: readonly Setting[] = (() => {
  const out: Setting[] = [];
  collect(CONFIG_SCHEMA, [], out);
  return out;
})();

/** The schema at a key path (a group or a leaf), or undefined when no setting has that path. */
export function schemaAt(path: readonly string[]): SettingSchema | undefined {
  let schema: SettingSchema | undefined = CONFIG_SCHEMA;
  for (const name of path) schema = schema?.properties?.[name];
  return schema;
}
