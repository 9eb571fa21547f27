/**
 * The control topic `P/A/control` (QoS 1): operator requests to a running agent, today `idem cancel` only.
 * A request is a JSON object
 *
 *     {"Action": "Cancel", "ID": "<request id>", "Target": "<plan ID or key>", "Kind"?: "plan"|"key",
 *      "Time": "<ISO 8601 UTC>"}
 *
 * signed exactly like a plan when the agent has `trustedKeys` (SPEC 9a, `authenticate.ts`): over `P/A/control` +
 * the payload bytes, as MQTT 5 user properties `Signature`/`KeyId` or in the envelope `{Signature, KeyId, Plan}`
 * (`Plan` holding the request's JSON text). With keys, a request must also be fresh — its `Time` within
 * {@link MAX_SKEW_MS} of the agent's clock, not before this process started — and its ID not seen before by this
 * process: a captured request replayed later, even across a restart of the agent, cancels nothing. An unsigned,
 * badly signed, stale or malformed request is refused: logged at `warn`, answered `State: "refused"` (when it has
 * a readable ID), nothing cancelled; one over {@link MAX_REQUEST_BYTES} is only logged.
 *
 * Every answer goes on `P/A/control/replies` through the durable outbox, and the control message is
 * acknowledged only after that commit (SPEC 2). A request that cannot be served is answered; only the journal's
 * failure to commit (the environment's fault, SPEC 5.4) rejects, and the transport hands the request over again.
 */
import { describe, isEnvironmentFailure } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import { toPlain } from "../json/plain.ts";
import type { IncomingMessage } from "../transport/port.ts";
import { authenticate, trustedKeysOf } from "./authenticate.ts";
import { type CancelOutcome, type CancelRunner, cancelTarget, type TargetKind } from "./cancel.ts";
import type { PipelineContext } from "./context.ts";

/** The largest control message read (a signed request in its envelope is under 1 KiB; Target ≤ 1024 characters). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** How far a signed request's `Time` may be from the agent's clock, either way. */
export const MAX_SKEW_MS = 10 * 60_000;

/** The control topics of an agent: requests in, answers out. */
export function controlTopics(prefix: string, agentId: string): { requests: string; replies: string } {
  const requests = `${prefix}/${agentId}/control`;
  return { requests, replies: `${requests}/replies` };
}

interface Request {
  id: string;
  target: string;
  /** `Kind`: what `target` is, when the operator said (`idem cancel --plan-id | --key`). */
  kind: TargetKind;
  time: string | undefined;
}

/** Request IDs served by this process within the skew window (a replay inside the window is refused). */
const served = new Map<string, number>();

/** Takes one control message; resolves when it may be acknowledged. */
export async function takeControl(
  message: IncomingMessage,
  ctx: PipelineContext,
  runner: CancelRunner,
): Promise<void> {
  const { config, log } = ctx;
  const topics = controlTopics(config.prefix, config.agentId);
  const keys = trustedKeysOf(config);
  if (message.payload.length > MAX_REQUEST_BYTES) {
    // A request is a few hundred bytes: nothing larger is read, checked or parsed (a hostile one, 20 MB, was).
    ctx.log.warn("cancel-refused", { request: null, message: `it has ${message.payload.length} bytes` });
    return;
  }
  const verdict = authenticate(message, { keys, plansTopic: topics.requests });
  const read = readRequest(verdict.payload);
  const id = read.kind === "ok" ? read.request.id : read.id;
  const refuse = (why: string) => answer(ctx, topics.replies, id, { refused: why });
  try {
    if (verdict.kind === "unauthenticated") return await refuse(`it is not authenticated: ${verdict.reason}`);
    if (read.kind === "bad") return await refuse(read.why);
    const { request } = read;
    if (keys) {
      const skew = request.time === undefined ? Number.NaN : Math.abs(Date.now() - Date.parse(request.time));
      if (!(skew <= MAX_SKEW_MS)) {
        return await refuse(
          `its Time ${JSON.stringify(request.time ?? null)} is not within ${MAX_SKEW_MS / 60_000} minutes of the agent's clock (a replayed request, or clocks apart: check NTP)`,
        );
      }
      if (Date.parse(request.time as string) < performance.timeOrigin) {
        // The IDs served are this process's only: one signed before it started could be a capture replayed
        // across a restart (it cancelled the key's next run, the same as the first).
        return await refuse(
          `its Time ${request.time} is before this agent started (${new Date(performance.timeOrigin).toISOString()}): a signed request from before a restart is not served, lest a captured one be replayed; send it again`,
        );
      }
      const now = Date.now();
      for (const [seen, at] of served) if (now - at > 2 * MAX_SKEW_MS) served.delete(seen);
      if (served.has(request.id))
        return await refuse(`its ID ${JSON.stringify(request.id)} was served already`);
      served.set(request.id, now);
    }
    const outcome = await cancelTarget(ctx, runner, {
      target: request.target,
      kind: request.kind,
      answer: (done) => ({ topic: topics.replies, payload: payload(ctx, request.id, done) }),
    });
    log.info("cancel", {
      request: request.id,
      target: request.target,
      state: outcome.state,
      key: outcome.key,
      plans: outcome.cancelled.join(","),
    });
  } catch (error) {
    // A journal that cannot commit now: unacknowledged, the transport hands the request over again.
    if (isEnvironmentFailure(error)) throw error;
    log.error("cancel-failed", { request: id ?? null, message: describe(error) });
    await refuse(`the agent failed on it (${describe(error)})`).catch(() => {});
  }
}

type Read = { kind: "ok"; request: Request } | { kind: "bad"; why: string; id: string | undefined };

function readRequest(bytes: Uint8Array): Read {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "bad", why: "it is not UTF-8 text", id: undefined };
  }
  const parsed = parseJson(text);
  const value = parsed.ok ? (toPlain(parsed.value) as Record<string, unknown> | null) : null;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { kind: "bad", why: "it is not a JSON object", id: undefined };
  }
  const id = typeof value.ID === "string" && /^[\x21-\x7e]{1,128}$/.test(value.ID) ? value.ID : undefined;
  const bad = (why: string): Read => ({ kind: "bad", why, id });
  if (id === undefined) return bad("its ID is not 1-128 printable ASCII characters");
  if (value.Action !== "Cancel") return bad(`its Action ${JSON.stringify(value.Action)} is not "Cancel"`);
  const target = value.Target;
  if (typeof target !== "string" || target === "" || target.length > 1024 || !target.isWellFormed()) {
    return bad("its Target is not a plan ID or key (a string of 1-1024 characters)");
  }
  const kind = value.Kind;
  if (kind !== undefined && kind !== "plan" && kind !== "key") {
    return bad(`its Kind ${JSON.stringify(kind)} is not "plan" or "key"`);
  }
  const time = typeof value.Time === "string" ? value.Time : undefined;
  return { kind: "ok", request: { id, target, kind, time } };
}

function payload(ctx: PipelineContext, id: string, outcome: CancelOutcome | { refused: string }): string {
  const refused = "refused" in outcome;
  const message = refused
    ? `Cannot serve control request ${JSON.stringify(id)} as ${outcome.refused}`
    : outcome.state === "ambiguous"
      ? `Cannot cancel as ${outcome.why}`
      : outcome.state === "not-found"
        ? "Nothing to cancel: no queued or running plan has that plan ID or key"
        : `Cancelled ${outcome.cancelled.length} plan(s) (${outcome.state})`;
  return JSON.stringify({
    SourceID: id,
    Action: "Cancel:Result",
    State: refused ? "refused" : outcome.state,
    Cancelled: refused ? [] : outcome.cancelled,
    Key: refused ? null : outcome.key,
    Message: message,
    AgentID: ctx.config.agentId,
    Time: new Date().toISOString(),
  });
}

/** Answers a refused request (durably, through the outbox); one without a readable ID is only logged. */
async function answer(
  ctx: PipelineContext,
  topic: string,
  id: string | undefined,
  outcome: { refused: string },
): Promise<void> {
  ctx.log.warn("cancel-refused", { request: id ?? null, message: outcome.refused });
  if (id === undefined) return;
  const text = payload(ctx, id, outcome);
  await ctx.journal.commit((tx) => void tx.addOutbox({ topic, payload: text }));
  ctx.afterCommit();
}
