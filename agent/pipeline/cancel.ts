/**
 * Cancel, the agent's side (SPEC 10 `idem cancel`; the command is `commands/cancel.ts`). A control request names
 * a plan ID or a key (`control.ts` reads and authenticates it); every queue entry it names is cancelled, in one
 * durable commit that also holds every answer — then the control message is acknowledged (SPEC 2 ack rule):
 *
 * - a **queued** entry (not running): it leaves the queue and never starts; it is answered 102 (Cancelled), and
 *   so are the plans that joined it when it was the key's last; the record ends `failed` with that result;
 * - a **running** entry: the record is marked (`record.ts` `cancelled`) and the runner aborts it — its process
 *   group gets TERM, then KILL after `killGraceSeconds` — and finishes it with 102 (joined plans too). The mark
 *   is durable: an agent killed before that finish commit finishes the entry with 102 at its next start (the
 *   orphaned group is reaped first), never "interrupted → run again".
 *
 * A plan ID that joined a pending or running execution names that execution. The request itself is answered on
 * `P/A/control/replies`: `{SourceID, Action: "Cancel:Result", State: "queued"|"running"|"not-found", Cancelled,
 * Key, Message}` (`running` when one of the entries was running).
 */
import { ErrorCode } from "../errors.ts";
import type { Journal, JournalWriter, QueueEntry } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import type { StoredResult } from "../mod.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import type { PipelineContext } from "./context.ts";
import { entryAnswers, errorBody } from "./reply.ts";

/** The runner as cancel sees it: which entries run in this process, and how to stop one. */
export interface CancelRunner {
  has(seq: number): boolean;
  /** Aborts the running entry with a {@link Cancellation}: its process group gets TERM, then KILL. */
  cancel(seq: number): void;
}

/** The abort reason of a cancelled execution. */
export class Cancellation extends Error {
  constructor() {
    super("cancelled by an operator (idem cancel)");
    this.name = "Cancellation";
  }
}

export type CancelState = "queued" | "running" | "not-found" | "ambiguous";

/** What a target names: a plan ID, a key, or (absent) either — refused when it names both, differently. */
export type TargetKind = "plan" | "key" | undefined;

export interface CancelOutcome {
  state: CancelState;
  key: string | null;
  cancelled: string[];
  /** Why an `ambiguous` target was not served (the whole sentence). */
  why?: string;
}

/** The result of a cancelled execution: 102, the killed script's outcome (if any) kept as AdditionalInfo. */
export function cancelledOutcome(planId: string, outcome?: ExecutionOutcome): ExecutionOutcome {
  let info: unknown = null;
  try {
    info =
      (JSON.parse(outcome?.body ?? "null") as { AdditionalInfo?: unknown } | null)?.AdditionalInfo ?? null;
  } catch {
    info = null;
  }
  return {
    errorCode: ErrorCode.Cancelled,
    body: errorBody(`Cannot finish plan "${planId}" as an operator cancelled it (idem cancel)`, info),
  };
}

type Named = { key: string | null; entries: QueueEntry[]; why?: string };

/**
 * The queue entries `target` names, oldest first: as a plan ID (a queued or running plan, or one that joined an
 * execution) and as a key (its queued and running entries). A plan's ID is chosen by whoever sends the plan, so it
 * may equal another key: a target that names entries both ways, of different keys, names nothing until the
 * operator says which (`idem cancel --plan-id | --key`), lest a plan named like a key be cancelled in its place.
 */
function named(journal: Journal, target: string, kind: TargetKind): Named {
  const asPlan = kind === "key" ? undefined : byPlanId(journal, target);
  const record = kind === "plan" ? undefined : journal.record(target);
  const asKey: Named | undefined = record && {
    key: record.key,
    entries: record.queued.map((seq) => journal.queueEntry(seq)).filter((e) => e !== undefined),
  };
  if (asPlan && asKey && asKey.entries.length > 0 && asPlan.key !== asKey.key) {
    return {
      key: null,
      entries: [],
      why: `${JSON.stringify(target)} is both the ID of a plan of key ${JSON.stringify(asPlan.key)} and a key with plans of its own: say which with idem cancel --plan-id ID or --key KEY`,
    };
  }
  return asPlan ?? asKey ?? { key: null, entries: [] };
}

function byPlanId(journal: Journal, target: string): Named | undefined {
  const first = [...journal.pending()].find((entry) => entry.planId === target);
  if (first) {
    const record = journal.record(first.key);
    const entries = (record?.queued ?? []).map((seq) => journal.queueEntry(seq));
    return { key: first.key, entries: entries.filter((e) => e?.planId === target) as QueueEntry[] };
  }
  const seen = journal.seen(target);
  const joined = seen?.key ? journal.record(seen.key) : undefined;
  if (joined?.waiters.some((w) => w.sourceId === target)) {
    const head = joined.queued[0];
    const entry = head === undefined ? undefined : journal.queueEntry(head);
    return { key: joined.key, entries: entry ? [entry] : [] };
  }
  return undefined;
}

/**
 * Cancels what `target` names; `answer` builds the control reply (its outbox entry goes into the same commit).
 * Resolves once that commit is durable and the running entries are aborted.
 */
export async function cancelTarget(
  ctx: PipelineContext,
  runner: CancelRunner,
  request: {
    target: string;
    kind?: TargetKind;
    answer(outcome: CancelOutcome): { topic: string; payload: string };
  },
): Promise<CancelOutcome> {
  const { journal } = ctx;
  let outcome: CancelOutcome = { state: "not-found", key: null, cancelled: [] };
  let aborting: number[] = [];
  let answered: QueueEntry[] = [];
  await journal.commit((tx) => {
    const time = new Date().toISOString();
    const { key, entries, why } = named(journal, request.target, request.kind);
    aborting = [];
    answered = [];
    let record = key === null ? undefined : journal.record(key);
    for (const entry of entries) {
      if (!record) break;
      const at = { time, planId: entry.planId, fingerprint: entry.fingerprint, seq: entry.seq };
      if (runner.has(entry.seq)) {
        record = machine.cancelRequested(record, at);
        aborting.push(entry.seq);
      } else {
        record = dequeue(ctx, tx, record, entry, time);
        answered.push(entry);
      }
    }
    if (record) tx.putRecord(record);
    const state: CancelState =
      why !== undefined
        ? "ambiguous"
        : aborting.length > 0
          ? "running"
          : answered.length > 0
            ? "queued"
            : "not-found";
    outcome = { state, key, cancelled: entries.map((e) => e.planId), ...(why === undefined ? {} : { why }) };
    const reply = request.answer(outcome);
    tx.addOutbox({ topic: reply.topic, payload: reply.payload });
  });
  for (const entry of answered) {
    ctx.emit({
      Event: "cancelled",
      Key: entry.key,
      SourceID: entry.planId,
      Generation: entry.generation,
      State: "queued",
    });
  }
  for (const seq of aborting) {
    const entry = journal.queueEntry(seq);
    ctx.emit({
      Event: "cancelled",
      Key: entry?.key ?? null,
      SourceID: entry?.planId ?? null,
      Generation: entry?.generation ?? null,
      State: "running",
    });
    runner.cancel(seq);
  }
  ctx.afterCommit();
  return outcome;
}

/** A queued entry leaves the queue, answered 102 (with its waiters when it was the key's last). */
function dequeue(
  ctx: PipelineContext,
  tx: JournalWriter,
  record: machine.JournalRecord,
  entry: QueueEntry,
  time: string,
): machine.JournalRecord {
  const { body, errorCode } = cancelledOutcome(entry.planId);
  const result: StoredResult = { errorCode, body, time, ranAs: entry.planId, attempt: record.attempts };
  const done = machine.cancelQueued(record, {
    time,
    planId: entry.planId,
    fingerprint: entry.fingerprint,
    seq: entry.seq,
    result,
  });
  tx.dequeue(entry.seq);
  const seen = ctx.journal.seen(entry.planId);
  if (seen) tx.markSeen(entry.planId, { ...seen, result });
  const answers = entryAnswers(ctx, entry, done.waiters, {
    errorCode,
    body,
    time,
    attempt: record.attempts,
    ranAs: null,
  });
  for (const answer of answers) tx.addOutbox(answer);
  return done.record;
}
