/**
 * The agent as a real child process: started from a command prefix (Node on the sources by default; the
 * single executable or a Deno command line later), its stderr log collected line by line, event-driven
 * waits on log lines, a real `kill -9` and a clean SIGTERM stop.
 */
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Failpoint as AgentFailpoint } from "../../agent/failpoint.ts";
import { startProcess } from "../../agent/native/posix_spawn.ts";
import { type ExitInfo, registerChild, unregisterChild } from "./children.ts";

export type { ExitInfo };
export { registerChild, unregisterChild };

/** The repository root: the agent's working directory. */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The default command prefix: `IDEM_AGENT_COMMAND` (a JSON array, e.g. `["dist/idem"]`) if set, else Node on
 * the sources.
 */
export const DEFAULT_COMMAND: readonly string[] = process.env.IDEM_AGENT_COMMAND
  ? (JSON.parse(process.env.IDEM_AGENT_COMMAND) as string[])
  : [process.execPath, "agent/main.ts"];

/** A named point in a plan's travel (`agent/failpoint.ts`, in travel order there). */
export type FailpointName = AgentFailpoint;

/**
 * `IDEM_FAILPOINT`: `name` makes the agent `kill -9` itself there; `name:throw` throws a bug there;
 * `name:pause` logs `event=failpoint name=<name> action=pause` and blocks the agent until the file named by
 * env `IDEM_FAILPOINT_RELEASE` exists (pass it in {@link AgentOptions.env}). Several at once: a list.
 */
export type Failpoint = FailpointName | `${FailpointName}:throw` | `${FailpointName}:pause`;

export interface AgentOptions {
  /** `mqtt://127.0.0.1:PORT` or anything with `url`. */
  broker: string | { url: string };
  agentId: string;
  dataDir: string;
  generation?: number;
  /** One `--plugins DIR` per entry. */
  plugins?: readonly string[];
  defaultPolicy?: string;
  failpoint?: Failpoint | readonly Failpoint[];
  /** Extra arguments after the ones above. */
  extraArgs?: readonly string[];
  /** The whole command line after the prefix, instead of the one made from the options (`run --config FILE`). */
  argv?: readonly string[];
  /** Extra environment (`IDEM_FAILPOINT_RELEASE` for a `:pause` failpoint, say). */
  env?: Record<string, string>;
  /** Command prefix, default {@link DEFAULT_COMMAND}; `run` and the options follow it. */
  command?: readonly string[];
  /** Wait for `event=online` before resolving. Default true. */
  waitOnline?: boolean;
  /** Timeout of that wait. Default 20 000 ms. */
  onlineTimeoutMs?: number;
  /**
   * How the agent is started: `child_process` (default: libuv's `fork`, whose copy of this process's page tables
   * costs 5–10 ms before the agent exists when this process is large), or `posix_spawn` (glibc's, a vfork: what
   * Python's `subprocess.Popen` does, so how peerbench's engine.py starts murano-agent; bench/idem_rep.ts times
   * idem's launch from it).
   */
  spawner?: "child_process" | "posix_spawn";
}

/** The parts of a child process that {@link AgentProcess} uses: Node's `ChildProcess`, or {@link posixSpawned}. */
export interface AgentChild {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  kill(signal: NodeJS.Signals): boolean;
  once(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

export interface WaitForLogOptions {
  /** How many matching lines to wait for. Default 1. */
  count?: number;
  /** Only lines from this index on (see {@link AgentProcess.mark}). Default 0. */
  since?: number;
  /** Default 20 000 ms. */
  timeoutMs?: number;
}

/** One agent process. */
export class AgentProcess {
  readonly pid: number;
  /** stderr (the logfmt log), line by line. */
  readonly lines: string[] = [];
  /** stdout, line by line. */
  readonly stdout: string[] = [];
  readonly exit: Promise<ExitInfo>;
  readonly #child: AgentChild;
  readonly #label: string;
  #exitInfo: ExitInfo | undefined;
  #listeners = new Set<() => void>();

  constructor(child: AgentChild, label: string) {
    if (child.pid === undefined) throw new Error(`Cannot start agent ${label} as spawn returned no PID`);
    this.pid = child.pid;
    this.#child = child;
    this.#label = label;
    registerChild(child);
    const verbose = process.env.IDEM_TEST_VERBOSE === "1";
    if (child.stderr) {
      createInterface({ input: child.stderr }).on("line", (line) => {
        this.lines.push(line);
        if (verbose) process.stderr.write(`[${label}] ${line}\n`);
        this.#notify();
      });
    }
    if (child.stdout) {
      createInterface({ input: child.stdout }).on("line", (line) => {
        this.stdout.push(line);
        if (verbose) process.stderr.write(`[${label} stdout] ${line}\n`);
      });
    }
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        unregisterChild(child);
        this.#exitInfo = { code, signal };
        resolve(this.#exitInfo);
        this.#notify();
      });
    });
  }

  get exited(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  /** The index of the next log line: pass it as `since` to wait only for what happens from now on. */
  mark(): number {
    return this.lines.length;
  }

  /** Lines matching `pattern` (from `since` on). */
  matching(pattern: RegExp, since = 0): string[] {
    return this.lines.slice(since).filter((line) => pattern.test(line));
  }

  /**
   * Resolves with the matching lines once `count` lines (from `since` on) match `pattern`. Fails clearly on
   * timeout or when the process exits first, with the end of the log.
   */
  waitForLog(pattern: RegExp, options: WaitForLogOptions = {}): Promise<string[]> {
    const count = options.count ?? 1;
    const since = options.since ?? 0;
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.matching(pattern, since);
        if (found.length >= count) {
          done();
          resolve(found);
        } else if (this.#exitInfo) {
          done();
          reject(
            new Error(
              `Agent ${this.#label} exited (code ${this.#exitInfo.code}, signal ${this.#exitInfo.signal}) before logging ${count} line(s) matching ${pattern} (saw ${found.length})\n${this.tail()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `Agent ${this.#label} did not log ${count} line(s) matching ${pattern} within ${timeoutMs} ms (saw ${this.matching(pattern, since).length})\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Resolves when the process exits; fails after `timeoutMs`. */
  async waitForExit(timeoutMs = 20_000): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Agent ${this.#label} did not exit within ${timeoutMs} ms\n${this.tail()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A real `kill -9` of the agent process (its scripts' process groups survive, as on a real VM). */
  async kill9(): Promise<ExitInfo> {
    if (!this.#exitInfo) this.#child.kill("SIGKILL");
    return await this.exit;
  }

  /**
   * SIGTERM, then the exit code. If the agent has not exited after `timeoutMs`, it is killed with SIGKILL
   * (the returned signal then says so).
   */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (this.#exitInfo) return this.#exitInfo;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of the log, for failure messages. */
  tail(lines = 40): string {
    const out = this.lines.slice(-lines).map((line) => `  | ${line}`);
    const std = this.stdout.slice(-10).map((line) => `  > ${line}`);
    return [`--- agent ${this.#label} log (last ${lines} lines) ---`, ...out, ...std].join("\n");
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** The command line of `idem run` for these options (without the command prefix). */
export function runArguments(options: AgentOptions): string[] {
  const url = typeof options.broker === "string" ? options.broker : options.broker.url;
  const args = ["run", "--broker", url, "--agent-id", options.agentId, "--data-dir", options.dataDir];
  if (options.generation !== undefined) args.push("--generation", String(options.generation));
  for (const dir of options.plugins ?? []) args.push("--plugins", dir);
  if (options.defaultPolicy !== undefined) args.push("--default-policy", options.defaultPolicy);
  args.push(...(options.extraArgs ?? []));
  return args;
}

/** Starts `idem run` as a child process and (by default) waits for `event=online`. */
export async function startAgent(options: AgentOptions): Promise<AgentProcess> {
  const [program, ...prefix] = options.command ?? DEFAULT_COMMAND;
  if (program === undefined) throw new Error("Cannot start the agent as the command prefix is empty");
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.IDEM_FAILPOINT;
  const failpoints = options.failpoint === undefined ? undefined : [options.failpoint].flat().join(",");
  if (failpoints !== undefined) env.IDEM_FAILPOINT = failpoints;
  if (options.env?.IDEM_FAILPOINT_RELEASE === undefined) delete env.IDEM_FAILPOINT_RELEASE;
  const args = [...prefix, ...(options.argv ?? runArguments(options))];
  const child =
    options.spawner === "posix_spawn"
      ? await posixSpawned(program, args, env)
      : spawn(program, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const label = `${options.agentId}${failpoints ? ` (failpoint ${failpoints})` : ""} pid ${child.pid}`;
  const agent = new AgentProcess(child, label);
  if (options.waitOnline ?? true) {
    try {
      await agent.waitForLog(/\bevent=online\b/, { timeoutMs: options.onlineTimeoutMs ?? 20_000 });
    } catch (error) {
      await agent.kill9();
      throw error;
    }
  }
  return agent;
}

/**
 * `program` started with the agent's own posix_spawn (agent/native/posix_spawn.ts: a new session, stdout and
 * stderr piped, stdin /dev/null), shaped as {@link AgentChild}: `exit` once it has exited and its pipes have ended.
 */
async function posixSpawned(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<AgentChild> {
  const started = await startProcess({
    file: program,
    args,
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events = new EventEmitter();
  void started.closed.then((exit) => events.emit("exit", exit.code, exit.signal));
  return {
    pid: started.pid,
    stdout: started.stdout,
    stderr: started.stderr,
    kill(signal) {
      try {
        process.kill(started.pid, signal);
        return true;
      } catch {
        return false; // already gone
      }
    },
    once(event, listener) {
      return events.once(event, listener);
    },
  };
}

/** A fresh temp folder under the system's temp dir. */
export async function makeTempDir(prefix: string): Promise<string> {
  return await mkdtemp(join(tmpdir(), `idem-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A valid agent id unique to this run. */
export function uniqueAgentId(name: string): string {
  return `vm-${name}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Parses one logfmt line into its fields (`key=value`, `key="quoted value"`). */
export function parseLogfmt(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const pattern = /([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (const match of line.matchAll(pattern)) {
    const key = match[1];
    if (key === undefined) continue;
    fields[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : (match[3] ?? "");
  }
  return fields;
}

export interface CommandOutcome extends ExitInfo {
  stdout: string;
  stderr: string;
  /** From the spawn to the exit. */
  ms: number;
}

/** Runs `idem <args>` (from the sources, or `IDEM_AGENT_COMMAND`) to its end. */
export function runIdem(args: readonly string[], timeoutMs = 20_000): Promise<CommandOutcome> {
  const [program, ...prefix] = DEFAULT_COMMAND;
  if (program === undefined) throw new Error("Cannot run idem as the command prefix is empty");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, [...prefix, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    registerChild(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`idem ${args.join(" ")} did not end within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      unregisterChild(child);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

let portable: string | undefined;

/**
 * The single executable (`dist/idem`, which `npm test` builds first) copied into a folder any user can read, for
 * tests that run the agent as another user (`nobody`): the repository may sit where only its owner can enter.
 * One copy per test process, removed when it exits.
 */
export function executableForAnyUser(): string[] {
  if (portable === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "idem-exe-"));
    chmodSync(dir, 0o755);
    const file = join(dir, "idem");
    copyFileSync(join(REPO_ROOT, "dist", "idem"), file);
    chmodSync(file, 0o755);
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    portable = file;
  }
  return [portable];
}
