/**
 * Property: whatever the payload, intake ends (never throws, never hangs), answers it or events it, queues a run
 * only for a plan that validates, leaves the built-in prototypes alone, and the next valid plan is served.
 * Real pipeline, real policies, a real LMDB journal; the transport is left out (nothing here depends on it).
 * Payloads: random JSON-ish texts (test/helpers/json_texts.ts) and valid plans with such a text spliced into
 * one of their fields. `IDEM_PROPERTY_RUNS` sets the number of cases (default 2,000).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fc from "fast-check";
import type { Journal } from "../../agent/journal/journal.ts";
import { parseJson } from "../../agent/json/parse.ts";
import { toPlain } from "../../agent/json/plain.ts";
import { validatePlan } from "../../agent/murano/validate.ts";
import type { AgentEvent, PipelineContext } from "../../agent/pipeline/context.ts";
import { takeMessage } from "../../agent/pipeline/guard.ts";
import { compile } from "../../agent/python/mod.ts";
import { type IntakeScene, intakeScene } from "../helpers/intake_scene.ts";
import { jsonTexts } from "../helpers/json_texts.ts";

let scene: IntakeScene;
let journal: Journal;
let ctx: PipelineContext;
let events: AgentEvent[];
const builtIns = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
const snapshot = () => builtIns.map((proto) => Object.getOwnPropertyNames(proto).sort());
const prototypeNames = snapshot();

before(async () => {
  scene = await intakeScene("intake-property");
  ({ ctx, journal, events } = scene);
});
after(() => scene.close());

let counter = 0;
/** A valid plan's JSON text, with `raw` (a JSON-ish text) in place of one field or of a Parameters value. */
function planText(field: string | null, raw: string | null): { id: string; text: string } {
  const id = `plan-${++counter}`;
  const plan: Record<string, unknown> = {
    FormatVersion: "2.1.0",
    ID: id,
    Name: "property",
    Parameters: { n: counter, poison: "@P@" },
    Body: "return deploy(args.n).stdout",
    Scripts: {
      deploy: { Type: "Application", EntryPoint: "e1", Files: [], Options: { captureStdout: true } },
    },
    Files: { e1: { Name: "deploy.sh", BodyType: "Text", Body: "#!/bin/sh\necho $1\n" } },
  };
  if (field !== null) plan[field] = "@F@";
  let text = JSON.stringify(plan);
  if (raw !== null) text = text.replace(field === null ? '"@P@"' : '"@F@"', raw);
  return { id, text };
}

const FIELDS = [
  "ID",
  "ReplyTo",
  "Idempotency",
  "Generation",
  "Timeout",
  "Body",
  "Scripts",
  "Files",
  "Parameters",
];
/** RFC 6901 pointers: into the plan's real containers and on into their prototypes, or random tokens. */
const pointers = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("", "/Parameters", "/Scripts", "/Scripts/deploy", "/Scripts/deploy/Files", "/Files/e1"),
      fc.constantFrom(
        ...["/__proto__/hasOwnProperty", "/constructor/prototype/toString", "/constructor/prototype/push"],
        ...["/__proto__/push", "/__proto__/__proto__/toString", "/constructor/name", "/toString", "/length"],
      ),
    )
    .map(([prefix, suffix]) => prefix + suffix),
  fc
    .array(
      fc.constantFrom(
        ...["__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "push", "length"],
        ...["Parameters", "Scripts", "deploy", "Files", "0", "-", "~1", "~0"],
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((tokens) => `/${tokens.join("/")}`),
);
const payloads = fc.oneof(
  { arbitrary: jsonTexts, weight: 3 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...FIELDS, null), jsonTexts).map(([f, raw]) => planText(f, raw).text),
    weight: 4,
  },
  {
    arbitrary: fc
      .array(pointers, { maxLength: 3 })
      .map((ps) => planText("Idempotency", JSON.stringify({ Options: { ignore: ps } })).text),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom("ReplyTo", "Idempotency"), fc.string({ unit: "binary", maxLength: 8 }))
      .map(([f, s]) => planText(f, f === "ReplyTo" ? JSON.stringify(s) : JSON.stringify({ Key: s })).text),
    weight: 1,
  },
);

/** Resolves with what intake did, or fails when it does not end within 10 s. */
async function take(text: string): Promise<AgentEvent[]> {
  const before = events.length;
  const payload = new TextEncoder().encode(text);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("intake did not end within 10 s")), 10_000);
  });
  await Promise.race([takeMessage({ payload, topic: "idem/vm-1/plans", dup: false }, ctx), late]);
  clearTimeout(timer);
  return events.slice(before);
}

function outboxFor(sourceId: string): number {
  return journal
    .outbox()
    .filter((e) => (JSON.parse(e.payload) as { SourceID?: unknown }).SourceID === sourceId).length;
}

test("every payload is answered or evented, only valid plans are queued, and the next plan is served", async () => {
  await fc.assert(
    fc.asyncProperty(payloads, async (text) => {
      const outboxBefore = journal.outbox().length;
      const queueBefore = journal.queueLength();
      const happened = await take(text);
      assert.equal(happened.length, 1, `one event per payload, got ${JSON.stringify(happened)}`);
      const [event] = happened as [AgentEvent];
      const grew = journal.queueLength() - queueBefore;
      if (event.Event === "run") {
        assert.equal(grew, 1, "a run is queued");
        const queued = [...journal.pending()].at(-1);
        const parsed = parseJson(queued?.planText ?? "");
        assert.ok(parsed.ok, "a queued plan parses");
        compile(validatePlan(toPlain(parsed.value)).Body);
      } else {
        assert.equal(grew, 0, `nothing queued for ${event.Event}`);
      }
      if (event.SourceID === null) {
        assert.equal(journal.outbox().length, outboxBefore, "no answer without an ID");
      } else if (event.Event !== "run" && event.Event !== "join") {
        assert.ok(outboxFor(event.SourceID) >= 1, `${event.Event} is answered: ${JSON.stringify(event)}`);
      }
      assert.deepEqual(snapshot(), prototypeNames, "the built-in prototypes are intact");

      const next = planText(null, null);
      const served = await take(next.text.replace('"@P@"', '"fine"'));
      assert.deepEqual(
        served.map((e) => [e.Event, e.SourceID]),
        [["run", next.id]],
        "the next valid plan is served",
      );
      // Keep the outbox small: the transport would have published these.
      for (const entry of journal.outbox()) await journal.removeOutbox(entry.seq);
    }),
    { numRuns: Number(process.env.IDEM_PROPERTY_RUNS ?? 2000) },
  );
});
