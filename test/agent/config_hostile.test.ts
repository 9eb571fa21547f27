/**
 * Configurations an operator gets wrong in the ways that used to slip through (issue 12, tried as a newcomer and
 * as an attacker), in-process through `main` with real files in a temp folder:
 * - a config file nested 100,000 deep (top level, or under a setting) is an exit-2 message, not a stack overflow;
 * - a secret given with the wrong type (a password as a number or an array, an `environment` value as an object,
 *   `IDEM_ENVIRONMENT` that is not JSON) is named but never quoted (SPEC 9a), nor is one next to a JSON syntax
 *   error (V8's own message quotes the text around it);
 * - an `IDEM_*` variable one or two letters from a setting's (`IDEM_GENERATON`, `IDEM_BROKER_URL`) is refused
 *   naming the variable meant, instead of leaving the agent unfenced or on the default broker;
 * - a broker password without a user name (MQTT 3.1.1 cannot send one) is refused at start, not retried forever.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { idem } from "../helpers/in_process.ts";

const dir = mkdtempSync(join(tmpdir(), "idem-config-hostile-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function configFile(text: string): string {
  const file = join(dir, `config-${files++}.json`);
  writeFileSync(file, text);
  return file;
}

/** `idem config ARGS… --check` in-process, with only `env` as the environment. */
function check(args: string[], env: Record<string, string> = {}) {
  return idem(["config", ...args, "--check"], env);
}

const DEEP = 100_000;

test("a config file nested 100,000 deep is refused with exit 2 and a short excerpt, not a stack overflow", async () => {
  const top = await check(["--config", configFile(`${"[".repeat(DEEP)}${"]".repeat(DEEP)}`)]);
  assert.equal(top.code, 2, top.stderr);
  assert.match(top.stderr, /\(the whole file\): give a JSON object of settings; got \[\[\[+…\n/);
  const under = await check([
    "--config",
    configFile(`{"retentionDays": ${"[".repeat(DEEP)}${"]".repeat(DEEP)}}`),
  ]);
  assert.equal(under.code, 2, under.stderr);
  assert.match(under.stderr, /retentionDays: give a number ≥ 0; got the array \[\[\[+…\n/);
  assert.doesNotMatch(`${top.stderr}${under.stderr}`, /call stack/);
});

test("a secret of the wrong type is named but never quoted, from the file or the environment", async () => {
  const file = configFile(
    JSON.stringify({
      broker: { username: "u", password: 271828 },
      environment: { TOKEN: { value: "s3cret-env" } },
      trustedKeys: [{ keyId: "k", publicKey: ["pem-s3cret"] }],
    }),
  );
  const outcome = await check(["--config", file]);
  assert.equal(outcome.code, 2, outcome.stderr);
  assert.match(outcome.stderr, /broker\.password: give a string; got a number \(not shown/);
  assert.match(outcome.stderr, /environment\.TOKEN: give a string; got an object \(not shown/);
  assert.match(
    outcome.stderr,
    /trustedKeys\.0\.publicKey: give a non-empty string; got an array \(not shown/,
  );
  const env = await check([], { IDEM_ENVIRONMENT: '{"TOKEN": s3cret-var}' });
  assert.equal(env.code, 2, env.stderr);
  assert.match(env.stderr, /IDEM_ENVIRONMENT \(environment\): give JSON: .*; got a string \(not shown/);
  assert.doesNotMatch(`${outcome.stderr}${env.stderr}`, /271828|s3cret/);
});

test("a JSON syntax error says where, never what is there (it may be the password)", async () => {
  const file = configFile('{\n  "broker": {"username": "u",\n    "password": hunter2-s3cret}\n}');
  const outcome = await check(["--config", file]);
  assert.equal(outcome.code, 2);
  assert.match(
    outcome.stderr,
    /Cannot read config file .*config-\d+\.json as JSON: Expecting value at position \d+ \(line 3 column 17\): fix the file/,
  );
  assert.doesNotMatch(outcome.stderr, /hunter2|s3cret/);
});

test("an IDEM_ variable one or two letters off a setting's is refused naming the one meant", async () => {
  const outcome = await check([], {
    IDEM_GENERATON: "3",
    IDEM_BROKER_URL: "mqtt://10.0.0.5:1883",
    IDEM_LOGLEVEL: "debug",
  });
  assert.equal(outcome.code, 2, outcome.stderr);
  assert.match(outcome.stderr, /IDEM_GENERATON \(generation\): .*did you mean IDEM_GENERATION\?/);
  assert.match(outcome.stderr, /IDEM_BROKER_URL \(broker\.url\): .*did you mean IDEM_BROKER\?/);
  assert.match(outcome.stderr, /IDEM_LOGLEVEL \(logLevel\): .*did you mean IDEM_LOG_LEVEL\?/);
  // The agent's other variables, and names far from any setting's, are left alone.
  const others = await check([], {
    IDEM_CONFIG: "",
    IDEM_CACHE_DIR: "/var/lib/idem/cache",
    IDEM_TEST_BOOT_ID: "b",
    IDEM_SITE_NOTE: "mine",
  });
  assert.equal(others.code, 0, others.stderr);
});

test("a broker password without a user name is refused at start, naming what to add", async () => {
  const outcome = await check([], { IDEM_BROKER_PASSWORD: "pw" });
  assert.equal(outcome.code, 2);
  assert.match(
    outcome.stderr,
    /IDEM_BROKER_PASSWORD \(broker\.password\): a password needs a user name: give broker\.username/,
  );
  assert.doesNotMatch(outcome.stderr, /"pw"/);
  const withUser = await check(["--broker", "mqtt://bob@10.0.0.5:1883"], { IDEM_BROKER_PASSWORD: "pw" });
  assert.equal(withUser.code, 0, withUser.stderr);
});

test("a whole number beyond 2**53 - 1 is refused rather than rounded (a generation must not change)", async () => {
  const flag = await check(["--generation", "99999999999999999999"]);
  assert.equal(flag.code, 2, flag.stderr);
  assert.match(
    flag.stderr,
    /--generation \(generation\): give a whole number ≥ 0 up to 9007199254740991; got/,
  );
  const env = await check([], { IDEM_GENERATION: "9007199254740993" });
  assert.equal(env.code, 2, env.stderr);
  const file = await check(["--config", configFile('{"generation": 18446744073709551617}')]);
  assert.equal(file.code, 2, file.stderr);
  assert.equal((await check(["--generation", "9007199254740991"])).code, 0);
});

test("a flag given without its value is refused, not read as an empty setting (--config, --data-dir, --plugins)", async () => {
  const config = await check(["--config"]);
  assert.equal(config.code, 2);
  assert.match(config.stderr, /Cannot use --config without a file: give --config FILE/);
  for (const flag of ["--data-dir", "--plugins", "--default-policy", "--broker-username", "--metrics-host"]) {
    const outcome = await check([flag]);
    assert.equal(outcome.code, 2, `${flag}: ${outcome.stderr}`);
    assert.match(
      outcome.stderr,
      new RegExp(`${flag} \\(\\S+\\): give a non-empty string; got the string ""`),
    );
  }
});
