/**
 * Failpoints for crash and fault tests: `IDEM_FAILPOINT=<name>` (read once at start-up) makes the process kill
 * itself with SIGKILL when it reaches that point, exactly like a power cut or an OOM kill would;
 * `IDEM_FAILPOINT=<name>:throw` throws an unexpected error there instead (a bug, SPEC 5.4);
 * `IDEM_FAILPOINT=<name>:pause` logs `event=failpoint … action=pause` and blocks the whole process until the
 * file named by `IDEM_FAILPOINT_RELEASE` exists (a test fills the disk meanwhile, say). Several points, each with
 * its action, are separated by commas (`before-finish:throw,give-up:throw`: two bugs in a row).
 *
 * Points, in the order a plan meets them: `intake-throw` (a message is about to be taken), `before-commit`
 * (decided, nothing durable), `before-batch-commit` (a decision's commit just issued while an earlier message's
 * is still pending: several decided, not all durable), `after-commit` (decision durable, PUBACK not sent),
 * `after-batch-commit` (several decisions durable, none of their PUBACKs sent), `after-ack` (PUBACK sent,
 * execution not started), `after-running` (`running` durable, script not spawned), `after-spawn` (a script
 * spawned, its process group not yet durable: a deferred write), `before-finish` (the
 * script ended, its result not committed), `after-result-commit`
 * (result and replies durable, nothing published), `after-publish` (a reply acknowledged by the broker, its
 * outbox entry not yet removed), `deferred-commit` (deferred writes about to be committed on their own, DEFER_MS
 * after the first of them as no other commit came: an acknowledged reply's removal, a long script's process group).
 * Off the plan's usual travel: `give-up` (inside the commit that answers a plan whose execution failed
 * unexpectedly, `pipeline/finish.ts` giveUp).
 */
import { existsSync } from "node:fs";

export const FAILPOINTS = [
  "intake-throw",
  "before-commit",
  "before-batch-commit",
  "after-commit",
  "after-batch-commit",
  "after-ack",
  "after-running",
  "after-spawn",
  "before-finish",
  "after-result-commit",
  "after-publish",
  "deferred-commit",
  "give-up",
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

const ACTIONS = ["", "throw", "pause"];

/** The armed points and their actions ("" kills). @throws at load on a point or action that does not exist. */
const ARMED = new Map(
  (process.env.IDEM_FAILPOINT ?? "")
    .split(",")
    .map((point) => point.trim())
    .filter((point) => point !== "")
    .map((point) => {
      const [name = "", action = ""] = point.split(":");
      if (!(FAILPOINTS as readonly string[]).includes(name) || !ACTIONS.includes(action)) {
        throw new Error(
          `Cannot arm failpoint "${point}" (IDEM_FAILPOINT): points are ${FAILPOINTS.join(", ")}, each alone or with :throw or :pause`,
        );
      }
      return [name, action] as const;
    }),
);

export function failpoint(name: Failpoint): void {
  const action = ARMED.get(name);
  if (action === undefined) return;
  if (action === "throw") throw new Error(`Failpoint ${name} reached (IDEM_FAILPOINT=${name}:throw)`);
  if (action === "pause") {
    pause(name);
    return;
  }
  process.stderr.write(`time=${new Date().toISOString()} level=warn event=failpoint name=${name}\n`);
  process.kill(process.pid, "SIGKILL");
}

/** Blocks the event loop (on purpose: nothing else may happen) until the release file exists. */
function pause(name: Failpoint): void {
  const release = process.env.IDEM_FAILPOINT_RELEASE;
  process.stderr.write(
    `time=${new Date().toISOString()} level=warn event=failpoint name=${name} action=pause\n`,
  );
  if (!release) return;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(release)) Atomics.wait(cell, 0, 0, 20);
}
