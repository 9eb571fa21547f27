/**
 * A process's child processes as Linux shows them (`/proc/PID/task/TID/children` of every thread, then each
 * child's `cmdline`), for tests that look at what an agent started: its Body worker, a script. Children that end
 * while they are read are left out.
 */
import { readdirSync, readFileSync } from "node:fs";
import { BODY_WORKER_ARG } from "../../agent/python/worker/worker_protocol.ts";

export interface ChildProcessInfo {
  pid: number;
  /** Its command line, argv[0] first. */
  argv: string[];
}

/** The live children of `pid` (of all its threads). */
export function childrenOf(pid: number): ChildProcessInfo[] {
  const pids = readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean),
  );
  return pids.flatMap((child) => {
    try {
      const argv = readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").slice(0, -1);
      return [{ pid: Number(child), argv }];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** The agent's Body worker (the child whose arguments include BODY_WORKER_ARG), or undefined while there is none. */
export function bodyWorkerOf(agentPid: number): ChildProcessInfo | undefined {
  return childrenOf(agentPid).find((child) => child.argv.includes(BODY_WORKER_ARG));
}
