/**
 * Run: takes queued plans in arrival order and executes them, `concurrency` at a time, never two of one key
 * at once. Each execution is journaled `running` before anything starts and its result, together with the
 * replies to its sender and to every plan that joined it, is committed in one transaction when it ends.
 */
import { join } from "node:path";
import { describe, ErrorCode, failureKind, isEnvironmentFailure } from "../errors.ts";
import { failpoint } from "../failpoint.ts";
import type { QueueEntry } from "../journal/journal.ts";
import * as machine from "../journal/record.ts";
import type { StoredResult } from "../mod.ts";
import { executePlan } from "../murano/execute.ts";
import type { DecodedPlan } from "../murano/plan.ts";
import { scriptUser } from "../murano/script_user.ts";
import type { ExecutionOutcome } from "../murano/types.ts";
import { retry } from "../retry.ts";
import { Cancellation } from "./cancel.ts";
import type { PipelineContext } from "./context.ts";
import { decodeQueued } from "./decode.ts";
import { MAX_ATTEMPTS } from "./guard.ts";
import { errorBody, replyTo, resultPayload } from "./reply.ts";
import { afterRun, beforeStart, type SteerOptions } from "./steer.ts";

interface Running {
  entry: QueueEntry;
  abort: AbortController;
  done: Promise<void>;
  /** When this process took it up (ISO 8601): the status's `Running.Since` (SPEC 8). */
  since: string;
}

export interface RunnerOptions {
  /** An execution began or ended (the status shows what runs: `status_refresh.ts`). Default: nothing. */
  onChange?: () => void;
}

export class Runner {
  readonly #ctx: PipelineContext;
  readonly #running = new Map<number, Running>();
  /**
   * Running entries whose result commit is written and not yet durable: their slot is free (the next plan's
   * start shares that commit's batch, one fsync for both), their key stays busy until the result is durable.
   */
  readonly #finishing = new Set<number>();
  /** Entries whose execution failed unexpectedly: not retried by this process (the next start decides them). */
  readonly #stuck = new Set<number>();
  #draining = false;
  #interrupting = false;
  /** Aborted by `drain`: a reboot being awaited lets go at once (`steer.ts`). */
  readonly #stopping = new AbortController();
  /** Executions asking for (or awaiting) a reboot: while any, nothing else starts. */
  #rebooting = 0;

  readonly #onChange: () => void;

  constructor(ctx: PipelineContext, options: RunnerOptions = {}) {
    this.#ctx = ctx;
    this.#onChange = options.onChange ?? (() => {});
  }

  get busy(): number {
    return this.#running.size;
  }

  /** The executions under way, in the order they began. */
  get current(): { key: string; planId: string; since: string }[] {
    return [...this.#running.values()].map((r) => ({
      key: r.entry.key,
      planId: r.entry.planId,
      since: r.since,
    }));
  }

  /** True when queue entry `seq` is being executed by this process (`cancel.ts`). */
  has(seq: number): boolean {
    return this.#running.has(seq);
  }

  /** Cancels running entry `seq` (`cancel.ts`): its process group gets TERM, then KILL; it finishes with 102. */
  cancel(seq: number): void {
    this.#running.get(seq)?.abort.abort(new Cancellation());
  }

  /** Starts every queued plan that may start now. Cheap; call it after every commit. */
  kick(): void {
    const full = () => this.#running.size - this.#finishing.size >= this.#ctx.config.concurrency;
    if (this.#draining || this.#rebooting > 0 || full()) return;
    const busyKeys = new Set([...this.#running.values()].map((r) => r.entry.key));
    for (const entry of this.#ctx.journal.pending()) {
      if (full()) return;
      if (this.#running.has(entry.seq) || this.#stuck.has(entry.seq)) continue;
      if (busyKeys.has(entry.key)) continue;
      busyKeys.add(entry.key);
      const abort = new AbortController();
      const running: Running = { entry, abort, done: Promise.resolve(), since: new Date().toISOString() };
      running.done = this.#execute(entry, abort.signal)
        .catch((error: unknown) => this.#failed(entry, error))
        .finally(() => {
          this.#running.delete(entry.seq);
          this.#finishing.delete(entry.seq);
          this.kick();
          this.#onChange();
        });
      this.#running.set(entry.seq, running);
      this.#onChange();
    }
  }

  /**
   * Stops starting plans; waits up to `graceMs` for the running ones, then kills them and leaves them
   * `interrupted` in the journal (with their queue entry, so the next start decides them again).
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    this.#stopping.abort();
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
    const steering = this.#steering(entry, signal);
    // A cancel or a reboot left pending by an earlier process decides first (`steer.ts`).
    const before = await beforeStart(this.#ctx, entry, steering);
    if (before.kind === "left") return;
    if (before.kind === "finish") {
      const attempts = journal.record(entry.key)?.attempts ?? 0;
      const time = new Date().toISOString();
      return await this.#finish(entry, before.outcome, { attempt: attempts, time });
    }
    let attempt = 0;
    // Records are read inside the transaction: a plan decided meanwhile (a joiner) is never overwritten.
    await this.#durably("start", entry, () =>
      journal.commit((tx) => {
        const record = journal.record(entry.key);
        if (!record) throw new Error(`Cannot start plan "${entry.planId}" as key ${entry.key} has no record`);
        const time = new Date().toISOString();
        // After the reboot a rerun-mode entry asked for: it runs again, its reboot no longer pending.
        const started = machine.start(machine.rebooted(record, { time }), { time, bootId: journal.bootId });
        attempt = started.attempts;
        tx.putRecord(started);
      }),
    );
    failpoint("after-running");
    log.info("start", { plan: entry.planId, key: entry.key, attempt });
    const began = performance.now();

    // The environment's fault before any script started (a full disk while the files are written) runs the plan
    // again after a backoff: nothing of it ran. Anything else is the plan's outcome.
    let outcome: ExecutionOutcome = await retry(
      () =>
        executePlan(planOf(entry), {
          workRoot: join(config.dataDir, "work"),
          timeoutMs: (entry.timeoutSeconds ?? config.defaultTimeoutSeconds) * 1000,
          killGraceMs: config.killGraceSeconds * 1000,
          bodyMemoryMB: config.bodyMemoryMB,
          log,
          outputCapBytes: config.outputCapBytes,
          env: { IDEM_JOURNAL: journal.path, IDEM_EXECUTION: `${entry.seq}` },
          environment: config.environment,
          user: scriptUser(config.runAs),
          checked: true, // intake compiled the Body (validate.ts); the worker compiles it again
          onSpawn: (pgid) => {
            this.#recordPgid(entry, pgid);
            failpoint("after-spawn");
          },
          signal,
        }),
      {
        signal,
        onRetry: (error, attempt, delayMs) =>
          log.error("run-retry", {
            plan: entry.planId,
            key: entry.key,
            attempt,
            retryInMs: delayMs,
            message: describe(error),
          }),
      },
    ).catch((error: unknown) => ({
      errorCode: 1,
      body: errorBody(`Cannot execute plan "${entry.planId}": ${describe(error)}`),
    }));
    failpoint("before-finish");

    // A cancel (102) or a reboot request changes the course (`steer.ts`).
    const after = await afterRun(this.#ctx, entry, outcome, steering);
    if (after.kind === "left") return;
    if (after.kind === "finish") outcome = after.outcome;
    const time = new Date().toISOString();
    if (after.kind === "go" && signal.aborted && this.#interrupting) {
      await this.#durably("interrupt", entry, () =>
        journal.commit((tx) => {
          const current = journal.record(entry.key);
          if (!current) return;
          tx.putRecord(
            machine.interrupt(current, { time, planId: entry.planId, fingerprint: entry.fingerprint }),
          );
        }),
      );
      this.#ctx.emit({
        Event: "interrupted",
        Key: entry.key,
        SourceID: entry.planId,
        Generation: entry.generation,
      });
      return;
    }
    await this.#finish(entry, outcome, { attempt, time, seconds: (performance.now() - began) / 1000 });
  }

  /** What `steer.ts` may use of the runner for one execution. */
  #steering(entry: QueueEntry, signal: AbortSignal): SteerOptions {
    return {
      signal,
      stopping: this.#stopping.signal,
      durably: (step, commit) => this.#durably(step, entry, commit),
      hold: (on) => {
        this.#rebooting += on ? 1 : -1;
        if (!on) this.kick();
      },
    };
  }

  async #finish(
    entry: QueueEntry,
    outcome: ExecutionOutcome,
    at: { attempt: number; time: string; seconds?: number },
  ): Promise<void> {
    const { journal } = this.#ctx;
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
        maxBytes: this.#ctx.config.maxResultBytes,
        facts: { ...base, decision },
      });

    let waiters = 0;
    const durable = this.#durably("finish", entry, () =>
      journal.commit((tx) => {
        const current = journal.record(entry.key);
        if (!current)
          throw new Error(
            `Cannot record the result of plan "${entry.planId}": key ${entry.key} has no record`,
          );
        const finished = machine.finish(current, {
          time: at.time,
          planId: entry.planId,
          fingerprint: entry.fingerprint,
          seq: entry.seq,
          result: {
            errorCode: outcome.errorCode,
            body: outcome.body,
            time: at.time,
            ranAs: entry.planId,
            attempt: at.attempt,
          },
        });
        tx.putRecord(finished.record);
        tx.dequeue(entry.seq);
        // Each plan ID keeps what answered it (SPEC 5.2a): the same ID sent again gets this result back.
        const seen = journal.seen(entry.planId);
        if (seen) tx.markSeen(entry.planId, { ...seen, result: finished.record.result as StoredResult });
        for (const waiter of finished.waiters) {
          const joined = journal.seen(waiter.sourceId);
          if (joined) tx.markSeen(waiter.sourceId, { ...joined, ranAs: entry.planId });
        }
        tx.addOutbox(replyTo(entry.reply, answer("run", entry.planId)));
        for (const waiter of finished.waiters) tx.addOutbox(replyTo(waiter, answer("join", waiter.sourceId)));
        waiters = finished.waiters.length;
      }),
    );
    // The result is written (not yet durable): the next plan's start, issued now, shares its batch and fsync.
    // Both become durable together or not at all; a crash before leaves this one `running` (interrupted, as a
    // crash before its result always did) and the next one `accepted`. Its key stays busy until then.
    this.#finishing.add(entry.seq);
    this.kick();
    await durable;
    failpoint("after-result-commit");
    this.#ctx.emit({
      Event: "finished",
      Key: entry.key,
      SourceID: entry.planId,
      Generation: entry.generation,
      ErrorCode: outcome.errorCode,
      Attempt: at.attempt,
      Waiters: waiters,
      // How long the execution took (the `idem_run_seconds` metric); none when nothing was executed.
      ...(at.seconds === undefined ? {} : { Seconds: Math.round(at.seconds * 1000) / 1000 }),
    });
    this.#ctx.afterCommit();
  }

  /**
   * Notes the running script's process group, for operators: a deferred write (`journal.defer`), durable with
   * the next commit (the result's, for a short script) or within a second, never waited for. Orphans are found by
   * their environment mark, not by it, so losing it (a crash, a full disk) is harmless: logged, not retried.
   */
  #recordPgid(entry: QueueEntry, pgid: number): void {
    const { journal, log } = this.#ctx;
    const time = new Date().toISOString();
    journal
      .defer((tx) => {
        const current = journal.record(entry.key);
        if (current) tx.putRecord(machine.spawned(current, { time, pgid }));
      })
      .catch((error: unknown) =>
        log.warn("pgid-not-recorded", { key: entry.key, pgid, message: describe(error) }),
      );
  }

  /**
   * Retries a journal commit until it is durable (a full disk, say): the script may already have run, so its
   * outcome must not be lost, and the plan must not run again. An unexpected failure is retried a few times.
   */
  async #durably(step: string, entry: QueueEntry, commit: () => Promise<void>): Promise<void> {
    let bugs = 0;
    await retry(commit, {
      isRetriable: (error) =>
        isEnvironmentFailure(error) || (failureKind(error) === "bug" && ++bugs < MAX_ATTEMPTS),
      onRetry: (error, attempt, delayMs) =>
        this.#ctx.log.error("journal-retry", {
          step,
          plan: entry.planId,
          key: entry.key,
          attempt,
          retryInMs: delayMs,
          kind: failureKind(error),
          message: describe(error),
        }),
    });
  }

  /**
   * An execution that failed unexpectedly (a bug, SPEC 5.4): its plan and the plans that joined it are answered
   * with code 2 and it leaves the queue, so that nothing waits for it for ever. If even that cannot be written,
   * the entry stays queued but is not retried by this process: the next start decides it again.
   */
  async #failed(entry: QueueEntry, error: unknown): Promise<void> {
    const { journal, log } = this.#ctx;
    log.error("run-failed", {
      plan: entry.planId,
      key: entry.key,
      kind: failureKind(error),
      message: describe(error),
    });
    const time = new Date().toISOString();
    const message = `Cannot run plan "${entry.planId}": the agent failed on it (${describe(error)})`;
    const reply = (sourceId: string, decision: "run" | "join") =>
      resultPayload({
        sourceId,
        errorCode: ErrorCode.InvalidPlan,
        body: errorBody(message),
        time,
        facts: {
          ...this.#ctx.facts(),
          key: entry.key,
          fingerprint: entry.fingerprint,
          policy: entry.policy,
          decision,
          attempt: 0,
          ranAs: null,
          replayed: false,
        },
      });
    try {
      await this.#durably("give-up", entry, () =>
        journal.commit((tx) => {
          const record = journal.record(entry.key);
          let waiters: machine.JournalRecord["waiters"] = [];
          if (record) {
            const at = { time, planId: entry.planId, fingerprint: entry.fingerprint, seq: entry.seq };
            const interrupted = record.state === "running" ? machine.interrupt(record, at) : record;
            const given = machine.abandon(interrupted, { ...at, code: ErrorCode.InvalidPlan });
            tx.putRecord(given.record);
            waiters = given.waiters;
          }
          tx.dequeue(entry.seq);
          tx.addOutbox(replyTo(entry.reply, reply(entry.planId, "run")));
          for (const waiter of waiters) tx.addOutbox(replyTo(waiter, reply(waiter.sourceId, "join")));
        }),
      );
      this.#ctx.afterCommit();
    } catch (last) {
      this.#stuck.add(entry.seq);
      log.error("run-stuck", { plan: entry.planId, key: entry.key, message: describe(last) });
    }
  }
}

/** The queued plan, typed, and its exact tree (its text was decoded and validated at intake: it reads as a Plan). */
function planOf(entry: QueueEntry): DecodedPlan {
  const queued = decodeQueued(entry.planText);
  if (queued === undefined) throw new Error(`Cannot read queued plan "${entry.planId}" as a plan idem takes`);
  return queued;
}
