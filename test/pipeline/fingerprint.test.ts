import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { fingerprint } from "../../agent/pipeline/fingerprint.ts";

const id = () => randomUUID().replaceAll("-", "");

/** A plan as a Murano engine sends it: fresh ID, Stamp and file ids on every build. */
function build(
  overrides: { script?: string; support?: string; parameters?: Record<string, unknown>; body?: string } = {},
) {
  const entry = id();
  const support = id();
  return {
    FormatVersion: "2.1.0",
    Version: "1.0.0",
    Name: "Deploy",
    ID: id(),
    Stamp: Math.floor(Math.random() * 1e12),
    Action: "Execute",
    Parameters: overrides.parameters ?? { port: 8080, name: "web" },
    Body: overrides.body ?? "return deploy(args.name).stdout",
    Scripts: {
      deploy: {
        Type: "Application",
        Version: "1.0.0",
        EntryPoint: entry,
        Files: [support, { "conf.ini": support }],
        Options: { captureStdout: true, captureStderr: true },
      },
    },
    Files: {
      [entry]: { Name: "deploy.sh", BodyType: "Text", Body: overrides.script ?? "#!/bin/sh\necho $1\n" },
      [support]: {
        Name: "lib.sh",
        BodyType: "Base64",
        Body: Buffer.from(overrides.support ?? "x=1\n").toString("base64"),
      },
    },
  };
}

describe("fingerprint", () => {
  test("is the same for two sends of one template whatever their IDs, stamps and file ids", () => {
    assert.equal(fingerprint(build()), fingerprint(build()));
  });

  test("ignores ReplyTo, Generation, Idempotency and Timeout", () => {
    const plan = build();
    const wrapped = {
      ...plan,
      ReplyTo: "x/y",
      Generation: 3,
      Idempotency: { Policy: "always" },
      Timeout: 10,
    };
    assert.equal(fingerprint(plan), fingerprint(wrapped));
  });

  test("does not depend on key order", () => {
    const plan = build();
    const reversed = Object.fromEntries(Object.entries(plan).reverse());
    assert.equal(fingerprint(plan), fingerprint(reversed));
  });

  test("has the sha256: form", () => {
    assert.match(fingerprint(build()), /^sha256:[0-9a-f]{64}$/);
  });

  const changes: Array<[string, Parameters<typeof build>[0]]> = [
    ["a parameter value", { parameters: { port: 8081, name: "web" } }],
    ["a parameter name", { parameters: { port: 8080, host: "web" } }],
    ["the Body", { body: "return deploy(args.name).stderr" }],
    ["the entry point's content", { script: "#!/bin/sh\necho $2\n" }],
    ["a support file's bytes", { support: "x=2\n" }],
  ];
  for (const [what, change] of changes) {
    test(`changes when ${what} changes`, () => {
      assert.notEqual(fingerprint(build()), fingerprint(build(change)));
    });
  }

  test("changes when a script option changes", () => {
    const plan = build();
    const other = structuredClone(plan);
    other.Scripts.deploy.Options.captureStderr = false;
    assert.notEqual(fingerprint(plan), fingerprint(other));
  });

  test("changes when files swap roles (entry point and support file)", () => {
    const plan = build();
    const other = structuredClone(plan);
    const [entry, support] = Object.keys(plan.Files) as [string, string];
    other.Scripts.deploy.EntryPoint = support;
    other.Scripts.deploy.Files = [entry, { "conf.ini": entry }];
    assert.notEqual(fingerprint(plan), fingerprint(other));
  });

  test("changes when an unknown field is added (unknown fields are content)", () => {
    assert.notEqual(fingerprint(build()), fingerprint({ ...build(), Extra: 1 }));
  });

  test("drops what Idempotency.Options.ignore points at", () => {
    const ignore = { Idempotency: { Options: { ignore: ["/Parameters/stamp"] } } };
    const a = { ...build({ parameters: { name: "web", stamp: 1 } }), ...ignore };
    const b = { ...build({ parameters: { name: "web", stamp: 2 } }), ...ignore };
    assert.equal(fingerprint(a), fingerprint(b));
    assert.notEqual(fingerprint({ ...a, Idempotency: {} }), fingerprint({ ...b, Idempotency: {} }));
  });
});
