/**
 * The runner's journal commits (start, finish, interrupt, give-up, a reboot's mark) are retried until durable:
 * once a script may have run, its outcome must not be lost and the plan must not run again (SPEC 5.4). The
 * environment's faults (a full disk, `JournalUnavailable`) are retried for as long as they last, with backoff; an
 * unexpected failure (a bug) only a few times ({@link MAX_ATTEMPTS}), then it is thrown to the caller.
 */
import { describe, failureKind, isEnvironmentFailure } from "../errors.ts";
import type { QueueEntry } from "../journal/journal.ts";
import { retry } from "../retry.ts";
import type { PipelineContext } from "./context.ts";
import { MAX_ATTEMPTS } from "./guard.ts";

/**
 * Runs `commit` until it resolves, logging each retry as `journal-retry` with `step` and the entry's plan and
 * key, and calling `at.onRetry` then. @throws what `commit` last threw when it is not the environment's fault and
 * {@link MAX_ATTEMPTS} ran out.
 */
export async function durably(
  ctx: PipelineContext,
  at: { step: string; entry: QueueEntry; onRetry?: () => void },
  commit: () => Promise<void>,
): Promise<void> {
  const { step, entry } = at;
  let bugs = 0;
  await retry(commit, {
    isRetriable: (error) =>
      isEnvironmentFailure(error) || (failureKind(error) === "bug" && ++bugs < MAX_ATTEMPTS),
    onRetry: (error, attempt, delayMs) => {
      ctx.log.error("journal-retry", {
        step,
        plan: entry.planId,
        key: entry.key,
        attempt,
        retryInMs: delayMs,
        kind: failureKind(error),
        message: describe(error),
      });
      at.onRetry?.();
    },
  });
}
