/**
 * A process's child processes as Linux shows them (`/proc/PID/task/TID/children` of every thread, then each
 * child's `cmdline`), for tests and benchmarks that look at what an agent started: its Body worker, a script.
 * Needs a kernel with CONFIG_PROC_CHILDREN (Debian's has it). Children, threads and the process itself that end
 * while they are read are left out: a process that is gone has no children.
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
  const read = <T>(what: () => T[]): T[] => {
    try {
      return what();
    } catch {
      return []; // ended meanwhile
    }
  };
  const pids = read(() => readdirSync(`/proc/${pid}/task`)).flatMap((task) =>
    read(() => readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean)),
  );
  return pids.flatMap((child) =>
    read(() => [
      { pid: Number(child), argv: readFileSync(`/proc/${child}/cmdline`, "utf8").split("\0").slice(0, -1) },
    ]),
  );
}

/** The agent's Body worker (the child whose arguments include BODY_WORKER_ARG), or undefined while there is none. */
export function bodyWorkerOf(agentPid: number): ChildProcessInfo | undefined {
  return childrenOf(agentPid).find((child) => child.argv.includes(BODY_WORKER_ARG));
}
