/**
 * A script call from the Body, as murano-agent's ScriptRunner and ApplicationExecutor take it:
 * `run(commandline='', input=None)`. The command line is `str(commandline)` (Python's `'{0}'.format(...)`),
 * so a list or dict argument reaches the shell as its Python repr. The result is a Bunch
 * `{exitCode, stdout, stderr}`, so `deploy(...).stdout` and `deploy(...)['stdout']` both work.
 */
import { pyFail } from "../runtime/exceptions.ts";
import { type CallArgs, PyDict, type PyScript, type PyValue } from "../runtime/values.ts";
import { formatValue } from "../text/format_spec.ts";
import { pyStr } from "../text/repr.ts";

/** What a script call returns to the Body (murano-agent semantics: stripped, null when empty or not captured). */
export interface ScriptOutcome {
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

/** Runs one plan script: its name, the command line after `./<entry point>`, and stdin (null: none). */
export type ScriptCaller = (name: string, commandline: string, input: string | null) => ScriptOutcome;

const SIGNATURE = "ApplicationExecutor.run()";

export function invokeScript(script: PyScript, call: CallArgs, caller: ScriptCaller): PyValue {
  if (call.args.length > 2) {
    throw pyFail(
      "TypeError",
      `${SIGNATURE} takes from 2 to 4 positional arguments but ${call.args.length + 2} were given`,
    );
  }
  let commandline = call.args[0];
  let input = call.args[1];
  for (const [name, value] of call.keywords) {
    if (name !== "commandline" && name !== "input") {
      throw pyFail("TypeError", `${SIGNATURE} got an unexpected keyword argument '${name}'`);
    }
    if ((name === "commandline" ? commandline : input) !== undefined) {
      throw pyFail("TypeError", `${SIGNATURE} got multiple values for argument '${name}'`);
    }
    if (name === "commandline") commandline = value;
    else input = value;
  }
  const line = commandline === undefined ? "" : formatValue(commandline, "");
  const stdin = input === undefined || input === null ? null : pyStr(input);
  const outcome = caller(script.script, line, stdin);
  const result = new PyDict(true);
  result.set("exitCode", BigInt(outcome.exitCode));
  result.set("stdout", outcome.stdout);
  result.set("stderr", outcome.stderr);
  return result;
}
