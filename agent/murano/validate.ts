/**
 * Plan validation: murano-agent 10.0.0's `validation.validate_plan`, rule for rule and message for message (so a
 * plan gets the same verdict and code from both agents), then idem's own rules (SPEC section 3 and 6).
 *
 * Deliberate deviations, all of them refusals of plans that murano-agent accepts here and then fails on later
 * (a Python exception, ErrorCode 1, sometimes after other scripts already ran), or that are unsafe:
 * - where murano-agent's validator itself crashes (a malformed FormatVersion, a 2.1+ script without `Options`,
 *   a file that is not an object ...) idem answers code 2 with a message that says what to fix, not code 1
 *   with a bare Python exception text;
 * - an unknown script Type, an entry point or Body that is missing, `Parameters` that is not an object, a file
 *   whose `Type` is not `Downloadable` or whose Name/Body/URL is not a string: code 2 before anything runs;
 * - Chef and Puppet scripts (valid from format 2.1.0) are refused with code 2: idem has no such executor;
 * - a file `Name` that is absolute or has a `..` segment, and a script name or file id that is not a plain
 *   path segment (both become directories of the work dir): code 2;
 * - the extension fields `Generation`, `Idempotency` and `Timeout` must be well-formed: code 2.
 */
import Type from "typebox";
import { Value } from "typebox/value";
import { ErrorCode, IdemError } from "../errors.ts";

const MAX_FORMAT = "2.2.0";
const APPLICATION = "Application";
const MURANO_TYPES = ["Application", "Chef", "Puppet"];

const Generation = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Idempotency = Type.Object({
  Policy: Type.Optional(Type.String({ minLength: 1 })),
  // Length in code points, as Python counts it: checked below (TypeBox counts UTF-16 units).
  Key: Type.Optional(Type.String({ minLength: 1, maxLength: 510 })),
  Options: Type.Optional(Type.Object({})),
});
/** Seconds; at most 2,000,000 (23 days), as a timer longer than 2^31 ms would fire at once. */
const Timeout = Type.Number({ exclusiveMinimum: 0, maximum: 2_000_000 });

/** Throws `IdemError` (code 2 or 9) when idem must refuse the plan; returns when it may run. */
export function validatePlan(plan: Record<string, unknown>): void {
  const version = formatVersion(plan);
  validateMurano(plan, version);
  validateIdem(plan);
}

// --- murano-agent's rules (muranoagent/validation.py) ---------------------------------------------------

function validateMurano(plan: Record<string, unknown>, version: SemVer): void {
  if (compare(version, parse(MAX_FORMAT)) > 0) {
    throw new IdemError(
      ErrorCode.UnsupportedFormat,
      `Unsupported format version ${show(version)} (I support versions <=${MAX_FORMAT})`,
    );
  }
  for (const attr of ["Scripts", "Files"]) {
    if (!(attr in plan)) invalid(`${attr} is not in the execution plan`);
  }
  for (const attr of ["Scripts", "Files", "Options"]) {
    if (attr in plan && !isObject(plan[attr])) invalid(`${attr} is not a dictionary`);
  }
  const scripts = plan.Scripts as Record<string, unknown>;
  const files = plan.Files as Record<string, unknown>;
  for (const [name, script] of Object.entries(scripts)) validateScript(name, script, version, files);
  for (const [id, file] of Object.entries(files)) validateFile(id, file, version);
}

function validateScript(
  name: string,
  script: unknown,
  version: SemVer,
  files: Record<string, unknown>,
): void {
  for (const attr of ["Type", "EntryPoint"]) {
    if (!isObject(script) || typeof script[attr] !== "string")
      invalid(`Incorrect ${attr} entry in script ${name}`);
  }
  const { Type: type, EntryPoint: entryPoint } = script as { Type: string; EntryPoint: string };
  if (inRange(version, "2.0.0", "2.1.0")) {
    if (type !== APPLICATION) invalid(`Type ${type} is not valid for format ${show(version)}`);
    if (!Object.hasOwn(files, entryPoint)) invalid(`Script ${name} misses entry point ${entryPoint}`);
  }
  if (inRange(version, "2.1.0")) {
    if (!MURANO_TYPES.includes(type)) invalid(`Script has not a valid type ${type}`);
    if (type === APPLICATION && !Object.hasOwn(files, entryPoint)) {
      invalid(`Script ${name} misses entry point ${entryPoint}`);
    } else if (type !== APPLICATION && !entryPoint.includes("::")) {
      invalid(`Wrong EntryPoint ${entryPoint} for Puppet/Chef executors. :: needed`);
    }
    // murano-agent reads script['Options'] here and crashes (KeyError/TypeError) when it is missing or null.
    const options = (script as Record<string, unknown>).Options;
    if (!isObject(options)) {
      invalid(`Script ${name} has no Options object (required from format 2.1.0); add "Options": {}`);
    }
    for (const option of Object.keys(options)) {
      if (option !== "useBerkshelf" && option !== "berksfilePath") continue;
      if (compare(version, parse(MAX_FORMAT)) < 0) {
        invalid(`Script has an option ${option} invalid for version ${show(version)}`);
      } else if (type !== "Chef") {
        invalid(`Script has an option ${option} invalid for type ${type}`);
      }
    }
  }
  const scriptFiles = (script as Record<string, unknown>).Files ?? [];
  if (!Array.isArray(scriptFiles)) invalid(`Files of script ${name} is not a list of file ids`);
  for (const entry of scriptFiles) {
    const id = isObject(entry) ? Object.keys(entry)[0] : entry;
    if (typeof id !== "string" || !Object.hasOwn(files, id)) {
      invalid(`Script ${name} misses file ${typeof entry === "string" ? entry : pyRepr(entry)}`);
    }
  }
}

function validateFile(id: string, file: unknown, version: SemVer): void {
  if (!isObject(file)) invalid(`Invalid file ${id}: ${pyRepr(file)}`);
  if (inRange(version, "2.0.0", "2.1.0")) {
    for (const attr of Object.keys(file)) {
      if (attr === "Type" || attr === "URL") {
        invalid(`Download file is ${id} not valid for this version ${show(version)}`);
      }
    }
  }
  if ("Type" in file) {
    for (const attr of ["Type", "URL", "Name"]) {
      if (!(attr in file)) invalid(`Incorrect ${attr} entry in file ${id}`);
    }
  } else if ("Body" in file) {
    for (const attr of ["BodyType", "Body", "Name"]) {
      if (!(attr in file)) invalid(`Incorrect ${attr} entry in file ${id}`);
    }
    if (file.BodyType !== "Text" && file.BodyType !== "Base64") invalid(`Incorrect BodyType in file ${id}`);
  } else {
    invalid(`Invalid file ${id}: ${pyRepr(file)}`);
  }
}

// --- idem's rules ---------------------------------------------------------------------------------------

function validateIdem(plan: Record<string, unknown>): void {
  if (typeof plan.Body !== "string") {
    invalid(
      plan.Body === undefined ? "Body is not in the execution plan" : "Body is not a string of Python source",
    );
  }
  const parameters = plan.Parameters;
  if (parameters !== undefined && parameters !== null && !isObject(parameters)) {
    invalid("Parameters is not a dictionary");
  }
  const files = plan.Files as Record<string, Record<string, unknown>>;
  for (const [id, file] of Object.entries(files)) {
    if (!isSegment(id)) invalid(`Cannot use file id ${JSON.stringify(id)}: a file id must be a plain name`);
    checkFileName(id, file.Name);
    if ("Type" in file) {
      if (file.Type !== "Downloadable") {
        invalid(`File ${id} has Type ${JSON.stringify(file.Type)}: the only file Type is "Downloadable"`);
      }
      if (typeof file.URL !== "string") invalid(`File ${id} has a URL that is not a string`);
    } else if (typeof file.Body !== "string") {
      invalid(`File ${id} has a Body that is not a string`);
    }
  }
  const scripts = plan.Scripts as Record<string, Record<string, unknown>>;
  for (const [name, script] of Object.entries(scripts)) {
    if (!isSegment(name)) invalid(`Cannot use script name ${JSON.stringify(name)}: it must be a plain name`);
    const type = script.Type as string;
    if (type === "Chef" || type === "Puppet") {
      // Deliberate deviation: murano-agent accepts these from format 2.1.0 and runs chef-solo / puppet.
      invalid(`Cannot run script "${name}": executor "${type}" is not available`);
    }
    if (type !== APPLICATION) invalid(`The application type in ${name} is not a valid executor ${type}`);
    const entryPoint = script.EntryPoint as string;
    if (!Object.hasOwn(files, entryPoint)) invalid(`Script ${name} misses entry point ${entryPoint}`);
    if (script.Options !== undefined && script.Options !== null && !isObject(script.Options)) {
      invalid(`Options of script ${name} is not a dictionary`);
    }
    for (const entry of (script.Files ?? []) as unknown[]) {
      if (!isObject(entry)) continue;
      const [id, rename] = Object.entries(entry)[0] ?? [];
      if (typeof rename === "string") checkFileName(String(id), rename);
    }
  }
  checkExtensions(plan);
}

function checkFileName(id: string, name: unknown): void {
  if (typeof name !== "string") invalid(`File ${id} has a Name that is not a string`);
  if (name === "" || name.includes("\0")) invalid(`File ${id} has an empty or unusable Name`);
  if (name.startsWith("/"))
    invalid(`File ${id} has an absolute Name "${name}": names are relative to the script`);
  if (name.split("/").includes("..")) {
    invalid(`File ${id} has a Name with "..": "${name}" would be placed outside the script's folder`);
  }
}

function checkExtensions(plan: Record<string, unknown>): void {
  if ("Generation" in plan && !Value.Check(Generation, plan.Generation)) {
    invalid(`Generation must be an integer >= 0, not ${JSON.stringify(plan.Generation)}`);
  }
  if ("Timeout" in plan && !Value.Check(Timeout, plan.Timeout)) {
    invalid(`Timeout must be a number of seconds > 0 and <= 2000000, not ${JSON.stringify(plan.Timeout)}`);
  }
  if ("Idempotency" in plan && !Value.Check(Idempotency, plan.Idempotency)) {
    const [error] = [...Value.Errors(Idempotency, plan.Idempotency)];
    const where = error?.instancePath
      ? `Idempotency${error.instancePath.replaceAll("/", ".")}`
      : "Idempotency";
    const hint = "expected {Policy?: string, Key?: string of 1-255 characters, Options?: object}";
    invalid(`${where} ${error?.message ?? "is malformed"} (${hint})`);
  }
  // The key names the record in the journal: a lone surrogate would not survive the trip (SPEC 5.4).
  const key = (plan.Idempotency as { Key?: unknown } | undefined)?.Key;
  if (typeof key === "string" && !key.isWellFormed()) {
    invalid(`Idempotency.Key ${JSON.stringify(key)} is not well-formed Unicode (a lone surrogate)`);
  }
  if (typeof key === "string" && [...key].length > 255) {
    invalid(`Idempotency.Key has ${[...key].length} characters: give 1-255`);
  }
  // Content keys are `sha256:<hex>`: an explicit key of that shape could take over another plan's record.
  if (typeof key === "string" && key.startsWith("sha256:")) {
    invalid(
      `Idempotency.Key "${key.slice(0, 80)}" starts with "sha256:", which is reserved for content fingerprints: choose another key`,
    );
  }
}

// --- helpers --------------------------------------------------------------------------------------------

function invalid(message: string): never {
  throw new IdemError(ErrorCode.InvalidPlan, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSegment(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

function parse(text: string): SemVer {
  const match = SEMVER.exec(text);
  if (!match) {
    invalid(`FormatVersion "${text}" is not a version like 2.1.0 (murano-agent: Invalid version string)`);
  }
  const [, major, minor, patch, prerelease, build] = match;
  return {
    major: Number(major),
    minor: Number(minor),
    patch: Number(patch),
    prerelease: prerelease ? prerelease.split(".") : [],
    build: build ?? "",
  };
}

function formatVersion(plan: Record<string, unknown>): SemVer {
  const text = plan.FormatVersion ?? "1.0.0";
  if (typeof text !== "string")
    invalid(`FormatVersion must be a string like "2.1.0", not ${JSON.stringify(text)}`);
  return parse(text);
}

function show(v: SemVer): string {
  const pre = v.prerelease.length > 0 ? `-${v.prerelease.join(".")}` : "";
  return `${v.major}.${v.minor}.${v.patch}${pre}${v.build ? `+${v.build}` : ""}`;
}

/** SemVer precedence (build metadata ignored). */
function compare(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * semantic_version's `Spec('>=low,<high')`: `<high` also excludes the pre-releases of `high` (so 2.1.0-rc1 is
 * in neither the 2.0 nor the 2.1 rules, as with murano-agent).
 */
function inRange(version: SemVer, low: string, high?: string): boolean {
  if (compare(version, parse(low)) < 0) return false;
  if (high === undefined) return true;
  const h = parse(high);
  const sameCore = version.major === h.major && version.minor === h.minor && version.patch === h.patch;
  return compare(version, h) < 0 && !sameCore;
}

/** Python's repr() of a JSON value, as murano-agent's messages show dicts and lists. */
function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return pyStr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStr(k)}: ${pyRepr(v)}`)
      .join(", ")}}`;
  }
  return String(value);
}

function pyStr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}
