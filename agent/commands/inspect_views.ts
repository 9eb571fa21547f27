/**
 * What `idem inspect` shows of the journal (SPEC 5.1, 10): each thing as a JSON view with stable PascalCase field
 * names (the style of every JSON idem publishes: results, status, events), and as a line of a fixed-width table.
 * The field names are documented in the command's usage text (`inspect.ts`); change them only with it.
 */
import type { OutboxEntry, QueueEntry } from "../journal/journal.ts";
import type { JournalReader } from "../journal/reader.ts";
import type { JournalRecord } from "../journal/record.ts";

/** One key in the listing. Times are ISO 8601 UTC; `FinishedAt`/`ErrorCode` are the last execution's. */
export interface KeyView {
  Key: string;
  State: string;
  Policy: string;
  Attempts: number;
  Generation: number | null;
  FirstSourceID: string;
  LastSourceID: string;
  CreatedAt: string;
  UpdatedAt: string;
  FinishedAt: string | null;
  ErrorCode: number | null;
  /** How many plans of this key are queued or running. */
  Queued: number;
}

export function keyView(record: JournalRecord): KeyView {
  return {
    Key: record.key,
    State: record.state,
    Policy: record.policy,
    Attempts: record.attempts,
    Generation: record.generation,
    FirstSourceID: record.firstPlanId,
    LastSourceID: record.lastPlanId,
    CreatedAt: record.createdAt,
    UpdatedAt: record.updatedAt,
    FinishedAt: record.result?.time ?? null,
    ErrorCode: record.result?.errorCode ?? null,
    Queued: record.queued.length,
  };
}

/** One key's whole record: the listing's fields, the journal's bookkeeping, the stored result and the history. */
export interface RecordView extends KeyView {
  Fingerprint: string;
  Revision: number;
  /** Queue sequence numbers of the key's queued or running plans, oldest first. */
  QueuedSeqs: number[];
  /** Duplicates that joined the pending or running execution: answered when it ends. */
  Waiters: { SourceID: string; Topic: string }[];
  /** Boot id of the agent process that ran (or runs) the last execution. */
  BootID: string | null;
  /** Process group of the running script. */
  ProcessGroup: number | null;
  /** The stored result of the last execution; `Body` is the result Body as JSON text. */
  Result: { ErrorCode: number; Time: string; RanAs: string; Attempt: number; Body: string } | null;
  /** Every plan that reached a decision for this key, oldest first (the newest 50). */
  History: {
    SourceID: string;
    Fingerprint: string;
    Decision: string;
    ErrorCode: number | null;
    Time: string;
  }[];
}

export function recordView(record: JournalRecord): RecordView {
  const result = record.result;
  return {
    ...keyView(record),
    Fingerprint: record.fingerprint,
    Revision: record.revision,
    QueuedSeqs: record.queued,
    Waiters: record.waiters.map((w) => ({ SourceID: w.sourceId, Topic: w.topic })),
    BootID: record.bootId,
    ProcessGroup: record.pgid,
    Result: result
      ? {
          ErrorCode: result.errorCode,
          Time: result.time,
          RanAs: result.ranAs,
          Attempt: result.attempt,
          Body: result.body,
        }
      : null,
    History: record.history.map((h) => ({
      SourceID: h.planId,
      Fingerprint: h.fingerprint,
      Decision: h.decision,
      ErrorCode: h.errorCode ?? null,
      Time: h.time,
    })),
  };
}

export interface QueueView {
  Seq: number;
  Key: string;
  SourceID: string;
  Policy: string;
  /** "running" (its execution has started) or "waiting". */
  State: "running" | "waiting";
  /** When it was queued; null for an entry written by an agent older than `idem inspect`. */
  Since: string | null;
}

export function queueView(entry: QueueEntry, journal: JournalReader): QueueView {
  const record = journal.record(entry.key);
  // A key runs one plan at a time, its oldest queued one (`pipeline/run.ts`).
  const running = record?.state === "running" && record.queued[0] === entry.seq;
  return {
    Seq: entry.seq,
    Key: entry.key,
    SourceID: entry.planId,
    Policy: entry.policy,
    State: running ? "running" : "waiting",
    Since: entry.since ?? journal.seen(entry.planId)?.time ?? null,
  };
}

export interface OutboxView {
  Seq: number;
  Topic: string;
  /** The SourceID of the result, read from its head; null when it is not there. */
  SourceID: string | null;
  Since: string | null;
  /** Size of the payload in bytes (UTF-8). */
  Bytes: number;
  /** 0: as written; 1: replaced by its truncated form; 2: that form moved to the default results topic. */
  Replaced: number;
}

export function outboxView(entry: OutboxEntry): OutboxView {
  return {
    Seq: entry.seq,
    Topic: entry.topic,
    SourceID: /"SourceID":"((?:[^"\\]|\\.)*)"/.exec(entry.payload.slice(0, 512))?.[1] ?? null,
    Since: entry.since ?? null,
    Bytes: Buffer.byteLength(entry.payload),
    Replaced: entry.replaced ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tables

/** A column: its heading and width (the last column is never padded). */
type Column<V> = [heading: string, width: number, cell: (view: V) => string];

/** `2025-06-01T10:00:00.123Z` → `2025-06-01T10:00:00Z`; null → `-`. */
export function shortTime(time: string | null): string {
  return time === null ? "-" : time.replace(/\.\d+Z$/, "Z");
}

const dash = (value: number | null) => (value === null ? "-" : String(value));

export const KEY_COLUMNS: Column<KeyView>[] = [
  ["STATE", 12, (v) => v.State],
  ["TRIES", 6, (v) => String(v.Attempts)],
  ["CODE", 5, (v) => dash(v.ErrorCode)],
  ["POLICY", 18, (v) => v.Policy],
  ["GEN", 5, (v) => dash(v.Generation)],
  ["CREATED", 21, (v) => shortTime(v.CreatedAt)],
  ["UPDATED", 21, (v) => shortTime(v.UpdatedAt)],
  ["FINISHED", 21, (v) => shortTime(v.FinishedAt)],
  ["LAST PLAN", 33, (v) => v.LastSourceID],
  ["KEY", 0, (v) => v.Key],
];

export const QUEUE_COLUMNS: Column<QueueView>[] = [
  ["SEQ", 8, (v) => String(v.Seq)],
  ["STATE", 8, (v) => v.State],
  ["SINCE", 21, (v) => shortTime(v.Since)],
  ["PLAN", 33, (v) => v.SourceID],
  ["KEY", 0, (v) => v.Key],
];

export const OUTBOX_COLUMNS: Column<OutboxView>[] = [
  ["SEQ", 8, (v) => String(v.Seq)],
  ["SINCE", 21, (v) => shortTime(v.Since)],
  ["BYTES", 9, (v) => String(v.Bytes)],
  ["PLAN", 33, (v) => v.SourceID ?? "-"],
  ["TOPIC", 0, (v) => (v.Replaced ? `${v.Topic} (replaced ${v.Replaced})` : v.Topic)],
];

/** The heading line of a table. */
export function heading<V>(columns: Column<V>[]): string {
  return line(columns.map(([title, width]) => [title, width]));
}

/** One row of a table. A cell wider than its column pushes the rest to the right (nothing is cut). */
export function row<V>(columns: Column<V>[], view: V): string {
  return line(columns.map(([, width, cell]) => [cell(view), width]));
}

/**
 * `text` safe for a terminal: control characters (a key or topic comes from a plan: it may hold escape
 * sequences) are shown as `\uXXXX`.
 */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function line(cells: [string, number][]): string {
  return cells
    .map(([raw, width], i) => {
      const text = printable(raw);
      return i === cells.length - 1 ? text : `${text.padEnd(width - 1)} `;
    })
    .join("")
    .trimEnd();
}
