/**
 * `idem cancel KEY|PLAN-ID` (SPEC 10): asks a running agent, over its control topic `P/A/control` (QoS 1), to
 * cancel the queued or running plans a plan ID or key names, and prints the agent's answer from
 * `P/A/control/replies` (`pipeline/control.ts` is the agent's side, `pipeline/cancel.ts` what it does). Signed like
 * `idem send --sign` when the agent has `trustedKeys`: over `P/A/control` + the request's bytes.
 *
 * Exit status: 0 something was cancelled; 1 nothing to cancel; 2 usage, connection, or the agent refused the
 * request (unsigned, badly signed, stale); 3 no answer in time.
 */
import { randomUUID } from "node:crypto";
import { connectClient } from "../client/connect.ts";
import { Exchange } from "../client/exchange.ts";
import { IdemError } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import { toPlainObject } from "../json/plain.ts";
import { controlTopics } from "../pipeline/control.ts";
import { checkAddressing } from "./addressing.ts";
import type { Command, CommandInput } from "./command.ts";
import { readSigningKey } from "./keygen.ts";

const USAGE = `Usage: idem cancel [--broker URL] --agent-id ID [--prefix P] [--sign KEYFILE [--key-id ID] [--envelope]]
                   [--wait SECONDS] KEY|PLAN-ID | --key KEY | --plan-id PLAN-ID

Cancels the plans of an agent that a plan ID or a key names (--key or --plan-id says which; without them a
target that is both a plan's ID and another key is refused, naming both, rather than cancel the wrong one):
  - a queued plan is answered ErrorCode 102 (Cancelled) and never starts;
  - a running plan's process group gets TERM, then KILL after the agent's killGraceSeconds; it is answered 102.
Plans that joined a cancelled run are answered 102 too, and the key's record ends "failed" with that code.

The request goes to the agent's control topic P/A/control (QoS 1); the agent answers on P/A/control/replies:
  {"SourceID", "Action": "Cancel:Result", "State": "running"|"queued"|"not-found"|"ambiguous"|"refused", "Cancelled": [plan IDs],
   "Key", "Message"}
which is printed on standard output.

Options:
  --broker URL      the agent's broker (default IDEM_BROKER, else mqtt://127.0.0.1:1883); a user may be given in
                    the URL, the password only in IDEM_BROKER_PASSWORD
  --agent-id ID     the agent (default IDEM_AGENT_ID)
  --key KEY         cancel the plans of this key (Idempotency.Key or the fingerprint idem inspect shows)
  --plan-id ID      cancel this plan (its ID, the result's SourceID)
  --prefix P        the agent's topic prefix (default idem)
  --sign KEYFILE    sign the request with this PEM private key (Ed25519 or RSA), as idem send --sign does: needed
                    when the agent has trustedKeys (then the request must also reach it within 10 minutes)
  --key-id ID       the KeyId sent with the signature
  --envelope        sign in the {"Signature", "KeyId", "Plan"} envelope even on MQTT 5 (MQTT 3.1.1 always does)
  --wait SECONDS    how long to wait for the agent's answer (default 10); an undelivered request expires then
                    on MQTT 5 brokers

Exit status: 0 cancelled; 1 nothing to cancel (no queued or running plan has that ID or key); 2 usage or
connection error, or the agent refused the request (or found the target ambiguous); 3 no answer in time.`;

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a queued or running plan by plan ID or key (answered 102)",
  usage: USAGE,
  options: {
    broker: { type: "string" },
    "agent-id": { type: "string" },
    key: { type: "string" },
    "plan-id": { type: "string" },
    prefix: { type: "string" },
    sign: { type: "string" },
    "key-id": { type: "string" },
    envelope: { type: "boolean" },
    wait: { type: "string" },
  },
  allowPositionals: true,
  run: cancel,
};

interface Answer {
  State?: unknown;
  [field: string]: unknown;
}

async function cancel(input: CommandInput): Promise<number> {
  const { values, positionals, env } = input;
  const text = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const agentId = text("agent-id") ?? env.IDEM_AGENT_ID;
  if (!agentId)
    throw new IdemError(2, "Cannot cancel without --agent-id ID (or IDEM_AGENT_ID): name the agent");
  const given = [
    ...positionals.map((target) => ({ target, kind: undefined })),
    ...(text("key") === undefined ? [] : [{ target: text("key") as string, kind: "key" as const }]),
    ...(text("plan-id") === undefined ? [] : [{ target: text("plan-id") as string, kind: "plan" as const }]),
  ];
  if (given.length !== 1 || given[0]?.target === "") {
    throw new IdemError(
      2,
      "Cannot cancel: give exactly one plan ID or key, as KEY|PLAN-ID, --key KEY or --plan-id PLAN-ID (idem cancel --help)",
    );
  }
  const { target, kind } = given[0] as { target: string; kind: "key" | "plan" | undefined };
  const waitText = text("wait") ?? "10";
  const waitSeconds = Number(waitText);
  if (!(Number.isFinite(waitSeconds) && waitSeconds > 0)) {
    throw new IdemError(2, `Cannot use --wait ${waitText}: give a number of seconds above 0`);
  }
  const signFile = text("sign");
  if (signFile === undefined && (text("key-id") !== undefined || values.envelope === true)) {
    throw new IdemError(2, "Cannot use --key-id or --envelope without --sign KEYFILE");
  }
  checkAddressing({ command: "cancel", agentId, prefix: text("prefix") ?? "idem" });
  const key = signFile === undefined ? undefined : readSigningKey(signFile);
  const topics = controlTopics(text("prefix") ?? "idem", agentId);
  const broker = text("broker") ?? env.IDEM_BROKER ?? "mqtt://127.0.0.1:1883";
  const client = await connectClient(broker, {
    command: "cancel",
    ...(env.IDEM_BROKER_USERNAME ? { username: env.IDEM_BROKER_USERNAME } : {}),
    ...(env.IDEM_BROKER_PASSWORD ? { password: env.IDEM_BROKER_PASSWORD } : {}),
  });
  const id = randomUUID().replaceAll("-", "");
  const exchange = new Exchange(client, {
    id,
    noun: "cancel request",
    topics: { requests: topics.requests, reply: topics.replies },
    waiting: true,
  });
  try {
    await exchange.listen();
    const request = JSON.stringify({
      Action: "Cancel",
      ID: id,
      Target: target,
      ...(kind === undefined ? {} : { Kind: kind }),
      Time: new Date().toISOString(),
    });
    const keyId = text("key-id");
    const sign = key && {
      key,
      ...(keyId === undefined ? {} : { keyId }),
      ...(values.envelope === true ? { envelope: true } : {}),
    };
    // MQTT 5: a request the agent did not take within the wait expires, rather than cancel something later.
    await exchange.publish(request, { ...(sign ? { sign } : {}), expirySeconds: Math.ceil(waitSeconds) });
    const outcome = await exchange.answer(waitSeconds);
    if (outcome.kind === "lost") {
      throw new IdemError(
        2,
        `Cannot wait for agent ${agentId}'s answer to the cancel: the connection to the broker was lost (${outcome.why})`,
      );
    }
    if (outcome.kind === "timeout") {
      input.err(
        `idem: no answer from agent ${agentId} within ${waitSeconds} s on ${topics.replies}: is it running and connected to ${broker}? (--wait SECONDS waits longer)\n`,
      );
      return 3;
    }
    input.out(`${outcome.text}\n`);
    // The exchange took it as a JSON object whose SourceID is the request's (read as the agent writes it).
    const parsed = parseJson(outcome.text);
    const answer = (parsed.ok && parsed.value instanceof Map ? toPlainObject(parsed.value) : {}) as Answer;
    const state = answer.State;
    if (state === "running" || state === "queued") return 0;
    if (state === "not-found") return 1;
    if (typeof answer.Message === "string") input.err(`idem: ${answer.Message}\n`);
    return 2;
  } finally {
    exchange.close();
    // Forced: the request was acknowledged (or the connection is gone, and a graceful end would wait forever).
    await client.endAsync(true).catch(() => {});
  }
}
