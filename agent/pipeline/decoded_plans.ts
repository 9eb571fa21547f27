/**
 * Decoded plans handed from intake to execution: a plan decided `run` is queued as its text (the journal's,
 * for a restart), and its execution would otherwise parse and check that text again (issue 11: "no per-plan
 * work that could be done once"). Intake keeps the plan it already decoded and validated under its queue
 * entry's seq; execution takes it from here, or, when it is not here (queued by an earlier process, or not kept: the bounds below),
 * decodes the journal's text as before (`decode.ts` `decodeQueued`), which yields the same plan.
 *
 * Bounded by an upper estimate of the decoded trees' heap, {@link WEIGHT_PER_CHAR} bytes per character of
 * their text (measured: plans of 4 MB of `[{},{},…]` hold ≈ 140 bytes per character in their two trees, of
 * integers ≈ 25, of strings ≈ 3), at most {@link MAX_WEIGHT} in all and {@link MAX_PLANS} plans. When the bound
 * is reached a new plan is not kept: the ones kept are the queue's oldest, which run first (a backlog keeps its
 * head decoded, its tail is decoded again when its turn comes).
 */
import type { DecodedPlan } from "../murano/plan.ts";

/** Estimated heap of a decoded plan per character of its text, in bytes (an upper bound; see above). */
export const WEIGHT_PER_CHAR = 256;
/** Estimated heap kept at most, summed over the kept plans, in bytes. */
export const MAX_WEIGHT = 16 * 1024 * 1024;
/** Plans kept at most. */
export const MAX_PLANS = 64;

export class DecodedPlans {
  readonly #plans = new Map<number, { plan: DecodedPlan; weight: number }>();
  #weight = 0;

  /**
   * Keeps `plan` (its text is `textLength` long) for queue entry `seq`, unless that would exceed the bounds:
   * then it is not kept (and is decoded again when it runs).
   */
  keep(seq: number, plan: DecodedPlan, textLength: number): void {
    this.drop(seq);
    const weight = textLength * WEIGHT_PER_CHAR;
    if (this.#plans.size >= MAX_PLANS || this.#weight + weight > MAX_WEIGHT) return;
    this.#plans.set(seq, { plan, weight });
    this.#weight += weight;
  }

  /** The plan kept for `seq`, now no longer kept; undefined when none is. */
  take(seq: number): DecodedPlan | undefined {
    const kept = this.#plans.get(seq);
    if (kept === undefined) return undefined;
    this.drop(seq);
    return kept.plan;
  }

  /** Forgets the plan kept for `seq` (its commit failed), if any. */
  drop(seq: number): void {
    const kept = this.#plans.get(seq);
    if (kept === undefined) return;
    this.#plans.delete(seq);
    this.#weight -= kept.weight;
  }

  /** How many plans are kept, and their estimated heap in bytes. */
  get stats(): { plans: number; weight: number } {
    return { plans: this.#plans.size, weight: this.#weight };
  }
}
