/**
 * Run: takes queued plans in arrival order and executes them, `concurrency` at a time, never two of one key
 * at once. Each execution is journaled `running` before anything starts and its result, together with the
 * replies to its sender and to every plan that joined it, is committed in one transaction when it ends.
 */
import { join } from "node:path";
import { failpoint } from "../failpoint.ts";
import type { QueueEntry } from "../journal/journal.ts";
import type { JournalRecord } from "../mod.ts";
import { executePlan } from "../murano/execute.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import type { PipelineContext } from "./context.ts";
import { pushHistory } from "./intake.ts";
import { errorBody, replyTo, resultPayload } from "./reply.ts";

interface Running {
  entry: QueueEntry;
  abort: AbortController;
  done: Promise<void>;
}

export class Runner {
  readonly #ctx: PipelineContext;
  readonly #running = new Map<number, Running>();
  #draining = false;
  #interrupting = false;

  constructor(ctx: PipelineContext) {
    this.#ctx = ctx;
  }

  get busy(): number {
    return this.#running.size;
  }

  /** Starts every queued plan that may start now. Cheap; call it after every commit. */
  kick(): void {
    if (this.#draining) return;
    const busyKeys = new Set([...this.#running.values()].map((r) => r.entry.key));
    for (const entry of this.#ctx.journal.queued()) {
      if (this.#running.size >= this.#ctx.config.concurrency) return;
      if (this.#running.has(entry.seq)) continue;
      if (busyKeys.has(entry.key)) continue;
      busyKeys.add(entry.key);
      const abort = new AbortController();
      const running: Running = { entry, abort, done: Promise.resolve() };
      running.done = this.#execute(entry, abort.signal)
        .catch((error: unknown) => {
          this.#ctx.log.error("run-failed", { plan: entry.planId, key: entry.key, message: String(error) });
        })
        .finally(() => {
          this.#running.delete(entry.seq);
          this.kick();
        });
      this.#running.set(entry.seq, running);
    }
  }

  /**
   * Stops starting plans; waits up to `graceMs` for the running ones, then kills them and leaves them
   * `interrupted` in the journal (with their queue entry, so the next start decides them again).
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    const all = Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), graceMs);
    });
    const outcome = await Promise.race([all, deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.#interrupting = true;
      for (const running of this.#running.values()) running.abort.abort();
      await all;
    }
  }

  async #execute(entry: QueueEntry, signal: AbortSignal): Promise<void> {
    const { journal, config, log } = this.#ctx;
    failpoint("after-ack");
    const before = journal.record(entry.key);
    if (!before) throw new Error(`queue entry ${entry.seq} has no record for key ${entry.key}`);
    const attempt = before.attempts + 1;
    const startedAt = new Date().toISOString();
    await journal.commit((tx) =>
      tx.putRecord({
        ...before,
        state: "running",
        attempts: attempt,
        bootId: journal.bootId,
        pgid: null,
        updatedAt: startedAt,
      }),
    );
    failpoint("after-running");
    log.info("start", { plan: entry.planId, key: entry.key, attempt });

    let pgidWrites = Promise.resolve();
    const outcome: ExecutionOutcome = await executePlan(entry.planText, JSON.parse(entry.planText), {
      workRoot: join(config.dataDir, "work"),
      timeoutMs: (entry.timeoutSeconds ?? config.defaultTimeoutSeconds) * 1000,
      killGraceMs: config.killGraceSeconds * 1000,
      outputCapBytes: config.outputCapBytes,
      env: { IDEM_JOURNAL: journal.path, IDEM_EXECUTION: `${entry.seq}` },
      onSpawn: (pgid) => {
        pgidWrites = pgidWrites.then(() =>
          journal.commit((tx) => {
            const current = journal.record(entry.key);
            if (current?.state === "running") tx.putRecord({ ...current, pgid });
          }),
        );
      },
      signal,
    }).catch((error: unknown) => ({
      errorCode: 1,
      body: errorBody(
        `Cannot execute plan "${entry.planId}": ${error instanceof Error ? error.message : String(error)}`,
      ),
    }));
    await pgidWrites;

    const current = journal.record(entry.key) ?? before;
    const time = new Date().toISOString();
    if (signal.aborted && this.#interrupting) {
      await journal.commit((tx) => {
        const next: JournalRecord = { ...current, state: "interrupted", pgid: null, updatedAt: time };
        pushHistory(next, {
          planId: entry.planId,
          fingerprint: entry.fingerprint,
          decision: "interrupted",
          time,
        });
        tx.putRecord(next);
      });
      this.#ctx.emit({
        Event: "interrupted",
        Key: entry.key,
        SourceID: entry.planId,
        Generation: entry.generation,
      });
      return;
    }
    await this.#finish(entry, current, outcome, { attempt, time });
  }

  async #finish(
    entry: QueueEntry,
    current: JournalRecord,
    outcome: ExecutionOutcome,
    at: { attempt: number; time: string },
  ): Promise<void> {
    const { journal } = this.#ctx;
    const morePending = journal.queued().some((e) => e.key === entry.key && e.seq !== entry.seq);
    const terminal = outcome.errorCode === 0 ? "succeeded" : "failed";
    const base = {
      ...this.#ctx.facts(),
      key: entry.key,
      fingerprint: entry.fingerprint,
      policy: entry.policy,
      attempt: at.attempt,
      ranAs: entry.planId,
      replayed: false,
    };
    const answer = (decision: "run" | "join", sourceId: string) =>
      resultPayload({
        sourceId,
        errorCode: outcome.errorCode,
        body: outcome.body,
        time: at.time,
        facts: { ...base, decision },
      });

    await journal.commit((tx) => {
      const next: JournalRecord = {
        ...current,
        state: morePending ? "accepted" : terminal,
        pgid: null,
        updatedAt: at.time,
        result: {
          errorCode: outcome.errorCode,
          body: outcome.body,
          time: at.time,
          ranAs: entry.planId,
          attempt: at.attempt,
        },
        waiters: [],
        history: [...current.history],
      };
      pushHistory(next, {
        planId: entry.planId,
        fingerprint: entry.fingerprint,
        decision: "finished",
        errorCode: outcome.errorCode,
        time: at.time,
      });
      tx.putRecord(next);
      tx.dequeue(entry.seq);
      tx.addOutbox(replyTo(entry.reply, answer("run", entry.planId)));
      for (const waiter of current.waiters) tx.addOutbox(replyTo(waiter, answer("join", waiter.sourceId)));
    });
    failpoint("after-result-commit");
    this.#ctx.emit({
      Event: "finished",
      Key: entry.key,
      SourceID: entry.planId,
      Generation: entry.generation,
      ErrorCode: outcome.errorCode,
      Attempt: at.attempt,
      Waiters: current.waiters.length,
    });
    this.#ctx.afterCommit();
  }
}
