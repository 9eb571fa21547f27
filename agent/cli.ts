#!/usr/bin/env node
/**
 * `idem run | send | forget | --version | --help`: argv, environment and config file → an action, with exit
 * codes a script can trust (0 ok, 1 the plan failed or no result, 2 usage, configuration or connection error).
 */
import { parseArgs } from "node:util";
import { startAgent } from "./agent.ts";
import { fenceGeneration } from "./commands/fence.ts";
import { forgetKey } from "./commands/forget.ts";
import { type Config, configFromEnv, type PartialConfig, readConfigFile, resolveConfig } from "./config.ts";
import { IdemError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { sendPlan } from "./send.ts";
import { VERSION } from "./version.ts";

const HELP = `idem ${VERSION} — runs Murano execution plans from MQTT, once, even when everything around it fails over

Usage:
  idem run   [--config FILE] [--broker URL|embedded[:PORT]] [--agent-id ID] [--data-dir DIR]
             [--generation N] [--plugins DIR]... [--default-policy NAME] [--instance-id ID]
             [--reset-journal]
  idem send  [--broker URL] --agent-id ID [--generation N] [--policy NAME] [--key KEY] [--timeout S]
             [--reply-to TOPIC] [--wait [SECONDS]] PLAN.json|-
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
fence   Set the generation high-water mark (e.g. after a plan raised it by mistake). Not while the
        agent runs on that data dir.
send    Send a plan file (or - for stdin) to an agent. --wait prints the result JSON and exits 0 when
        its ErrorCode is 0, 1 otherwise (default wait 60 s). Without an ID the plan gets a fresh one.

Environment: IDEM_BROKER, IDEM_AGENT_ID, IDEM_DATA_DIR, IDEM_GENERATION, IDEM_INSTANCE_ID,
IDEM_CONFIG (config file, JSON).
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
  const config = resolveConfig(file ? readConfigFile(file) : {}, configFromEnv(process.env), flags);
  const log = createLogger({ level: config.logLevel });
  // A fatal error (the broker refuses the agent's topics) stops the agent like a signal, then exits 2.
  let early: IdemError | undefined;
  let fail = (error: IdemError) => {
    early = error;
  };
  const agent = await startAgent(config, log, {
    onFatal: (error) => fail(error),
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
    process.on("SIGTERM", () => signalled("SIGTERM"));
    process.on("SIGINT", () => signalled("SIGINT"));
  });
}

async function send(argv: string[]): Promise<number> {
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
  });
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
