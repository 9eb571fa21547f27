/**
 * The record state machine (SPEC 5.1): the only place a key's record is made or changed. Every transition is
 * a pure function `(record, event) → record` that bumps `revision`; intake, the runner, recovery and forget
 * call these and write what they return, nothing else builds a record by hand.
 *
 *   (none) ──accept──▶ accepted ──start──▶ running ──finish──▶ succeeded | failed
 *                         ▲                   │                   (accepted again while more are queued)
 *                         └──────reopen───── interrupted ◀──interrupt──┘
 *
 * `queued` is the key → queue index: the sequence numbers of this key's queue entries, oldest first, so that
 * finishing a plan never scans the run queue. Invariant: `accepted` and `running` ⇔ `queued` is not empty
 * (an `interrupted` record may keep entries until recovery decides them).
 *
 * Two marks ride on a `running` record without changing its state (policies see `running`: a duplicate joins):
 * `cancelled` (an operator cancelled the running entry: it ends 102 whatever happens, `pipeline/cancel.ts`) and
 * `reboot` (its script asked for a reboot: the entry stays queued across the reboot, `pipeline/reboot.ts`).
 */
import { ErrorCode, IdemError } from "../errors.ts";
import type { HistoryEntry, RecordState, ReplyTarget, StoredResult } from "../mod.ts";
import type { JournalRecord, Moment, RebootMark } from "./record_shape.ts";

// What a record is: `record_shape.ts`; the transitions' users name its types through this module too.
export type { JournalRecord, Moment, RebootMark, RecordState } from "./record_shape.ts";

const HISTORY_LIMIT = 50;

function next(record: JournalRecord, at: { time: string }, change: Partial<JournalRecord>): JournalRecord {
  return {
    ...record,
    queued: [...record.queued],
    waiters: [...record.waiters],
    history: [...record.history],
    ...change,
    revision: record.revision + 1,
    updatedAt: at.time,
  };
}

function logged(record: JournalRecord, entry: HistoryEntry): JournalRecord {
  const history = [...record.history, entry].slice(-HISTORY_LIMIT);
  return { ...record, history };
}

/** Decision "run": the plan is queued as `seq`. A running record stays running (the new plan runs after it). */
export function accept(
  record: JournalRecord | undefined,
  at: Moment & { key: string; policy: string; generation: number | null; seq: number },
): JournalRecord {
  const base: JournalRecord = record ?? {
    key: at.key,
    fingerprint: at.fingerprint,
    policy: at.policy,
    state: "accepted",
    attempts: 0,
    firstPlanId: at.planId,
    lastPlanId: at.planId,
    generation: at.generation,
    createdAt: at.time,
    updatedAt: at.time,
    revision: 0,
    queued: [],
    bootId: null,
    pgid: null,
    waiters: [],
    history: [],
  };
  const state: RecordState = base.state === "running" ? "running" : "accepted";
  const moved = next(base, at, {
    state,
    fingerprint: at.fingerprint,
    policy: at.policy,
    lastPlanId: at.planId,
    queued: [...base.queued, at.seq],
  });
  return logged(moved, { planId: at.planId, fingerprint: at.fingerprint, decision: "run", time: at.time });
}

/** Decision "join": `target` is answered when the pending or running execution ends. */
export function join(record: JournalRecord, at: Moment & { target: ReplyTarget }): JournalRecord {
  if (record.state !== "accepted" && record.state !== "running") {
    throw new Error(`Cannot join key ${record.key} as it is ${record.state}, not pending or running`);
  }
  const moved = next(record, at, { waiters: [...record.waiters, at.target] });
  return logged(moved, { planId: at.planId, fingerprint: at.fingerprint, decision: "join", time: at.time });
}

/** Decision "replay": nothing changes but the history. */
export function replay(record: JournalRecord, at: Moment): JournalRecord {
  if (!record.result) throw new Error(`Cannot replay key ${record.key} as it has no stored result`);
  return logged(next(record, at, {}), {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "replay",
    time: at.time,
  });
}

/** Decision "reject": the history notes it (a key never seen keeps no record of a refusal). */
export function reject(
  record: JournalRecord | undefined,
  at: Moment & { code: number },
): JournalRecord | undefined {
  if (!record) return undefined;
  return logged(next(record, at, {}), {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "reject",
    errorCode: at.code,
    time: at.time,
  });
}

/** The execution of the key's oldest queued plan begins (durably before anything is spawned). */
export function start(record: JournalRecord, at: { time: string; bootId: string }): JournalRecord {
  if (record.queued.length === 0)
    throw new Error(`Cannot start key ${record.key} as nothing of it is queued`);
  return next(record, at, { state: "running", attempts: record.attempts + 1, bootId: at.bootId, pgid: null });
}

/** The running script's process group is known. */
export function spawned(record: JournalRecord, at: { time: string; pgid: number }): JournalRecord {
  if (record.state !== "running") return record;
  return next(record, at, { pgid: at.pgid });
}

/**
 * The execution of queue entry `seq` ended with `result`. Returns the record and the waiters to answer;
 * the record is `accepted` again when more plans of the key are queued.
 */
export function finish(
  record: JournalRecord,
  at: Moment & { seq: number; result: StoredResult },
): { record: JournalRecord; waiters: ReplyTarget[] } {
  const queued = record.queued.filter((seq) => seq !== at.seq);
  const state: RecordState =
    queued.length > 0 ? "accepted" : at.result.errorCode === 0 ? "succeeded" : "failed";
  const moved = next(record, at, {
    state,
    queued,
    pgid: null,
    result: at.result,
    waiters: [],
    cancelled: null,
    reboot: null,
  });
  const entry: HistoryEntry = {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "finished",
    errorCode: at.result.errorCode,
    time: at.time,
  };
  return { record: logged(moved, entry), waiters: record.waiters };
}

/** The execution stopped without an outcome (agent killed, drain deadline): its queue entry stays. */
export function interrupt(record: JournalRecord, at: Moment): JournalRecord {
  const moved = next(record, at, { state: "interrupted", pgid: null });
  return logged(moved, {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "interrupted",
    time: at.time,
  });
}

/** Recovery decided that an interrupted plan runs again: it is pending once more. */
export function reopen(record: JournalRecord, at: { time: string }): JournalRecord {
  if (record.state !== "interrupted")
    throw new Error(`Cannot reopen key ${record.key} as it is ${record.state}`);
  return next(record, at, { state: "accepted" });
}

/**
 * Recovery decided that interrupted queue entry `seq` does not run again (replay or reject): it leaves the
 * queue and its waiters are answered. Returns the record and those waiters.
 */
export function abandon(
  record: JournalRecord,
  at: Moment & { seq: number; code: number },
): { record: JournalRecord; waiters: ReplyTarget[] } {
  const queued = record.queued.filter((seq) => seq !== at.seq);
  const state: RecordState = queued.length > 0 ? "accepted" : "interrupted";
  const moved = next(record, at, { state, queued, waiters: [], cancelled: null, reboot: null });
  const entry: HistoryEntry = {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "reject",
    errorCode: at.code,
    time: at.time,
  };
  return { record: logged(moved, entry), waiters: record.waiters };
}

/** An operator cancelled running queue entry `seq` (`idem cancel`): whatever happens next, it ends 102. */
export function cancelRequested(record: JournalRecord, at: Moment & { seq: number }): JournalRecord {
  if (!record.queued.includes(at.seq))
    throw new Error(`Cannot cancel entry ${at.seq} of key ${record.key} as it is not queued`);
  return logged(next(record, at, { cancelled: at.seq }), {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "cancelled",
    errorCode: ErrorCode.Cancelled,
    time: at.time,
  });
}

/**
 * An operator cancelled queue entry `seq`, which is not running: it leaves the queue and never starts. The
 * last queued entry of a pending key ends the record `failed` with `result` (102), and its waiters are returned
 * to be answered; otherwise the state and the waiters stay (they wait for the key's next execution).
 */
export function cancelQueued(
  record: JournalRecord,
  at: Moment & { seq: number; result: StoredResult },
): { record: JournalRecord; waiters: ReplyTarget[] } {
  const queued = record.queued.filter((seq) => seq !== at.seq);
  const last = queued.length === 0;
  const change: Partial<JournalRecord> = last
    ? { queued, state: "failed", result: at.result, waiters: [], pgid: null, cancelled: null, reboot: null }
    : { queued, ...(record.reboot?.seq === at.seq ? { reboot: null } : {}) };
  const entry: HistoryEntry = {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "cancelled",
    errorCode: ErrorCode.Cancelled,
    time: at.time,
  };
  return { record: logged(next(record, at, change), entry), waiters: last ? record.waiters : [] };
}

/** The running entry's script asked for a reboot (or asks again after a restart in the same boot): `mark`. */
export function rebootRequested(record: JournalRecord, at: Moment & { mark: RebootMark }): JournalRecord {
  if (record.state !== "running" || record.queued[0] !== at.mark.seq)
    throw new Error(`Cannot record a reboot for key ${record.key} as entry ${at.mark.seq} is not running`);
  return logged(next(record, at, { reboot: at.mark, pgid: null }), {
    planId: at.planId,
    fingerprint: at.fingerprint,
    decision: "reboot",
    time: at.time,
  });
}

/** The agent runs in a new boot after a reboot the entry asked for: the mark is no longer pending. */
export function rebooted(record: JournalRecord, at: { time: string }): JournalRecord {
  if (!record.reboot?.pending) return record;
  return next(record, at, { reboot: { ...record.reboot, pending: false } });
}

/** An operator forgets the key (`idem forget`): refused while a plan of it is pending or running. */
export function forget(record: JournalRecord): undefined {
  if (record.state === "accepted" || record.state === "running" || record.queued.length > 0) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot forget key "${record.key}" while it is ${record.state}: wait for it to end`,
    );
  }
  return undefined;
}

/** How many times queue entry of `planId` was interrupted (recovery's crash-loop bound). */
export function interruptions(record: JournalRecord, planId: string): number {
  return record.history.filter((h) => h.planId === planId && h.decision === "interrupted").length;
}
