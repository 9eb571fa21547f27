/**
 * docs/configuration.md is generated from the settings schema (agent/config/docs.ts): the checked-in file must be
 * what the generator writes now, so that CI proves the reference current; and it lists every setting.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { configurationMarkdown } from "../../agent/config/docs.ts";
import { flagSynopsis } from "../../agent/config/flags.ts";
import { SETTINGS } from "../../agent/config/settings.ts";

test("docs/configuration.md is the one generated from the schema (else: npm run docs:config)", () => {
  const checkedIn = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  assert.ok(
    checkedIn === configurationMarkdown(),
    "docs/configuration.md differs from the schema's settings: run `npm run docs:config` and commit the file",
  );
});

test("the reference names every setting with its key, flag and variable", () => {
  const text = configurationMarkdown();
  for (const setting of SETTINGS) {
    assert.ok(text.includes(`| \`${setting.key}\` |`), `${setting.key} is listed`);
    assert.ok(text.includes(`\`${setting.env}\``), `${setting.env} is listed`);
    if (setting.flag !== undefined)
      assert.ok(
        text.includes(`\`${flagSynopsis(setting).replaceAll("|", "\\|")}\``),
        `--${setting.flag} is listed`,
      );
  }
  // The names the brief keeps, derived by the rule or kept by the schema.
  const names = new Map(SETTINGS.map((s) => [s.key, [s.flag, s.env]]));
  assert.deepEqual(names.get("broker.url"), ["broker", "IDEM_BROKER"]);
  assert.deepEqual(names.get("broker.keepaliveSeconds"), [
    "broker-keepalive-seconds",
    "IDEM_BROKER_KEEPALIVE_SECONDS",
  ]);
  assert.deepEqual(names.get("logLevel"), ["log-level", "IDEM_LOG_LEVEL"]);
  assert.deepEqual(names.get("replyTopics"), ["reply-topic", "IDEM_REPLY_TOPICS"]);
  assert.deepEqual(names.get("broker.password"), [undefined, "IDEM_BROKER_PASSWORD"]);
});
