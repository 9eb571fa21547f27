/**
 * The guard around intake (SPEC 5.4): whatever happens, a message ends decided, answered or evented, and no
 * single message can stop the ones behind it.
 *
 * - The environment's faults (the journal cannot commit) are retried with backoff for as long as they last:
 *   the message stays unacknowledged, nothing is lost.
 * - A bug (anything unexpected) is retried {@link MAX_ATTEMPTS} times, then the plan is answered with code 2.
 * - A crash loop: a message the broker re-delivers (MQTT `dup`) is counted durably before it is taken; past
 *   {@link MAX_DELIVERIES} undecided deliveries it is answered with code 2 without being taken again.
 */
import { createHash } from "node:crypto";
import { describe, ErrorCode, failureKind, IdemError, isEnvironmentFailure } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import { retry } from "../retry.ts";
import type { IncomingMessage } from "../transport/port.ts";
import { authenticateMessage, refuseUnauthenticated } from "./authenticate.ts";
import { commitRefusal } from "./commit.ts";
import type { PipelineContext } from "./context.ts";
import { decode } from "./decode.ts";
import { intake } from "./intake.ts";
import { address, replyScope } from "./validate.ts";

/** In-process attempts on a message whose intake fails unexpectedly. */
export const MAX_ATTEMPTS = 3;
/** Undecided re-deliveries (each one after a crash, presumably) before the message is answered as poison. */
export const MAX_DELIVERIES = 3;

/** Takes one message; resolves when it may be acknowledged. Never rejects. */
export async function takeMessage(message: IncomingMessage, ctx: PipelineContext): Promise<void> {
  const { journal, log } = ctx;
  const onRetry = (step: string) => (error: unknown, attempt: number, delayMs: number) =>
    log.error(step, { attempt, retryInMs: delayMs, kind: failureKind(error), message: describe(error) });
  let deliveryHash: string | undefined;
  // The session that delivered the message may go away while its intake is retried: then let go of it.
  const stop = message.signal ? { signal: message.signal } : {};
  try {
    if (message.dup) {
      const hash = createHash("sha256").update(message.payload).digest("hex");
      deliveryHash = hash;
      const count = await retry(() => journal.countDelivery(hash), {
        onRetry: onRetry("intake-retry"),
        ...stop,
      });
      if (count > MAX_DELIVERIES) {
        const why = `it was delivered ${count} times without a decision (did it crash the agent?)`;
        return await answerPoison(message, ctx, { hash, why });
      }
    }
    let bugs = 0;
    const hash = deliveryHash;
    await retry(
      () => {
        failpoint("intake-throw");
        return intake(message, ctx, hash === undefined ? {} : { deliveryHash: hash });
      },
      {
        isRetriable: (error) =>
          isEnvironmentFailure(error) || (failureKind(error) === "bug" && ++bugs < MAX_ATTEMPTS),
        onRetry: onRetry("intake-retry"),
        minTimeout: 200,
        ...stop,
      },
    );
  } catch (error) {
    if (message.signal?.aborted) {
      // Not decided, not acknowledged: the broker delivers it again to the next session, which decides it.
      log.info("intake-abandoned", {
        reason: "the session that delivered it closed",
        message: describe(error),
      });
      return;
    }
    const why =
      error instanceof IdemError
        ? error.message
        : `the agent failed on it ${MAX_ATTEMPTS} times (a bug: ${describe(error)})`;
    await answerPoison(message, ctx, {
      why,
      code: error instanceof IdemError ? error.code : ErrorCode.InvalidPlan,
      ...(deliveryHash === undefined ? {} : { hash: deliveryHash }),
    }).catch((last: unknown) =>
      log.error("intake-dropped", { message: `${why}; answering it failed too: ${describe(last)}` }),
    );
  }
}

/** Answers a message that cannot be taken: code 2 (or the plan error's code), or an event without an ID. */
async function answerPoison(
  message: IncomingMessage,
  ctx: PipelineContext,
  poison: { why: string; hash?: string; code?: number },
): Promise<void> {
  // An unauthenticated plan is answered as such (SPEC 9a): never on its ReplyTo, and it leaves no seen entry.
  const authenticity = authenticateMessage(message, ctx);
  if (authenticity.kind === "unauthenticated") {
    return refuseUnauthenticated(authenticity, ctx, { deliveryHash: poison.hash });
  }
  const decoded = decode(authenticity.payload, { maxPlanBytes: Number.POSITIVE_INFINITY, maxPlanDepth: 1e9 });
  if (decoded.kind === "unanswerable") {
    ctx.emit({ Event: "invalid", Key: null, SourceID: null, Generation: null, Message: poison.why });
    return;
  }
  const { plan, planId } = decoded;
  ctx.log.error("intake-poison", { plan: planId, message: poison.why });
  const { target } = address(plan, planId, message, replyScope(ctx.config, ctx.defaultReplyTopic));
  await retry(
    () =>
      commitRefusal(
        {
          planId,
          target,
          decision: "invalid",
          event: "invalid",
          code: poison.code ?? ErrorCode.InvalidPlan,
          message: `Cannot take plan "${planId}": ${poison.why}`,
          planGeneration: typeof plan.Generation === "number" ? plan.Generation : null,
          ...(poison.hash === undefined ? {} : { deliveryHash: poison.hash }),
        },
        ctx,
      ),
    {
      onRetry: (error, attempt, delayMs) =>
        ctx.log.error("intake-retry", { attempt, retryInMs: delayMs, message: describe(error) }),
    },
  );
}
