/**
 * What the retained status shows of the agent's work (SPEC 8: `"Running": {Key, SourceID, Since} | null`,
 * `"Queued": N`, `"Outbox": N`), and when it is published again: when one of these changed, at most once a second.
 *
 * Changes are coalesced: {@link StatusRefresh.changed} is cheap and may be called after every commit, every start
 * and end of an execution, every acknowledged reply; the first change after a quiet second is published at the next
 * turn of the event loop, later ones wait for the rest of that second and go out together. What is published is
 * read at that moment, so the last change is always published eventually; a refresh that would show what the last
 * status showed publishes nothing.
 */

/** The execution the status names as running. Times are ISO 8601 UTC. */
export interface RunningView {
  Key: string;
  SourceID: string;
  /** When the execution began. */
  Since: string;
}

/** The status fields of SPEC 8 that follow the agent's work. */
export interface Activity {
  /** The oldest execution under way (with `concurrency` > 1, others may run too), or null. */
  Running: RunningView | null;
  /** Plans queued that have not started. */
  Queued: number;
  /** Results not yet acknowledged by the broker. */
  Outbox: number;
}

export interface StatusRefreshOptions {
  /** Reads the activity as it is now (cheap: counts keys, decodes no plan). */
  read(): Activity;
  /**
   * Publishes the online status, which carries {@link StatusRefreshOptions.read}'s values; the caller then reports
   * it with {@link StatusRefresh.published}. Nothing to do when there is no session: the next connect publishes it.
   */
  publish(): void;
  /** Shortest time between two refreshes, in ms. Default 1000 (SPEC 8: at most once a second). */
  minIntervalMs?: number;
}

export class StatusRefresh {
  readonly #read: () => Activity;
  readonly #publish: () => void;
  readonly #minIntervalMs: number;
  /** The activity the last published status showed, as JSON. */
  #shown: string | undefined;
  #shownAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: StatusRefreshOptions) {
    this.#read = options.read;
    this.#publish = options.publish;
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
  }

  /** Something the status shows may have changed: refresh it, now or within the second. */
  changed(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const wait = Math.max(0, this.#shownAt + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || JSON.stringify(this.#read()) === this.#shown) return;
      this.#publish();
    }, wait);
    // The agent's session keeps the process alive; a pending refresh alone must not.
    this.#timer.unref?.();
  }

  /** An online status showing `activity` was published (a refresh, or the one of a (re)connect). */
  published(activity: Activity): void {
    this.#shown = JSON.stringify(activity);
    this.#shownAt = Date.now();
  }

  /** No more refreshes (the agent is stopping: its offline status follows). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
