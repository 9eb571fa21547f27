import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { type JsonObject, parseJson } from "../../agent/json/parse.ts";
import { fingerprint } from "../../agent/pipeline/fingerprint.ts";

const id = () => randomUUID().replaceAll("-", "");

/** A plan as a Murano engine sends it: fresh ID, Stamp and file ids on every build. */
function build(overrides: { script?: string; support?: string; parameters?: object; body?: string } = {}) {
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
    assert.equal(fp(build()), fp(build()));
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
    assert.equal(fp(plan), fp(wrapped));
  });

  test("does not depend on key order", () => {
    const plan = build();
    const reversed = Object.fromEntries(Object.entries(plan).reverse());
    assert.equal(fp(plan), fp(reversed));
  });

  test("has the sha256: form", () => {
    assert.match(fp(build()), /^sha256:[0-9a-f]{64}$/);
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
      assert.notEqual(fp(build()), fp(build(change)));
    });
  }

  test("changes when a script option changes", () => {
    const plan = build();
    const other = structuredClone(plan);
    other.Scripts.deploy.Options.captureStderr = false;
    assert.notEqual(fp(plan), fp(other));
  });

  test("changes when files swap roles (entry point and support file)", () => {
    const plan = build();
    const other = structuredClone(plan);
    const [entry, support] = Object.keys(plan.Files) as [string, string];
    other.Scripts.deploy.EntryPoint = support;
    other.Scripts.deploy.Files = [entry, { "conf.ini": entry }];
    assert.notEqual(fp(plan), fp(other));
  });

  test("changes when an unknown field is added (unknown fields are content)", () => {
    assert.notEqual(fp(build()), fp({ ...build(), Extra: 1 }));
  });

  test("drops what Idempotency.Options.ignore points at", () => {
    const ignore = { Idempotency: { Options: { ignore: ["/Parameters/stamp"] } } };
    const a = { ...build({ parameters: { name: "web", stamp: 1 } }), ...ignore };
    const b = { ...build({ parameters: { name: "web", stamp: 2 } }), ...ignore };
    assert.equal(fp(a), fp(b));
    assert.notEqual(fp({ ...a, Idempotency: {} }), fp({ ...b, Idempotency: {} }));
  });

  test("tells numbers apart by their JSON kind and exact value, as Python's int and float (SPEC 4)", () => {
    const different: Array<[string, string]> = [
      ["1", "1.0"],
      ["9007199254740992", "9007199254740993"],
      ["0", "-0.0"],
      ["1e308", "1e400"],
    ];
    for (const [a, b] of different) {
      assert.notEqual(fp(withParameter(a)), fp(withParameter(b)), `${a} and ${b}`);
    }
    const same: Array<[string, string]> = [
      ["1e400", "Infinity"],
      ["1.0", "1.00"],
      ["-0", "0"],
      ["1E2", "100.0"],
    ];
    for (const [a, b] of same) {
      assert.equal(fp(withParameter(a)), fp(withParameter(b)), `${a} and ${b}`);
    }
  });

  test("tells a lone surrogate from U+FFFD, in a parameter and in a Text file body", () => {
    assert.notEqual(fp(withParameter('"\\udc00"')), fp(withParameter('"\\ufffd"')));
    const file = (body: string) =>
      exact(`{"ID": "1", "Files": {"f": {"Name": "a.sh", "BodyType": "Text", "Body": "${body}"}}}`);
    assert.notEqual(fp(file("x\\udc00")), fp(file("x\\ufffd")));
    assert.notEqual(fp(file("x\\udc00")), fp(file("x\\\\udc00")));
    assert.equal(fp(file("x\\ud83d\\ude00")), fp(file("x😀")));
  });

  test("follows ignore pointers through own properties only and never touches Object.prototype", () => {
    const names = Object.getOwnPropertyNames(Object.prototype).sort();
    const pointers = [
      "/__proto__/hasOwnProperty",
      "/constructor/prototype",
      "/Parameters/__proto__",
      "/Parameters/constructor/prototype",
    ];
    const ignore = { Idempotency: { Options: { ignore: pointers } } };
    const literal = { ...build(), ...ignore };
    assert.doesNotThrow(() => fp(literal));
    const parsed = exact(
      `{"ID": "1", "Parameters": {"__proto__": {"a": 1}, "b": 2}, "Idempotency": ${JSON.stringify(ignore.Idempotency)}}`,
    );
    const without = exact(`{"ID": "1", "Parameters": {"b": 2}}`);
    assert.equal(fp(parsed), fp(without));
    assert.equal(typeof Object.prototype.hasOwnProperty, "function");
    assert.equal({}.constructor, Object);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), names);
  });

  test("takes array indices of ignore pointers only as 0|[1-9][0-9]* below the length", () => {
    const plan = (ignore: string[], list = "[1, 2, 3]") =>
      exact(
        `{"ID": "1", "Parameters": {"list": ${list}}, "Idempotency": {"Options": {"ignore": ${JSON.stringify(ignore)}}}}`,
      );
    assert.equal(fp(plan(["/Parameters/list/1"])), fp(plan([], "[1, 3]")));
    for (const index of ["01", "3", "-1", "1.0", " 1", "length"]) {
      assert.equal(fp(plan([`/Parameters/list/${index}`])), fp(plan([])), index);
    }
  });

  test("leaves the plan it is given unchanged", () => {
    const text = `{"ID": "1", "Stamp": 2, "Parameters": {"n": 12345678901234567890, "l": [1, 2]},
      "Scripts": {"s": {"EntryPoint": "f", "Files": ["g", {"c": "g"}]}},
      "Files": {"f": {"Name": "a", "BodyType": "Text", "Body": "x"}, "g": {"Name": "b", "BodyType": "Base64", "Body": "eA=="}},
      "Idempotency": {"Options": {"ignore": ["/Parameters/l/0", "/Files/g"]}}}`;
    const plan = exact(text);
    fingerprint(plan);
    assert.deepEqual(plan, exact(text));
  });

  test("fingerprints a plan nested 10,000 levels deep without growing the stack", () => {
    const deep = (levels: number) =>
      exact(`{"ID": "1", "Parameters": ${"[".repeat(levels)}${"]".repeat(levels)}}`);
    assert.notEqual(fp(deep(10_000)), fp(deep(9_999)));
  });
});

/** The fingerprint of a plan given as its exact tree, or as a JS object sent as JSON text. */
function fp(plan: object): string {
  return fingerprint(plan instanceof Map ? (plan as JsonObject) : exact(JSON.stringify(plan)));
}

/** The exact tree of a JSON text (integers as bigint), as decode gives it to the fingerprint. */
function exact(text: string): JsonObject {
  const outcome = parseJson(text);
  if (!outcome.ok) assert.fail(outcome.message);
  return outcome.value as JsonObject;
}

function withParameter(json: string): JsonObject {
  return exact(`{"ID": "${id()}", "Parameters": {"x": ${json}}}`);
}
