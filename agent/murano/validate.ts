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
 *
 * The rules give the verdicts and messages; the shapes are the wire schema's (murano/plan.ts), checked last, so
 * that a plan that passes is a {@link Plan} (a shape the rules missed is refused in the schema's words).
 */
import { Value } from "typebox/value";
import { ErrorCode, IdemError } from "../errors.ts";
import { Generation, Idempotency, Plan, Timeout } from "./plan.ts";
import { Check as checkPlan } from "./plan_check.generated.ts";
import { pyRepr } from "./py_repr.ts";
import { compareSemVer, inRange, parseSemVer, type SemVer, showSemVer } from "./semver.ts";

const MAX_FORMAT = "2.2.0";
const APPLICATION = "Application";
const MURANO_TYPES = ["Application", "Chef", "Puppet"];

type Dict = { [key: string]: unknown };

/**
 * The plan (its plain view, agent/json/plain.ts) typed as {@link Plan} when idem may run it.
 *
 * @throws IdemError code 9 (FormatVersion above 2.2.0) or 2 (anything else idem must refuse), with
 *   murano-agent's message where it has one, else one that says what to fix.
 */
export function validatePlan(plan: unknown): Plan {
  if (!isObject(plan)) invalid("The execution plan is not a dictionary");
  const version = formatVersion(plan);
  const { scripts, files } = validateMurano(plan, version);
  validateIdem(plan, scripts, files);
  return typed(plan);
}

/**
 * True when `value` has the {@link Plan} shape (the schema alone, none of the rules above). TypeBox's checker
 * of the schema, generated ahead of time (tools/plan_check_code.ts): 12× faster than `Value.Check` per plan,
 * and nothing compiled at run time (issue 11).
 */
export function isPlan(value: unknown): value is Plan {
  return checkPlan(value);
}

/** The plan as {@link Plan} once the rules above passed; the schema's own words if they missed something. */
function typed(plan: Dict): Plan {
  if (isPlan(plan)) return plan;
  const [error] = Value.Errors(Plan, plan);
  const where = error?.instancePath ? error.instancePath.slice(1).replaceAll("/", ".") : "The plan";
  invalid(`${where} ${error?.message ?? "is malformed"}`);
}

// --- murano-agent's rules (muranoagent/validation.py) ---------------------------------------------------

function validateMurano(plan: Dict, version: SemVer): { scripts: Dict; files: Dict } {
  if (compareSemVer(version, MAX_FORMAT) > 0) {
    throw new IdemError(
      ErrorCode.UnsupportedFormat,
      `Unsupported format version ${showSemVer(version)} (I support versions <=${MAX_FORMAT})`,
    );
  }
  for (const attr of ["Scripts", "Files"]) {
    if (!(attr in plan)) invalid(`${attr} is not in the execution plan`);
  }
  const scripts = dictionary(plan.Scripts, "Scripts is not a dictionary");
  const files = dictionary(plan.Files, "Files is not a dictionary");
  if ("Options" in plan) dictionary(plan.Options, "Options is not a dictionary");
  for (const [name, script] of Object.entries(scripts)) validateScript(name, script, version, files);
  for (const [id, file] of Object.entries(files)) validateFile(id, file, version);
  return { scripts, files };
}

function validateScript(name: string, script: unknown, version: SemVer, files: Dict): void {
  if (!isObject(script) || typeof script.Type !== "string") invalid(`Incorrect Type entry in script ${name}`);
  if (typeof script.EntryPoint !== "string") invalid(`Incorrect EntryPoint entry in script ${name}`);
  const { Type: type, EntryPoint: entryPoint } = script;
  if (inRange(version, "2.0.0", "2.1.0")) {
    if (type !== APPLICATION) invalid(`Type ${type} is not valid for format ${showSemVer(version)}`);
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
    const options = script.Options;
    if (!isObject(options)) {
      invalid(`Script ${name} has no Options object (required from format 2.1.0); add "Options": {}`);
    }
    for (const option of Object.keys(options)) {
      if (option !== "useBerkshelf" && option !== "berksfilePath") continue;
      if (compareSemVer(version, MAX_FORMAT) < 0) {
        invalid(`Script has an option ${option} invalid for version ${showSemVer(version)}`);
      } else if (type !== "Chef") {
        invalid(`Script has an option ${option} invalid for type ${type}`);
      }
    }
  }
  const scriptFiles = script.Files ?? [];
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
        invalid(`Download file is ${id} not valid for this version ${showSemVer(version)}`);
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

function validateIdem(plan: Dict, scripts: Dict, files: Dict): void {
  if (typeof plan.Body !== "string") {
    invalid(
      plan.Body === undefined ? "Body is not in the execution plan" : "Body is not a string of Python source",
    );
  }
  const parameters = plan.Parameters;
  if (parameters !== undefined && parameters !== null && !isObject(parameters)) {
    invalid("Parameters is not a dictionary");
  }
  for (const [id, file] of Object.entries(files)) {
    if (!isSegment(id)) invalid(`Cannot use file id ${JSON.stringify(id)}: a file id must be a plain name`);
    const fields = dictionary(file, `Invalid file ${id}`);
    checkFileName(id, fields.Name);
    if ("Type" in fields) {
      if (fields.Type !== "Downloadable") {
        invalid(`File ${id} has Type ${JSON.stringify(fields.Type)}: the only file Type is "Downloadable"`);
      }
      if (typeof fields.URL !== "string") invalid(`File ${id} has a URL that is not a string`);
    } else if (typeof fields.Body !== "string") {
      invalid(`File ${id} has a Body that is not a string`);
    }
  }
  for (const [name, value] of Object.entries(scripts)) {
    if (!isSegment(name)) invalid(`Cannot use script name ${JSON.stringify(name)}: it must be a plain name`);
    const script = dictionary(value, `Incorrect Type entry in script ${name}`);
    const type = script.Type;
    if (type === "Chef" || type === "Puppet") {
      // Deliberate deviation: murano-agent accepts these from format 2.1.0 and runs chef-solo / puppet.
      invalid(`Cannot run script "${name}": executor "${type}" is not available`);
    }
    if (type !== APPLICATION) invalid(`The application type in ${name} is not a valid executor ${type}`);
    const entryPoint = script.EntryPoint;
    if (typeof entryPoint !== "string" || !Object.hasOwn(files, entryPoint)) {
      invalid(`Script ${name} misses entry point ${entryPoint}`);
    }
    if (script.Options !== undefined && script.Options !== null && !isObject(script.Options)) {
      invalid(`Options of script ${name} is not a dictionary`);
    }
    const entries = Array.isArray(script.Files) ? script.Files : [];
    for (const entry of entries) {
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

function checkExtensions(plan: Dict): void {
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
  const key = isObject(plan.Idempotency) ? plan.Idempotency.Key : undefined;
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

function isObject(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is an object (a dictionary), else the plan is refused with `message`. */
function dictionary(value: unknown, message: string): Dict {
  if (!isObject(value)) invalid(message);
  return value;
}

function isSegment(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

/** The plan's FormatVersion (absent or null: 1.0.0, as murano-agent reads it). */
function formatVersion(plan: Dict): SemVer {
  const text = plan.FormatVersion ?? "1.0.0";
  if (typeof text !== "string")
    invalid(`FormatVersion must be a string like "2.1.0", not ${JSON.stringify(text)}`);
  const version = parseSemVer(text);
  if (version === undefined) {
    invalid(`FormatVersion "${text}" is not a version like 2.1.0 (murano-agent: Invalid version string)`);
  }
  return version;
}
