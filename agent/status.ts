/**
 * The agent's retained status on `P/A/status` (SPEC 8), as one JSON document: who it is (AgentID, Generation,
 * InstanceID, BootId, StartedAt: what orders two incarnations, `incarnation.ts`), where (Protocol, Broker), what it
 * can (Version, Policies), its state and since when, and what it does (Running/Queued/Outbox,
 * `status_refresh.ts`). Three forms: `online` (published at every connect and refresh), `offline` (at a clean
 * stop, and as the Last Will: `LastWill: true`), `superseded` (once, with `SupersededBy`, SPEC 5.5).
 * `agent.ts` decides when each is published.
 */
import type { Incarnation, StatusState, Supersession } from "./incarnation.ts";
import type { Journal } from "./journal/journal.ts";
import type { Runner } from "./pipeline/run.ts";
import type { PolicyRegistry } from "./policies.ts";
import type { Activity } from "./status_refresh.ts";
import { VERSION } from "./version.ts";

/** When this process started: with the generation, what orders two incarnations of one VM (`incarnation.ts`). */
export const STARTED_AT = new Date(Math.round(performance.timeOrigin)).toISOString();

export interface StatusSources {
  agentId: string;
  journal: Journal;
  policies: PolicyRegistry;
  /** The VM's identity (`journal/identity.ts`), when known. */
  instanceId: string | undefined;
  /** The agent's generation now. */
  generation(): number;
  /** The broker node the session is on (one of broker.urls), or the configured one before any session. */
  broker(): string;
  /** The runner, once it exists (none during start-up recovery). */
  runner(): Runner | undefined;
  /** An online form was built showing `activity`: the refresh compares the next one with it. */
  published(activity: Activity): void;
}

export class AgentStatus {
  readonly #sources: StatusSources;
  /** When the current session went online: an online status's `Since`, the same in each of its refreshes. */
  #onlineSince = new Date().toISOString();

  constructor(sources: StatusSources) {
    this.#sources = sources;
  }

  /** SPEC 8's Running/Queued/Outbox now. Queued: not started yet (a running plan keeps its queue entry). */
  activity(): Activity {
    const { journal, runner } = this.#sources;
    const [oldest] = runner()?.current ?? [];
    return {
      Running: oldest ? { Key: oldest.key, SourceID: oldest.planId, Since: oldest.since } : null,
      Queued: Math.max(0, journal.queueLength() - (runner()?.busy ?? 0)),
      Outbox: journal.outboxLength(),
    };
  }

  /** A new session is online: its online statuses say `Since` now. */
  wentOnline(): void {
    this.#onlineSince = new Date().toISOString();
  }

  /**
   * The status document in `state` for a session of MQTT `protocol` (4 or 5). `lastWill`: the form left with the
   * broker at connect (its counts are those of then); `by`: who superseded this incarnation.
   */
  document(
    state: StatusState,
    protocol: 4 | 5,
    form: { lastWill?: boolean; by?: Supersession } = {},
  ): string {
    const { agentId, journal, policies, instanceId } = this.#sources;
    // An offline form runs nothing; the Last Will's counts are those of when it was set (the connect).
    const now = this.activity();
    if (state === "online") this.#sources.published(now);
    return JSON.stringify({
      State: state,
      AgentID: agentId,
      Generation: this.#sources.generation(),
      InstanceID: instanceId,
      Version: VERSION,
      Protocol: protocol,
      // The broker node the session is on (one of broker.urls; for the Last Will, the node it is left with).
      Broker: this.#sources.broker(),
      Policies: policies.names(),
      Since: state === "online" ? this.#onlineSince : new Date().toISOString(),
      ...(state === "online" ? now : { ...now, Running: null }),
      BootId: journal.bootId,
      StartedAt: STARTED_AT,
      LastWill: form.lastWill ?? false,
      ...(form.by ? { SupersededBy: supersededBy(form.by) } : {}),
    });
  }

  /** This incarnation, as `incarnation.ts` compares it with the one a retained status names. */
  self(): Incarnation {
    const { agentId, journal, instanceId } = this.#sources;
    return {
      agentId,
      generation: this.#sources.generation(),
      startedAt: STARTED_AT,
      bootId: journal.bootId,
      ...(instanceId === undefined ? {} : { instanceId }),
    };
  }
}

/** The `SupersededBy` of a `superseded` status: who is newer, and why. */
function supersededBy(by: Supersession): Record<string, unknown> {
  return {
    Generation: by.generation,
    ...(by.bootId === undefined ? {} : { BootId: by.bootId }),
    ...(by.startedAt === undefined ? {} : { StartedAt: by.startedAt }),
    ...(by.planId === undefined ? {} : { Plan: by.planId }),
    Reason: by.reason,
  };
}
