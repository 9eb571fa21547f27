/**
 * `idem send` (SPEC 10): the command line of agent/send.ts. Exit codes: 0 sent (or its result's ErrorCode is 0),
 * 1 a result with another ErrorCode, 2 usage or connection error, 3 no result within `--wait`.
 */
import { IdemError } from "../errors.ts";
import { parseJson } from "../json/parse.ts";
import { sendPlan } from "../send.ts";
import { checkAddressing } from "./addressing.ts";
import type { Command, CommandInput } from "./command.ts";

const DEFAULT_WAIT_SECONDS = 60;

const USAGE = `Usage: idem send [--broker URL] --agent-id ID [--generation N] [--policy NAME] [--key KEY]
                 [--options JSON] [--timeout S] [--reply-to TOPIC] [--prefix P]
                 [--sign KEYFILE [--key-id ID] [--envelope]] [--wait [SECONDS]] PLAN.json|-

Send a plan file (or - for standard input) to an agent, QoS 1. Without an ID the plan gets a fresh one,
printed on standard output. The plan is sent as written (numbers keep their JSON form); only the
envelope fields the flags give change.

  --broker URL        the agent's broker, mqtt://HOST:PORT or mqtts://HOST:PORT (IDEM_BROKER;
                      default mqtt://127.0.0.1:1883); user and password from IDEM_BROKER_USERNAME and
                      IDEM_BROKER_PASSWORD
  --agent-id ID       the agent (IDEM_AGENT_ID)
  --generation N      the plan's Generation (IDEM_GENERATION), a whole number >= 0
  --policy NAME       Idempotency.Policy: always, skip-if-identical, run-once-ever, or a plugin's
  --key KEY           Idempotency.Key
  --options JSON      Idempotency.Options, one JSON object: {"window": 600}, {"ignore": ["/Body"]}
  --timeout S         the plan's Timeout, seconds > 0
  --reply-to TOPIC    the plan's ReplyTo (default <prefix>/<agent-id>/results)
  --prefix P          topic prefix (default idem)
  --sign KEYFILE      sign the plan (PEM private key, Ed25519 or RSA) for the agent's plans topic: MQTT 5
                      user properties Signature and KeyId (--key-id), or with MQTT 3.1.1 or --envelope
                      the payload {"Signature", "KeyId", "Plan"}
  --wait [SECONDS]    wait for the result (default ${DEFAULT_WAIT_SECONDS} s) and print it as the agent sent it
  -h, --help          this text

A warning on standard error says when the agent has never been seen on the broker (no retained status).
Exit: 0 sent, or the result's ErrorCode is 0; 1 a result with another ErrorCode; 2 usage or connection
      error; 3 no result within --wait (the message says whether the agent is online and runs the plan).`;

const string = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** `--wait` alone, `--wait SECONDS`, or `--wait PLAN` (the plan given right after a bare --wait). */
function waitOf(value: string | undefined, positionals: string[]): { seconds?: number; plan?: string } {
  if (value === undefined) return {};
  if (value === "") return { seconds: DEFAULT_WAIT_SECONDS };
  if (/^\d+(\.\d+)?$/.test(value)) return { seconds: Number(value) };
  if (positionals.length === 0) return { seconds: DEFAULT_WAIT_SECONDS, plan: value };
  throw new IdemError(
    2,
    `Cannot use --wait ${value}: give seconds >= 0 (e.g. --wait 30), or --wait alone for ${DEFAULT_WAIT_SECONDS} s`,
  );
}

async function send(input: CommandInput): Promise<number> {
  const { values, positionals, env } = input;
  const wait = waitOf(string(values.wait), positionals);
  const plans = wait.plan === undefined ? positionals : [wait.plan, ...positionals];
  const agentId = string(values["agent-id"]) ?? env.IDEM_AGENT_ID;
  if (!agentId) throw new IdemError(2, "Cannot send a plan without --agent-id ID (or IDEM_AGENT_ID)");
  if (plans.length !== 1) {
    throw new IdemError(2, `Cannot send ${plans.length} plans: give exactly one plan file, or - for stdin`);
  }
  const generationText = string(values.generation) ?? env.IDEM_GENERATION;
  const from = values.generation === undefined ? "IDEM_GENERATION" : "--generation";
  if (
    generationText !== undefined &&
    (!/^\d+$/.test(generationText) || !Number.isSafeInteger(Number(generationText)))
  ) {
    throw new IdemError(2, `Cannot use ${from} ${generationText}: give a whole number >= 0`);
  }
  const sign = string(values.sign);
  if (sign === undefined && (values["key-id"] !== undefined || values.envelope)) {
    throw new IdemError(2, "Cannot use --key-id or --envelope without --sign KEYFILE");
  }
  const timeoutText = string(values.timeout);
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) {
    throw new IdemError(2, `Cannot use --timeout ${timeoutText}: give seconds > 0`);
  }
  const optionsText = string(values.options);
  let options: ReturnType<typeof idempotencyOptions> | undefined;
  if (optionsText !== undefined) options = idempotencyOptions(optionsText);
  const keyId = string(values["key-id"]);
  const text = (name: string) => string(values[name]);
  checkAddressing({
    command: "send a plan",
    agentId,
    prefix: text("prefix") ?? "idem",
    ...(text("reply-to") === undefined ? {} : { replyTo: text("reply-to") as string }),
  });
  return sendPlan({
    broker: text("broker") || env.IDEM_BROKER || "mqtt://127.0.0.1:1883",
    agentId,
    prefix: text("prefix") ?? "idem",
    planFile: plans[0] as string,
    ...(generationText === undefined ? {} : { generation: Number(generationText) }),
    ...(text("policy") === undefined ? {} : { policy: text("policy") as string }),
    ...(text("key") === undefined ? {} : { key: text("key") as string }),
    ...(options === undefined ? {} : { options }),
    ...(timeout === undefined ? {} : { timeout }),
    ...(text("reply-to") === undefined ? {} : { replyTo: text("reply-to") as string }),
    ...(wait.seconds === undefined ? {} : { waitSeconds: wait.seconds }),
    ...(env.IDEM_BROKER_USERNAME ? { username: env.IDEM_BROKER_USERNAME } : {}),
    ...(env.IDEM_BROKER_PASSWORD ? { password: env.IDEM_BROKER_PASSWORD } : {}),
    ...(sign === undefined
      ? {}
      : {
          sign: {
            keyFile: sign,
            ...(keyId === undefined ? {} : { keyId }),
            ...(values.envelope ? { envelope: true } : {}),
          },
        }),
    out: input.out,
    err: input.err,
  });
}

/** `--options JSON`: one JSON object (read as the agent reads plans), else IdemError(2) naming the flag. */
function idempotencyOptions(text: string) {
  const parsed = parseJson(text);
  if (!parsed.ok)
    throw new IdemError(
      2,
      `Cannot use --options as JSON (${parsed.reason}): give one JSON object, like '{"window": 600}'`,
    );
  if (!(parsed.value instanceof Map)) {
    throw new IdemError(
      2,
      `Cannot use --options ${text}: give one JSON object (the policy's options), like '{"window": 600}'`,
    );
  }
  return parsed.value;
}

export const sendCommand: Command = {
  name: "send",
  summary: "send a plan to an agent, and with --wait print its result",
  usage: USAGE,
  options: {
    broker: { type: "string" },
    "agent-id": { type: "string" },
    generation: { type: "string" },
    policy: { type: "string" },
    key: { type: "string" },
    options: { type: "string" },
    timeout: { type: "string" },
    "reply-to": { type: "string" },
    wait: { type: "string" },
    prefix: { type: "string" },
    sign: { type: "string" },
    "key-id": { type: "string" },
    envelope: { type: "boolean" },
  },
  allowPositionals: true,
  run: send,
};
