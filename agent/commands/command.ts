/**
 * One operator command of the `idem` executable (`run`, `send`, `inspect`, …): its help and options, and what it
 * does. `cli.ts` dispatches `idem NAME …` to the command of that name; `idem NAME --help` prints `usage`.
 */
import type { ParseArgsOptionsConfig } from "node:util";

/** What a command's `run` gets: parsed arguments, the environment and where to write. */
export interface CommandInput {
  /** Option values as `node:util` `parseArgs` returns them for `options`. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  env: Record<string, string | undefined>;
  /** Writes to standard output (the command's answer: what a script reads). */
  out: (text: string) => void;
  /** Writes to standard error (progress, warnings). */
  err: (text: string) => void;
}

export interface Command {
  /** `idem NAME`. */
  name: string;
  /** One line for `idem --help`. */
  summary: string;
  /** The whole text of `idem NAME --help`: synopsis, what it does, every option, exit codes. */
  usage: string;
  /** `node:util` `parseArgs` options (`--help`/`-h` are added by `cli.ts`). */
  options: ParseArgsOptionsConfig;
  allowPositionals: boolean;
  /** Does the work; resolves with the exit code. Usage errors throw `IdemError` with code 2. */
  run(input: CommandInput): Promise<number>;
}
