/**
 * Builds a large journal for bench/journal_scale.ts through the journal's own API (`Journal.open` + `commit`,
 * many plans per transaction), with records made by the state machine (`accept` → `start` → `finish`) and
 * a remembered plan ID per record, as a plan that ran once leaves them. Cached in the temp dir, keyed by
 * schema and size, so that a rerun starts at once.
 *
 * Two kinds of keys: `k<i>` (finished within the last day: kept) and `old<i>` (finished 40 days ago: what
 * retention removes); {@link topUpExpired} puts the old ones back after a pass removed them.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal, type JournalWriter } from "../agent/journal/journal.ts";
import * as machine from "../agent/journal/record.ts";
import { SCHEMA } from "../agent/journal/upgrade.ts";

/** Plans written per commit while building. */
const PER_COMMIT = 2000;
const DAY_MS = 86_400_000;

export interface BuiltJournal {
  /** The data dir (the journal is `<dataDir>/journal`). */
  dataDir: string;
  records: number;
  /** Seconds spent building now (0 when it came from the cache). */
  buildSeconds: number;
  /** Size of data.mdb, bytes. */
  fileBytes: number;
}

/** The data dir of a journal of `records` plans (`expired` of them old), built now or found in the cache. */
export async function buildJournal(records: number, expired: number): Promise<BuiltJournal> {
  const dataDir = join(tmpdir(), `idem-journal-scale-s${SCHEMA}-${records}`);
  const marker = join(dataDir, "built");
  let buildSeconds = 0;
  if (!existsSync(marker) || readFileSync(marker, "utf8") !== String(records)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const started = performance.now();
    const journal = Journal.open(dataDir);
    const now = Date.now();
    for (let i = 0; i < records - expired; i += PER_COMMIT) {
      const end = Math.min(i + PER_COMMIT, records - expired);
      await journal.commit((tx) => {
        // Spread over the last day, oldest first, as the agent would have written them.
        for (let n = i; n < end; n++) writePlan(tx, `k${n}`, now - DAY_MS + (n * DAY_MS) / records);
      });
    }
    await journal.close();
    writeFileSync(marker, String(records));
    buildSeconds = (performance.now() - started) / 1000;
  }
  await topUpExpired(dataDir, expired);
  const fileBytes = statSync(join(dataDir, "journal", "data.mdb")).size;
  return { dataDir, records, buildSeconds, fileBytes };
}

/** Puts the `count` expired plans (`old<i>`, 40 days old) back, as far as a retention pass removed them. */
export async function topUpExpired(dataDir: string, count: number): Promise<void> {
  const journal = Journal.open(dataDir);
  const old = Date.now() - 40 * DAY_MS;
  for (let i = 0; i < count; i += PER_COMMIT) {
    await journal.commit((tx) => {
      for (let n = i; n < Math.min(i + PER_COMMIT, count); n++) {
        if (!journal.record(`old${n}`)) writePlan(tx, `old${n}`, old + n);
      }
    });
  }
  await journal.close();
}

/** What one plan of key `key` that ran once at `timeMs` leaves in the journal: its record and its plan ID. */
function writePlan(tx: JournalWriter, key: string, timeMs: number): void {
  const time = new Date(timeMs).toISOString();
  const planId = `plan-${key}-${timeMs.toString(36)}`;
  const fingerprint = `sha256:${key.padEnd(64, "0")}`;
  const at = { time, planId, fingerprint };
  const accepted = machine.accept(undefined, {
    ...at,
    key,
    policy: "skip-if-identical",
    generation: 1,
    seq: 1,
  });
  const started = machine.start(accepted, { time, bootId: "00000000-0000-4000-8000-000000000000" });
  const result = {
    errorCode: 0,
    body: '{"Result": "ok\\n", "Message": null}',
    time,
    ranAs: planId,
    attempt: 1,
  };
  const { record } = machine.finish(started, { ...at, seq: 1, result });
  tx.putRecord(record);
  tx.markSeen(planId, { key, decision: "run", time, fingerprint, result });
}
