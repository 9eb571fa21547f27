/**
 * What the retention tests share: temp data dirs, records of a chosen state/policy/age, a journal filled
 * through its own API many records per commit, and a journal of an older schema written with lmdb directly
 * (the layout as those versions wrote it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { open } from "lmdb";
import type { Journal, QueueEntry, SeenEntry } from "../../agent/journal/journal.ts";
import type { JournalRecord, RecordState } from "../../agent/journal/record.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A fresh data dir, removed after the file's tests. */
export async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "idem-retention-"));
  dirs.push(dir);
  return dir;
}

export const NOW = new Date("2026-03-01T00:00:00.000Z");
/** 40 days before {@link NOW}: expired with a 30-day retention. */
export const OLD = "2026-01-20T00:00:00.000Z";
/** 1 day before {@link NOW}: kept. */
export const RECENT = "2026-02-28T00:00:00.000Z";

export interface RecordSpec {
  key: string;
  state: RecordState;
  policy: string;
  updatedAt: string;
}

export function record(spec: RecordSpec, revision = 1): JournalRecord {
  const queued = spec.state === "accepted" || spec.state === "running" ? [revision] : [];
  return {
    key: spec.key,
    fingerprint: `sha256:${spec.key}`,
    policy: spec.policy,
    state: spec.state,
    attempts: 1,
    firstPlanId: `plan-${spec.key}`,
    lastPlanId: `plan-${spec.key}`,
    generation: null,
    bootId: null,
    pgid: null,
    createdAt: spec.updatedAt,
    updatedAt: spec.updatedAt,
    waiters: [],
    history: [],
    revision,
    queued,
  };
}

/**
 * `count` records cycling through five kinds, and one remembered plan ID per record (old or recent as the
 * record): which of them a 30-day retention at {@link NOW} removes is `expired` in the result.
 */
export function mixedSpecs(count: number): { specs: RecordSpec[]; expired: Set<string> } {
  const kinds: Omit<RecordSpec, "key">[] = [
    { state: "succeeded", policy: "skip-if-identical", updatedAt: OLD }, // expired
    { state: "failed", policy: "always", updatedAt: RECENT }, // recent
    { state: "succeeded", policy: "run-once-ever", updatedAt: OLD }, // kept forever
    { state: "running", policy: "always", updatedAt: OLD }, // queued
    { state: "interrupted", policy: "always", updatedAt: OLD }, // expired
  ];
  const specs: RecordSpec[] = [];
  const expired = new Set<string>();
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length] as Omit<RecordSpec, "key">;
    const key = `k${String(i).padStart(6, "0")}`;
    specs.push({ key, ...kind });
    if (i % kinds.length === 0 || i % kinds.length === 4) expired.add(key);
  }
  return { specs, expired };
}

/** The seen entry written for a spec's plan ID. */
export function seenOf(spec: RecordSpec): SeenEntry {
  return { key: spec.key, decision: "run", time: spec.updatedAt, fingerprint: `sha256:${spec.key}` };
}

/** Writes the specs (and their plan IDs) through the journal's own commits, `perCommit` at a time. */
export async function fill(journal: Journal, specs: RecordSpec[], perCommit = 500): Promise<void> {
  for (let i = 0; i < specs.length; i += perCommit) {
    await journal.commit((tx) => {
      for (const spec of specs.slice(i, i + perCommit)) {
        tx.putRecord(record(spec));
        tx.markSeen(`plan-${spec.key}`, seenOf(spec));
      }
    });
  }
}

/**
 * Writes `<dataDir>/journal` as schema `schema` wrote it, with lmdb directly: schema 2 as today's records
 * without the expiry index; schema 1 without revisions and queue index (and no "schema" in meta), with one
 * queue entry per `accepted`/`running` record.
 */
export async function writeOldJournal(dataDir: string, schema: 1 | 2, specs: RecordSpec[]): Promise<void> {
  const root = open({ path: join(dataDir, "journal"), maxDbs: 8, mapSize: 1024 * 1024 * 1024 });
  const records = root.openDB<Record<string, unknown>, string>({ name: "records" });
  const queue = root.openDB<QueueEntry, number>({ name: "queue" });
  const seen = root.openDB<SeenEntry, string>({ name: "seen" });
  const meta = root.openDB<number | string, string>({ name: "meta" });
  let seq = 0;
  await root.transaction(() => {
    for (const spec of specs) {
      const current: Record<string, unknown> = { ...record(spec) };
      if (schema === 1) {
        if (current.state === "accepted" || current.state === "running") {
          seq++;
          void queue.put(seq, {
            seq,
            key: spec.key,
            planId: `plan-${spec.key}`,
            planText: "{}",
            reply: { topic: "t", sourceId: `plan-${spec.key}` },
            fingerprint: `sha256:${spec.key}`,
            policy: spec.policy,
            generation: null,
            timeoutSeconds: null,
          });
        }
        delete current.revision;
        delete current.queued;
      }
      void records.put(spec.key, current);
      void seen.put(`plan-${spec.key}`, seenOf(spec));
    }
    if (schema === 2) void meta.put("schema", 2);
  });
  await root.close();
}
