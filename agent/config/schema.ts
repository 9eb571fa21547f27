/**
 * Every setting of the agent, once (SPEC 10): its type, default and documentation (`description`) live here, and
 * its flag and `IDEM_<NAME>` variable are derived from its key path (agent/config/settings.ts). The settings
 * reference docs/configuration.md is generated from this file (`npm run docs:config`).
 *
 * Keywords beyond JSON Schema, read by agent/config/: `flag` / `env` (a name kept from before the rule),
 * `secret` (masked by `idem config --print`), `example` (shown when an object is given as something else),
 * `defaultText` (a default computed at start, for the docs), `accepts` (a pattern in words), `file` (a path the agent
 * reads: checked at start by agent/config/files.ts).
 */
import Type, { type Static } from "typebox";

const Name = (more: { description: string }) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], more);

export const BrokerSettings = Type.Object(
  {
    url: Type.String({
      default: "mqtt://127.0.0.1:1883",
      flag: "broker",
      env: "IDEM_BROKER",
      description:
        "The broker: `mqtt://HOST:PORT`, `mqtts://HOST:PORT` (TLS), `HOST:PORT`, or `embedded[:PORT]` (an in-process broker on 127.0.0.1, default port 1883). Never with a password in it.",
    }),
    urls: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        example: ["mqtt://10.0.0.1:1883", "mqtt://10.0.0.2:1883"],
        description:
          "Several nodes of one clustered broker (NATS, RabbitMQ, EMQX, VerneMQ), tried in order: the agent connects to the first that answers and, on a lost connection, moves to the next, keeping its client id and persistent session. Given: `url` is ignored.",
      }),
    ),
    username: Type.Optional(
      Type.String({ minLength: 1, description: "User name for the broker (or `mqtt://USER@HOST`)." }),
    ),
    password: Type.Optional(
      Type.String({
        secret: true,
        description:
          "Password for the broker: here or in the environment, never in the URL (it is refused there).",
      }),
    ),
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        file: true,
        description: "PEM file of the CA bundle that signs the broker's certificate.",
      }),
    ),
    cert: Type.Optional(
      Type.String({
        minLength: 1,
        file: true,
        description: "PEM file of the agent's client certificate (mutual TLS).",
      }),
    ),
    key: Type.Optional(
      Type.String({
        minLength: 1,
        file: true,
        description: "PEM file of the client certificate's private key.",
      }),
    ),
    rejectUnauthorized: Type.Boolean({
      default: true,
      description: "Verify the broker's certificate (mqtts://).",
    }),
    protocol: Type.Union([Type.Literal(5), Type.Literal(4), Type.Literal("auto")], {
      default: "auto",
      description:
        'MQTT version: 5, 4 (3.1.1) or "auto" (5, falling back to 3.1.1 when the broker refuses it).',
    }),
    keepaliveSeconds: Type.Integer({ minimum: 5, default: 30, description: "MQTT keepalive, seconds." }),
    sessionExpirySeconds: Type.Integer({
      minimum: 1,
      default: 7 * 24 * 3600,
      description:
        "MQTT 5 Session Expiry Interval: how long the broker queues plans while the agent is away.",
    }),
    reconnectSeconds: Type.Number({
      minimum: 0.1,
      default: 1,
      description:
        "First delay before connecting again; it doubles (±50 % jitter) up to `reconnectMaxSeconds`.",
    }),
    reconnectMaxSeconds: Type.Optional(
      Type.Number({
        minimum: 0.1,
        default: 60,
        description:
          "Longest delay between connection attempts (a connection that stayed up 30 s starts again from the first).",
      }),
    ),
  },
  { example: { url: "mqtt://HOST:PORT" } },
);

const TrustedKey = Type.Object(
  {
    keyId: Type.String({
      pattern: "^[\\x21-\\x7e]{1,128}$",
      accepts: "a key id of 1-128 printable ASCII characters",
      description: "The key's name (a signed plan's KeyId).",
    }),
    publicKey: Type.Optional(
      Type.String({ minLength: 1, secret: true, description: "The key, PEM inline." }),
    ),
    publicKeyFile: Type.Optional(Type.String({ minLength: 1, description: "A PEM file of the key." })),
  },
  { example: { keyId: "engine-1", publicKeyFile: "/etc/idem/engine-1.pub" } },
);

export const Config = Type.Object({
  agentId: Type.String({
    pattern: "^[A-Za-z0-9._-]{1,128}$",
    accepts: 'a name of 1-128 letters, digits, ".", "_" or "-"',
    defaultText: "the host name (up to its first dot)",
    description:
      "This agent's name: plans arrive on `<prefix>/<agentId>/plans`. Letters, digits, `.`, `_`, `-`.",
  }),
  broker: BrokerSettings,
  prefix: Type.String({
    pattern: "^[^#+]+$",
    accepts: 'a non-empty topic prefix without "#" or "+"',
    default: "idem",
    description: "Topic prefix: plans arrive on `<prefix>/<agentId>/plans`.",
  }),
  replyTopics: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), {
      flag: "reply-topic",
      example: ["idem/+/results"],
      defaultText: '["<prefix>/+/results", "<prefix>/<agentId>/#"]',
      description:
        "MQTT topic filters a plan's `ReplyTo` (or MQTT 5 Response Topic) must match, else the plan is refused with code 2 (SPEC 3). Agents' plans, status and events topics are never allowed, whatever the filters say.",
    }),
  ),
  environment: Type.Record(Type.String(), Type.String({ secret: true }), {
    default: {},
    example: { HTTP_PROXY: "http://proxy:3128" },
    description:
      "What scripts find in their environment besides PATH, HOME, LANG and the agent's IDEM_* marks (SPEC 6): name → value. Nothing else of the agent's own environment reaches them.",
  }),
  runAs: Type.Optional(
    Type.Object(
      {
        user: Name({ description: "Run scripts as this user: a name or a numeric uid." }),
        group: Type.Optional(Name({ description: "…and this group (default: the user's primary group)." })),
      },
      {
        example: { user: "idem-scripts" },
        description:
          "Run scripts as another user (their work folders are given to that user); other than the agent's own user, this needs the agent to run as root.",
      },
    ),
  ),
  dataDir: Type.String({
    minLength: 1,
    default: "./idem-data",
    description: "The agent's folder: journal, scripts' work folders, cache. One agent per data dir.",
  }),
  generation: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        "The instance generation given by the engine: plans of older generations are refused (301). Absent: adopt the highest generation seen (SPEC 5.5).",
    }),
  ),
  maxGenerationStep: Type.Integer({
    minimum: 1,
    default: 1000,
    description:
      "Adopt mode (no `generation`): how far one plan may raise the generation high-water mark at once (SPEC 5.5); a plan beyond it is refused with 302. `idem fence` sets the mark by hand.",
  }),
  instanceId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      defaultText: "cloud-init's instance-id, else /etc/machine-id",
      description:
        "This VM's identity, recorded in the journal (SPEC 5.5). A journal recorded under another identity is set aside at start.",
    }),
  ),
  trustedKeys: Type.Optional(
    Type.Array(TrustedKey, {
      minItems: 1,
      description:
        "Public keys whose signatures make a plan authentic (SPEC 9a): Ed25519, or RSA (≥ 2048 bits), PEM inline (`publicKey`) or in a file (`publicKeyFile`). Given: every plan must be signed by one of them, else code 306. Absent: plans are not checked.",
    }),
  ),
  requireGeneration: Type.Boolean({
    default: false,
    description: "Refuse plans that carry no Generation (301).",
  }),
  defaultPolicy: Type.String({
    minLength: 1,
    default: "skip-if-identical",
    description: "The idempotency policy of plans that name none (SPEC 5.2).",
  }),
  plugins: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    example: ["/etc/idem/plugins"],
    description: "Folders whose .js/.mjs/.ts files are policy plugins (docs/plugins.md).",
  }),
  policyTimeoutMs: Type.Integer({
    minimum: 1,
    default: 1000,
    description: "Time a policy plugin's call may take.",
  }),
  maxPlanBytes: Type.Integer({
    minimum: 1024,
    default: 4 * 1024 * 1024,
    description: "Largest plan accepted.",
  }),
  maxPlanDepth: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 200,
    description: "Plans nested deeper than this (JSON containers) are refused with code 2 (SPEC 3).",
  }),
  outputCapBytes: Type.Integer({
    minimum: 1024,
    default: 1024 * 1024,
    description: "Cap of each stored output (stdout, stderr, result Body).",
  }),
  maxResultBytes: Type.Integer({
    minimum: 1024,
    default: 256 * 1024,
    description:
      "Cap of a whole result message (SPEC 2): a bigger one is sent with its Body replaced by `{Message, AdditionalInfo: {Truncated: true, Bytes}}`. Keep it under the broker's maximum packet size.",
  }),
  defaultTimeoutSeconds: Type.Number({
    exclusiveMinimum: 0,
    default: 3600,
    description: "Seconds a plan may run when it sets no Timeout.",
  }),
  bodyMemoryMB: Type.Integer({
    minimum: 16,
    maximum: 65536,
    default: 256,
    description:
      'Heap limit (MB) of the process that evaluates a Body (SPEC 6): a Body that needs more is answered code 1 "MemoryError".',
  }),
  killGraceSeconds: Type.Number({
    minimum: 0,
    default: 10,
    description: "TERM → KILL grace for a timed-out, cancelled or interrupted script's process group.",
  }),
  drainGraceSeconds: Type.Number({
    minimum: 0,
    default: 60,
    description: "On SIGTERM: how long the running plan may go on before it is recorded as interrupted.",
  }),
  concurrency: Type.Integer({
    minimum: 1,
    default: 1,
    description: "Plans of different keys that may run at once.",
  }),
  retentionDays: Type.Number({
    minimum: 0,
    default: 30,
    description: "Days a finished record is kept (run-once-ever records are kept until forgotten).",
  }),
  logLevel: Type.Union(
    [Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")],
    {
      default: "info",
      description: "Least level of the log lines written to stderr.",
    },
  ),
  logFormat: Type.Union([Type.Literal("logfmt"), Type.Literal("json")], {
    default: "logfmt",
    description: "Log line format: `logfmt` (key=value) or `json` (one object per line).",
  }),
  metrics: Type.Optional(
    Type.Object(
      {
        port: Type.Optional(
          Type.Integer({ minimum: 1, maximum: 65535, description: "Serve /metrics on this port." }),
        ),
        host: Type.String({ minLength: 1, default: "127.0.0.1", description: "…on this address." }),
        textfile: Type.Optional(
          Type.String({
            minLength: 1,
            description: "Write the metrics to this file (node-exporter textfile collector, `*.prom`).",
          }),
        ),
      },
      {
        example: { port: 9464 },
        description: "Prometheus metrics, served over HTTP and/or written to a file. Default: off.",
      },
    ),
  ),
  rebootCommand: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    default: ["systemctl", "reboot"],
    description:
      "The command (argv, no shell) that reboots the VM when a script asks for a reboot by its exit code.",
  }),
});

export type Config = Static<typeof Config>;
