/**
 * What a key's record is (SPEC 5.1): the journal's durable entry, what policies see of it, and how one stored by
 * an older agent or past its retention is read. How a record changes is `record.ts` (the state machine), the
 * only place that makes or changes one.
 */
import type { PolicyRecord, RecordState, ReplyTarget } from "../mod.ts";

export type { RecordState };

/** The journal's durable entry for one key: what policies see, plus the journal's own bookkeeping. */
export interface JournalRecord extends PolicyRecord {
  /** Bumped by every transition: a decision commits only if the record is still the one it was made on. */
  revision: number;
  /** Queue sequence numbers of this key's pending plans, oldest first. */
  queued: number[];
  /** Boot id of the agent process that ran (or is running) the key's last execution. */
  bootId: string | null;
  /** Process group of the running script, so that a restart can kill an orphan before anything re-runs. */
  pgid: number | null;
  /** Reply targets of duplicates that joined the pending or running execution. */
  waiters: ReplyTarget[];
  /** The queue entry an operator cancelled while it ran: it ends 102, also after a crash. Absent: none. */
  cancelled?: number | null;
  /** A reboot the running entry's script asked for (SSM-style exit codes). Absent: none. */
  reboot?: RebootMark | null;
}

/** A script asked for a reboot by its exit code (`murano/reboot.ts`); kept until the plan finishes. */
export interface RebootMark {
  /** The queue entry whose execution asked. */
  seq: number;
  /** `rerun`: run the plan again after the reboot; `done`: answer `outcome` after the reboot. */
  mode: "rerun" | "done";
  /** The kernel boot id when it asked: another one at start-up means the VM rebooted. */
  bootId: string;
  /** Reboots this queue entry asked for, this one included. */
  count: number;
  /** Times the reboot command ran for this request. */
  commands: number;
  /** True until the agent sees the new boot. */
  pending: boolean;
  /** What the plan is answered with in `done` mode (the script's outcome up to the reboot). */
  outcome: { errorCode: number; body: string };
}

/** What every transition is told: when, and which plan caused it. */
export interface Moment {
  time: string;
  planId: string;
  fingerprint: string;
}

/** A record read from an older journal (before revisions and the queue index) in today's shape. */
export function upgradeRecord(stored: JournalRecord): JournalRecord {
  return { ...stored, revision: stored.revision ?? 0, queued: stored.queued ?? [] };
}

/** A copy in the shape policies see (SPEC 9): the journal's bookkeeping is not theirs. */
export function policyView(record: JournalRecord): PolicyRecord {
  const {
    revision: _r,
    queued: _q,
    bootId: _b,
    pgid: _p,
    waiters: _w,
    cancelled: _c,
    reboot: _x,
    ...view
  } = record;
  return structuredClone(view);
}

/** True when a record may be removed by retention: terminal, nothing queued, not run-once-ever. */
export function expired(record: JournalRecord, cutoffMs: number): boolean {
  const terminal =
    record.state === "succeeded" || record.state === "failed" || record.state === "interrupted";
  return (
    terminal &&
    record.queued.length === 0 &&
    record.policy !== "run-once-ever" &&
    Date.parse(record.updatedAt) < cutoffMs
  );
}
