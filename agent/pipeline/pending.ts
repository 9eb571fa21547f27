/**
 * Decisions in flight: messages whose decision is issued to the journal but whose handling has not ended (its
 * commit not yet durable, or retried), by what they touch. It is what lets a backlog's decisions share commits
 * while every decision still reads the journal exactly as if the messages had been decided one after another
 * (issue 11, item 2; docs/reliability.md, "Decisions of a backlog share a commit").
 *
 * The session hands messages over one at a time, the next one once the previous one's commit is issued
 * (`IncomingMessage.taken`). A decision reads what earlier decisions write only through these resources:
 *
 * - `id:<plan ID>`: its `seen` entry (SPEC 5.2a: the same ID again, a re-delivery, the key a re-sent plan keeps);
 * - `key:<key>`: its record (the policy's input, the revision the commit checks);
 * - `generation`: the high-water mark an adopted plan raises (the fence, and every result's `Generation`).
 *
 * Before reading one, a message waits until no earlier message that touches it is still being handled; messages
 * that touch other things go on, and their commits ride in the same journal batches (one fsync for all of them).
 * Waiting for the earlier message's end (not just its first commit) keeps the order when that commit found its
 * record changed and decides again, or the journal failed and the guard retries it.
 */
import { failpoint } from "../failpoint.ts";

/** The resources a decision may touch (see the file's comment). */
export const touches = {
  planId: (planId: string) => `id:${planId}`,
  key: (key: string) => `key:${key}`,
  generation: "generation",
} as const;

export class PendingDecisions {
  /** Resource → the last message that touched it and its end, while that message is being handled. */
  readonly #holds = new Map<string, { owner: object; until: Promise<void> }>();
  /** Commits issued by intake and not yet settled. */
  #uncommitted = 0;

  /**
   * True when another message than `owner` (an earlier one) touching one of `resources` is still being handled.
   * `owner` is the message asking: a message decided again (the guard retries it) never waits for itself.
   */
  busy(owner: object, resources: readonly string[]): boolean {
    return resources.some((resource) => this.#other(owner, resource) !== undefined);
  }

  /** Resolves once no other message than `owner` touching any of `resources` is being handled (never rejects). */
  async settled(owner: object, resources: readonly string[]): Promise<void> {
    for (const resource of resources) {
      const hold = this.#other(owner, resource);
      if (hold) await hold;
    }
  }

  #other(owner: object, resource: string): Promise<void> | undefined {
    const hold = this.#holds.get(resource);
    return hold && hold.owner !== owner ? hold.until : undefined;
  }

  /**
   * The commit of `owner`'s decision was just issued (`committed`, not awaited here): `owner` holds `resources`
   * until `handled` settles (the session's `IncomingMessage.settled`; the commit itself when there is none).
   */
  issued(
    owner: object,
    committed: Promise<unknown>,
    resources: readonly string[],
    handled?: Promise<void>,
  ): void {
    const until = (handled ?? committed).then(
      () => {},
      () => {},
    );
    for (const resource of resources) {
      const hold = { owner, until };
      this.#holds.set(resource, hold);
      void until.then(() => {
        if (this.#holds.get(resource) === hold) this.#holds.delete(resource);
      });
    }
    this.#uncommitted += 1;
    const done = () => {
      this.#uncommitted -= 1;
    };
    committed.then(done, done);
    if (this.#uncommitted > 1) failpoint("before-batch-commit");
  }
}

const registries = new WeakMap<object, PendingDecisions>();

/** The registry of one journal (one agent process has one). */
export function pendingFor(journal: object): PendingDecisions {
  let pending = registries.get(journal);
  if (!pending) {
    pending = new PendingDecisions();
    registries.set(journal, pending);
  }
  return pending;
}
