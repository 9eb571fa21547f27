/**
 * The side-effect file through which tests count executions: each test script appends `start`/`done` lines
 * with its PID and arguments; helpers read it, wait for it, and kill what it recorded.
 */
import { existsSync, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";

export interface Execution {
  pid: number;
  args: string;
  done: boolean;
}

export interface Effects {
  executions: Execution[];
  /** `overlap <pid> <other pid>` lines: a run started while an earlier one was alive. */
  overlaps: string[];
  lines: string[];
}

/** Reads the side-effect file: one execution per `start` line. */
export function readExecutions(file: string): Effects {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const executions: Execution[] = [];
  const overlaps: string[] = [];
  for (const line of lines) {
    const [word, pid, ...rest] = line.split(" ");
    if (word === "start") executions.push({ pid: Number(pid), args: rest.join(" ").trim(), done: false });
    else if (word === "done") {
      const execution = executions.find((e) => e.pid === Number(pid));
      if (execution) execution.done = true;
    } else if (word === "overlap") overlaps.push(line);
  }
  return { executions, overlaps, lines };
}

/** Waits (file watch, with a short poll as a safety net) until `condition` holds for the side-effect file. */
export function waitForEffects(
  file: string,
  condition: (effects: Effects) => boolean,
  timeoutMs = 20_000,
): Promise<Effects> {
  return new Promise((resolve, reject) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const check = () => {
      const effects = readExecutions(file);
      if (!condition(effects)) return;
      finish();
      resolve(effects);
    };
    const poll = setInterval(check, 50);
    const timer = setTimeout(() => {
      finish();
      reject(
        new Error(
          `Side-effect file ${file} did not reach the expected state within ${timeoutMs} ms:\n${readExecutions(file).lines.join("\n")}`,
        ),
      );
    }, timeoutMs);
    const finish = () => {
      clearInterval(poll);
      clearTimeout(timer);
      watcher?.close();
    };
    try {
      watcher = watch(dirname(file), check);
    } catch {
      // the poll covers it
    }
    check();
  });
}

/** True when `pid` is a live (not zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s*[ZX]/m.test(status);
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is dead (or a zombie), false if it is still alive after `timeoutMs`. */
export async function waitForDeath(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/**
 * Kills the process groups of the executions recorded in `file` (scripts orphaned by a `kill -9` of the
 * agent), for `after` hooks.
 */
export function killRecordedExecutions(file: string): void {
  const ownGroup = processGroupOf(process.pid);
  for (const { pid } of readExecutions(file).executions) {
    const pgid = processGroupOf(pid);
    if (pgid === undefined) continue;
    // Never the test runner's own group (should the agent fail to give scripts a group of their own).
    const targets = pgid === ownGroup ? [pid] : [-pgid, pid];
    for (const target of targets) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

function processGroupOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[2]);
  } catch {
    return undefined;
  }
}
