/**
 * Murano plan builders for the tests: every call gives a fresh ID, Stamp and file ids (as a Murano engine does),
 * and the plan's script records its execution in the side-effect file (`effects.ts`).
 */
import { randomUUID } from "node:crypto";

export interface Idempotency {
  Policy?: string;
  Key?: string;
  Options?: Record<string, unknown>;
}

export interface PlanOptions {
  /** The side-effect file the script appends to (see {@link readExecutions}). */
  effects: string;
  /** `args.tag`, passed to the script as its command line; part of the fingerprint. Default "t". */
  tag?: string;
  /** The script sleeps this long between its `start` and `done` lines. Default 0. */
  sleepSeconds?: number;
  /** Sleep only in the first execution recorded in the file (a re-run after a crash is quick). */
  sleepFirstRunOnly?: boolean;
  /**
   * The script records `overlap <self> <other>` for every earlier execution (a `start` line in the file)
   * whose process is still alive when it starts.
   */
  checkOverlap?: boolean;
  /** The script's exit code. Default 0. */
  exitCode?: number;
  /** Murano Body; default `return deploy(args.tag).stdout`. */
  body?: string;
  /** Name of the entry point file. Default `deploy.sh`. */
  entryName?: string;
  /** Encoding of the entry point file; the data file uses the other one. Default Text. */
  bodyType?: "Text" | "Base64";
  /** Default 2.1.0. */
  formatVersion?: string;
  generation?: number;
  idempotency?: Idempotency;
  timeout?: number;
  replyTo?: string;
  /** More Parameters (part of the fingerprint). */
  parameters?: Record<string, unknown>;
  /** More top-level fields. */
  extra?: Record<string, unknown>;
}

export type MuranoPlan = Record<string, unknown> & { ID: string };

/** A short random id, like Murano's uuid4().hex. */
export function randomId(): string {
  return randomUUID().replaceAll("-", "");
}

/** The shell script of a test plan: it records its execution (`start`/`done` with `$$` and its args). */
export function effectScript(options: PlanOptions): string {
  const file = options.effects.replaceAll("'", "'\\''");
  const lines = ["#!/bin/sh", `F='${file}'`, 'echo "start $$ $*" >> "$F"'];
  if (options.checkOverlap) {
    lines.push(
      `for p in $(sed -n 's/^start \\([0-9]*\\).*/\\1/p' "$F"); do`,
      `  if [ "$p" != "$$" ] && [ -r "/proc/$p/status" ] && ! grep -q '^State:[[:space:]]*[ZX]' "/proc/$p/status"; then`,
      '    echo "overlap $$ $p" >> "$F"',
      "  fi",
      "done",
    );
  }
  if (options.sleepSeconds && options.sleepFirstRunOnly) {
    lines.push(`if [ "$(grep -c '^start ' "$F")" -le 1 ]; then sleep ${options.sleepSeconds}; fi`);
  } else if (options.sleepSeconds) {
    lines.push(`sleep ${options.sleepSeconds}`);
  }
  lines.push('echo "done $$ $*" >> "$F"', 'echo "ran $$ $* $(cat ./data.txt)"');
  lines.push(`exit ${options.exitCode ?? 0}`, "");
  return lines.join("\n");
}

/**
 * A Murano FormatVersion 2.1.0 plan with one Application script (entry point + a data file, Text and Base64).
 * Every call returns a fresh `ID`, `Stamp` and file ids: calling it twice with the same options is a
 * re-send by a Murano engine (same fingerprint, nothing else in common).
 */
export function applicationPlan(options: PlanOptions): MuranoPlan {
  const entryId = randomUUID();
  const dataId = randomUUID();
  const entryType = options.bodyType ?? "Text";
  const dataType = entryType === "Text" ? "Base64" : "Text";
  const encode = (text: string, type: "Text" | "Base64") =>
    type === "Text" ? text : Buffer.from(text, "utf8").toString("base64");
  const script = effectScript(options);
  const plan: MuranoPlan = {
    FormatVersion: options.formatVersion ?? "2.1.0",
    ID: randomId(),
    Name: "Deploy test application",
    Version: "1.0.0",
    Action: "Execute",
    Stamp: Math.floor(Math.random() * 2 ** 31),
    Parameters: { tag: options.tag ?? "t", ...options.parameters },
    Body: options.body ?? "return deploy(args.tag).stdout",
    Scripts: {
      deploy: {
        Type: "Application",
        Version: "1.0.0",
        EntryPoint: entryId,
        Files: [dataId],
        Options: { captureStdout: true, captureStderr: true, verifyExitcode: true },
      },
    },
    // Like a Murano engine's, the Files map's order is not stable between sends.
    Files: Object.fromEntries(
      shuffle([
        [
          entryId,
          { Name: options.entryName ?? "deploy.sh", BodyType: entryType, Body: encode(script, entryType) },
        ],
        [dataId, { Name: "data.txt", BodyType: dataType, Body: encode("payload", dataType) }],
      ]),
    ),
  };
  if (options.generation !== undefined) plan.Generation = options.generation;
  if (options.idempotency !== undefined) plan.Idempotency = options.idempotency;
  if (options.timeout !== undefined) plan.Timeout = options.timeout;
  if (options.replyTo !== undefined) plan.ReplyTo = options.replyTo;
  Object.assign(plan, options.extra);
  return plan;
}

function shuffle<T>(items: T[]): T[] {
  return Math.random() < 0.5 ? items : items.reverse();
}
