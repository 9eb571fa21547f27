/**
 * Decoded plans handed from intake to execution: a plan decided `run` is queued as its text (the journal's,
 * for a restart), and its execution would otherwise parse and check that text again (issue 11: "no per-plan
 * work that could be done once"). Intake keeps the plan it already decoded and validated under its queue
 * entry's seq; execution takes it from here, or, when it is not here (queued by an earlier process, or evicted),
 * decodes the journal's text as before (`decode.ts` `decodeQueued`), which yields the same plan.
 *
 * Bounded: at most {@link MAX_TEXT_BYTES} of plan text (UTF-16 code units, the text's `length`) and
 * {@link MAX_PLANS} plans are kept, the oldest evicted first, so a long backlog costs no more memory than a
 * few of its plans; an evicted plan is decoded again when it runs.
 */
import type { DecodedPlan } from "../murano/plan.ts";

/** Plan text kept at most, summed over the kept plans (code units). */
export const MAX_TEXT_BYTES = 8 * 1024 * 1024;
/** Plans kept at most. */
export const MAX_PLANS = 256;

export class DecodedPlans {
  readonly #plans = new Map<number, { plan: DecodedPlan; size: number }>();
  #size = 0;

  /** Keeps `plan` (its text is `textLength` long) for queue entry `seq`, evicting the oldest beyond the bounds. */
  keep(seq: number, plan: DecodedPlan, textLength: number): void {
    if (textLength > MAX_TEXT_BYTES) return;
    this.drop(seq);
    this.#plans.set(seq, { plan, size: textLength });
    this.#size += textLength;
    for (const [oldest, kept] of this.#plans) {
      if (this.#size <= MAX_TEXT_BYTES && this.#plans.size <= MAX_PLANS) break;
      this.#plans.delete(oldest);
      this.#size -= kept.size;
    }
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
    this.#size -= kept.size;
  }

  /** How many plans are kept, and their text's total length. */
  get stats(): { plans: number; textLength: number } {
    return { plans: this.#plans.size, textLength: this.#size };
  }
}
