/**
 * SPEC 10 "Config files are strict", issue 12 item 1: a typo, a wrong type (top-level and nested), a wrong
 * environment value and a bad flag value are each exit 2 with one line naming the key, where it came from, what is
 * accepted and what was given — never JSON Schema's words — and `idem config --print` shows each value's source
 * with secrets masked. In-process through `main`, with real config files in a temp folder.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { idem } from "../helpers/in_process.ts";

const dir = mkdtempSync(join(tmpdir(), "idem-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function configFile(content: unknown): string {
  const file = join(dir, `config-${files++}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

const RAW_WORDING =
  /must be equal to constant|must be (string|integer|object|number)|instancePath|should be >=|ambiguous/;

test("a typo'd key is refused, naming it and the setting it resembles", async () => {
  const file = configFile({ generaton: 3 });
  const outcome = await idem(["config", "--config", file, "--check"]);
  assert.equal(outcome.code, 2);
  assert.match(
    outcome.stderr,
    new RegExp(`config file ${file}: generaton: unknown setting: did you mean generation\\?`),
  );
});

test("an unknown nested key is refused with its path and the keys known there", async () => {
  const outcome = await idem([
    "config",
    "--config",
    configFile({ broker: { servers: ["mqtt://a:1883"] } }),
    "--check",
  ]);
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /broker\.servers: unknown setting \(known here: url, urls,/);
});

test("a string where the broker object belongs names the key, the value and an example", async () => {
  const outcome = await idem(["config", "--config", configFile({ broker: "embedded:28834" }), "--check"]);
  assert.equal(outcome.code, 2);
  assert.match(
    outcome.stderr,
    /broker: give an object like \{"url":"mqtt:\/\/HOST:PORT"\}; got the string "embedded:28834"/,
  );
});

test("wrong types at depth and bad choices are each a line, all at once, in plain words", async () => {
  const file = configFile({
    logLevel: "loud",
    broker: { keepaliveSeconds: "30" },
    trustedKeys: [{ keyId: "a b" }],
  });
  const outcome = await idem(["run", "--config", file]);
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /\(3 problems\)/);
  assert.match(outcome.stderr, /logLevel: give one of debug, info, warn, error; got the string "loud"/);
  assert.match(outcome.stderr, /broker\.keepaliveSeconds: give a whole number ≥ 5; got the string "30"/);
  assert.match(outcome.stderr, /trustedKeys\.0\.keyId: give a key id of 1-128 printable ASCII characters/);
  assert.doesNotMatch(outcome.stderr, RAW_WORDING);
});

test("a config file that is not JSON, or not an object, is refused naming the file", async () => {
  const notJson = await idem(["config", "--config", configFile("{generation: 3}"), "--check"]);
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /Cannot read config file .*config-\d+\.json as JSON/);
  const list = await idem(["config", "--config", configFile([1]), "--check"]);
  assert.equal(list.code, 2);
  assert.match(list.stderr, /\(the whole file\): give a JSON object of settings; got \[1\]/);
});

test("environment values are read by the setting's type and a wrong one names the variable", async () => {
  const outcome = await idem(["config", "--check"], {
    IDEM_GENERATION: "three",
    IDEM_BROKER_KEEPALIVE_SECONDS: "2",
    IDEM_PLUGINS: "/etc/idem/plugins",
  });
  assert.equal(outcome.code, 2);
  assert.match(outcome.stderr, /IDEM_GENERATION \(generation\): give a whole number ≥ 0; got "three"/);
  assert.match(
    outcome.stderr,
    /IDEM_BROKER_KEEPALIVE_SECONDS \(broker\.keepaliveSeconds\): give a whole number ≥ 5; got the number 2/,
  );
  assert.match(
    outcome.stderr,
    /IDEM_PLUGINS \(plugins\): give JSON: an array of strings, like \["\/etc\/idem\/plugins"\]/,
  );
  const good = await idem(["config", "--print"], {
    IDEM_PLUGINS: '["/a","/b"]',
    IDEM_BROKER_PROTOCOL: "5",
    IDEM_REQUIRE_GENERATION: "true",
    IDEM_LOG_LEVEL: "warn",
  });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^plugins +=\s+\["\/a","\/b"\] +\(env IDEM_PLUGINS\)$/m);
  assert.match(good.stdout, /^broker\.protocol += 5 +\(env IDEM_BROKER_PROTOCOL\)$/m);
  assert.match(good.stdout, /^requireGeneration += true +\(env IDEM_REQUIRE_GENERATION\)$/m);
  assert.match(good.stdout, /^logLevel += "warn" +\(env IDEM_LOG_LEVEL\)$/m);
});

test("a bad flag value names the flag: --generation -1, --log-level loud, --broker embedded:70000", async () => {
  const negative = await idem(["run", "--generation", "-1"]);
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--generation \(generation\): give a whole number ≥ 0; got the number -1/);
  const loud = await idem(["config", "--check", "--log-level", "loud"]);
  assert.equal(loud.code, 2);
  assert.match(loud.stderr, /--log-level \(logLevel\): give one of debug, info, warn, error; got "loud"/);
  const port = await idem(["config", "--check", "--broker", "embedded:70000"]);
  assert.equal(port.code, 2);
  assert.match(
    port.stderr,
    /--broker \(broker\.url\): Cannot use broker "embedded:70000": give embedded:PORT with a PORT from 0 to 65535/,
  );
  for (const outcome of [negative, loud, port]) assert.doesNotMatch(outcome.stderr, RAW_WORDING);
});

test("a file setting that cannot be read names the setting, not just ENOENT", async () => {
  const outcome = await idem([
    "config",
    "--check",
    "--config",
    configFile({ broker: { ca: join(dir, "missing-ca.pem") } }),
  ]);
  assert.equal(outcome.code, 2);
  assert.match(
    outcome.stderr,
    /broker\.ca: cannot read .*missing-ca\.pem \(no such file\): give the path of a PEM file/,
  );
});

test("config --print shows each value's source (default, file, env, flag) and masks secrets", async () => {
  const file = configFile({
    broker: { url: "mqtt://10.0.0.5:1883", username: "bob", password: "hunter2" },
    environment: { TOKEN: "s3cret" },
    trustedKeys: [
      { keyId: "engine", publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
    ],
  });
  const outcome = await idem(
    ["config", "--config", file, "--print", "--generation", "7", "--no-require-generation"],
    {
      IDEM_AGENT_ID: "vm-9",
    },
  );
  assert.equal(outcome.code, 0, outcome.stderr);
  const out = outcome.stdout;
  assert.match(
    out,
    new RegExp(`^broker\\.url += "mqtt://10\\.0\\.0\\.5:1883" +\\(config file ${file}\\)$`, "m"),
  );
  assert.match(out, /^broker\.password += "\*\*\*" +\(config file /m);
  assert.match(out, /^agentId += "vm-9" +\(env IDEM_AGENT_ID\)$/m);
  assert.match(out, /^generation += 7 +\(flag --generation\)$/m);
  assert.match(out, /^requireGeneration += false +\(flag --no-require-generation\)$/m);
  assert.match(out, /^logLevel += "info" +\(default\)$/m);
  assert.match(out, /^environment += \{"TOKEN":"\*\*\*"\}/m);
  assert.match(out, /^trustedKeys += \[\{"keyId":"engine","publicKey":"\*\*\*"\}\]/m);
  assert.doesNotMatch(out, /hunter2|s3cret|BEGIN PUBLIC KEY/);
});

test("config --check says OK for a valid configuration and needs --check or --print", async () => {
  const ok = await idem([
    "config",
    "--check",
    "--config",
    configFile({ broker: { url: "embedded:0" }, logLevel: "debug" }),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^configuration OK/);
  const neither = await idem(["config"]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give idem config --check or idem config --print/);
});
