/**
 * The plan's wire type (SPEC 3): one TypeBox schema, `Plan`, and its static type. Validation
 * (murano/validate.ts) checks a plan against it after murano-agent's own rules, so every stage after validation
 * (intake, the policies, execution) reads a typed `Plan`; `idem send` fills its envelope fields by it.
 *
 * The schema describes the plans idem TAKES: murano-agent's fields as idem runs them (scripts of Type
 * `Application`, files sent as Text/Base64 or Downloadable), plus idem's extension fields. Unknown fields are
 * allowed (Murano compatibility) and kept. The plan the schema sees is the plain view of the plan's one parse
 * (agent/json/plain.ts): integers as JS numbers, objects without prototype. Where numbers must stay exact or keys
 * keep their order (the fingerprint, the Body's `args`), the exact tree travels beside it: {@link DecodedPlan}.
 * The schema's checker is generated ahead of time (tools/plan_check_code.ts): after a change here, `npm run
 * gen:plan-check` (a test fails until the checked-in checker is the schema's).
 */
import Type, { type Static, type TSchema } from "typebox";
import type { JsonObject } from "../json/parse.ts";

/**
 * A JSON object whose every member is `value`. TypeBox's `Record(String(), value)` checks only the keys its
 * pattern `^.*$` matches, which leaves out keys holding a line break (`"a\nb"`): `additionalProperties`
 * checks those too.
 */
function Dictionary<T extends TSchema>(value: T) {
  return Type.Record(Type.String(), value, { additionalProperties: value });
}

/** The instance generation the engine addresses (SPEC 5.3): an integer >= 0 a JS number holds exactly. */
export const Generation = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** How the plan is deduplicated (SPEC 5): the policy's name, an explicit key, the policy's options. */
export const Idempotency = Type.Object({
  Policy: Type.Optional(Type.String({ minLength: 1 })),
  // Length in code points, as Python counts it (1-255): validate.ts checks it; TypeBox counts UTF-16 units.
  Key: Type.Optional(Type.String({ minLength: 1, maxLength: 510 })),
  /** The policy's options; `ignore` (RFC 6901 pointers) is read by the fingerprint (SPEC 4). */
  Options: Type.Optional(Dictionary(Type.Unknown())),
});

/** Seconds the whole plan may run; at most 2,000,000 (23 days), as a timer beyond 2^31 ms would fire at once. */
export const Timeout = Type.Number({ exclusiveMinimum: 0, maximum: 2_000_000 });

/** A file sent in the plan: its content, as text or base64. */
export const ContentFile = Type.Object({
  Name: Type.String(),
  BodyType: Type.Union([Type.Literal("Text"), Type.Literal("Base64")]),
  Body: Type.String(),
});

/** A file fetched at run time (format 2.1.0 on): HTTP(S) or git. */
export const DownloadableFile = Type.Object({
  Name: Type.String(),
  Type: Type.Literal("Downloadable"),
  URL: Type.String(),
});

/** A script's options, read with Python truthiness (murano-agent: any value; default True). */
export const ScriptOptions = Type.Object({
  captureStdout: Type.Optional(Type.Unknown()),
  captureStderr: Type.Optional(Type.Unknown()),
  verifyExitcode: Type.Optional(Type.Unknown()),
});

/** A script the Body can call: its entry point and the other files it needs, by file id. */
export const Script = Type.Object({
  Type: Type.Literal("Application"),
  /** The file id of the program to run. */
  EntryPoint: Type.String(),
  /** File ids placed beside the entry point: `"<id>"`, or `{"<id>": "<name to place it as>"}`. */
  Files: Type.Optional(
    Type.Union([Type.Array(Type.Union([Type.String(), Dictionary(Type.Unknown())])), Type.Null()]),
  ),
  Options: Type.Optional(Type.Union([ScriptOptions, Type.Null()])),
});

/** A Murano execution plan as idem takes it (SPEC 3). */
export const Plan = Type.Object({
  /** Semver; absent or null means 1.0.0 (murano-agent). */
  FormatVersion: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Echoed as the result's SourceID; 1-255 characters (decode.ts). */
  ID: Type.String({ minLength: 1 }),
  Name: Type.Optional(Type.Unknown()),
  Version: Type.Optional(Type.Unknown()),
  /** Set by Murano engines, fresh on every send; not used for deduplication. */
  Action: Type.Optional(Type.Unknown()),
  Stamp: Type.Optional(Type.Unknown()),
  /** The topic for the result (pipeline/validate.ts decides whether it may be used). */
  ReplyTo: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Seen by the Body as `args` (from the exact tree: {@link DecodedPlan}). */
  Parameters: Type.Optional(Type.Union([Dictionary(Type.Unknown()), Type.Null()])),
  /** Python source (SPEC 6). */
  Body: Type.String(),
  Scripts: Dictionary(Script),
  Files: Dictionary(Type.Union([DownloadableFile, ContentFile])),
  Options: Type.Optional(Dictionary(Type.Unknown())),
  Generation: Type.Optional(Generation),
  Idempotency: Type.Optional(Idempotency),
  Timeout: Type.Optional(Timeout),
});

export type Plan = Static<typeof Plan>;
export type Script = Static<typeof Script>;
export type PlanFile = Static<typeof Plan.properties.Files>[string];

/**
 * A plan read by the one parse of its text (agent/json/parse.ts): `plan` its typed plain view, `exact` the tree
 * itself (exact integers, floats, the text's key order), from which the fingerprint and the Body's `args` come.
 */
export interface DecodedPlan {
  readonly plan: Plan;
  readonly exact: JsonObject;
}
