/**
 * Issue 9 item 1, SPEC 9a and 10, end to end through the command line: `idem keygen` makes a pair and prints the
 * `trustedKeys` entry, an agent configured with it runs what `idem send --sign` sends (user properties, or the
 * envelope with `--envelope`) and refuses an unsigned `idem send` with 306; a Murano engine's RSA signature
 * (Python `cryptography`, PKCS1v15 + SHA256, no KeyId) is accepted; a bad trusted key refuses the start.
 */
import assert from "node:assert/strict";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runIdem } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { pythonRsaSignature, signedProperties } from "../helpers/signing.ts";

test("idem keygen + idem send --sign: signed plans run, an unsigned one is refused with 306", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "signed-cli");
  const { agentId, effects, root } = scene;
  const prefix = join(root, "engine");
  const made = await runIdem(["keygen", "--out", prefix, "--key-id", "engine-1"]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(statSync(`${prefix}.key`).mode & 0o777, 0o600);
  const entry = JSON.parse(made.stdout) as { trustedKeys: Array<{ keyId: string; publicKey: string }> };
  assert.equal(entry.trustedKeys[0]?.keyId, "engine-1");
  // What keygen printed is a config file as it is.
  const config = join(root, "config.json");
  writeFileSync(config, made.stdout);
  await scene.startAgent({ extraArgs: ["--config", config] });
  assert.equal((await runIdem(["keygen", "--out", prefix])).code, 2, "an existing key is never overwritten");

  const send = (tag: string, ...flags: string[]) => {
    const file = join(root, `${tag}.json`);
    writeFileSync(file, JSON.stringify(applicationPlan({ effects, tag })));
    const args = ["send", "--broker", scene.broker.url, "--agent-id", agentId, "--wait", "20"];
    return runIdem([...args, ...flags, file]);
  };
  const byProperty = await send("by-property", "--sign", `${prefix}.key`, "--key-id", "engine-1");
  assert.equal(byProperty.code, 0, byProperty.stdout + byProperty.stderr);
  const byEnvelope = await send(
    "by-envelope",
    "--sign",
    `${prefix}.key`,
    "--key-id",
    "engine-1",
    "--envelope",
  );
  assert.equal(byEnvelope.code, 0, byEnvelope.stdout + byEnvelope.stderr);
  const withoutKeyId = await send("without-key-id", "--sign", `${prefix}.key`);
  assert.equal(withoutKeyId.code, 0, withoutKeyId.stdout + withoutKeyId.stderr);
  const unsigned = await send("unsigned");
  assert.equal(unsigned.code, 1, unsigned.stdout + unsigned.stderr);
  assert.equal((JSON.parse(unsigned.stdout) as { ErrorCode: number }).ErrorCode, 306);
  const ran = readExecutions(effects).executions.map((e) => e.args);
  assert.deepEqual(ran.sort(), ["by-envelope", "by-property", "without-key-id"]);

  const help = await runIdem(["keygen", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /idem keygen --out PREFIX/);
  assert.match(help.stdout, /--sign KEYFILE/);
});

test("a plan signed as a Murano engine signs (Python cryptography, RSA PKCS1v15 + SHA256 over topic + body) runs", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "signed-murano");
  const { engine, effects, root } = scene;
  const plan = applicationPlan({ effects, tag: "murano" });
  const text = JSON.stringify(plan);
  const { publicPem, signature } = pythonRsaSignature(engine.topic("plans"), text);
  const pem = join(root, "murano.pub");
  writeFileSync(pem, publicPem);
  const config = join(root, "config.json");
  writeFileSync(config, JSON.stringify({ trustedKeys: [{ keyId: "murano", publicKeyFile: pem }] }));
  await scene.startAgent({ extraArgs: ["--config", config] });
  await engine.send(text, signedProperties(signature));
  const result = await engine.waitForResult(plan.ID);
  assert.equal(result.ErrorCode, 0, JSON.stringify(result));
  assert.deepEqual(
    readExecutions(effects).executions.map((e) => e.args),
    ["murano"],
  );
});

test("a trusted key that cannot be read refuses the start with exit 2, naming its key id", {
  timeout: 30_000,
}, async (t) => {
  const scene = await openScene(t, "signed-bad-key");
  const config = join(scene.root, "config.json");
  const bad = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  writeFileSync(config, JSON.stringify({ trustedKeys: [{ keyId: "broken-key", publicKey: bad }] }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config], waitOnline: false });
  assert.equal((await agent.waitForExit()).code, 2);
  assert.match(
    agent.lines.join("\n"),
    /Cannot start with trusted key "broken-key": it is not a PEM public key/,
  );
});
