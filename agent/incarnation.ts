/**
 * One live incarnation per VM (SPEC 5.5). Two agents with one agent id are two incarnations of one VM: a VM
 * re-created under the same name while the old one is not quite dead, or a clone. They share one MQTT client id,
 * so the broker gives the session to whichever connected last; what settles who serves is an order on the
 * incarnations that both compute alike from the retained status (`P/A/status`, SPEC 8):
 *
 *   higher `Generation` first; equal generations: the later `StartedAt` (the process's start); then `BootId`.
 *
 * The lower one stands down (`agent.ts`): it stops taking plans, publishes its status `superseded` once, leaves
 * the session and exits 3. The higher one, seeing a lower one's status (or its Last Will overwriting its own),
 * publishes its own status again, so that the lower one learns of it.
 *
 * What counts as a live rival, from its status:
 * - a higher generation, whatever its state: the VM has been re-created since this agent's generation;
 * - the same generation, started later, `online` — or `offline` by its Last Will (`LastWill: true`: its
 *   connection ended without a DISCONNECT, so the process may be alive) when this agent has itself lost its
 *   session the way a takeover does: aedes publishes the Will of the client it disconnects for a new one with the
 *   same client id, so in a battle that is all either side sees of the other. A clean `offline` (it stopped) or
 *   `superseded` (it stood down) of the same generation is not a rival.
 * Without that takeover, a same-generation Will is taken for this VM's own dead predecessor (whose start time may
 * read later when the clock was set back across a reboot), never as a reason to stand down.
 *
 * Never a rival: this VM's own past. A status with this VM's `InstanceID` (the identity its journal records) is an
 * earlier process of this VM — a data dir has one owner — unless it is `online` and started after this one (a VM
 * sharing the identity: a clone whose machine-id was not renewed). Its generation may be higher than this one's:
 * `idem fence` lowered the mark a plan raised by mistake, or `--reset-journal` began a new journal.
 */

/** What orders one incarnation against another. */
export interface Incarnation {
  agentId: string;
  generation: number;
  /** ISO 8601: when the agent's process started. */
  startedAt: string;
  /** Random per process (the journal's boot id). */
  bootId: string;
  /** The VM's identity (`InstanceID` of the status), when known. */
  instanceId?: string;
}

export type StatusState = "online" | "offline" | "superseded";

/** Why and by whom an incarnation stands down: the `SupersededBy` of its last status, and its log line. */
export interface Supersession {
  /** What told it: another incarnation's retained status, or a plan for a newer generation. */
  source: "status" | "plan";
  generation: number;
  /** The newer incarnation's, when its status said so. */
  bootId?: string;
  startedAt?: string;
  /** The plan that carried the newer generation. */
  planId?: string;
  /** One sentence for operators. */
  reason: string;
}

/** The status fields the comparison reads (SPEC 8 has more). */
interface SeenStatus {
  State: StatusState;
  AgentID: string;
  Generation: number;
  BootId: string;
  StartedAt?: string;
  LastWill?: boolean;
  InstanceID?: string;
}

export type StatusVerdict =
  /** This process's own status (the broker echoes what it publishes), or one not about this agent. */
  | { kind: "ignore"; why: string }
  /** A lower incarnation (or one that left): publish ours again so that it (and the engines) see ours. */
  | { kind: "older"; other: Incarnation; state: StatusState }
  /** A live higher incarnation: stand down. */
  | { kind: "newer"; by: Supersession };

/** Negative when `a` comes before `b` (older), positive when after; never 0 for two different boot ids. */
export function compareIncarnations(a: Incarnation, b: Incarnation): number {
  if (a.generation !== b.generation) return a.generation - b.generation;
  const startA = Date.parse(a.startedAt) || 0;
  const startB = Date.parse(b.startedAt) || 0;
  if (startA !== startB) return startA - startB;
  return a.bootId < b.bootId ? -1 : a.bootId > b.bootId ? 1 : 0;
}

/**
 * Judges a status received on the agent's own status topic. `takenOver`: this process has lost a session the way
 * a takeover does (MQTT 5 DISCONNECT 0x8E, or an established session closed by the broker with nothing of ours in
 * flight), so a same-generation Last Will may be a live rival's.
 */
export function judgeStatus(
  payload: Uint8Array,
  self: Incarnation,
  options: { takenOver: boolean },
): StatusVerdict {
  const seen = read(payload);
  if (typeof seen === "string") return { kind: "ignore", why: seen };
  if (seen.BootId === self.bootId) return { kind: "ignore", why: "this process's own status" };
  if (seen.AgentID !== self.agentId) return { kind: "ignore", why: `the status of agent ${seen.AgentID}` };
  const other: Incarnation = {
    agentId: seen.AgentID,
    generation: seen.Generation,
    // A status without a start time (an older idem) ranks before any that has one, at equal generation.
    startedAt: seen.StartedAt ?? "",
    bootId: seen.BootId,
    ...(seen.InstanceID === undefined ? {} : { instanceId: seen.InstanceID }),
  };
  const startedLater = Date.parse(other.startedAt) > Date.parse(self.startedAt);
  const thisVm = self.instanceId !== undefined && other.instanceId === self.instanceId;
  if (thisVm && !(seen.State === "online" && startedLater))
    return { kind: "older", other, state: seen.State };
  if (compareIncarnations(other, self) < 0) return { kind: "older", other, state: seen.State };
  const by = { source: "status" as const, generation: other.generation, bootId: other.bootId };
  const started = { ...by, startedAt: other.startedAt };
  if (other.generation > self.generation) {
    return {
      kind: "newer",
      by: {
        ...started,
        reason: `the status of generation ${other.generation} (${seen.State}) is newer than this agent's generation ${self.generation}`,
      },
    };
  }
  const sameGeneration = `with the same generation ${self.generation} started later (${other.startedAt}, this one ${self.startedAt})`;
  if (seen.State === "online") {
    return { kind: "newer", by: { ...started, reason: `another incarnation ${sameGeneration} is online` } };
  }
  if (seen.State === "offline" && seen.LastWill === true && options.takenOver) {
    return {
      kind: "newer",
      by: {
        ...started,
        reason: `another incarnation ${sameGeneration} lost its connection (Last Will) while this one lost its session to a client with the same client id`,
      },
    };
  }
  return { kind: "older", other, state: seen.State };
}

const STATES = new Set(["online", "offline", "superseded"]);

/** The fields of a status payload, or why it is not one to compare with. */
function read(payload: Uint8Array): SeenStatus | string {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return payload.length === 0 ? "an empty status (retained status cleared)" : "a status that is not JSON";
  }
  if (typeof value !== "object" || value === null) return "a status that is not a JSON object";
  const s = value as Record<string, unknown>;
  if (typeof s.State !== "string" || !STATES.has(s.State)) return "a status without a known State";
  if (typeof s.AgentID !== "string") return "a status without an AgentID";
  if (!Number.isSafeInteger(s.Generation) || (s.Generation as number) < 0)
    return "a status without a Generation";
  if (typeof s.BootId !== "string" || s.BootId === "") return "a status without a BootId";
  const seen: SeenStatus = {
    State: s.State as StatusState,
    AgentID: s.AgentID,
    Generation: s.Generation as number,
    BootId: s.BootId,
  };
  if (typeof s.StartedAt === "string" && !Number.isNaN(Date.parse(s.StartedAt))) seen.StartedAt = s.StartedAt;
  if (s.LastWill === true) seen.LastWill = true;
  if (typeof s.InstanceID === "string" && s.InstanceID !== "") seen.InstanceID = s.InstanceID;
  return seen;
}
