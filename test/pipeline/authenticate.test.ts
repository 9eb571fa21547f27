/**
 * The authenticate stage (SPEC 9a) as a pure function: which signatures make a plan authentic, what the later
 * stages see (an envelope's Plan), and which trusted keys refuse the start.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { authenticate, loadTrustedKeys } from "../../agent/pipeline/authenticate.ts";
import { ed25519Key, envelope, pythonRsaSignature, rsaKey, signFor } from "../helpers/signing.ts";

const TOPIC = "idem/vm-1/plans";
const PLAN = JSON.stringify({ ID: "p1", FormatVersion: "2.1.0", Body: "return 1" });
const ed = ed25519Key("ed-1");
const rsa = rsaKey("rsa-1");
const keys = loadTrustedKeys([
  { keyId: ed.keyId, publicKey: ed.publicPem },
  { keyId: rsa.keyId, publicKey: rsa.publicPem },
]);
const check = (payload: string, userProperties?: Record<string, string | string[]>, topic = TOPIC) =>
  authenticate(
    { payload: Buffer.from(payload), ...(userProperties ? { userProperties } : {}) },
    { keys, plansTopic: topic },
  );
const reason = (verdict: ReturnType<typeof check>) =>
  verdict.kind === "unauthenticated" ? verdict.reason : `not refused but ${verdict.kind}`;

test("a plan signed with a trusted Ed25519 or RSA key, as user properties or an envelope, is authentic", () => {
  for (const key of [ed, rsa]) {
    const signature = signFor(key, TOPIC, PLAN);
    const byProperty = check(PLAN, { Signature: signature, KeyId: key.keyId });
    assert.equal(byProperty.kind, "signed");
    assert.equal(Buffer.from(byProperty.payload).toString(), PLAN);
    const byEnvelope = check(envelope(signature, key.keyId, PLAN));
    assert.deepEqual(
      { ...byEnvelope, payload: Buffer.from(byEnvelope.payload).toString() },
      { kind: "signed", payload: PLAN, keyId: key.keyId, via: "envelope" },
    );
    // Without a KeyId every trusted key is tried (a Murano engine sends none).
    assert.equal(check(PLAN, { Signature: signature }).kind, "signed");
  }
});

test("a plan without a valid signature is unauthenticated, with the reason", () => {
  const good = signFor(ed, TOPIC, PLAN);
  assert.match(reason(check(PLAN)), /carries no signature/);
  assert.match(reason(check(PLAN, { Signature: "not base64!", KeyId: "ed-1" })), /not base64/);
  assert.match(reason(check(PLAN, { Signature: [good, good], KeyId: "ed-1" })), /more than once/);
  assert.match(reason(check(PLAN, { Signature: good, KeyId: "retired" })), /"retired" is not a trusted key/);
  assert.match(reason(check(PLAN, { Signature: good, KeyId: "rsa-1" })), /does not verify with key "rsa-1"/);
  const altered = PLAN.replace("return 1", "return 2");
  assert.match(reason(check(altered, { Signature: good, KeyId: "ed-1" })), /does not verify/);
  const forOther = signFor(ed, "idem/vm-2/plans", PLAN);
  assert.match(reason(check(PLAN, { Signature: forOther, KeyId: "ed-1" })), /does not verify/);
  const untrusted = signFor(ed25519Key("ed-1"), TOPIC, PLAN);
  assert.match(reason(check(PLAN, { Signature: untrusted, KeyId: "ed-1" })), /does not verify/);
  assert.match(reason(check(JSON.stringify({ Signature: good, Plan: 7 }))), /Plan is not a string/);
  // An envelope's signature covers its Plan, not the envelope.
  assert.match(reason(check(envelope(signFor(ed, TOPIC, "{}"), "ed-1", PLAN))), /does not verify/);
});

test("without trusted keys nothing is checked, and an envelope is unwrapped", () => {
  const open = authenticate(
    { payload: Buffer.from(envelope("x", "k", PLAN)) },
    { keys: undefined, plansTopic: TOPIC },
  );
  assert.equal(open.kind, "open");
  assert.equal(Buffer.from(open.payload).toString(), PLAN);
});

test("an RSA signature made by Python's cryptography as a Murano engine makes it is authentic", () => {
  const { publicPem, signature } = pythonRsaSignature(TOPIC, PLAN);
  const murano = loadTrustedKeys([{ keyId: "murano", publicKey: publicPem }]);
  const verdict = authenticate(
    { payload: Buffer.from(PLAN), userProperties: { Signature: signature } },
    { keys: murano, plansTopic: TOPIC },
  );
  assert.equal(verdict.kind, "signed");
  const elsewhere = authenticate(
    { payload: Buffer.from(PLAN), userProperties: { Signature: signature } },
    { keys: murano, plansTopic: "idem/vm-2/plans" },
  );
  assert.equal(elsewhere.kind, "unauthenticated");
});

test("a trusted key that cannot be used refuses the start, naming its key id", () => {
  const dir = mkdtempSync(join(tmpdir(), "idem-keys-"));
  const pem = join(dir, "k.pub");
  writeFileSync(pem, ed.publicPem);
  assert.equal(loadTrustedKeys([{ keyId: "from-file", publicKeyFile: pem }]).size, 1);
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
    type: "spki",
    format: "pem",
  });
  const privatePem = ed.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const cases: Array<[Parameters<typeof loadTrustedKeys>[0], RegExp]> = [
    [
      [{ keyId: "garbage", publicKey: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n" }],
      /"garbage".*not a PEM public key/,
    ],
    [[{ keyId: "secret", publicKey: privatePem }], /"secret".*private key/],
    [[{ keyId: "ec", publicKey: ec as string }], /"ec".*ec key: give an Ed25519 or an RSA key/],
    [[{ keyId: "small", publicKey: rsaKey("small", 1024).publicPem }], /"small".*1024 bits/],
    [[{ keyId: "missing", publicKeyFile: join(dir, "none.pub") }], /"missing".*cannot read publicKeyFile/],
    [[{ keyId: "neither" }], /"neither".*exactly one of publicKey/],
    [
      [
        { keyId: "twice", publicKey: ed.publicPem },
        { keyId: "twice", publicKey: rsa.publicPem },
      ],
      /"twice".*given twice/,
    ],
  ];
  for (const [entries, message] of cases) {
    assert.throws(
      () => loadTrustedKeys(entries),
      (error: Error & { code?: number }) => {
        assert.match(error.message, message);
        assert.equal(error.code, 2);
        return true;
      },
    );
  }
});

test("a payload read while looking for an envelope is handed on parsed, so intake parses a plan once", () => {
  const plain = authenticate({ payload: Buffer.from(PLAN) }, { keys: undefined, plansTopic: TOPIC });
  assert.equal(plain.kind, "open");
  assert.equal(plain.kind === "open" && plain.parsed?.text, PLAN);
  assert.ok(plain.kind === "open" && plain.parsed?.outcome.ok);
  const notJson = authenticate({ payload: Buffer.from("{") }, { keys: undefined, plansTopic: TOPIC });
  assert.equal(notJson.kind === "open" && notJson.parsed?.outcome.ok, false);
  // An envelope's Plan is another text: decode parses it (once); by user properties nothing was read here.
  const wrapped = authenticate(
    { payload: Buffer.from(envelope("x", "k", PLAN)) },
    { keys: undefined, plansTopic: TOPIC },
  );
  assert.equal(wrapped.kind === "open" && wrapped.parsed, undefined);
  const signature = signFor(ed, TOPIC, PLAN);
  const byProperty = check(PLAN, { Signature: signature });
  assert.equal(byProperty.kind, "signed");
  assert.equal(byProperty.kind === "signed" && byProperty.parsed, undefined);
});
