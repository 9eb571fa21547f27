/**
 * Starting an Application script without `/bin/sh -c` when the shell would change nothing but the process tree
 * (issue 11: the shell costs a fork and an exec per script, ≈ 3–4 ms of each plan's round trip on a VM where page
 * faults are dear).
 *
 * murano-agent runs `./"<entry point>" <commandline>` through `/bin/sh -c` (script_runner.ts). When the command
 * line is only plain words and the environment only plain names, dash would split the words on blanks, remove the
 * quotes around the entry point, and exec it with the environment it imported plus `PWD`, in its own order: the
 * agent execs the same argv with the same environment, in the same order, itself. What dash would otherwise change
 * decides the cases left to it:
 *
 * - a word with any character dash reads as syntax (quotes, `$`, `` ` ``, `\`, globs, `~`, `#`, `;`, `&`, `|`,
 *   redirections, brackets, newlines, anything non-ASCII) → the shell;
 * - an environment name that is not an identifier (dash drops it), or `IFS`, `OPTIND`, `PPID`, `PWD` (dash resets
 *   or sets them; `OPTIND=x` even makes it fail) → the shell;
 * - the entry point cannot be started (missing, not executable: ENOENT, EACCES, …) → the shell, whose message and
 *   status (127, 126) the result then carries, as before;
 * - no `#!` line (ENOEXEC): `/bin/sh <file> <args>` (native/posix_spawn.ts), as dash does itself;
 * - loader variables (`LD_*`, `GLIBC_TUNABLES`, `MALLOC_*`: they act on dash too) and a command line longer than
 *   one argument may be (128 KiB: the shell's start fails with E2BIG) → the shell.
 *
 * What does change is the process tree: the script is its session's and process group's leader and the agent is
 * its parent, where dash was both. A script that acts on those sees it: `kill $PPID` signals the agent, `kill 0`
 * ends the script alone (143 and `Terminated` instead of −15), `setsid` as a command forks (the script is a group
 * leader), a tty the script opens becomes its controlling terminal. None of the 575 files of the Murano corpus
 * does any of these (`$PPID`, `$$`, `kill 0`, `setsid`, `/dev/tty`, `nohup`: none), and bash, `/bin/sh` on RHEL,
 * execs the command of `sh -c` itself, so murano-agent's scripts see the same there. Also: when a signal ends the
 * script, dash's line (`Killed`) comes after every byte of stderr, even one a background child wrote later.
 *
 * Its end is reported as dash reports it ({@link shellEnd}). Only where `/bin/sh` is dash (Debian, Ubuntu: the
 * platform idem ships for; bash, RHEL's `/bin/sh`, sets `SHLVL` and `_` and reports ends otherwise) and with
 * posix_spawn, which tells a core dump (Node's spawn, the fallback, does not); else every script goes through the
 * shell, as before. The runAs path and a subfolder entry point keep the shell (the user's shell enters the
 * folder: script_runner.ts). Checked differentially, direct against the shell: test/murano/direct_exec.test.ts.
 */
import { realpathSync } from "node:fs";
import { constants } from "node:os";
import { basename } from "node:path";
import { type Exit, returnCode, spawnMethod } from "../native/posix_spawn.ts";

/** A word dash passes through as it is: no quoting, expansion, globbing, comment or operator character. */
const PLAIN_WORD = /^[A-Za-z0-9_./,:=+@%-]+$/;
/** What dash takes for a blank between words of one command. */
const BLANKS = /[ \t]+/;
/** Printable ASCII: an entry point name with anything else goes to the shell. */
const PRINTABLE = /^[ -~]+$/;
/** What dash's double quotes (`./"name"`) do not take as it is. */
const SPECIAL_IN_QUOTES = /["$`\\]/;
/** Environment names dash imports and exports as they came: identifiers (others it drops). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables dash sets or resets at start and then exports (`PWD` it sets from the working directory). */
const SHELL_SET = new Set(["IFS", "OPTIND", "PPID", "PWD"]);
/** Variables that act on every dynamically linked program, dash included (ld.so, glibc's malloc). */
const LOADER = /^(LD_|GLIBC_TUNABLES$|MALLOC_)/;
/** Linux's MAX_ARG_STRLEN: a longer `sh -c` argument fails (E2BIG), and so must the direct start. */
const MAX_ARG_BYTES = 32 * 4096;

let dash: boolean | undefined;

/** Whether `/bin/sh` is dash (Debian, Ubuntu): the shell whose behaviour this module reproduces. */
function shellIsDash(): boolean {
  if (dash === undefined) {
    try {
      dash = basename(realpathSync.native("/bin/sh")) === "dash";
    } catch {
      dash = false;
    }
  }
  return dash;
}

/** What to exec instead of `/bin/sh -c`: program (relative to `cwd`), arguments and the whole environment. */
export interface DirectStart {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The direct start of `./"<entryPoint>" <commandline>` in `cwd` with `env`, or undefined when the shell must run
 * it (see the module's comment). `env` gains `PWD`: the physical path of `cwd`, as dash sets it (its `getcwd()`).
 */
export function directStart(options: {
  cwd: string;
  entryPoint: string;
  commandline: string;
  env: Readonly<Record<string, string | undefined>>;
}): DirectStart | undefined {
  const name = options.entryPoint;
  if (spawnMethod().method !== "posix_spawn" || !shellIsDash()) return undefined;
  if (!PRINTABLE.test(name) || SPECIAL_IN_QUOTES.test(name)) return undefined;
  const words = options.commandline.split(BLANKS).filter((word) => word !== "");
  if (!words.every((word) => PLAIN_WORD.test(word))) return undefined;
  if (Buffer.byteLength(`./"${name}" ${options.commandline}`) >= MAX_ARG_BYTES) return undefined;
  const env: Record<string, string> = Object.create(null);
  for (const [variable, value] of Object.entries(options.env)) {
    if (value === undefined) continue;
    if (!IDENTIFIER.test(variable) || SHELL_SET.has(variable) || LOADER.test(variable)) return undefined;
    env[variable] = value;
  }
  let pwd: string;
  try {
    pwd = realpathSync.native(options.cwd);
  } catch {
    return undefined; // the shell's start reports the missing folder as before
  }
  return { file: `./${name}`, args: words, env: dashOrder(env, pwd) };
}

/** dash's own variables, in the order its `varinit` table creates them (before it imports the environment). */
const DASH_INIT = ["IFS", "MAIL", "MAILPATH", "PATH", "PS1", "PS2", "PS4", "OPTIND"];
/** dash's `VTABSIZE`: its variables live in 39 hash chains. */
const DASH_CHAINS = 39;

/** dash's `hashvar`: the first byte × 16 plus every byte of the name, modulo the chains. ASCII names only. */
function dashChain(name: string): number {
  let hash = name.charCodeAt(0) << 4;
  for (let i = 0; i < name.length; i++) hash += name.charCodeAt(i);
  return hash % DASH_CHAINS;
}

/**
 * The environment as dash hands it to a program it runs (`listvars`): chain by chain, each chain in creation order
 * — its own variables first, then the environment as it imported it, then `PWD`, which it sets at start. A program
 * that lists its environment (`env`, Python's `os.environ`) sees the same order either way. Checked against dash
 * with random names (test/murano/direct_exec.test.ts).
 */
function dashOrder(env: Readonly<Record<string, string>>, pwd: string): Record<string, string> {
  const chains: string[][] = Array.from({ length: DASH_CHAINS }, () => []);
  const add = (name: string) => {
    const chain = chains[dashChain(name)] as string[];
    if (!chain.includes(name)) chain.push(name);
  };
  for (const name of DASH_INIT) add(name);
  for (const name of Object.keys(env)) add(name);
  add("PWD");
  const ordered: Record<string, string> = Object.create(null);
  for (const name of chains.flat()) {
    const value = name === "PWD" ? pwd : env[name];
    if (value !== undefined) ordered[name] = value;
  }
  return ordered;
}

/**
 * glibc's `strsignal` texts for signals 1–31, which dash prints (on its stderr, after the script's output) when a
 * signal ended the script; none for SIGINT (2) and SIGPIPE (13). Read off dash 0.5.12 on Debian 12.
 */
const SIGNAL_TEXTS: Readonly<Record<number, string>> = {
  1: "Hangup",
  3: "Quit",
  4: "Illegal instruction",
  5: "Trace/breakpoint trap",
  6: "Aborted",
  7: "Bus error",
  8: "Floating point exception",
  9: "Killed",
  10: "User defined signal 1",
  11: "Segmentation fault",
  12: "User defined signal 2",
  14: "Alarm clock",
  15: "Terminated",
  16: "Stack fault",
  17: "Child exited",
  18: "Continued",
  19: "Stopped (signal)",
  20: "Stopped",
  21: "Stopped (tty input)",
  22: "Stopped (tty output)",
  23: "Urgent I/O condition",
  24: "CPU time limit exceeded",
  25: "File size limit exceeded",
  26: "Virtual timer expired",
  27: "Profiling timer expired",
  28: "Window changed",
  29: "I/O possible",
  30: "Power failure",
  31: "Bad system call",
};
const SIGRTMIN = 34;
const SILENT = new Set([constants.signals.SIGINT, constants.signals.SIGPIPE]);

/** How `/bin/sh -c` would have reported the end of a script the agent started directly. */
export interface ShellEnd {
  /** Python's `Popen.returncode` of the shell. */
  exitCode: number;
  /** What dash writes on its stderr (the script's stderr pipe) after the script's output, if anything. */
  stderr?: string;
}

/**
 * The end `/bin/sh -c` would have reported for a script the agent started directly: the script's own exit
 * status; 128 + N and the signal's text (`Killed`, `Segmentation fault (core dumped)`) when a signal N ended the
 * script alone (dash's status and message for its child); −SIGTERM when the agent ended the group (timeout,
 * cancel): the shell itself would have died of the TERM sent to the whole group, whatever the script then did.
 */
export function shellEnd(exit: Exit, groupKilled: boolean): ShellEnd {
  if (groupKilled) return { exitCode: -constants.signals.SIGTERM };
  const code = returnCode(exit);
  if (code >= 0) return { exitCode: code };
  const signal = -code;
  if (SILENT.has(signal)) return { exitCode: 128 + signal };
  const text =
    SIGNAL_TEXTS[signal] ??
    (signal >= SIGRTMIN ? `Real-time signal ${signal - SIGRTMIN}` : `Unknown signal ${signal}`);
  return { exitCode: 128 + signal, stderr: `${text}${exit.coreDumped ? " (core dumped)" : ""}\n` };
}
