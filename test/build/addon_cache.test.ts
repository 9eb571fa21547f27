/**
 * Issue 9 item 4, SPEC 9a: dist/idem loads each of its native addons (lmdb's, koffi's) only when the file's content
 * hashes to the SHA-256 built into it, from a cache folder of the agent's user that nobody else may write to. A
 * planted `<sha256>.node` (right name and size, other content) is not loaded: it is replaced by the embedded addon,
 * with a warning. A
 * world-writable cache folder, or one of another user, stops the executable at start with a message naming it and
 * what to do.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { EXECUTABLE, ensureBuilt } from "./runtimes.ts";

const isRoot = process.getuid?.() === 0;
let broker: MosquittoBroker;
let folder: string;
/** The addons' cache file names and sizes, as a clean first start writes them. */
let addons: Array<{ name: string; size: number }>;

/** Starts dist/idem with `IDEM_CACHE_DIR=cache` (IDEM_LMDB_ADDON cleared: the embedded addon is used). */
function startExecutable(name: string, cache: string, waitOnline: boolean) {
  return startAgent({
    broker,
    agentId: uniqueAgentId(`addon-${name}`),
    dataDir: join(folder, `data-${name}`),
    command: [EXECUTABLE],
    env: { IDEM_CACHE_DIR: cache, IDEM_LMDB_ADDON: "" },
    waitOnline,
  });
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

before(async () => {
  ensureBuilt({ executable: true });
  broker = await startBroker({ durable: false });
  folder = await makeTempDir("addon-cache");
  const cache = join(folder, "cache-clean");
  const agent = await startExecutable("clean", cache, true);
  assert.equal((await agent.stop()).code, 0, agent.tail());
  const names = readdirSync(cache).filter((file) => file.endsWith(".node"));
  assert.equal(names.length, 2, "the first start wrote both addons (lmdb's and koffi's)");
  addons = names.map((name) => ({ name, size: statSync(join(cache, name)).size }));
  for (const { name } of addons)
    assert.equal(`${sha256(join(cache, name))}.node`, name, "named by its content");
  assert.equal(statSync(cache).mode & 0o777, 0o700);
});

after(async () => {
  await broker?.dispose();
  if (folder) await removeDir(folder);
});

test("planted addons of the right name and size are not loaded: each is replaced, with a warning", async () => {
  const cache = join(folder, "cache-planted");
  mkdirSync(cache, { mode: 0o700 });
  for (const addon of addons) {
    // Loading this would fail ("invalid ELF header").
    writeFileSync(join(cache, addon.name), randomBytes(addon.size));
  }
  const agent = await startExecutable("planted", cache, true);
  const warnings = agent.matching(/\bevent=native-addon-replaced\b/);
  for (const addon of addons) {
    const planted = join(cache, addon.name);
    const warning = warnings.find((line) => line.includes(planted));
    assert.ok(warning && /is not the addon built in/.test(warning), agent.tail());
    assert.equal(`${sha256(planted)}.node`, addon.name, "the embedded addon took its place");
  }
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

test("an addon file others may write to is replaced, although its content is right", async () => {
  const cache = join(folder, "cache-open-file");
  mkdirSync(cache, { mode: 0o700 });
  const addon = addons[0] as { name: string };
  const file = join(cache, addon.name);
  writeFileSync(file, readFileSync(join(folder, "cache-clean", addon.name)));
  chmodSync(file, 0o666);
  const agent = await startExecutable("open-file", cache, true);
  assert.match(
    agent.matching(/\bevent=native-addon-replaced\b/)[0] ?? agent.tail(),
    /others may write to it/,
  );
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal((await agent.stop()).code, 0, agent.tail());
});

for (const [what, prepare, reason] of [
  [
    "world-writable",
    (cache: string) => chmodSync(cache, 0o777),
    /all other users may write to it \(mode 0777\)/,
  ],
  ["group-writable", (cache: string) => chmodSync(cache, 0o770), /its group may write to it \(mode 0770\)/],
  ["another user's", (cache: string) => chownSync(cache, 65534, 65534), /belongs to uid 65534/],
] as const) {
  test(`a ${what} cache folder stops the executable at start, saying why and what to set`, {
    skip: what === "another user's" && !isRoot ? "needs root to give a folder to another user" : false,
  }, async () => {
    const cache = join(folder, `cache-${what.replace(/\W/g, "")}`);
    mkdirSync(cache, { mode: 0o700 });
    prepare(cache);
    const agent = await startExecutable(what.replace(/\W/g, ""), cache, false);
    const exit = await agent.waitForExit();
    const log = agent.lines.join("\n");
    assert.equal(exit.code, 2, log);
    assert.ok(log.includes(`cache folder of the native addons ${cache}`), log);
    assert.match(log, reason);
    assert.match(log, /set IDEM_CACHE_DIR to a folder that only the agent's user can write to/);
    assert.deepEqual(readdirSync(cache), [], "nothing written there");
    assert.equal(agent.matching(/\bevent=online\b/).length, 0);
  });
}

test("an addon the cache folder takes only in part (a file size limit) stops the start with a message, never a crash", async () => {
  const cache = join(folder, "cache-short");
  // The first addon is 0.7 MB, the second 1.1 MB: a 500 kB file size limit cuts the first write short.
  const agent = await startAgent({
    broker,
    agentId: uniqueAgentId("addon-short"),
    dataDir: join(folder, "data-short"),
    command: ["sh", "-c", 'ulimit -f 500; exec "$0" "$@"', EXECUTABLE],
    env: { IDEM_CACHE_DIR: cache, IDEM_LMDB_ADDON: "" },
    waitOnline: false,
  });
  const exit = await agent.waitForExit();
  const log = agent.lines.join("\n");
  assert.deepEqual([exit.code, exit.signal], [2, null], log);
  assert.match(
    log,
    /Cannot write the lmdb native addon to the cache folder .* as it cannot be written to \(/,
  );
  assert.deepEqual(
    readdirSync(cache).filter((name) => name.endsWith(".node")),
    [],
    "no addon file left",
  );
});
