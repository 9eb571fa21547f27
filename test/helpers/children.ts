/**
 * The child processes the test helpers start (agents, brokers, servers): each one is registered while it lives,
 * and whatever is still registered is killed with SIGKILL if the test process exits without cleaning up.
 * A leaf module: agent_process.ts and server_process.ts both use it, neither imports the other for it.
 */
/** How a child process ended: its exit code, or the signal that ended it. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process as far as this module needs it: its PID. */
export interface Child {
  readonly pid?: number | undefined;
}

const live = new Set<Child>();

/** Every child a helper starts is killed if the test process exits without cleaning up. */
export function registerChild(child: Child): void {
  live.add(child);
}

export function unregisterChild(child: Child): void {
  live.delete(child);
}

process.on("exit", () => {
  for (const child of live) {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});
