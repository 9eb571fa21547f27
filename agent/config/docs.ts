/**
 * docs/configuration.md, generated from the schema (agent/config/schema.ts) by `npm run docs:config`
 * (tools/config_docs.ts); test/agent/config_docs.test.ts fails when the checked-in file differs.
 */
import { flagSynopsis } from "./flags.ts";
import { SETTINGS, type SettingSchema } from "./settings.ts";

/** The whole text of docs/configuration.md. */
export function configurationMarkdown(): string {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from agent/config/schema.ts by `npm run docs:config`; do not edit by hand. -->",
    "",
    "Every setting of `idem run` can be given, lowest first, by its default, a JSON config file",
    "(`--config FILE` or `IDEM_CONFIG`), its environment variable, or its flag; a later one wins (SPEC 10).",
    "`idem config [--config FILE] --check` validates a configuration (exit 0, or 2 naming every problem);",
    "`idem config --print` shows the effective value of each setting and where it came from, secrets masked.",
    "",
    "- **Strict**: an unknown key (at any depth) or a value of the wrong type is an error at start (exit 2)",
    "  that names the key, its source, what is accepted and what was given.",
    "- **Names**: the flag is the key path in kebab case (`broker.keepaliveSeconds` → `--broker-keepalive-seconds`),",
    "  the variable `IDEM_` and the key path in upper snake case (`IDEM_BROKER_KEEPALIVE_SECONDS`); a few keep",
    "  older names (`--broker`, `IDEM_BROKER` for `broker.url`; `--reply-topic` for `replyTopics`).",
    "- **Values as text** (variables and flags): a whole number, a number, `true`/`false` (`1`/`0`), or one of",
    "  the listed values. An array or an object is a JSON value in a variable (`IDEM_PLUGINS='[\"/etc/idem/plugins\"]'`);",
    "  an array of strings is a repeated flag (`--plugins A --plugins B`), an object or an array of objects a JSON",
    "  flag value. A switch is `--x` / `--no-x`. An empty variable counts as not set.",
    "- **Secrets** (`broker.password`) have no flag (a flag is seen by anyone who can list processes): give them",
    "  in the config file or the variable.",
    "",
    "| Key | Type | Default | Flag | Variable | Description |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const setting of SETTINGS) {
    const s = setting.schema;
    const fallback = s.defaultText ?? (s.default === undefined ? "—" : `\`${JSON.stringify(s.default)}\``);
    const flag = setting.flag === undefined ? "—" : `\`${flagSynopsis(setting)}\``;
    const cells = [
      `\`${setting.key}\``,
      typeName(s),
      fallback,
      flag,
      `\`${setting.env}\``,
      s.description ?? "",
    ];
    lines.push(`| ${cells.map((c) => c.replaceAll("|", "\\|").replaceAll("\n", " ")).join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

function typeName(schema: SettingSchema): string {
  if (schema.anyOf) {
    return schema.anyOf
      .map((m) => (m.const !== undefined ? `\`${JSON.stringify(m.const)}\`` : typeName(m)))
      .join(" or ");
  }
  const bounds = [
    schema.minimum === undefined ? "" : `≥ ${schema.minimum}`,
    schema.exclusiveMinimum === undefined ? "" : `> ${schema.exclusiveMinimum}`,
    schema.maximum === undefined ? "" : `≤ ${schema.maximum}`,
  ].filter(Boolean);
  const within = bounds.length > 0 ? ` ${bounds.join(", ")}` : "";
  switch (schema.type) {
    case "integer":
      return `integer${within}`;
    case "number":
      return `number${within}`;
    case "array":
      return `array of ${schema.items ? typeName(schema.items) : "values"}`;
    case "object":
      return schema.patternProperties ? "object (name → string)" : "object";
    default:
      return schema.type ?? "value";
  }
}
