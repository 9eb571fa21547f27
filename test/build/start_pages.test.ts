/**
 * The executable's start (agent/native/sea_main.ts, start_pages.ts): it compiles the agent's bundle with the code
 * cache of build.mjs's training run; once online the pages of its SEA blob (read only to start) are no longer in
 * its RSS, and once it has gone quiet neither are most of Node's code and constants, while plans still run.
 * Real executable, real broker, the agent's /proc/PID/smaps.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { after, before, test } from "node:test";
import { isMappingOf, mappingsOf, pagesOf } from "../../agent/native/mappings.ts";
import { readOnlySegments, seaBlobInFile } from "../../agent/native/start_pages.ts";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { connectEngine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { EXECUTABLE, ensureBuilt } from "./runtimes.ts";

let broker: MosquittoBroker;
let folder: string;

before(async () => {
  ensureBuilt({ executable: true });
  broker = await startBroker({ durable: false });
  folder = await makeTempDir("start-pages");
});

after(async () => {
  await broker?.dispose();
  if (folder) await removeDir(folder);
});

/** kB of resident pages of `pid` within [address, address + length), from smaps (whole VMAs that overlap). */
function residentKb(pid: number, address: bigint, length: bigint): { kb: number; vmas: number } {
  let kb = 0;
  let vmas = 0;
  let inside = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (head) {
      const from = BigInt(`0x${head[1]}`);
      const to = BigInt(`0x${head[2]}`);
      inside = from < address + length && to > address;
      if (inside) vmas++;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && inside) kb += Number(rss[1]);
  }
  return { kb, vmas };
}

/** kB of the executable's read-only segments resident in process `pid`. */
function residentReadOnlyKb(pid: number, exe: string): number {
  const readOnly = readOnlySegments(exe);
  return mappingsOf(readFileSync(`/proc/${pid}/smaps`, "utf8"))
    .filter(
      (m) => m.path === exe && readOnly.some((r) => m.offset >= r.offset && m.offset < r.offset + r.size),
    )
    .reduce((sum, m) => sum + residentKb(pid, m.from, m.to - m.from).kb, 0);
}

test("the executable takes the code cache its build trained", () => {
  const run = spawnSync(EXECUTABLE, ["--version"], {
    encoding: "utf8",
    env: { ...process.env, IDEM_DEBUG_CODE_CACHE: "1" },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /code cache taken/);
});

test("once it has first gone quiet, the agent holds none of its SEA blob's pages", async () => {
  const exe = realpathSync(EXECUTABLE);
  const blob = seaBlobInFile(exe);
  assert.ok(blob && blob.size > 1_000_000, `no SEA blob note in ${exe}`);
  const agent = await startAgent({
    broker: broker.url,
    agentId: uniqueAgentId("pages"),
    dataDir: `${folder}/data`,
    command: [exe],
    extraArgs: ["--log-level", "debug"],
  });
  try {
    // The first quiet moment (QUIET_MS after online, no plan): not at online, where it would delay a queued plan.
    await agent.waitForLog(/event=start-pages-released/);
    const mapping = mappingsOf(readFileSync(`/proc/${agent.pid}/smaps`, "utf8")).find(
      (m) => m.path === exe && pagesOf(m, blob) !== undefined,
    );
    const pages = mapping && pagesOf(mapping, blob);
    assert.ok(pages, "the blob is not mapped");
    const { kb, vmas } = residentKb(agent.pid, pages.address, pages.length);
    assert.ok(vmas >= 1);
    // Its own VMA (a LOAD segment of notes): a few pages stay (the other notes, the blob's header that Node reads
    // again); without the release all 5.5 MB do.
    assert.ok(kb <= 128, `${kb} kB of the blob's ${Number(pages.length) / 1024} kB are resident`);
    assert.equal(agent.matching(/event=start-pages-released/).length, 1);
  } finally {
    await agent.stop();
  }
});

test("once quiet, the agent holds little of Node's code and constants, and plans still run", async () => {
  const exe = realpathSync(EXECUTABLE);
  // As after a boot: a file just built sits in the page cache in large folios, and a page faulted back in would
  // map its whole folio (docs/benchmarks.md, "Start-up and idle memory").
  execFileSync("dd", [`if=${exe}`, "iflag=nocache", "count=0", "status=none"]);
  const agentId = uniqueAgentId("quiet");
  const agent = await startAgent({
    broker: broker.url,
    agentId,
    dataDir: `${folder}/quiet`,
    command: [exe],
    extraArgs: ["--log-level", "debug"],
  });
  const engine = await connectEngine(broker, { agentId });
  const effects = `${folder}/quiet-effects.log`;
  try {
    const first = applicationPlan({ effects, tag: "one" });
    await engine.send(first);
    assert.equal((await engine.waitForResult(first.ID)).ErrorCode, 0);
    // Read at once: the release comes 3.5 s after the agent went quiet (agent.ts).
    const before = residentReadOnlyKb(agent.pid, exe);
    await agent.waitForLog(/event=executable-pages-released/, { timeoutMs: 15_000 });
    const after = residentReadOnlyKb(agent.pid, exe);
    // Measured: 33 MB before (Node's text 20, its constants 13), 8 after (what the idle agent touches again: V8's
    // builtins, timers, GC).
    assert.ok(
      after < before / 2,
      `resident read-only pages of the executable: ${before} kB, then ${after} kB`,
    );
    const second = applicationPlan({ effects, tag: "two" });
    await engine.send(second);
    const result = await engine.waitForResult(second.ID);
    assert.deepEqual([result.ErrorCode, result.Idem?.Decision], [0, "run"], JSON.stringify(result));
  } finally {
    await engine.close();
    await agent.stop();
  }
});

test("mappingsOf tells a mapping with written pages from a clean one, a shared one from a private one, a writable one", () => {
  const smaps = [
    "00400000-00746000 r--p 00000000 fe:00 12                       /opt/idem",
    "Rss:                2008 kB",
    "Swap:                  0 kB",
    "Private_Dirty:         0 kB",
    "Anonymous:             0 kB",
    "06b52000-06b56000 r--p 06751000 fe:00 12                       /opt/idem",
    "Private_Dirty:        16 kB",
    "Anonymous:            16 kB",
    "7f0000000000-7f0000001000 rw-p 00000000 00:00 0",
    "Anonymous:             4 kB",
    "7f0000002000-7f0000003000 r-xp 00100000 fe:00 12                       /opt/idem",
    "Swap:                  4 kB",
    "7f0000004000-7f0000008000 r--s 00000000 fe:00 40                       /data/journal/data.mdb",
    "Private_Dirty:         0 kB",
  ].join("\n");
  const found = mappingsOf(smaps);
  assert.deepEqual(
    found.map((m) => [m.offset, m.path, m.written, m.shared, m.writable]),
    [
      [0, "/opt/idem", false, false, false],
      [0x6751000, "/opt/idem", true, false, false],
      [0, "", true, false, true],
      [0x100000, "/opt/idem", true, false, false],
      [0, "/data/journal/data.mdb", false, true, false],
    ],
  );
});

test("isMappingOf knows a file's mapping by its inode and device, or its inode and path where the devices differ", () => {
  const [ext4, btrfs, renamed, other, deleted] = mappingsOf(
    [
      "7f0000000000-7f0000001000 r--s 00000000 fe:00 40                       /data/journal/data.mdb",
      // btrfs: maps writes the superblock's device, stat the subvolume's (00:29 for this file)
      "7f0000002000-7f0000003000 r--s 00000000 00:28 40                       /data/journal/data.mdb",
      "7f0000004000-7f0000005000 r--s 00000000 fe:00 40                       /data/old/data.mdb",
      "7f0000006000-7f0000007000 r--s 00000000 00:28 41                       /data/journal/data.mdb",
      "7f0000008000-7f0000009000 r--s 00000000 00:28 40                       /data/journal/data.mdb (deleted)",
    ].join("\n"),
  );
  assert.ok(ext4 && btrfs && renamed && other && deleted);
  const onExt4 = { device: "fe:00", inode: 40, path: "/data/journal/data.mdb" };
  assert.equal(isMappingOf(ext4, onExt4), true);
  assert.equal(isMappingOf(renamed, onExt4), true, "same device and inode: the file, whatever its path now");
  const onBtrfs = { device: "00:29", inode: 40, path: "/data/journal/data.mdb" };
  assert.equal(isMappingOf(btrfs, onBtrfs), true, "btrfs: another device, same inode and path");
  assert.equal(isMappingOf(other, onBtrfs), false, "same path, another inode: another file");
  assert.equal(isMappingOf(deleted, onBtrfs), false, "another device and another path");
  assert.equal(
    isMappingOf(btrfs, { ...onBtrfs, path: undefined }),
    false,
    "no path to settle a device mismatch",
  );
});

test("pagesOf places a file range in a mapping, whole pages only", () => {
  const [mapping] = mappingsOf("0e7c0000-0ed40000 r--p 067c0000 fe:00 12                       /opt/idem");
  assert.ok(mapping);
  assert.deepEqual(pagesOf(mapping, { offset: 0x67c019c, size: 0x40e158 }), {
    address: 0xe7c1000n,
    length: 0x40d000n,
  });
  // Partly outside the mapping: only what it maps.
  assert.deepEqual(pagesOf(mapping, { offset: 0x67bf000, size: 0x3000 }), {
    address: 0xe7c0000n,
    length: 0x2000n,
  });
  assert.equal(pagesOf(mapping, { offset: 0x7000000, size: 10 }), undefined);
  assert.equal(pagesOf(mapping, { offset: 0x67c0010, size: 10 }), undefined);
});
