/**
 * SPEC 5.5, a damaged journal is never replaced silently. A stopped agent's journal is damaged, a plan is queued
 * for it at the broker (its persistent session keeps it), and `idem run` must exit 2 — by itself, never by a
 * signal (LMDB mapping a truncated file dies by SIGBUS) — with a message that says what is wrong and names
 * `--reset-journal`, having run and answered nothing. `--reset-journal` then sets the damaged journal aside
 * byte for byte, begins a new one, and the queued plan runs once.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { executableForAnyUser } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { damage, dataFile, journalDir, lockFile, setAsideFolders } from "../helpers/journal_files.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene, type Scene } from "../helpers/scene.ts";

interface Damage {
  name: string;
  /** Does the damage to the stopped agent's data dir. */
  apply(dataDir: string): void;
  /** What the refusal must say. */
  says: RegExp;
  /** The file (in the journal folder) the set-aside folder must hold as it was damaged. Default data.mdb. */
  kept?: string;
}

const damages: Damage[] = [
  { name: "a 0-byte data.mdb", apply: damage.empty, says: /data\.mdb is empty \(0 bytes\)/ },
  {
    // A deleted data file must not pass for a new journal: a run-once-ever plan would run again.
    name: "data.mdb deleted, lock.mdb left",
    apply: (d) => rmSync(dataFile(d)),
    says: /data\.mdb is missing, though the folder holds lock\.mdb/,
    kept: "lock.mdb",
  },
  {
    name: "data.mdb cut to half",
    apply: (d) => damage.truncate(d),
    says: /data\.mdb is truncated: \d+ bytes/,
  },
  {
    name: "data.mdb cut to 5000 bytes",
    apply: (d) => damage.truncate(d, 5000),
    says: /data\.mdb has 5000 bytes, less than its two header pages/,
  },
  {
    name: "the first 8 KiB of data.mdb zeroed",
    apply: (d) => damage.zeroStart(d, 8192),
    says: /neither header page of its data file data\.mdb is an LMDB header/,
  },
  {
    name: "data.mdb overwritten with random bytes",
    apply: damage.garbage,
    says: /neither header page of its data file data\.mdb is an LMDB header/,
  },
  {
    name: "lock.mdb overwritten with random bytes",
    apply: damage.garbageLock,
    says: /lock file lock\.mdb is not an LMDB lock file/,
    kept: "lock.mdb",
  },
  // Found by this suite: with its first header page zeroed (the second intact) LMDB died by SIGSEGV.
  {
    name: "the first 4 KiB of data.mdb zeroed",
    apply: (d) => damage.zeroStart(d, 4096),
    says: /the first header page of its data file data\.mdb is not an LMDB header/,
  },
  {
    name: "data.mdb a directory",
    apply: (d) => {
      rmSync(dataFile(d));
      mkdirSync(dataFile(d));
    },
    says: /data\.mdb is not a regular file/,
  },
  {
    name: "the journal folder a file",
    apply: (d) => {
      rmSync(journalDir(d), { recursive: true });
      writeFileSync(journalDir(d), "not a folder\n");
    },
    says: /journal: it is not a directory/,
    kept: "",
  },
  {
    name: "a huge sparse data.mdb of zeros",
    apply: (d) => {
      rmSync(dataFile(d));
      writeFileSync(dataFile(d), "");
      truncateSync(dataFile(d), 64 * 2 ** 30);
    },
    says: /neither header page/,
  },
];

/** A stopped agent with a journal holding one run, and the scene around it. */
async function usedJournal(t: TestContext, name: string, command?: string[]): Promise<Scene> {
  const scene = await openScene(t, name);
  const agent = await scene.startAgent(command ? { command } : {});
  const plan = applicationPlan({ effects: scene.effects, tag: "history" });
  await scene.engine.send(plan);
  assert.equal((await scene.engine.waitForResult(plan.ID)).ErrorCode, 0);
  assert.equal((await agent.stop()).code, 0, agent.tail());
  return scene;
}

for (const hurt of damages) {
  test(`${hurt.name}: exit 2 with what is wrong, nothing run; --reset-journal keeps it and starts anew`, {
    timeout: 60_000,
  }, async (t) => {
    const scene = await usedJournal(t, "damage");
    hurt.apply(scene.dataDir);
    const kept = hurt.kept ?? "data.mdb";
    const damaged = join(journalDir(scene.dataDir), kept);
    const { size } = statSync(damaged);
    const before = statSync(damaged).isFile() && size < 2 ** 26 ? readFileSync(damaged) : undefined;
    const queued = applicationPlan({ effects: scene.effects, tag: "queued" });
    await scene.engine.send(queued);

    const refused = await scene.startAgent({ waitOnline: false });
    const exit = await refused.waitForExit();
    assert.deepEqual(exit, { code: 2, signal: null }, refused.tail());
    const said = refused.lines.join("\n");
    assert.match(said, hurt.says, refused.tail());
    assert.match(said, /--reset-journal/, refused.tail());
    assert.deepEqual(setAsideFolders(scene.dataDir, "reset"), [], "nothing set aside without being told");
    assert.equal(readExecutions(scene.effects).executions.length, 1, "only the earlier plan ever ran");
    assert.deepEqual(scene.engine.resultsFor(queued.ID), [], "the queued plan is not answered");

    const reset = await scene.startAgent({ extraArgs: ["--reset-journal"] });
    const [aside, ...others] = setAsideFolders(scene.dataDir, "reset");
    assert.ok(aside !== undefined && others.length === 0, "one journal.reset.<time> folder");
    await reset.waitForLog(new RegExp(`level=warn event=journal-set-aside .*reason=reset path=${aside}`));
    const keptCopy = join(aside, kept);
    if (before !== undefined) assert.ok(readFileSync(keptCopy).equals(before), `${keptCopy} kept as it was`);
    else assert.equal(statSync(keptCopy).size, size, `${keptCopy} kept`);

    const [result, ...more] = await scene.engine.waitForResults(queued.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result));
    assert.equal(more.length, 0, scene.engine.summary());
    await reset.waitForLog(/\bevent=finished\b/);
    const ran = readExecutions(scene.effects).executions.filter((e) => e.args === "queued");
    assert.equal(ran.length, 1, "the queued plan ran once, after the reset");
  });
}

test("a huge sparse data.mdb whose headers are whole is a journal like any other: a normal start", {
  timeout: 60_000,
}, async (t) => {
  const scene = await usedJournal(t, "damage-sparse");
  truncateSync(dataFile(scene.dataDir), 64 * 2 ** 30);
  const template = { effects: scene.effects, tag: "once", idempotency: { Policy: "run-once-ever" } };
  const agent = await scene.startAgent();
  const first = applicationPlan(template);
  await scene.engine.send(first);
  assert.equal((await scene.engine.waitForResult(first.ID)).Idem?.Decision, "run");
  assert.equal((await agent.stop()).code, 0, agent.tail());
  assert.ok(statSync(lockFile(scene.dataDir)).isFile());

  const again = await scene.startAgent();
  const second = applicationPlan(template);
  await scene.engine.send(second);
  assert.equal((await scene.engine.waitForResult(second.ID)).Idem?.Decision, "replay", "its history is kept");
  assert.deepEqual(setAsideFolders(scene.dataDir, "reset"), []);
  assert.deepEqual(again.matching(/event=journal-set-aside/), []);
});

test("an unreadable data.mdb (mode 000) is refused with exit 2, saying so", {
  timeout: 60_000,
}, async (t) => {
  // Root reads a file of mode 000 all the same: as root, the agent runs as nobody here.
  const asRoot = process.getuid?.() === 0;
  const command = asRoot
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...executableForAnyUser()]
    : undefined;
  const scene = await usedJournal(t, "damage-unreadable", command);
  chmodSync(dataFile(scene.dataDir), 0);
  const refused = await scene.startAgent({ waitOnline: false, ...(command ? { command } : {}) });
  assert.deepEqual(await refused.waitForExit(), { code: 2, signal: null }, refused.tail());
  assert.match(
    refused.lines.join("\n"),
    /Cannot open the journal in \S+: .*EACCES.*the agent's user/,
    refused.tail(),
  );
});
