/**
 * `idem COMMAND …` (SPEC 10): argv → the {@link Command} of that name (agent/commands/), with its `--help`, its
 * options parsed strictly, and exit codes a script can trust: 0 ok, 1 the plan failed, 2 usage, configuration
 * or connection error (the message names the flag or setting and what to give), 3 as the command says (`send
 * --wait`: no result in time; `run`: superseded). Importing this module does nothing: agent/main.ts calls
 * {@link main}, and tests call it in-process. Adding a command: one line in {@link COMMANDS}.
 *
 * A command's module is imported only when that command runs (issue 11, start-up time and memory): `idem run`
 * evaluates nothing of `send`, `inspect`, `keygen`, … and `idem --version` nothing of the agent at all. Only
 * `idem --help` (and an unknown command, which prints it) loads them all, for their summaries.
 */
import { parseArgs } from "node:util";
import type { Command } from "./commands/command.ts";
import { nearest } from "./config/check.ts";
import { IdemError } from "./errors.ts";
import { VERSION } from "./version.ts";

/** A command by name; `load()` imports its module (once: the module system caches it). */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

/** Every command, in the order `idem --help` lists them. Each `name` is its Command's `name` (cli.test.ts). */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "run", load: async () => (await import("./commands/run.ts")).runCommand },
  { name: "send", load: async () => (await import("./commands/send.ts")).sendCommand },
  { name: "inspect", load: async () => (await import("./commands/inspect.ts")).inspectCommand },
  { name: "cancel", load: async () => (await import("./commands/cancel.ts")).cancelCommand },
  { name: "forget", load: async () => (await import("./commands/forget.ts")).forgetCommand },
  { name: "fence", load: async () => (await import("./commands/fence.ts")).fenceCommand },
  { name: "keygen", load: async () => (await import("./commands/keygen.ts")).keygenCommand },
  { name: "config", load: async () => (await import("./commands/config.ts")).configCommand },
];

/** Where {@link main} reads and writes; default the process's. */
export interface MainIO {
  out?: (text: string) => void;
  err?: (text: string) => void;
  env?: Record<string, string | undefined>;
}

/**
 * The text of `idem --help`: self-contained (nothing it refers to needs the source repository). Loads every
 * command, for its summary.
 */
export async function helpText(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((entry) => entry.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  idem ${c.name.padEnd(width)}  ${c.summary}`);
  return `idem ${VERSION} — runs Murano execution plans from MQTT, once, even when everything around it fails over

Usage: idem COMMAND [OPTIONS]
${lines.join("\n")}
  idem COMMAND --help   a command's options, environment variables and exit codes
  idem --version

Quick start (one host):
  idem run --broker embedded:1883 --agent-id vm-1 --data-dir ./idem-data
  idem send --broker mqtt://127.0.0.1:1883 --agent-id vm-1 --wait plan.json

Every setting of idem run is a flag, an IDEM_<NAME> variable or a key of the JSON config file (--config
FILE); idem run --help lists them, idem config --check validates a configuration.
Exit codes: 0 ok; 1 the plan failed; 2 usage, configuration or connection error; 3 see the command.
More (in the source repository): README.md and docs/ (configuration.md, deploy.md, plugins.md, murano.md).`;
}

/** Runs `idem ARGV…`; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], io: MainIO = {}): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const env = io.env ?? process.env;
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    out(`idem ${VERSION}\n`);
    return 0;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    out(`${await helpText()}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    const what = name === undefined ? "no command given" : `unknown command "${name}"`;
    err(`idem: ${what}\n\n${await helpText()}\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    const args = normalized(rest, command);
    const options = args.indexOf("--") < 0 ? args : args.slice(0, args.indexOf("--"));
    if (options.includes("--help") || options.includes("-h")) {
      out(`${command.usage}\n`);
      return 0;
    }
    const { values, positionals } = parsed(command, args);
    return await command.run({ values, positionals, env, out, err });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    err(`idem ${entry.name}: ${message}\n`);
    return error instanceof IdemError || isParseError(error) ? 2 : 1;
  }
}

/**
 * Args as `parseArgs` reads them without surprises: `--generation -1` is `--generation=-1` (a value, checked by
 * the command, rather than parseArgs' "ambiguous"), and a string option given without a value (last, or before
 * another option) is `--name=` (the command says what to give; `send --wait` alone means its default).
 * Everything after `--` stays as it is.
 */
function normalized(args: readonly string[], command: Command): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const option = /^--([^=]+)$/.exec(arg)?.[1];
    if (option === undefined || command.options[option]?.type !== "string") {
      out.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined || (/^-./.test(next) && !/^-\d/.test(next))) out.push(`${arg}=`);
    else {
      out.push(`${arg}=${next}`);
      i++;
    }
  }
  return out;
}

function parsed(command: Command, args: string[]) {
  try {
    return parseArgs({
      args,
      options: command.options,
      allowPositionals: command.allowPositionals,
      strict: true,
    });
  } catch (error) {
    if (!isParseError(error)) throw error;
    throw new IdemError(
      2,
      `${parseProblem(error as Error & { code: string }, command)}; see idem ${command.name} --help`,
    );
  }
}

function isParseError(error: unknown): boolean {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
}

/** parseArgs' complaint in idem's words, naming the flag. */
function parseProblem(error: Error & { code: string }, command: Command): string {
  const flag = /'(-[^ ']+)/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const near = nearest(flag.replace(/^-+/, ""), Object.keys(command.options));
      return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ""}`;
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${/'([^']*)'/.exec(error.message)?.[1] ?? ""}: idem ${command.name} takes options only`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `cannot use ${flag} that way: ${flag} ${/does not take/.test(error.message) ? "takes no value" : "needs a value"}`;
    default:
      return error.message;
  }
}
