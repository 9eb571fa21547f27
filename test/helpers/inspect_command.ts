/**
 * `idem inspect` run in-process (`inspectCommand.run`), its output captured: tests read a running agent's
 * journal through the command exactly as an operator would, without spawning the CLI.
 */
import assert from "node:assert/strict";
import { inspectCommand } from "../../agent/commands/inspect.ts";
import { type Captured, runCommand } from "./in_process.ts";

/** `idem inspect` with these option values and positionals, its output captured. */
export function inspect(
  values: Record<string, string | boolean>,
  positionals: string[] = [],
): Promise<Captured> {
  return runCommand(inspectCommand, { values, positionals });
}

/** `inspect --json`'s document, checked to be one parseable JSON value. */
export async function inspectJson<T>(
  values: Record<string, string | boolean>,
  positionals: string[] = [],
): Promise<T> {
  const { code, stdout, stderr } = await inspect({ ...values, json: true }, positionals);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as T;
}
