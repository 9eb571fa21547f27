/**
 * The topics an operator command (`idem send`, `idem cancel`) addresses, checked before it connects: an agent id
 * as the agent itself accepts it (SPEC 2 `[A-Za-z0-9._-]{1,128}`), a prefix and a `--reply-to` that are MQTT
 * topic names (no wildcard, no control character: agent/transport/topic.ts). Unchecked, a wildcard made mqtt.js
 * fail with a bare "Invalid topic" (exit 1), or made the broker drop the connection while the plan's publish was
 * pending — and the command ended with exit 0 and nothing sent.
 */
import { IdemError } from "../errors.ts";
import { topicNameProblem } from "../transport/topic.ts";

/** The agent id rule of agent/config/schema.ts `agentId`. */
const AGENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

export interface Addressing {
  /** The command's name, for the message (`send`). */
  command: string;
  agentId: string;
  prefix: string;
  /** `--reply-to`, when given. */
  replyTo?: string;
}

/** @throws IdemError(2) naming the flag, the value and what to give, when a topic cannot be made of them. */
export function checkAddressing({ command, agentId, prefix, replyTo }: Addressing): void {
  if (!AGENT_ID.test(agentId)) {
    throw new IdemError(
      2,
      `Cannot ${command} as ${JSON.stringify(agentId)} is not an agent id: give --agent-id (or IDEM_AGENT_ID) the agent's id, 1-128 letters, digits, ".", "_" or "-"`,
    );
  }
  const prefixProblem = topicNameProblem(`${prefix}/${agentId}/plans`);
  if (prefixProblem !== undefined || prefix === "") {
    throw new IdemError(
      2,
      `Cannot use --prefix ${JSON.stringify(prefix)}${prefixProblem ? ` (${prefixProblem})` : ""}: give the agent's topic prefix (default idem), without "+", "#" or control characters`,
    );
  }
  const replyProblem = replyTo === undefined ? undefined : topicNameProblem(replyTo);
  if (replyProblem !== undefined) {
    throw new IdemError(
      2,
      `Cannot use --reply-to ${JSON.stringify(replyTo)} as ${replyProblem}: give one topic name without wildcards (the agent refuses a plan whose ReplyTo is not)`,
    );
  }
}
