/**
 * `idem` and its commands run in-process, their output captured: tests of the command line call `main` (argv,
 * environment, exit code) or one command's `run` exactly as `agent/cli.ts` does, without spawning a process.
 * A real child process is `agent_process.ts`'s.
 */
import { main } from "../../agent/cli.ts";
import type { Command, CommandInput } from "../../agent/commands/command.ts";

/** What a run printed, and its exit code. */
export interface Captured {
  code: number;
  /** Everything written to standard output, in order. */
  stdout: string;
  /** Everything written to standard error, in order. */
  stderr: string;
}

/** Where a run writes: what `main`, `Command.run` and `sendPlan` take as `out`/`err`. */
export interface Writers {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs `run` with writers that collect its output; resolves with its exit code and that output. */
export async function captured(run: (writers: Writers) => Promise<number>): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const code = await run({
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/** `idem ARGS…` in-process, with only `env` as the environment (default none). */
export function idem(args: string[], env: Record<string, string> = {}): Promise<Captured> {
  return captured((writers) => main(args, { env, ...writers }));
}

/** `command.run` with these option values (as `parseArgs` gives them), positionals and environment. */
export function runCommand(
  command: Command,
  input: Partial<Pick<CommandInput, "positionals" | "env">> & Pick<CommandInput, "values">,
): Promise<Captured> {
  return captured((writers) => command.run({ positionals: [], env: {}, ...input, ...writers }));
}
