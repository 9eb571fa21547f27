/**
 * A full disk at every journal commit of a run, and at intake (issue 7). The agent's data dir is on a small
 * tmpfs; a `:pause` failpoint stops the agent just before the commit under test, the test fills the disk and
 * lets the agent go on. That commit fails; the agent must neither crash, nor answer what is not durable, nor
 * lose the plan or its result, nor run the script twice. Once there is space again the plan is answered, and
 * its script ran exactly once.
 *
 * Every commit must grow the journal's file for the disk to matter: the plan carries 200 KB (the intake and
 * the result commits write it), and a reader holds the journal's snapshot from before the plan, so that no
 * commit of the run can reuse pages that earlier ones freed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { FailpointName } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { CAN_MOUNT, holdJournalSnapshot, mountSmallDisk } from "../helpers/small_disk.ts";

/** A journal write refused for want of space: ENOSPC, or EIO when LMDB's write was cut short by it. */
const NO_SPACE = "([Nn]o space left on device|Input/output error)";
const PAGE = 4096;

interface Point {
  name: FailpointName;
  /** The commit that follows the point. */
  commit: string;
  /** The log lines, in order, that show that commit failed (and what the agent does about it). */
  failed: RegExp[];
  /** How many times the script ran when the commit failed. */
  ranBefore: 0 | 1;
  /** The result was published before the point (nothing of it depends on the failed commit). */
  answeredBefore?: boolean;
  /** Room left on the disk when it is filled (default none). */
  leaveBytes?: (dataDir: string) => number;
  /**
   * The plan's policy (default the agent's, skip-if-identical). The start is a commit of its own only for a policy
   * that does not run interrupted plans again (run-once-ever); the others' starts ride in the decision's commit
   * (docs/reliability.md, "What waits for an fsync"), which `before-commit` covers.
   */
  policy?: string;
  /** A known defect of the agent: the case runs and is reported, but does not fail the run. */
  todo?: string;
}

const points: Point[] = [
  {
    name: "before-commit",
    commit: "the plan's decision (intake)",
    // Retried with backoff, the plan unacknowledged: the broker keeps it.
    failed: [/\bevent=intake-retry\b.*\bkind=environment\b.*No space left on device/],
    ranBefore: 0,
  },
  {
    name: "after-ack",
    commit: "the run's start",
    failed: [/\bevent=journal-retry\b.*\bstep=start\b.*\bkind=environment\b.*No space left on device/],
    ranBefore: 0,
    policy: "run-once-ever",
  },
  {
    name: "after-running",
    commit: "the script's process group",
    // A deferred write (journal.defer), riding in the result's batch: that batch fails, the process group is
    // logged as not recorded (it is for operators; start-up recovery finds orphans by their IDEM_JOURNAL mark) and
    // the result's commit is retried.
    failed: [
      new RegExp(String.raw`\bevent=pgid-not-recorded\b.*${NO_SPACE}`),
      new RegExp(String.raw`\bevent=journal-retry\b.*\bstep=finish\b.*\bkind=environment\b.*${NO_SPACE}`),
    ],
    ranBefore: 1,
    // The script's files are placed after the point: leave room for them, so that the disk is full exactly
    // when the process group is committed (see the last case for a disk that is already full then).
    leaveBytes: placementBytes,
  },
  {
    name: "before-finish",
    commit: "the result",
    // When the result's commit fails the work dir's removal starts (pipeline/execute.ts): pages it frees mid-write
    // can cut LMDB's write short (EIO) rather than refuse it (ENOSPC).
    failed: [
      new RegExp(String.raw`\bevent=journal-retry\b.*\bstep=finish\b.*\bkind=environment\b.*${NO_SPACE}`),
    ],
    ranBefore: 1,
  },
  {
    // The removal is a deferred write, committed on its own a second after the PUBACK: the disk is filled right
    // before that commit, after the work dir's removal (which frees pages) — at `after-publish` it was filled
    // before, and the work dir's pages sometimes made room for the commit.
    name: "deferred-commit",
    commit: "the outbox entry's removal",
    // Not retried, by design: an entry left in the outbox is published again after the next (re)connect, and
    // results are at-least-once (SPEC 5.2a). The reply itself was acknowledged by the broker already.
    failed: [new RegExp(String.raw`\bevent=outbox-remove-failed\b.*${NO_SPACE}`)],
    ranBefore: 1,
    answeredBefore: true,
  },
  {
    name: "after-running",
    commit: "the script's files (a disk already full at the start)",
    // Nothing of the plan ran yet: the execution is the environment's fault and is retried (SPEC 5.4).
    failed: [new RegExp(String.raw`\bevent=run-retry\b.*${NO_SPACE}`)],
    ranBefore: 0,
  },
];

/**
 * What placing the plan's script takes on the tmpfs: a page for each of its two small files and, for each of
 * their two symlinks whose target is too long to live in the inode (tmpfs: 128 bytes), one more.
 */
function placementBytes(dataDir: string): number {
  const target = join(dataDir, "work", "run-XXXXXX", randomUUID());
  return (2 + (target.length >= 128 ? 2 : 0)) * PAGE;
}

for (const point of points) {
  test(`with the disk full at ${point.commit} (${point.name}) the agent keeps running, loses nothing and runs the script once`, {
    timeout: 60_000,
    skip: CAN_MOUNT ? false : "mounting a small tmpfs needs root (CI runs as root)",
    ...(point.todo ? { todo: point.todo } : {}),
  }, async (t) => {
    const scene = await openScene(t, `disk-full-${point.name}`);
    const disk = await mountSmallDisk(t);
    const dataDir = join(disk.dir, "data");
    const release = join(scene.root, "release"); // off the full disk, so that the test can write it
    const agent = await scene.startAgent({
      dataDir,
      failpoint: `${point.name}:pause`,
      env: { IDEM_FAILPOINT_RELEASE: release },
    });
    holdJournalSnapshot(t, join(dataDir, "journal"));

    // 200 KB in the plan (journaled at intake) and in its result (journaled at the end, and published).
    const plan = applicationPlan({
      effects: scene.effects,
      tag: point.name,
      parameters: { pad: "x".repeat(200_000) },
      body: "return deploy(args.tag).stdout + args.pad",
      ...(point.policy ? { idempotency: { Policy: point.policy } } : {}),
    });
    const since = agent.mark();
    await scene.engine.send(plan);
    await agent.waitForLog(new RegExp(String.raw`\bevent=failpoint name=${point.name} action=pause\b`), {
      since,
    });
    disk.fill({ leaveBytes: point.leaveBytes?.(dataDir) ?? 0 });
    writeFileSync(release, "");
    for (const pattern of point.failed) await agent.waitForLog(pattern, { since });

    assert.equal(agent.exited, undefined, "the agent is still running");
    const early = scene.engine.resultsFor(plan.ID).length;
    if (point.answeredBefore) assert.ok(early >= 1, `the result was published before ${point.name}`);
    else assert.equal(early, 0, `no result while none is durable\n${scene.engine.summary()}`);
    const before = readExecutions(scene.effects);
    assert.equal(before.executions.length, point.ranBefore, `executions so far:\n${before.lines.join("\n")}`);

    disk.free();
    const [result] = await scene.engine.waitForResults(plan.ID);
    assert.equal(result?.ErrorCode, 0, JSON.stringify(result).slice(0, 500));
    assert.equal(result?.Idem?.Decision, "run");
    // At-least-once: a copy sent again is the same result, and nothing else was answered.
    const copies = new Set(scene.engine.results.map(({ result }) => JSON.stringify(result)));
    assert.equal(copies.size, 1, `every result received is the plan's one result\n${scene.engine.summary()}`);
    const effects = readExecutions(scene.effects);
    assert.equal(effects.executions.length, 1, `the script ran exactly once:\n${effects.lines.join("\n")}`);
    assert.equal(effects.executions[0]?.done, true);
    assert.equal(agent.exited, undefined, "the agent is still running");
  });
}

test("a script that fills the disk from its own folder: the result's commit fails, the work dir's removal frees the space, the result goes out", {
  timeout: 60_000,
  skip: CAN_MOUNT ? false : "mounting a small tmpfs needs root (CI runs as root)",
}, async (t) => {
  const scene = await openScene(t, "disk-full-by-script");
  const disk = await mountSmallDisk(t);
  const dataDir = join(disk.dir, "data");
  const agent = await scene.startAgent({ dataDir });
  // Old pages stay in use, so the result's commit needs new space (as in the cases above).
  holdJournalSnapshot(t, join(dataDir, "journal"));
  const fileId = randomUUID();
  const plan = {
    FormatVersion: "2.1.0",
    ID: randomUUID().replaceAll("-", ""),
    Parameters: { pad: "x".repeat(200_000) },
    Body: "return fill().stdout + args.pad",
    Scripts: { fill: { Type: "Application", EntryPoint: fileId, Files: [], Options: {} } },
    Files: {
      [fileId]: {
        Name: "fill.sh",
        BodyType: "Text",
        // Writes into its own folder (the work dir) until the disk is full, then ends well.
        Body: "#!/bin/sh\ndd if=/dev/zero of=fill bs=65536 2>/dev/null\necho filled",
      },
    },
  };
  const since = agent.mark();
  await scene.engine.send(plan);
  // Nothing frees the disk but the agent: the work dir goes once the result's commit has failed.
  const [result] = await scene.engine.waitForResults(plan.ID, 1, 30_000);
  assert.equal(result?.ErrorCode, 0, JSON.stringify(result).slice(0, 500));
  assert.ok(String(result?.Body).startsWith("filledxxx"), String(result?.Body).slice(0, 100));
  assert.ok(
    agent.matching(new RegExp(String.raw`\bevent=journal-retry\b.*\bstep=finish\b.*${NO_SPACE}`), since)
      .length >= 1,
    `the result's commit found the disk full first\n${agent.tail()}`,
  );
  assert.equal(agent.exited, undefined, "the agent is still running");
});
