/**
 * Reboot-and-resume, the Murano side: which script exit codes ask for a reboot, which boot the VM is in, and
 * running the configured `rebootCommand`.
 *
 * The convention is AWS Systems Manager's, adapted to what a Linux exit status can be (0–255):
 *
 * | exit | meaning                                            | SSM        |
 * |------|----------------------------------------------------|------------|
 * | 194  | reboot now, then run the plan again                | 194        |
 * | 195  | reboot now, the plan is done (answered code 0)     | 3010       |
 *
 * SSM's 3010 cannot be a process exit status on Linux: `exit 3010` in sh leaves 3010 mod 256 = 194, which is
 * "run me again". So idem takes the next free code, 195, for "reboot, I am done" (docs/reliability.md). Either
 * code stops the plan's Body at once, whatever the script's `verifyExitcode`: the VM is about to go down.
 */
import { readFileSync } from "node:fs";
import { runCommand } from "./script_runner.ts";

/** Exit status of a script that asks for a reboot and to be run again after it. */
export const REBOOT_RERUN_EXIT = 194;
/** Exit status of a script that asks for a reboot and is done (SSM's 3010, which Linux cannot carry). */
export const REBOOT_DONE_EXIT = 195;

export type RebootMode = "rerun" | "done";

/** What a script's exit asked for: a reboot in `mode`, with the script's outcome up to then. */
export interface RebootRequest {
  mode: RebootMode;
  script: string;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

/** The reboot mode an exit status asks for, or undefined when it asks for none. */
export function rebootModeOf(exitCode: number): RebootMode | undefined {
  if (exitCode === REBOOT_RERUN_EXIT) return "rerun";
  if (exitCode === REBOOT_DONE_EXIT) return "done";
  return undefined;
}

/**
 * The kernel's boot id (`/proc/sys/kernel/random/boot_id`: a new UUID at every boot), which tells a reboot from
 * a mere restart of the agent. `IDEM_TEST_BOOT_ID` replaces it — for tests only, which restart a real agent as
 * if the VM had rebooted. Undefined where the kernel does not say (not Linux): then every restart counts as the
 * reboot.
 */
export function kernelBootId(env: Record<string, string | undefined> = process.env): string | undefined {
  const fake = env.IDEM_TEST_BOOT_ID;
  if (fake !== undefined && fake !== "") return fake;
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** How long the reboot command may take to return (`systemctl reboot` returns at once; the reboot follows). */
const COMMAND_TIMEOUT_MS = 60_000;

/** Whether the reboot command was accepted: exit 0; else why not, in words for a result Message. */
export type RebootCommandOutcome = { ok: true } | { ok: false; why: string };

/**
 * Runs `argv` (the config's `rebootCommand`: no shell, PATH/HOME/LANG only) to its exit, killed after 60 s.
 * Never rejects: a missing program, a non-zero exit or a timeout is `{ok: false, why}`.
 */
export async function runRebootCommand(argv: readonly string[]): Promise<RebootCommandOutcome> {
  const [program, ...args] = argv;
  const shown = JSON.stringify(argv);
  if (program === undefined) return { ok: false, why: "rebootCommand is empty" };
  try {
    const result = await runCommand([program, ...args], { signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS) });
    if (result.exitCode === 0) return { ok: true };
    const stderr = result.stderr === "" ? "" : `: ${result.stderr.slice(0, 2000)}`;
    const ended =
      result.exitCode < 0
        ? `was killed by signal ${-result.exitCode} (over ${COMMAND_TIMEOUT_MS / 1000} s?)`
        : `exited with status ${result.exitCode}`;
    return { ok: false, why: `rebootCommand ${shown} ${ended}${stderr}` };
  } catch (error) {
    return { ok: false, why: `rebootCommand ${shown} could not start: ${(error as Error).message}` };
  }
}
