/**
 * Intake, the pipeline's table of contents: one incoming message travels
 *
 *   authenticate → decode → validate → fence → fingerprint → decide → commit
 *
 * and the promise resolves once its decision and every reply that decision promises are durable; only then
 * does the transport acknowledge it (SPEC 2, ack rule). The plan's own faults are answered with their codes
 * here; what else can go wrong (the journal, a bug) is the caller's to retry or answer (`guard.ts`).
 *
 * Once its commit is issued the message says `taken` and the next one is decided while that commit is in
 * flight; a decision that reads what an earlier one still in flight writes (the same plan ID, key, or an adopted
 * generation) waits for it first (`pending.ts`), so every decision is the one a sequential intake would make.
 */
import { ErrorCode, IdemError } from "../errors.ts";
import type { SeenEntry } from "../journal/journal.ts";
import type { Plan } from "../murano/plan.ts";
import type { IncomingMessage } from "../transport/port.ts";
import { authenticateMessage, refuseUnauthenticated } from "./authenticate.ts";
import { commitDecision, commitRefusal, type OnIssued, type Refusal } from "./commit.ts";
import type { PipelineContext, PlanRequest } from "./context.ts";
import { decide } from "./decide.ts";
import { decode } from "./decode.ts";
import { fence } from "./fence.ts";
import { fingerprint } from "./fingerprint.ts";
import { pendingFor, touches } from "./pending.ts";
import { address, replyScope, validate } from "./validate.ts";

export interface IntakeOptions {
  /** Hash of a re-delivered payload: its delivery count is cleared with the decision. */
  deliveryHash?: string;
}

export async function intake(
  message: IncomingMessage,
  ctx: PipelineContext,
  options: IntakeOptions = {},
): Promise<void> {
  const { config, journal } = ctx;
  const received = new Date();

  // authenticate (SPEC 9a): nothing of the message is trusted before, not even its ID
  const authenticity = authenticateMessage(message, ctx);
  if (authenticity.kind === "unauthenticated") {
    return refuseUnauthenticated(authenticity, ctx, { deliveryHash: options.deliveryHash });
  }
  if (authenticity.kind === "signed") {
    ctx.log.debug("authenticated", { keyId: authenticity.keyId, via: authenticity.via });
  }

  // decode (an envelope's Plan, when the plan came in one)
  const decoded = decode(authenticity.payload, {
    maxPlanBytes: config.maxPlanBytes,
    maxPlanDepth: config.maxPlanDepth,
    ...(authenticity.parsed === undefined ? {} : { parsed: authenticity.parsed }),
  });
  if (decoded.kind === "unanswerable") {
    ctx.emit({ Event: "invalid", Key: null, SourceID: null, Generation: null, Message: decoded.message });
    return;
  }
  const { planId } = decoded;
  // What an earlier message still in flight writes about this plan ID or the generation is read only once durable.
  const pending = pendingFor(journal);
  const first = [touches.planId(planId), touches.generation];
  if (pending.busy(message, first)) await pending.settled(message, first);
  /** Holds `resources` for this message from the moment its commit is issued, and lets the next one go. */
  const issued =
    (resources: string[]): OnIssued =>
    (committed) => {
      pending.issued(message, committed, resources, message.settled);
      message.taken?.();
    };
  if (message.dup && redelivered(journal.seen(planId), decoded.exact)) {
    // The broker re-sent a message whose decision is already durable (a crash before the PUBACK): its answer
    // is in the outbox or its run is queued. Answering again would only make a duplicate (SPEC 5.2a).
    ctx.log.info("redelivered", { plan: planId, decision: journal.seen(planId)?.decision });
    const hash = options.deliveryHash;
    if (hash === undefined) return;
    const committed = journal.commit((tx) => tx.clearDeliveries(hash));
    issued([touches.planId(planId)])(committed);
    await committed;
    return;
  }
  // Refusals before validation echo the Generation the plan gives, if it is a number.
  const givenGeneration = decoded.plan.Generation;
  const planGeneration = typeof givenGeneration === "number" ? givenGeneration : null;
  const addressed = address(decoded.plan, planId, message, replyScope(ctx.config, ctx.defaultReplyTopic));
  const refuse = (refusal: Omit<Refusal, "planId" | "target" | "planGeneration" | "deliveryHash">) =>
    commitRefusal(
      {
        ...refusal,
        planId,
        target: addressed.target,
        planGeneration,
        ...(options.deliveryHash === undefined ? {} : { deliveryHash: options.deliveryHash }),
      },
      ctx,
      issued([touches.planId(planId)]),
    );
  if (decoded.kind === "refused") {
    return refuse({ decision: "invalid", event: "invalid", code: decoded.code, message: decoded.message });
  }

  // validate: from here on the plan is a typed Plan
  let plan: Plan;
  try {
    plan = validate(decoded.plan, addressed);
  } catch (error) {
    if (!(error instanceof IdemError)) throw error;
    return refuse({ decision: "invalid", event: "invalid", code: error.code, message: error.message });
  }

  // fence
  const verdict = fence(planId, planGeneration ?? undefined, {
    generation: ctx.generation(),
    strict: config.generation !== undefined,
    requireGeneration: config.requireGeneration,
    maxStep: config.maxGenerationStep,
  });
  if (verdict.kind === "superseded") {
    // SPEC 5.5: this agent stands down; the plan is neither answered nor acknowledged (the transport is paused
    // by now), so the broker keeps it for the newer incarnation.
    const { generation, message: reason } = verdict;
    ctx.supersede({ source: "plan", generation, planId, reason });
    return;
  }
  if (verdict.kind !== "pass" && verdict.kind !== "adopt") {
    const future = verdict.kind === "future";
    return refuse({
      decision: future ? "reject" : "stale",
      event: future ? "future" : "stale",
      code: verdict.code,
      message: verdict.message,
    });
  }

  // fingerprint
  const print = fingerprint(decoded.exact);
  const idempotency = plan.Idempotency ?? {};
  const request: PlanRequest = {
    planId,
    plan,
    text: decoded.text,
    exact: decoded.exact,
    target: addressed.target,
    key: sameKey(journal.seen(planId), print) ?? idempotency.Key ?? print,
    explicitKey: idempotency.Key !== undefined,
    fingerprint: print,
    policyName: idempotency.Policy ?? config.defaultPolicy,
    options: idempotency.Options ?? {},
    planGeneration,
    generation: verdict.generation,
    adopt: verdict.kind === "adopt",
    timeoutSeconds: plan.Timeout ?? null,
    received,
    ...(options.deliveryHash === undefined ? {} : { deliveryHash: options.deliveryHash }),
  };

  // decide → commit, again if an execution changed the record while the policy was deciding
  const key = [touches.key(request.key)];
  if (pending.busy(message, key)) await pending.settled(message, key);
  const raises = request.adopt && request.generation > journal.highWater();
  const onIssued = issued([...first.slice(0, raises ? 2 : 1), ...key]);
  for (let round = 1; ; round++) {
    const record = journal.record(request.key);
    const decision = await decide(request, record, ctx);
    if (await commitDecision(request, decision, record, ctx, onIssued)) return;
    if (round >= MAX_ROUNDS) {
      throw new IdemError(
        ErrorCode.PolicyError,
        `Cannot decide plan "${planId}": key ${request.key} changed under ${MAX_ROUNDS} decisions in a row`,
      );
    }
  }
}

/**
 * A re-delivered message (MQTT DUP) whose decision is durable: its plan ID is seen with this content. Seen with
 * other content, the decision kept is another message's (the same ID sent twice, the second not yet decided
 * when the agent crashed): this one is decided (303), or its answer is repeated — a duplicate answer, never a
 * lost one. Seen without a content (refused before it was fingerprinted): taken as this message's.
 */
function redelivered(seen: SeenEntry | undefined, exact: Parameters<typeof fingerprint>[0]): boolean {
  if (!seen) return false;
  if (!seen.fingerprint) return true;
  try {
    return fingerprint(exact) === seen.fingerprint;
  } catch {
    return false; // decided below, where whatever is wrong with it is answered
  }
}

/** The same plan sent again (same ID, same content) keeps the key it was first decided under (SPEC 5.2a). */
function sameKey(seen: SeenEntry | undefined, print: string): string | undefined {
  return seen?.fingerprint === print && seen.key ? seen.key : undefined;
}

/** A record that changes under every decision is a bug somewhere; it must not spin intake for ever. */
const MAX_ROUNDS = 100;
