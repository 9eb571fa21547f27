/**
 * The start-up reaper (agent/reaper.ts) against real processes: it kills every process whose environment holds
 * this journal's mark as a whole entry, whatever the size of that environment and whatever characters the path
 * has, and nothing else — not a process marked with another journal, nor one whose entry only begins with this
 * journal's path, nor one where the mark is the tail of another entry.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { reapOrphans } from "../../agent/reaper.ts";
import { registerChild, unregisterChild } from "../helpers/children.ts";

/** A `sleep` with `env` (nothing else) in a process group of its own; it has exec'd once `spawn` is emitted. */
async function sleeper(env: Record<string, string>): Promise<ChildProcess> {
  // Its own process group, as a script has: the reaper kills whole groups.
  const child = spawn("/bin/sleep", ["60"], { env, stdio: "ignore", detached: true });
  registerChild(child);
  child.once("exit", () => unregisterChild(child));
  await once(child, "spawn");
  return child;
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

for (const [what, folder] of [
  ["an ASCII path", `/tmp/idem-reaper-test-${process.pid}`],
  ["a path that is not ASCII (matched as UTF-8 bytes)", `/tmp/idem-reaper-tést-日本-${process.pid}`],
] as const) {
  test(`reapOrphans kills the processes marked with this journal, and only those: ${what}`, () =>
    reaps(`${folder}/journal`));
}

async function reaps(journal: string): Promise<void> {
  const mark = { IDEM_JOURNAL: journal };
  const first = await sleeper(mark);
  // An environment far larger than the reaper's first read buffer, the mark last.
  const large = await sleeper({
    ...Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`PAD_${i}`, "x".repeat(100)])),
    ...mark,
  });
  const other = await sleeper({ IDEM_JOURNAL: `${journal}-other` });
  const prefix = await sleeper({ IDEM_JOURNAL: `${journal}x`, NOT_IDEM_JOURNAL: journal });
  try {
    const exits = [once(first, "exit"), once(large, "exit")];
    assert.equal(await reapOrphans(journal), 2);
    const signals = (await Promise.all(exits)).map(([, signal]) => signal);
    assert.deepEqual(signals, ["SIGKILL", "SIGKILL"]);
    assert.ok(alive(other), "a process of another journal survives");
    assert.ok(alive(prefix), "a process whose entries only contain the journal's path survives");
    assert.equal(await reapOrphans(journal), 0, "nothing is left to reap");
  } finally {
    for (const child of [first, large, other, prefix]) child.kill("SIGKILL");
  }
}
