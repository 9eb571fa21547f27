/**
 * `idem inspect` run in-process (`inspectCommand.run`), its output captured: tests read a running agent's
 * journal through the command exactly as an operator would, without spawning the CLI.
 */
import assert from "node:assert/strict";
import { inspectCommand } from "../../agent/commands/inspect.ts";

export interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** `idem inspect` with these option values and positionals, its output captured. */
export async function inspect(
  values: Record<string, string | boolean>,
  positionals: string[] = [],
): Promise<Outcome> {
  let out = "";
  let err = "";
  const code = await inspectCommand.run({
    values,
    positionals,
    env: {},
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  return { code, out, err };
}

/** `inspect --json`'s document, checked to be one parseable JSON value. */
export async function inspectJson<T>(
  values: Record<string, string | boolean>,
  positionals: string[] = [],
): Promise<T> {
  const { code, out, err } = await inspect({ ...values, json: true }, positionals);
  assert.equal(code, 0, err);
  return JSON.parse(out) as T;
}
