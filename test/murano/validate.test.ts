import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { IdemError } from "../../agent/errors.ts";
import { validatePlan } from "../../agent/murano/validate.ts";
import { CORPUS_CASES } from "../helpers/corpus.ts";

const CORPUS = CORPUS_CASES;

interface Case {
  class: string;
  oracle_stage: "validation" | "run";
  message_id: string;
  plan: Record<string, unknown>;
  expected: { ErrorCode: number; Body: unknown };
}

function loadCase(file: string): Case {
  return JSON.parse(readFileSync(join(CORPUS, file), "utf8")) as Case;
}

function verdict(plan: Record<string, unknown>): { code: number; message: string } | "valid" {
  try {
    validatePlan(plan);
    return "valid";
  } catch (error) {
    assert.ok(error instanceof IdemError, `validatePlan threw ${String(error)}`);
    return { code: error.code, message: error.message };
  }
}

/** A minimal valid plan of the given format, with one Application script `deploy`. */
function plan(
  formatVersion: string | undefined,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...(formatVersion === undefined ? {} : { FormatVersion: formatVersion }),
    ID: "p1",
    Body: "return deploy().stdout",
    Scripts: {
      deploy: { Type: "Application", EntryPoint: "f1", Files: ["f2"], Options: { captureStdout: true } },
    },
    Files: {
      f1: { Name: "deploy.sh", BodyType: "Text", Body: "#!/bin/sh\necho hi\n" },
      f2: { Name: "lib/common.sh", BodyType: "Base64", Body: "IyBsaWIK\n" },
    },
    ...changes,
  };
}

const cases = readdirSync(CORPUS).filter((f) => f.endsWith(".json"));

test("every corpus plan gets murano-agent's validation verdict, except Chef/Puppet plans it would run", () => {
  assert.ok(cases.length >= 200, "the corpus is readable");
  const mismatches: string[] = [];
  for (const file of cases) {
    const c = loadCase(file);
    const got = verdict({ ID: c.message_id, ...c.plan });
    const body = c.expected.Body as { Message?: string };
    const expected =
      c.oracle_stage === "validation" ? { code: c.expected.ErrorCode, message: body.Message ?? "" } : "valid";
    const chefOrPuppet = Object.values((c.plan.Scripts ?? {}) as Record<string, { Type?: string }>).some(
      (s) => s.Type === "Chef" || s.Type === "Puppet",
    );
    if (expected === "valid" && chefOrPuppet) {
      assert.equal(typeof got, "object", file);
      assert.match((got as { message: string }).message, /executor "(Chef|Puppet)" is not available/, file);
      continue;
    }
    if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`${file}: ${JSON.stringify(got)}`);
  }
  assert.deepEqual(mismatches, []);
});

test("a Chef script in a 2.0.0 plan is refused with murano-agent's message", () => {
  const c = loadCase(cases.find((f) => f.includes("execution_plans__chef")) ?? "");
  assert.deepEqual(verdict(c.plan), { code: 2, message: "Type Chef is not valid for format 2.0.0" });
});

test("a Chef script that murano-agent accepts (format 2.1.0) is refused as idem has no Chef executor", () => {
  const p = plan("2.1.0", {
    Scripts: { cook: { Type: "Chef", EntryPoint: "tomcat::default", Options: {} } },
  });
  assert.deepEqual(verdict(p), {
    code: 2,
    message: 'Cannot run script "cook": executor "Chef" is not available',
  });
});

test("a FormatVersion 1 plan without Files is refused as murano-agent refuses it", () => {
  const c = loadCase(cases.find((f) => f.includes("JoinDomain")) ?? "");
  assert.deepEqual(verdict(c.plan), { code: 2, message: "Files is not in the execution plan" });
});

test("a plan without FormatVersion is read as 1.0.0 and accepted", () => {
  assert.equal(verdict(plan(undefined)), "valid");
});

test("FormatVersion 3.0.0 is refused with code 9", () => {
  assert.deepEqual(verdict(plan("3.0.0")), {
    code: 9,
    message: "Unsupported format version 3.0.0 (I support versions <=2.2.0)",
  });
  assert.equal(verdict(plan("2.2.0")), "valid");
});

test("a malformed FormatVersion is refused with code 2", () => {
  const got = verdict(plan("2.1"));
  assert.equal(typeof got === "object" && got.code, 2);
});

test("a file Name with .. is refused", () => {
  const p = plan("2.0.0");
  (p.Files as Record<string, Record<string, unknown>>).f2 = { Name: "../x", BodyType: "Text", Body: "x" };
  const got = verdict(p);
  assert.equal(typeof got === "object" && got.code, 2);
  assert.match((got as { message: string }).message, /File f2 has a Name with "\.\."/);
});

test("an absolute file Name is refused", () => {
  const p = plan("2.0.0");
  (p.Files as Record<string, Record<string, unknown>>).f1 = {
    Name: "/etc/passwd",
    BodyType: "Text",
    Body: "x",
  };
  assert.match(JSON.stringify(verdict(p)), /"code":2.*absolute Name/);
});

test("a script name that is not a plain folder name is refused", () => {
  const p = plan("2.0.0");
  const scripts = p.Scripts as Record<string, unknown>;
  p.Scripts = { "../evil": scripts.deploy };
  assert.match(JSON.stringify(verdict(p)), /"code":2.*script name/);
});

test("Downloadable files are refused in a 2.0.0 plan and accepted from 2.1.0", () => {
  const download = { d1: { Name: "repo", Type: "Downloadable", URL: "https://example.org/repo.git" } };
  const p20 = plan("2.0.0");
  Object.assign(p20.Files as object, download);
  assert.deepEqual(verdict(p20), {
    code: 2,
    message: "Download file is d1 not valid for this version 2.0.0",
  });
  const p21 = plan("2.1.0");
  Object.assign(p21.Files as object, download);
  assert.equal(verdict(p21), "valid");
});

test("murano-agent's script and file rules give its messages", () => {
  const scripts = (s: Record<string, unknown>) => ({ Scripts: { deploy: s } });
  assert.deepEqual(
    verdict(plan("2.0.0", scripts({ Type: "Application", EntryPoint: "nope", Options: {} }))),
    {
      code: 2,
      message: "Script deploy misses entry point nope",
    },
  );
  assert.deepEqual(verdict(plan("2.1.0", scripts({ Type: "Shell", EntryPoint: "f1", Options: {} }))), {
    code: 2,
    message: "Script has not a valid type Shell",
  });
  assert.deepEqual(verdict(plan("2.1.0", scripts({ Type: "Puppet", EntryPoint: "f1", Options: {} }))), {
    code: 2,
    message: "Wrong EntryPoint f1 for Puppet/Chef executors. :: needed",
  });
  assert.deepEqual(
    verdict(
      plan("2.1.0", scripts({ Type: "Application", EntryPoint: "f1", Options: { useBerkshelf: true } })),
    ),
    { code: 2, message: "Script has an option useBerkshelf invalid for version 2.1.0" },
  );
  assert.deepEqual(
    verdict(
      plan("2.2.0", scripts({ Type: "Application", EntryPoint: "f1", Options: { useBerkshelf: true } })),
    ),
    { code: 2, message: "Script has an option useBerkshelf invalid for type Application" },
  );
  assert.deepEqual(verdict(plan("2.0.0", scripts({ Type: "Application", EntryPoint: 7 }))), {
    code: 2,
    message: "Incorrect EntryPoint entry in script deploy",
  });
  assert.deepEqual(
    verdict(plan("2.0.0", scripts({ Type: "Application", EntryPoint: "f1", Files: [{ x: "y" }] }))),
    { code: 2, message: "Script deploy misses file {'x': 'y'}" },
  );
  const f2 = { Name: "b", BodyType: "Text", Body: "" };
  assert.deepEqual(verdict(plan("2.0.0", { Files: { f1: { Name: "a" }, f2 } })), {
    code: 2,
    message: "Invalid file f1: {'Name': 'a'}",
  });
  assert.deepEqual(verdict(plan("2.0.0", { Files: { f1: { Name: "a", BodyType: "Zip", Body: "" }, f2 } })), {
    code: 2,
    message: "Incorrect BodyType in file f1",
  });
  assert.deepEqual(verdict(plan("2.0.0", { Scripts: [] })), {
    code: 2,
    message: "Scripts is not a dictionary",
  });
});

test("a 2.1.0 script without Options is refused with a message that says what to add", () => {
  const p = plan("2.1.0", { Scripts: { deploy: { Type: "Application", EntryPoint: "f1" } } });
  assert.match(JSON.stringify(verdict(p)), /"code":2.*no Options object/);
});

test("malformed extension fields are refused with code 2 and name the field", () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ Generation: -1 }, /^Generation must be an integer >= 0/],
    [{ Generation: 1.5 }, /^Generation must be an integer >= 0/],
    [{ Timeout: 0 }, /^Timeout must be a number of seconds > 0/],
    [{ Timeout: "60" }, /^Timeout must be a number/],
    [{ Idempotency: { Key: "" } }, /^Idempotency\.Key /],
    [{ Idempotency: { Key: "k".repeat(256) } }, /^Idempotency\.Key /],
    [{ Idempotency: { Options: [] } }, /^Idempotency\.Options /],
    [{ Idempotency: "k" }, /^Idempotency /],
  ];
  for (const [changes, message] of bad) {
    const got = verdict(plan("2.1.0", changes));
    assert.equal(typeof got === "object" && got.code, 2, JSON.stringify(changes));
    assert.match((got as { message: string }).message, message);
  }
  const good = {
    Generation: 0,
    Timeout: 0.5,
    Idempotency: { Policy: "always", Key: "k", Options: { window: 5 } },
  };
  assert.equal(verdict(plan("2.1.0", good)), "valid");
});
