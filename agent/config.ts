/**
 * The agent's settings: one TypeBox schema with documented defaults, filled from (lowest first) the defaults,
 * a JSON config file, the environment and the command line.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import Type, { type Static } from "typebox";
import { Value } from "typebox/value";
import { IdemError } from "./errors.ts";
import { topicFilterProblem } from "./transport/topic_filter.ts";

const AgentId = Type.String({ pattern: "^[A-Za-z0-9._-]{1,128}$" });

export const BrokerSettings = Type.Object({
  /** `mqtt://host:port`, `mqtts://host:port`, or `embedded[:PORT]` (an in-process broker on 127.0.0.1). */
  url: Type.String({ default: "mqtt://127.0.0.1:1883" }),
  /**
   * Several nodes of one clustered broker (NATS, RabbitMQ, EMQX, VerneMQ), tried in order: the agent connects to the
   * first that answers and, on a lost connection, moves to the next, keeping its client id and persistent session.
   * Given: `url` is ignored. Resolved: always set (`[url]` when absent).
   */
  urls: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  /** PEM files for TLS (mqtts://): CA bundle, client certificate and key. */
  ca: Type.Optional(Type.String()),
  cert: Type.Optional(Type.String()),
  key: Type.Optional(Type.String()),
  /** Verify the broker's certificate (default true). */
  rejectUnauthorized: Type.Boolean({ default: true }),
  /** 5, 4 (MQTT 3.1.1) or "auto": try 5, fall back to 3.1.1 when the broker refuses it. */
  protocol: Type.Union([Type.Literal(5), Type.Literal(4), Type.Literal("auto")], { default: "auto" }),
  keepaliveSeconds: Type.Integer({ minimum: 5, default: 30 }),
  /** MQTT 5 Session Expiry Interval: how long the broker queues plans while the agent is away. */
  sessionExpirySeconds: Type.Integer({ minimum: 1, default: 7 * 24 * 3600 }),
  /** First delay before connecting again; it doubles (±50 % jitter) up to `reconnectMaxSeconds`. */
  reconnectSeconds: Type.Number({ minimum: 0.1, default: 1 }),
  /** Longest delay between connection attempts (a connection that stayed up 30 s starts again from the first). */
  reconnectMaxSeconds: Type.Optional(Type.Number({ minimum: 0.1, default: 60 })),
});

export const Config = Type.Object({
  agentId: AgentId,
  broker: BrokerSettings,
  /** Topic prefix: plans arrive on `<prefix>/<agentId>/plans`. */
  prefix: Type.String({ pattern: "^[^#+]+$", default: "idem" }),
  /**
   * MQTT topic filters a plan's `ReplyTo` (or MQTT 5 Response Topic) must match, else the plan is refused with
   * code 2 (SPEC 3). Default `["<prefix>/+/results", "<prefix>/<agentId>/#"]`. Agents' plans, status and events
   * topics are never allowed, whatever the filters say (`pipeline/validate.ts`).
   */
  replyTopics: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /**
   * What scripts find in their environment besides PATH, HOME, LANG and the agent's IDEM_* marks (SPEC 6): name →
   * value. Nothing else of the agent's own environment reaches them. Default none.
   */
  environment: Type.Record(Type.String(), Type.String(), { default: {} }),
  /**
   * Run scripts as this user (a name or a numeric uid) and group (default: the user's primary group); their work
   * folders are given to that user. Other than the agent's own user, this needs the agent to run as root.
   */
  runAs: Type.Optional(
    Type.Object(
      {
        user: Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })]),
        group: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })])),
      },
      { additionalProperties: false },
    ),
  ),
  dataDir: Type.String({ default: "./idem-data" }),
  /** The instance generation given by the engine; absent: adopt the highest generation seen. */
  generation: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * Adopt mode (no `generation`): how far one plan may raise the generation high-water mark at once (SPEC 5.5);
   * a plan beyond it is refused with 302. `idem fence` sets the mark by hand.
   */
  maxGenerationStep: Type.Integer({ minimum: 1, default: 1000 }),
  /**
   * This VM's identity, recorded in the journal (SPEC 5.5); default cloud-init's instance-id, else
   * /etc/machine-id. A journal recorded under another identity is set aside at start.
   */
  instanceId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  /**
   * Public keys whose signatures make a plan authentic (SPEC 9a; `pipeline/authenticate.ts`): Ed25519, or RSA
   * (≥ 2048 bits) for Murano engines, PEM inline (`publicKey`) or in a file (`publicKeyFile`). Several at once
   * for a rotation. Given: every plan must be signed by one of them, else code 306. Absent (the default): plans
   * are not checked. A key that cannot be read refuses the start, naming its keyId.
   */
  trustedKeys: Type.Optional(
    Type.Array(
      Type.Object(
        {
          keyId: Type.String({ pattern: "^[\\x21-\\x7e]{1,128}$" }),
          publicKey: Type.Optional(Type.String({ minLength: 1 })),
          publicKeyFile: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  ),
  /** Refuse plans that carry no Generation (code 301). */
  requireGeneration: Type.Boolean({ default: false }),
  defaultPolicy: Type.String({ default: "skip-if-identical" }),
  /** Directories whose .js/.mjs/.ts files are policy plugins. */
  plugins: Type.Array(Type.String(), { default: [] }),
  policyTimeoutMs: Type.Integer({ minimum: 1, default: 1000 }),
  maxPlanBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
  /** Plans nested deeper than this (JSON containers around the deepest value) are refused with code 2 (SPEC 3). */
  maxPlanDepth: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
  /** Cap of each stored output (stdout, stderr, result Body). */
  outputCapBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  /**
   * Cap of a whole result message (SPEC 2): a bigger one is journaled with its Body replaced by
   * `{Message, AdditionalInfo: {Truncated: true, Bytes}}`. Keep it under the broker's maximum packet size.
   */
  maxResultBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 }),
  /** Seconds a plan may run when it sets no Timeout. */
  defaultTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 3600 }),
  /**
   * Heap limit in MB of the worker process that evaluates a Body (SPEC 6): a Body that needs more is answered
   * code 1 "MemoryError: …" and the agent goes on.
   */
  bodyMemoryMB: Type.Integer({ minimum: 16, maximum: 65536, default: 256 }),
  /** TERM → KILL grace for a timed-out or interrupted script's process group. */
  killGraceSeconds: Type.Number({ minimum: 0, default: 10 }),
  /** On SIGTERM: how long the running plan may go on before it is recorded as interrupted. */
  drainGraceSeconds: Type.Number({ minimum: 0, default: 60 }),
  /** Plans of different keys that may run at once. */
  concurrency: Type.Integer({ minimum: 1, default: 1 }),
  /** Days a finished record is kept (run-once-ever records are kept until forgotten). */
  retentionDays: Type.Number({ minimum: 0, default: 30 }),
  /** Log line format: `logfmt` (key=value, the default) or `json` (one object per line). */
  logFormat: Type.Union([Type.Literal("logfmt"), Type.Literal("json")], { default: "logfmt" }),
  /**
   * Prometheus metrics: served at `http://host:port/metrics` when `port` is given (host default 127.0.0.1), and/or
   * written to `textfile` (node-exporter textfile collector, `*.prom`) at most every few seconds. Default: off.
   */
  metrics: Type.Optional(
    Type.Object(
      {
        port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        host: Type.String({ default: "127.0.0.1" }),
        textfile: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
  ),
  /** The command (argv, no shell) that reboots the VM when a script asks for a reboot by its exit code. */
  rebootCommand: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ["systemctl", "reboot"] }),
  logLevel: Type.Union(
    [Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")],
    {
      default: "info",
    },
  ),
});

export type Config = Static<typeof Config>;

/** Settings as given by a file, the environment or flags: anything may be missing. */
export type PartialConfig = {
  [K in keyof Config]?: K extends "broker" ? Partial<Config["broker"]> : Config[K];
};

/** SPEC 3's default `replyTopics`: every agent's results topic, and everything below the agent's own level. */
export function defaultReplyTopics(prefix: string, agentId: string): string[] {
  return [`${prefix}/+/results`, `${prefix}/${agentId}/#`];
}

/** Reads a JSON config file; its fields are those of {@link Config}. */
export function readConfigFile(file: string): PartialConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new IdemError(2, `Cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text) as PartialConfig;
  } catch (cause) {
    throw new IdemError(2, `Cannot parse config file ${file} as JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Settings from IDEM_* environment variables. */
export function configFromEnv(env: Record<string, string | undefined>): PartialConfig {
  const out: PartialConfig = {};
  if (env.IDEM_BROKER) out.broker = { url: env.IDEM_BROKER };
  // The broker password: here or in the config file, never in the broker URL (it would be printed and shown by ps).
  if (env.IDEM_BROKER_USERNAME) out.broker = { ...out.broker, username: env.IDEM_BROKER_USERNAME };
  if (env.IDEM_BROKER_PASSWORD) out.broker = { ...out.broker, password: env.IDEM_BROKER_PASSWORD };
  if (env.IDEM_AGENT_ID) out.agentId = env.IDEM_AGENT_ID;
  if (env.IDEM_DATA_DIR) out.dataDir = env.IDEM_DATA_DIR;
  if (env.IDEM_GENERATION) out.generation = Number(env.IDEM_GENERATION);
  if (env.IDEM_INSTANCE_ID) out.instanceId = env.IDEM_INSTANCE_ID;
  return out;
}

/** Merges layers (later wins), applies defaults and validates. Throws IdemError naming every bad field. */
export function resolveConfig(...layers: PartialConfig[]): Config {
  const merged: Record<string, unknown> = { agentId: hostname().split(".")[0] };
  const broker: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (name === "broker") Object.assign(broker, value);
      else merged[name] = value;
    }
  }
  merged.broker = broker;
  const config = Value.Default(Config, merged);
  const errors = [...Value.Errors(Config, config)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
    throw new IdemError(2, `Cannot start with this configuration: ${lines.join("; ")}`);
  }
  const valid = config as Config;
  const urls = (valid.broker.urls ?? [valid.broker.url]).map((url) => {
    const checked = brokerUrl(url);
    const user = urlUsername(checked);
    if (user === undefined) return checked;
    // `mqtt://user@host`: the user is a setting like any other; the URL printed in logs is host and port only.
    valid.broker.username ??= user;
    return withoutUserinfo(checked);
  });
  if (urls.length > 1 && urls.some((url) => url.startsWith("embedded"))) {
    throw new IdemError(
      2,
      "Cannot use embedded in broker.urls: the embedded broker is one node; give mqtt://HOST:PORT nodes of one cluster",
    );
  }
  valid.broker.urls = urls;
  valid.broker.url = urls[0] as string;
  for (const name of Object.keys(valid.environment)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new IdemError(
        2,
        `Cannot start with environment variable ${JSON.stringify(name)}: give names of letters, digits and "_", not starting with a digit`,
      );
    }
  }
  valid.replyTopics ??= defaultReplyTopics(valid.prefix, valid.agentId);
  for (const filter of valid.replyTopics) {
    const problem = topicFilterProblem(filter);
    if (problem !== undefined) {
      throw new IdemError(
        2,
        `Cannot start with replyTopics ${JSON.stringify(filter)} as ${problem}: give MQTT topic filters such as "idem/+/results"`,
      );
    }
  }
  return valid;
}

/**
 * `host:port` and `host` mean `mqtt://…`; anything but mqtt(s)/tcp/ssl or `embedded[:PORT]` is refused, and so
 * is a URL with a password (`mqtt://user:pass@host`): it would be printed in every log line that names the
 * broker and be seen by anyone who can list processes. Messages never repeat the password.
 */
export function brokerUrl(url: string): string {
  if (/^embedded(:\d+)?$/.test(url)) return url;
  const withScheme = url.includes("://") ? url : `mqtt://${url}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(withScheme);
  } catch {
    parsed = undefined;
  }
  if (parsed?.password) {
    throw new IdemError(
      2,
      `Cannot use a broker URL with a password in it (${redactedUrl(withScheme)}): give the password in the config file's broker.password or in IDEM_BROKER_PASSWORD, and the URL without it`,
    );
  }
  if (
    parsed === undefined ||
    !["mqtt:", "mqtts:", "tcp:", "ssl:"].includes(parsed.protocol) ||
    parsed.hostname === ""
  ) {
    throw new IdemError(
      2,
      `Cannot use broker "${redactedUrl(url)}": give mqtt://HOST:PORT, mqtts://HOST:PORT or embedded[:PORT]`,
    );
  }
  return withScheme;
}

/** `url` with whatever stands between `://` and `@` (user and password) replaced by `***`: safe to print. */
export function redactedUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

function urlUsername(url: string): string | undefined {
  if (!url.includes("://")) return undefined;
  const user = new URL(url).username;
  return user === "" ? undefined : decodeURIComponent(user);
}

function withoutUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1");
}
