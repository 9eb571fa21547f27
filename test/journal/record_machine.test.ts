/**
 * Model-based property test of the record state machine (agent/journal/record.ts) with the real policies and
 * the real decide stage: random sequences of sends (fresh IDs, re-sent IDs, explicit keys), starts, finishes,
 * crashes with recovery and forgets run against a small reference model, and after every step the invariants
 * of SPEC 5 hold:
 * - `accepted`/`running` ⇔ the key has queue entries, and the record's queue index is exactly its entries;
 * - a run-once-ever key never starts twice (until forgotten);
 * - revisions only grow;
 * - at the end, once the queue is drained, every send was answered exactly once.
 * Pure logic (no journal I/O): the journal's own tests cover LMDB.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as machine from "../../agent/journal/record.ts";
import type { Decision, Policy } from "../../agent/mod.ts";
import { nextRecord } from "../../agent/pipeline/commit.ts";
import type { PipelineContext, PlanRequest } from "../../agent/pipeline/context.ts";
import { callPolicy, decide, policyContext, settle } from "../../agent/pipeline/decide.ts";
import always from "../../plugins/always.ts";
import runOnceEver from "../../plugins/run-once-ever.ts";
import skipIfIdentical from "../../plugins/skip-if-identical.ts";

const POLICIES = [always, skipIfIdentical, runOnceEver] as Policy[];
const MAX_INTERRUPTIONS = 3;

type Command =
  | { op: "send"; content: number; explicitKey: number | null; resend: number | null }
  | { op: "start" }
  | { op: "finish"; ok: boolean }
  | { op: "crash" }
  | { op: "forget"; key: number };

interface QueueItem {
  seq: number;
  key: string;
  planId: string;
  request: PlanRequest;
}

class World {
  records = new Map<string, machine.JournalRecord>();
  queue: QueueItem[] = [];
  seen = new Map<string, { key: string; fingerprint: string }>();
  sends = new Map<string, number>();
  answers = new Map<string, number>();
  starts = new Map<string, number>();
  sent: PlanRequest[] = [];
  running: QueueItem | undefined;
  boot = 1;
  seq = 0;
  clock = 0;
  readonly ctx: PipelineContext;

  constructor() {
    const registry = { get: (name: string) => POLICIES.find((p) => p.name === name), names: () => [] };
    this.ctx = {
      config: { agentId: "vm-1", policyTimeoutMs: 1000 },
      journal: { seen: (id: string) => this.seen.get(id), bootId: "boot" },
      policies: registry,
    } as unknown as PipelineContext;
  }

  now(): string {
    return new Date(Date.UTC(2026, 0, 1) + ++this.clock * 1000).toISOString();
  }

  answer(planId: string): void {
    this.answers.set(planId, (this.answers.get(planId) ?? 0) + 1);
  }

  put(record: machine.JournalRecord | undefined, before: machine.JournalRecord | undefined): void {
    if (!record) return;
    if (before) assert.ok(record.revision > before.revision, "every transition bumps the revision");
    this.records.set(record.key, record);
  }

  async send(command: Extract<Command, { op: "send" }>): Promise<void> {
    const earlier =
      command.resend === null ? undefined : this.sent[command.resend % Math.max(1, this.sent.length)];
    const content = command.content;
    const fingerprint = `sha256:content-${content}`;
    // The policy is a property of the key, so that "run-once-ever never runs twice" is about one policy.
    const key = command.explicitKey === null ? fingerprint : `key-${command.explicitKey}`;
    const policyName = POLICIES[(command.explicitKey ?? content) % POLICIES.length]?.name ?? "always";
    const planId = earlier?.planId ?? `plan-${this.sent.length}`;
    const request: PlanRequest = {
      planId,
      plan: { ID: planId, Body: "", Scripts: {}, Files: {} },
      text: "{}",
      exact: new Map(),
      target: { topic: "idem/vm-1/results", sourceId: planId },
      key,
      explicitKey: command.explicitKey !== null,
      fingerprint,
      policyName,
      options: {},
      planGeneration: null,
      generation: 0,
      adopt: false,
      timeoutSeconds: null,
      received: new Date(this.now()),
    };
    this.sent.push(request);
    this.sends.set(planId, (this.sends.get(planId) ?? 0) + 1);
    const current = this.records.get(key);
    const decision = await decide(request, current, this.ctx);
    const seq = decision.kind === "run" ? ++this.seq : 0;
    this.put(nextRecord(current, decision, request, seq), current);
    if (!this.seen.get(planId)) this.seen.set(planId, { key, fingerprint });
    if (decision.kind === "run") this.queue.push({ seq, key, planId, request });
    if (decision.kind === "replay" || decision.kind === "reject") this.answer(planId);
  }

  start(): void {
    if (this.running) return;
    const item = this.queue.find((q) => this.records.get(q.key)?.queued[0] === q.seq);
    if (!item) return;
    const record = this.records.get(item.key) as machine.JournalRecord;
    if (record.state === "interrupted") return; // recovery decides it first
    this.put(machine.start(record, { time: this.now(), bootId: `boot-${this.boot}` }), record);
    this.starts.set(item.key, (this.starts.get(item.key) ?? 0) + 1);
    this.running = item;
  }

  finish(ok: boolean): void {
    const item = this.running;
    if (!item) return;
    const record = this.records.get(item.key) as machine.JournalRecord;
    const time = this.now();
    const result = {
      errorCode: ok ? 0 : 100,
      body: "null",
      time,
      ranAs: item.planId,
      attempt: record.attempts,
    };
    const done = machine.finish(record, {
      time,
      planId: item.planId,
      fingerprint: item.request.fingerprint,
      seq: item.seq,
      result,
    });
    this.put(done.record, record);
    this.queue = this.queue.filter((q) => q.seq !== item.seq);
    this.answer(item.planId);
    for (const waiter of done.waiters) this.answer(waiter.sourceId);
    this.running = undefined;
  }

  /** kill -9 of the agent, then start-up recovery as recovery.ts does it. */
  async crash(): Promise<void> {
    this.running = undefined;
    this.boot++;
    const oldest = new Map<string, QueueItem>();
    for (const item of this.queue) if (!oldest.has(item.key)) oldest.set(item.key, item);
    for (const item of oldest.values()) {
      const record = this.records.get(item.key) as machine.JournalRecord;
      if (record.state !== "running" && record.state !== "interrupted") continue;
      const at = { time: this.now(), planId: item.planId, fingerprint: item.request.fingerprint };
      const next = record.state === "running" ? machine.interrupt(record, at) : record;
      if (next !== record) this.put(next, record);
      const decision = await this.decideAgain(item, next);
      if (decision.kind === "run" || decision.kind === "join") {
        this.put(machine.reopen(next, { time: this.now() }), next);
        continue;
      }
      const code = decision.kind === "reject" ? decision.code : 0;
      const given = machine.abandon(next, { ...at, seq: item.seq, code });
      this.put(given.record, next);
      this.queue = this.queue.filter((q) => q.seq !== item.seq);
      this.answer(item.planId);
      for (const waiter of given.waiters) this.answer(waiter.sourceId);
    }
  }

  async decideAgain(item: QueueItem, record: machine.JournalRecord): Promise<Decision> {
    if (machine.interruptions(record, item.planId) >= MAX_INTERRUPTIONS) {
      return { kind: "reject", code: 304, message: "interrupted too often" };
    }
    const policy = POLICIES.find((p) => p.name === item.request.policyName) as Policy;
    const decision = await callPolicy(policy, policyContext(item.request, record, this.ctx), 1000);
    return decision.kind === "join" ? decision : settle(decision, record);
  }

  forget(index: number): void {
    const key = [...this.records.keys()][index % Math.max(1, this.records.size)];
    const record = key === undefined ? undefined : this.records.get(key);
    if (!record || key === undefined) return;
    try {
      machine.forget(record);
    } catch {
      assert.ok(record.queued.length > 0 || record.state === "accepted" || record.state === "running");
      return;
    }
    this.records.delete(key);
    this.starts.delete(key);
  }

  check(): void {
    for (const record of this.records.values()) {
      const entries = this.queue.filter((q) => q.key === record.key).map((q) => q.seq);
      assert.deepEqual(record.queued, entries, `queue index of ${record.key} is its queue entries`);
      if (record.state === "accepted" || record.state === "running") {
        assert.ok(record.queued.length > 0, `${record.key} is ${record.state} with nothing queued`);
      } else if (record.state !== "interrupted") {
        assert.equal(record.queued.length, 0, `${record.key} is ${record.state} with plans queued`);
      }
      if (record.policy === "run-once-ever") {
        assert.ok((this.starts.get(record.key) ?? 0) <= 1, `run-once-ever key ${record.key} started twice`);
      }
    }
    const running = [...this.records.values()].filter(
      (r) => r.state === "running" && r.bootId === `boot-${this.boot}`,
    );
    assert.ok(running.length <= (this.running ? 1 : 0), "only the plan being run is running");
  }

  async drain(): Promise<void> {
    for (let guard = 0; this.queue.length > 0; guard++) {
      assert.ok(guard < 10_000, "the queue drains");
      if ([...this.records.values()].some((r) => r.state === "interrupted" && r.queued.length > 0)) {
        await this.crash();
      }
      this.start();
      this.finish(true);
      this.check();
    }
  }
}

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("send" as const),
      content: fc.nat(5),
      explicitKey: fc.option(fc.nat(3), { nil: null }),
      resend: fc.option(fc.nat(), { freq: 3, nil: null }),
    }),
    weight: 4,
  },
  { arbitrary: fc.constant({ op: "start" as const }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("finish" as const), ok: fc.boolean() }), weight: 3 },
  { arbitrary: fc.constant({ op: "crash" as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("forget" as const), key: fc.nat() }), weight: 1 },
);

test("random command sequences keep SPEC 5's invariants and answer every send exactly once", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { maxLength: 60 }), async (commands) => {
      const world = new World();
      for (const c of commands) {
        if (c.op === "send") await world.send(c);
        else if (c.op === "start") world.start();
        else if (c.op === "finish") world.finish(c.ok);
        else if (c.op === "crash") await world.crash();
        else world.forget(c.key);
        world.check();
      }
      await world.drain();
      for (const [planId, sends] of world.sends) {
        assert.equal(
          world.answers.get(planId) ?? 0,
          sends,
          `plan ${planId}: ${sends} sends, answered ${world.answers.get(planId) ?? 0}`,
        );
      }
    }),
    { numRuns: Number(process.env.IDEM_PROPERTY_RUNS ?? 1000), verbose: 1 },
  );
});
