/**
 * Failpoints for crash tests: `IDEM_FAILPOINT=<name>` (read once at start-up) makes the process kill itself
 * with SIGKILL when it reaches that point, exactly like a power cut or an OOM kill would.
 *
 * Points, in the order a plan meets them: `before-commit` (decided, nothing durable), `after-commit` (decision
 * durable, PUBACK not sent), `after-ack` (PUBACK sent, execution not started), `after-running` (`running`
 * durable, script not spawned), `after-result-commit` (result and replies durable, nothing published),
 * `after-publish` (a reply acknowledged by the broker, its outbox entry not yet removed).
 */
export const FAILPOINTS = [
  "before-commit",
  "after-commit",
  "after-ack",
  "after-running",
  "after-result-commit",
  "after-publish",
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

const armed = process.env.IDEM_FAILPOINT;

export function failpoint(name: Failpoint): void {
  if (armed === name) {
    process.stderr.write(`time=${new Date().toISOString()} level=warn event=failpoint name=${name}\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
