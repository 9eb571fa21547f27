/**
 * When to try the broker again (SPEC 5.4, 5.5): exponential backoff with jitter instead of MQTT.js's fixed
 * period, so that a broker that is gone costs a few attempts (and log lines) an hour, not one a second, and two
 * clients with one client id cannot take the session from each other once a second for ever.
 *
 * - Each close that is not explained otherwise is one more failure: the delay doubles from `firstMs` to `maxMs`,
 *   each delay randomised by ±`jitter` (50 %), so that agents that lost one broker do not come back in step.
 * - A connection that stayed up `stableMs` (30 s) or more starts again from `firstMs`.
 * - A connection the broker closed while replies of ours were in flight (it hangs up on a packet it refuses: the
 *   outbox's business, `outbox.ts`) is retried at the current step, without doubling it.
 * - With several broker nodes (`nodes.ts`: every failure moves to the next node), the step grows once per round
 *   of nodes: with 3 nodes, failures 1–3 wait `firstMs`, 4–6 twice that, and so on; one dead node of three costs
 *   one short delay, and a cluster that is all gone is tried as seldom as a single broker, per node.
 *
 * Log lines: the first failure says so; after that, one line per step of the backoff at most (and, at `maxMs`,
 * one every {@link LOG_EVERY_AT_MAX} attempts), so that a day without a broker logs ≈ 150 lines, not 86,000.
 */
import { backoff } from "../retry.ts";

export interface ReconnectOptions {
  /** The first delay, ms (the `reconnectSeconds` setting: default 1,000). */
  firstMs: number;
  /** The longest delay, ms (default 60,000). */
  maxMs?: number;
  /** A connection up this long resets the backoff, ms (default 30,000). */
  stableMs?: number;
  /** Fraction of each delay that is random, either way (default 0.5: a delay d becomes d × [0.5, 1.5]). */
  jitter?: number;
  /** Default `Math.random`. */
  random?: () => number;
  /** Broker nodes tried in turn (`broker.urls`): the step grows once per round of this many failures (default 1). */
  nodes?: number;
}

/** How a connection ended, as far as the schedule cares. */
export interface ClosedConnection {
  /** When its session became ready (CONNACK and subscriptions done), if it did (`Date.now()` ms). */
  readySince?: number;
  /** Replies of ours were in flight when it closed: the broker probably hung up on one of them. */
  publishesLost: boolean;
}

export interface NextAttempt {
  /** Failures in a row (1 for the first), the attempt about to be scheduled counted. */
  attempt: number;
  delayMs: number;
  /** Whether this one deserves a log line at warn (see the file's comment). */
  log: boolean;
}

/** At the longest delay, one log line every this many attempts. */
export const LOG_EVERY_AT_MAX = 10;

export class ReconnectSchedule {
  readonly #first: number;
  readonly #max: number;
  readonly #stable: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #nodes: number;
  #failures = 0;
  #loggedStep = 0;
  #atMax = 0;

  constructor(options: ReconnectOptions) {
    this.#first = options.firstMs;
    this.#max = Math.max(options.maxMs ?? 60_000, options.firstMs);
    this.#stable = options.stableMs ?? 30_000;
    this.#jitter = options.jitter ?? 0.5;
    this.#random = options.random ?? Math.random;
    this.#nodes = Math.max(1, Math.floor(options.nodes ?? 1));
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** A connection (or an attempt) ended: when to try again. */
  next(closed: ClosedConnection, now: number = Date.now()): NextAttempt {
    if (closed.readySince !== undefined && now - closed.readySince >= this.#stable) this.#reset();
    if (!closed.publishesLost || this.#failures === 0) this.#failures += 1;
    const attempt = this.#failures;
    const step = this.#step(attempt);
    let log = false;
    if (attempt === 1 || step > this.#loggedStep) {
      log = true;
      this.#loggedStep = step;
      this.#atMax = 0;
    } else if (step === this.#max && ++this.#atMax >= LOG_EVERY_AT_MAX) {
      log = true;
      this.#atMax = 0;
    }
    const spread = this.#jitter * (2 * this.#random() - 1);
    return { attempt, delayMs: Math.max(0, Math.round(step * (1 + spread))), log };
  }

  #step(attempt: number): number {
    const round = Math.ceil(attempt / this.#nodes);
    return backoff(round, { minTimeout: this.#first, maxTimeout: this.#max, multiplier: 2 });
  }

  #reset(): void {
    this.#failures = 0;
    this.#loggedStep = 0;
    this.#atMax = 0;
  }
}
