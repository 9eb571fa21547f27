/**
 * dist/idem.mjs runs as it is on Node 24 and on Deno (with the permissions of docs/deploy.md): it runs a plan,
 * evaluates Bodies in a worker process started from itself (a Timeout kills a Body computing forever), replays a
 * duplicate, and loads policy plugins from disk (ESM on Node, TypeScript on Deno) that import `idem`.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { connectEngine, type Engine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { BUNDLE, DENO_PERMISSIONS, denoBinary, ensureBuilt } from "./runtimes.ts";

let broker: MosquittoBroker;
let folder: string;
const engines: Engine[] = [];

before(async () => {
  ensureBuilt({ executable: false });
  broker = await startBroker();
  folder = await makeTempDir("bundle");
  const plugins = join(folder, "plugins");
  mkdirSync(plugins);
  writeFileSync(
    join(plugins, "frozen-esm.mjs"),
    [
      'import { definePolicy, ErrorCode } from "idem";',
      "export default definePolicy({",
      '  name: "frozen-esm",',
      '  decide: ({ key }) => ({ kind: "reject", code: ErrorCode.IdempotencyConflict, message: key + " is frozen" }),',
      "});",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(plugins, "frozen-ts.ts"),
    [
      'import { type Decision, definePolicy, ErrorCode } from "idem";',
      "export default definePolicy({",
      '  name: "frozen-ts",',
      "  decide: ({ key }): Decision => ({",
      '    kind: "reject",',
      "    code: ErrorCode.IdempotencyConflict,",
      '    message: key + " is frozen",',
      "  }),",
      "});",
      "",
    ].join("\n"),
  );
});

after(async () => {
  for (const engine of engines) await engine.close().catch(() => {});
  await broker?.dispose();
  if (folder) await removeDir(folder);
});

/** What each descriptor of process `pid` is (`socket:[inode]`, `pipe:[inode]`, a path); gone ones left out. */
function descriptors(pid: number): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {}
  }
  return targets;
}

/**
 * What a child of the agent holds that it can only have inherited from the agent: the agent's sockets (the data
 * dir's owner lock, the broker connection) and the journal's files. A child holding the lock
 * keeps the next agent on that data dir from starting (exit 2) as long as it lives.
 */
function inherited(agentPid: number, held: readonly string[], dataDir: string): string[] {
  const agentSockets = new Set(descriptors(agentPid).filter((target) => target.startsWith("socket:")));
  const journal = join(dataDir, "journal");
  return held.filter((target) => agentSockets.has(target) || target.startsWith(journal));
}

/** A plan whose one script prints what its descriptors are, one per line. */
function descriptorPlan(effects: string) {
  const script = '#!/bin/sh\nfor f in /proc/$$/fd/*; do readlink "$f"; done\nexit 0\n';
  return applicationPlan({
    effects,
    tag: "fds",
    body: "return fds().stdout",
    extra: {
      Scripts: { fds: { Type: "Application", Version: "1.0.0", EntryPoint: "e", Files: [], Options: {} } },
      Files: { e: { Name: "fds.sh", BodyType: "Text", Body: script } },
    },
  });
}

const runtimes = [
  { name: "Node 24", command: [process.execPath, BUNDLE], policy: "frozen-esm" },
  { name: "Deno", command: [denoBinary(), "run", ...DENO_PERMISSIONS, BUNDLE], policy: "frozen-ts" },
] as const;

for (const runtime of runtimes) {
  test(`dist/idem.mjs on ${runtime.name} runs a plan, uses a plugin, and replays duplicates across a restart`, async () => {
    const agentId = uniqueAgentId(runtime.name.replace(/\W/g, "").toLowerCase());
    const effects = join(folder, `effects-${agentId}.log`);
    const start = () =>
      startAgent({
        broker,
        agentId,
        dataDir: join(folder, agentId),
        plugins: [join(folder, "plugins")],
        command: runtime.command,
      });
    const engine = await connectEngine(broker, { agentId });
    engines.push(engine);
    let agent = await start();
    try {
      const first = applicationPlan({ effects, tag: "bundle" });
      await engine.send(first);
      const ran = await engine.waitForResult(first.ID);
      assert.equal(ran.ErrorCode, 0, JSON.stringify(ran));

      // The Body runs in a worker process the bundle starts from itself: it computes, and its Timeout kills it.
      const computed = applicationPlan({ effects, tag: "sum", body: "return [sum(range(10**5)), args.tag]" });
      await engine.send(computed);
      assert.deepEqual((await engine.waitForResult(computed.ID)).Body, [4999950000, "sum"]);

      // Neither the Body worker (idle now) nor a script inherits the agent's descriptors (sealed_stdio.ts).
      const dataDir = join(folder, agentId);
      const children = readFileSync(`/proc/${agent.pid}/task/${agent.pid}/children`, "utf8")
        .trim()
        .split(/\s+/);
      assert.ok(children.length > 0 && children[0] !== "", "the idle Body worker is the agent's child");
      for (const child of children)
        assert.deepEqual(inherited(agent.pid, descriptors(Number(child)), dataDir), []);
      const fds = descriptorPlan(effects);
      await engine.send(fds);
      const listed = await engine.waitForResult(fds.ID);
      assert.equal(listed.ErrorCode, 0, JSON.stringify(listed));
      assert.deepEqual(inherited(agent.pid, String(listed.Body).trim().split("\n"), dataDir), []);
      const forever = applicationPlan({
        effects,
        tag: "forever",
        body: "for x in range(10**12):\n  pass",
        timeout: 2,
      });
      await engine.send(forever);
      assert.equal((await engine.waitForResult(forever.ID, 15_000)).ErrorCode, 101);

      const resent = applicationPlan({ effects, tag: "bundle" });
      await engine.send(resent);
      const replayed = await engine.waitForResult(resent.ID);
      assert.equal(replayed.Idem?.Decision, "replay", JSON.stringify(replayed));
      assert.equal(readExecutions(effects).executions.length, 1);

      const frozen = applicationPlan({
        effects,
        tag: "other",
        idempotency: { Policy: runtime.policy, Key: "k9" },
      });
      await engine.send(frozen);
      const rejected = await engine.waitForResult(frozen.ID);
      assert.equal(rejected.ErrorCode, 303, JSON.stringify(rejected));
      assert.match(JSON.stringify(rejected), /k9 is frozen/);

      // Restarted on a journal with records: their string keys are read back at start (see build.mjs).
      assert.equal((await agent.stop()).code, 0, agent.lines.slice(-20).join("\n"));
      agent = await start();
      const again = applicationPlan({ effects, tag: "bundle" });
      await engine.send(again);
      const replayedAgain = await engine.waitForResult(again.ID);
      assert.equal(replayedAgain.Idem?.Decision, "replay", JSON.stringify(replayedAgain));
      assert.equal(readExecutions(effects).executions.length, 1);
    } finally {
      assert.equal((await agent.stop()).code, 0, agent.lines.slice(-20).join("\n"));
    }
  });
}
