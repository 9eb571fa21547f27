#!/usr/bin/env node
/**
 * `idem run | send | forget | --version | --help`: argv, environment and config file → an action, with exit
 * codes a script can trust (0 ok, 1 the plan failed or no result, 2 usage, configuration or connection error).
 */
// First: a bundle started as a Body worker serves Bodies there and evaluates nothing of the agent below.
import "./python/worker/worker_dispatch.ts";
import { parseArgs } from "node:util";
import { startAgent } from "./agent.ts";
import { fenceGeneration } from "./commands/fence.ts";
import { forgetKey } from "./commands/forget.ts";
import { keygen } from "./commands/keygen.ts";
import { type Config, configFromEnv, type PartialConfig, readConfigFile, resolveConfig } from "./config.ts";
import { IdemError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { sendPlan } from "./send.ts";
import { VERSION } from "./version.ts";

const HELP = `idem ${VERSION} — runs Murano execution plans from MQTT, once, even when everything around it fails over

Usage:
  idem run   [--config FILE] [--broker URL|embedded[:PORT]] [--agent-id ID] [--data-dir DIR]
             [--generation N] [--plugins DIR]... [--default-policy NAME] [--instance-id ID]
             [--reset-journal] [--reply-topic FILTER]...
  idem send  [--broker URL] --agent-id ID [--generation N] [--policy NAME] [--key KEY] [--timeout S]
             [--reply-to TOPIC] [--sign KEYFILE [--key-id ID] [--envelope]] [--wait [SECONDS]] PLAN.json|-
  idem keygen --out PREFIX [--key-id ID]   make an Ed25519 key pair for signed plans
  idem forget [--data-dir DIR] KEY      let a key run again (e.g. after "304 OutcomeUnknown")
  idem fence  [--data-dir DIR] --generation N   set the VM's generation high-water mark
  idem --version | --help

run     Start the agent. Plans arrive on idem/<agent-id>/plans; results go to the plan's ReplyTo,
        else idem/<agent-id>/results. Stops cleanly on SIGTERM/SIGINT.
        --broker embedded[:PORT] starts an in-process broker on 127.0.0.1 (default port 1883).
        --generation N fences off plans for older incarnations of this VM (code 301).
        One agent per data dir: a second one exits 2 naming the owner's PID. A journal copied from
        another VM (other --instance-id / cloud-init instance-id / machine-id) is set aside at start;
        a damaged one is refused (exit 2) unless --reset-journal sets it aside (kept, renamed).
        A newer incarnation of this VM on the broker (a higher generation, or the same one started
        later) makes it stand down: status "superseded", exit 3 (do not restart it).
fence   Set the generation high-water mark (e.g. after a plan raised it by mistake). Not while the
        agent runs on that data dir.
send    Send a plan file (or - for stdin) to an agent. --wait prints the result JSON and exits 0 when
        its ErrorCode is 0, 1 otherwise (default wait 60 s). Without an ID the plan gets a fresh one.
        --sign KEYFILE signs it (PEM private key, Ed25519 or RSA) for the agent's plans topic: MQTT 5
        user properties Signature and KeyId (--key-id), or, on MQTT 3.1.1 or with --envelope, the
        payload {"Signature", "KeyId", "Plan"}. An agent with trustedKeys refuses unsigned plans (306).
keygen  Write PREFIX.key (private PEM, mode 0600: keep it with the engine) and PREFIX.pub, and print the
        trustedKeys entry for the agent's config file (key id: --key-id, default PREFIX's base name).

Environment: IDEM_BROKER, IDEM_AGENT_ID, IDEM_DATA_DIR, IDEM_GENERATION, IDEM_INSTANCE_ID,
IDEM_CONFIG (config file, JSON), IDEM_BROKER_USERNAME, IDEM_BROKER_PASSWORD (never put a password in the
broker URL: it is refused). --reply-topic: the MQTT topic filters a plan's ReplyTo must match (default
idem/+/results and idem/<agent-id>/#; docs/security.md).
Defaults: broker mqtt://127.0.0.1:1883, agent id = host name, data dir ./idem-data, policy skip-if-identical.
Docs: README.md, docs/plugins.md, docs/murano.md, docs/deploy.md`;

const RUN_OPTIONS = {
  config: { type: "string" },
  broker: { type: "string" },
  "agent-id": { type: "string" },
  "data-dir": { type: "string" },
  generation: { type: "string" },
  plugins: { type: "string", multiple: true },
  "default-policy": { type: "string" },
  "log-level": { type: "string" },
  "instance-id": { type: "string" },
  "reset-journal": { type: "boolean" },
  "reply-topic": { type: "string", multiple: true },
} as const;

const SEND_OPTIONS = {
  broker: { type: "string" },
  "agent-id": { type: "string" },
  generation: { type: "string" },
  policy: { type: "string" },
  key: { type: "string" },
  timeout: { type: "string" },
  "reply-to": { type: "string" },
  wait: { type: "boolean" },
  prefix: { type: "string" },
  sign: { type: "string" },
  "key-id": { type: "string" },
  envelope: { type: "boolean" },
} as const;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new IdemError(2, `Cannot use --${name} ${value}: give a whole number ≥ 0`);
  return Number(value);
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: RUN_OPTIONS, strict: true });
  const file = values.config ?? process.env.IDEM_CONFIG;
  const flags: PartialConfig = {};
  if (values.broker) flags.broker = { url: values.broker };
  if (values["agent-id"]) flags.agentId = values["agent-id"];
  if (values["data-dir"]) flags.dataDir = values["data-dir"];
  const generation = integer("generation", values.generation);
  if (generation !== undefined) flags.generation = generation;
  if (values.plugins) flags.plugins = values.plugins;
  if (values["default-policy"]) flags.defaultPolicy = values["default-policy"];
  if (values["log-level"]) flags.logLevel = values["log-level"] as Config["logLevel"];
  if (values["instance-id"]) flags.instanceId = values["instance-id"];
  if (values["reply-topic"]) flags.replyTopics = values["reply-topic"];
  const config = resolveConfig(file ? readConfigFile(file) : {}, configFromEnv(process.env), flags);
  // Read once; nothing the agent starts (scripts get a clean environment anyway) inherits the broker password.
  delete process.env.IDEM_BROKER_PASSWORD;
  const log = createLogger({ level: config.logLevel });
  // A fatal error (the broker refuses the agent's topics) stops the agent like a signal, then exits 2.
  let early: IdemError | undefined;
  let fail = (error: IdemError) => {
    early = error;
  };
  // Superseded by a newer incarnation of this VM (SPEC 5.5): stops like a signal, then exits 3, which a service
  // manager must not restart (systemd: RestartPreventExitStatus=3).
  let supersededEarly = false;
  let superseded = () => {
    supersededEarly = true;
  };
  const agent = await startAgent(config, log, {
    onFatal: (error) => fail(error),
    onSuperseded: () => superseded(),
    ...(values["reset-journal"] ? { resetJournal: true } : {}),
  });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      stopping = true;
      agent.stop().then(
        () => resolve(code),
        (error: unknown) => {
          log.error("stop-failed", { message: String(error) });
          resolve(code === 0 ? 1 : code);
        },
      );
    };
    const signalled = (signal: string) => {
      if (stopping) {
        log.warn("forced-exit", { signal });
        process.exit(1);
      }
      log.info("signal", { signal });
      stop(0);
    };
    fail = (error) => {
      log.error("fatal", { message: error.message });
      if (!stopping) stop(2);
    };
    if (early) fail(early);
    superseded = () => {
      if (!stopping) stop(3);
    };
    if (supersededEarly) superseded();
    process.on("SIGTERM", () => signalled("SIGTERM"));
    process.on("SIGINT", () => signalled("SIGINT"));
  });
}

async function send(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) return printHelp();
  // `--wait` takes an optional number of seconds, which parseArgs cannot express.
  let waitSeconds: number | undefined;
  const args = [...argv];
  const at = args.indexOf("--wait");
  if (at >= 0) {
    waitSeconds = 60;
    const next = args[at + 1];
    if (next !== undefined && /^\d+(\.\d+)?$/.test(next)) {
      waitSeconds = Number(next);
      args.splice(at + 1, 1);
    }
  }
  const { values, positionals } = parseArgs({
    args,
    options: SEND_OPTIONS,
    strict: true,
    allowPositionals: true,
  });
  const agentId = values["agent-id"] ?? process.env.IDEM_AGENT_ID;
  if (!agentId) throw new IdemError(2, "Cannot send a plan without --agent-id (or IDEM_AGENT_ID)");
  if (positionals.length !== 1)
    throw new IdemError(2, "Cannot send: give exactly one plan file, or - for stdin");
  const generation = integer("generation", values.generation ?? process.env.IDEM_GENERATION);
  if (values.sign === undefined && (values["key-id"] !== undefined || values.envelope)) {
    throw new IdemError(2, "Cannot use --key-id or --envelope without --sign KEYFILE");
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0))
    throw new IdemError(2, `Cannot use --timeout ${values.timeout}: give seconds > 0`);
  return sendPlan({
    broker: values.broker ?? process.env.IDEM_BROKER ?? "mqtt://127.0.0.1:1883",
    agentId,
    prefix: values.prefix ?? "idem",
    planFile: positionals[0] as string,
    ...(generation === undefined ? {} : { generation }),
    ...(values.policy === undefined ? {} : { policy: values.policy }),
    ...(values.key === undefined ? {} : { key: values.key }),
    ...(timeout === undefined ? {} : { timeout }),
    ...(values["reply-to"] === undefined ? {} : { replyTo: values["reply-to"] }),
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    ...(values.sign === undefined
      ? {}
      : {
          sign: {
            keyFile: values.sign,
            ...(values["key-id"] === undefined ? {} : { keyId: values["key-id"] }),
            ...(values.envelope ? { envelope: true } : {}),
          },
        }),
  });
}

function printHelp(): number {
  process.stdout.write(`${HELP}\n`);
  return 0;
}

function keygenCommand(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) return printHelp();
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: "string" }, "key-id": { type: "string" } },
    allowPositionals: true,
  });
  if (values.out === undefined || positionals.length > 0) {
    throw new IdemError(
      2,
      "Cannot make a key pair: give --out PREFIX (and optionally --key-id ID), nothing else",
    );
  }
  const entry = keygen({
    prefix: values.out,
    ...(values["key-id"] === undefined ? {} : { keyId: values["key-id"] }),
  });
  process.stderr.write(
    `wrote ${values.out}.key (private: keep it with the engine) and ${entry.publicKeyFile}; add to the agent's config:\n`,
  );
  const trusted = { trustedKeys: [{ keyId: entry.keyId, publicKey: entry.publicKey }] };
  process.stdout.write(`${JSON.stringify(trusted, null, 2)}\n`);
  return 0;
}

async function forget(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new IdemError(2, "Cannot forget: give exactly one key");
  const dataDir = values["data-dir"] ?? process.env.IDEM_DATA_DIR ?? "./idem-data";
  const found = await forgetKey(dataDir, positionals[0] as string);
  process.stdout.write(found ? `forgot key ${positionals[0]}\n` : `no record for key ${positionals[0]}\n`);
  return found ? 0 : 1;
}

async function fence(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, generation: { type: "string" } },
    allowPositionals: true,
  });
  const generation = integer("generation", values.generation);
  if (generation === undefined || positionals.length > 0) {
    throw new IdemError(2, "Cannot fence: give --generation N (a whole number >= 0) and nothing else");
  }
  const dataDir = values["data-dir"] ?? process.env.IDEM_DATA_DIR ?? "./idem-data";
  const before = await fenceGeneration(dataDir, generation);
  process.stdout.write(`generation high-water mark of ${dataDir}: ${before} -> ${generation}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await run(rest);
      case "send":
        return await send(rest);
      case "forget":
        return await forget(rest);
      case "fence":
        return await fence(rest);
      case "keygen":
        return keygenCommand(rest);
      case "--version":
      case "-v":
        process.stdout.write(`idem ${VERSION}\n`);
        return 0;
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(`${HELP}\n`);
        return 0;
      default:
        process.stderr.write(
          `${command === undefined ? "idem: no command given" : `idem: unknown command "${command}"`}\n\n${HELP}\n`,
        );
        return 2;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`idem: ${message}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
