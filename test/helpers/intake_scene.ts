/**
 * The real intake without a transport: real policies, a real LMDB journal in a fresh folder, events collected.
 * For pipeline tests that feed `takeMessage` directly (test/pipeline/*). Close it with `close()`.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../../agent/config.ts";
import { Journal } from "../../agent/journal/journal.ts";
import { createLogger } from "../../agent/log.ts";
import type { AgentEvent, PipelineContext } from "../../agent/pipeline/context.ts";
import { DecodedPlans } from "../../agent/pipeline/decoded_plans.ts";
import { loadPolicies } from "../../agent/policies.ts";

export interface IntakeScene {
  ctx: PipelineContext;
  journal: Journal;
  /** Every event intake emitted, in order. */
  events: AgentEvent[];
  close(): Promise<void>;
}

/** An agent `vm-1` with the built-in policies; its data dir is a fresh temp folder named after `name`. */
export async function intakeScene(name: string): Promise<IntakeScene> {
  const dir = await mkdtemp(join(tmpdir(), `idem-${name}-`));
  const config = resolveConfig({ agentId: "vm-1", dataDir: dir });
  const journal = Journal.open(dir);
  const events: AgentEvent[] = [];
  const ctx: PipelineContext = {
    config,
    journal,
    policies: await loadPolicies([]),
    log: createLogger({ write: () => {} }),
    defaultReplyTopic: "idem/vm-1/results",
    decodedPlans: new DecodedPlans(),
    generation: () => Math.max(config.generation ?? 0, journal.highWater()),
    facts: () => ({ agentId: config.agentId, generation: ctx.generation() }),
    emit: (event) => void events.push(event),
    afterCommit: () => {},
    supersede: () => {},
  };
  return {
    ctx,
    journal,
    events,
    close: async () => {
      await journal.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
