/**
 * Run: takes queued plans in arrival order and hands each to `execute.ts`, `concurrency` at a time, never two of
 * one key at once. Each execution is journaled `running` before anything starts and its result, together with the
 * replies to its sender and to every plan that joined it, is committed in one transaction when it ends
 * (`finish.ts`). The runner owns the slots: what runs, what is finishing, what is stuck, draining, and the hold a
 * pending reboot puts on every start (`steer.ts`).
 *
 * A start rides in the commit that makes it possible (issue 11: one fsync fewer per plan): at the end of every
 * batch's transaction (`journal.followBatches`) the runner writes the start of each queued plan that may start
 * now, needs no steering and whose policy runs an interrupted plan again (`Policy.rerunsInterrupted`), and
 * launches them once that batch is durable: a plan that arrives while a slot is free is journaled `accepted` and
 * `running` in its decision's commit. A crash right after such a commit leaves the plan `running`, never spawned:
 * interrupted at the next start, and its policy runs it (docs/reliability.md, "What waits for an fsync"). Any
 * other start is a commit of its own ({@link Runner.kick}), issued in the same turn as the previous plan's result
 * when there is one (one fsync for both: `#finishing` below).
 */

import { describe } from "../errors.ts";
import type { JournalWriter, QueueEntry } from "../journal/journal.ts";
import { Cancellation } from "./cancel.ts";
import type { PipelineContext } from "./context.ts";
import { durably } from "./durably.ts";
import { executeEntry, writeStart } from "./execute.ts";
import { giveUp } from "./finish.ts";
import { type SteerOptions, startsPlainly } from "./steer.ts";

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
  /**
   * Entries whose execution failed unexpectedly and could not even be answered: not retried by this process (the
   * next start decides them). While one is queued it is its key's head, so its key's later plans wait behind it
   * (a cancel, which dequeues it, lets them go).
   */
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
    ctx.journal.followBatches((tx) => this.#startInBatch(tx));
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

  /**
   * Starts every queued plan that may start now, each with a start commit of its own (`execute.ts`). Cheap; call
   * it after every commit.
   */
  kick(): void {
    for (const entry of this.#startable()) this.#launch(entry);
  }

  /**
   * The queued entries that may start now, in arrival order, noting each key as busy as it goes: slots left, no
   * drain, no reboot held, never two of one key. Only the head of each key may start (the queue index, no entry
   * read for the others): a head running, finishing or stuck keeps its key's later entries waiting, in order.
   */
  *#startable(): Generator<QueueEntry> {
    const full = () => this.#running.size - this.#finishing.size >= this.#ctx.config.concurrency;
    if (this.#draining || this.#rebooting > 0 || full()) return;
    // A finishing entry's next of its key is already the head (the finish dequeued it in this very commit): its
    // key stays busy until the result is durable.
    const busyKeys = new Set([...this.#running.values()].map((r) => r.entry.key));
    for (const seq of this.#ctx.journal.queueHeads()) {
      if (full()) return;
      if (this.#running.has(seq) || this.#stuck.has(seq)) continue;
      const entry = this.#ctx.journal.queueEntry(seq);
      if (entry === undefined || busyKeys.has(entry.key)) continue;
      busyKeys.add(entry.key);
      yield entry;
    }
  }

  /**
   * The batch follower (`commits.ts`): inside a commit's transaction, writes the start of each entry that may
   * start now and needs no steering ({@link startsPlainly}), holding its slot; once the batch is durable they run,
   * and if it is not they are let go and started by {@link kick} instead (whose commit retries with backoff).
   */
  #startInBatch(tx: JournalWriter): ((durable: boolean) => void) | undefined {
    const { journal, log } = this.#ctx;
    const held: Array<{ entry: QueueEntry; attempt: number; launched: (execution: Promise<void>) => void }> =
      [];
    try {
      for (const entry of this.#startable()) {
        // A cancel or reboot to honour, or a policy that would not run the plan again were it seen interrupted
        // (run-once-ever: a crash right after this commit would refuse a plan that never ran): the runner's own
        // start, a commit of its own, in order.
        if (!startsPlainly(journal.record(entry.key), entry)) break;
        if (this.#ctx.policies.get(entry.policy)?.rerunsInterrupted !== true) break;
        const attempt = writeStart(this.#ctx, entry, tx);
        const running = this.#runningOf(entry);
        // Until it is launched, a drain waits for what will be launched.
        running.done = new Promise((launched) => held.push({ entry, attempt, launched }));
        this.#running.set(entry.seq, running);
      }
    } catch (error) {
      this.#letGo(held);
      log.error("start-not-written", { message: describe(error) });
      throw error;
    }
    if (held.length === 0) return undefined;
    return (durable) => {
      if (!durable) {
        this.#letGo(held);
        setImmediate(() => this.kick());
        return;
      }
      // On the next turn: what this commit made due goes first (a decision's PUBACK and event, a result's
      // publish), and a crash there (`after-commit`) finds nothing of the plan spawned. Launched at once instead,
      // the spawn came ≈ 0.2 ms sooner, racing those (measured, docs/benchmarks.md "Session 13").
      setImmediate(() => {
        for (const { entry, attempt, launched } of held) launched(this.#launch(entry, attempt));
      });
    };
  }

  /** Frees the slots of starts that were not kept (nothing of them runs: a drain waiting for them goes on). */
  #letGo(held: ReadonlyArray<{ entry: QueueEntry; launched: (execution: Promise<void>) => void }>): void {
    for (const { entry, launched } of held) {
      this.#running.delete(entry.seq);
      launched(Promise.resolve());
    }
  }

  #runningOf(entry: QueueEntry): Running {
    return { entry, abort: new AbortController(), done: Promise.resolve(), since: new Date().toISOString() };
  }

  /**
   * Runs `entry` in a slot; `startedAs`: the attempt already journaled by {@link #startInBatch}. Returns the
   * execution (settles once it ended and its slot is free).
   */
  #launch(entry: QueueEntry, startedAs?: number): Promise<void> {
    const running = this.#running.get(entry.seq) ?? this.#runningOf(entry);
    running.done = executeEntry(
      this.#ctx,
      entry,
      {
        steering: this.#steering(entry, running.abort.signal),
        interrupting: () => this.#interrupting,
        written: () => {
          // Its slot is free; its key stays busy until the result is durable.
          this.#finishing.add(entry.seq);
          this.kick();
        },
      },
      startedAs,
    )
      .catch((error: unknown) => this.#failed(entry, error))
      .finally(() => {
        this.#running.delete(entry.seq);
        this.#finishing.delete(entry.seq);
        this.kick();
        this.#onChange();
      });
    this.#running.set(entry.seq, running);
    this.#onChange();
    return running.done;
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

  /** What `steer.ts` may use of the runner for one execution. */
  #steering(entry: QueueEntry, signal: AbortSignal): SteerOptions {
    return {
      signal,
      stopping: this.#stopping.signal,
      durably: (step, commit) => durably(this.#ctx, { step, entry }, commit),
      hold: (on) => {
        this.#rebooting += on ? 1 : -1;
        if (!on) this.kick();
      },
    };
  }

  /**
   * An execution that failed unexpectedly (a bug, SPEC 5.4): answered with code 2 and dequeued (`finish.ts`). If
   * even that cannot be written, the entry stays queued but is not retried by this process: the next start
   * decides it again.
   */
  async #failed(entry: QueueEntry, error: unknown): Promise<void> {
    if (!(await giveUp(this.#ctx, entry, error))) this.#stuck.add(entry.seq);
  }
}
