/**
 * One generated Body with its plan context, and what an evaluator answered: the shapes shared by the CPython
 * reference (python_body.ts), idem's side (idem_body.ts) and the differential test. Both sides must answer the
 * same Outcome for every case; `sameOutcome` says whether they did and `outcomeKind` names a disagreement's kind.
 */

/**
 * A stub plan script: every call returns `{exitCode, stdout, stderr}` as given (stdout `"<name>:<commandline>"`
 * when `echo`). With `verify` and a non-zero exitCode the call fails as murano-agent's verifyExitcode does:
 * code 100, Message `Script <name> returned error code`, AdditionalInfo the Bunch.
 */
export interface StubScript {
  name: string;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
  echo: boolean;
  verify: boolean;
}

/** A Body to run: `params` is the JSON text of the plan's Parameters (numbers keep their JSON form). */
export interface BodyCase {
  /** The generator family that produced it (numbers, formatting, strings …): groups disagreements. */
  topic: string;
  body: string;
  params: string;
  scripts: StubScript[];
}

/**
 * What a Body's plan answered. `ok`: ErrorCode 0 and the result Body as `json.dumps` text. `error`: a non-zero
 * ErrorCode with the result Message (`str(exception)`), the Python exception's type name (null where the code
 * is not a Python exception, e.g. 100) and AdditionalInfo as JSON text. `syntax`: a syntax error (code 1; the
 * wording is the parser's own). `refused`: idem's code 2 (outside the subset). `crash`: idem threw something that
 * is not an IdemError (a JavaScript error leaked). `hang`: no answer within the time limit.
 */
export type Outcome =
  | { kind: "ok"; json: string }
  | { kind: "error"; code: number; type: string | null; message: string; info: string | null }
  | { kind: "syntax"; message: string }
  | { kind: "refused"; message: string }
  | { kind: "crash"; message: string }
  | { kind: "hang"; message: string };

/**
 * Whether idem's answer is CPython's: equal JSON text, or equal (code, type, message, info); a syntax error by
 * kind alone, a MemoryError by type alone (where it strikes depends on the machine, or on idem's limit).
 */
export function sameOutcome(idem: Outcome, python: Outcome): boolean {
  if (idem.kind !== python.kind) return false;
  if (idem.kind === "ok" && python.kind === "ok") return idem.json === python.json;
  if (idem.kind === "error" && python.kind === "error") {
    // How much memory a MemoryError takes is the machine's (CPython, message '') or idem's documented limit.
    if (idem.type === "MemoryError" && python.type === "MemoryError") return true;
    return (
      idem.code === python.code &&
      idem.type === python.type &&
      idem.message === python.message &&
      idem.info === python.info
    );
  }
  return idem.kind === "syntax";
}

function describe(o: Outcome): string {
  return o.kind === "error" ? (o.type ?? `code ${o.code}`) : o.kind;
}

/** A message with its positions and numbers blanked, so that one construct or fault groups as one kind. */
function gist(message: string): string {
  return message
    .replace(/ \(line \d+, column \d+\)/g, "")
    .replace(/\d+/g, "N")
    .slice(0, 90);
}

/**
 * The kind of a disagreement, for grouping: a refusal, a crash, a syntax error or an exception CPython does not
 * raise by its message (the construct or fault, not the topic); otherwise the generator family, then idem's answer vs
 * CPython's by shape (`ok`, an exception type, `syntax` …), with "value" or "message" when both have one shape.
 */
export function outcomeKind(topic: string, idem: Outcome, python: Outcome): string {
  if (idem.kind === "refused" || idem.kind === "crash") return `idem ${idem.kind}: ${gist(idem.message)}`;
  if (idem.kind === "syntax" && python.kind !== "syntax") return `idem syntax error: ${gist(idem.message)}`;
  if (idem.kind === "error" && (python.kind !== "error" || python.type !== idem.type)) {
    return `idem raises ${idem.type ?? `code ${idem.code}`} where CPython does not: ${gist(idem.message)}`;
  }
  const a = describe(idem);
  const b = describe(python);
  if (a !== b) return `${topic}: idem ${a}, CPython ${b}`;
  if (idem.kind === "ok") return `${topic}: different value`;
  if (idem.kind === "error" && python.kind === "error" && idem.message === python.message) {
    return `${topic}: ${a} with different ${idem.code !== python.code ? "code" : "AdditionalInfo"}`;
  }
  return `${topic}: ${a} with a different message`;
}

/** An Outcome for a failure report: one line. */
export function showOutcome(o: Outcome): string {
  switch (o.kind) {
    case "ok":
      return `ok ${o.json}`;
    case "error":
      return `code ${o.code} ${o.type ?? "-"}: ${JSON.stringify(o.message)}${o.info === null ? "" : ` info ${o.info}`}`;
    default:
      return `${o.kind}: ${JSON.stringify(o.message)}`;
  }
}
