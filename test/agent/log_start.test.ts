/**
 * A correct start logs no warning (issue 12 item 7): the embedded broker (aedes, MQTT 3.1.1) is joined with 3.1.1
 * at once, also on a restart over the same data dir; `broker.protocol: 5` with it is a start error (exit 2), not
 * an endless retry. A configured plugins folder that does not exist is one warning and the agent starts; one that
 * exists but cannot be read as a folder stops the start (exit 2) naming it.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { openScene } from "../helpers/scene.ts";
import { freePort } from "../helpers/server_process.ts";

const NOT_CLEAN = /\blevel=(warn|error)\b/;

test("the embedded broker starts, restarts and stops without a warning", { timeout: 60_000 }, async (t) => {
  const dir = await makeTempDir("embedded-clean");
  t.after(() => removeDir(dir));
  const port = await freePort();
  const options = {
    broker: `embedded:${port}`,
    agentId: uniqueAgentId("embedded"),
    dataDir: join(dir, "data"),
  };
  for (const round of ["first start", "restart"]) {
    const agent = await startAgent(options);
    try {
      assert.match(agent.matching(/\bevent=connected\b/)[0] ?? "", /\bprotocol=4\b/, agent.tail());
    } finally {
      assert.equal((await agent.stop()).code, 0, agent.tail());
    }
    assert.deepEqual(agent.matching(NOT_CLEAN), [], `${round}:\n${agent.tail()}`);
    assert.equal(agent.matching(/\bevent=stopped\b/).length, 1, agent.tail());
  }
});

test("broker.protocol 5 with the embedded broker is a start error naming the setting", {
  timeout: 60_000,
}, async (t) => {
  const dir = await makeTempDir("embedded-v5");
  t.after(() => removeDir(dir));
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify({ broker: { url: `embedded:${await freePort()}`, protocol: 5 } }));
  const agent = await startAgent({
    broker: `embedded:${await freePort()}`,
    agentId: uniqueAgentId("embedded-v5"),
    dataDir: join(dir, "data"),
    argv: ["run", "--config", config, "--data-dir", join(dir, "data")],
    waitOnline: false,
  });
  const exit = await agent.waitForExit();
  const said = agent.lines.join("\n");
  assert.equal(exit.code, 2, said);
  assert.match(said, /broker\.protocol 5 .*embedded broker.*3\.1\.1/, said);
});

test("a missing plugins folder is one warning and the agent runs; a plugins path that is a file stops it", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "plugins-missing");
  const missing = join(scene.root, "no-such-folder");
  const agent = await scene.startAgent({ plugins: [missing] });
  assert.equal((await agent.stop()).code, 0, agent.tail());
  const warned = agent.matching(NOT_CLEAN);
  assert.equal(warned.length, 1, agent.tail());
  assert.match(warned[0] ?? "", /level=warn event=plugins-missing path=\S*no-such-folder\b/);

  const file = join(scene.root, "plugins-file");
  writeFileSync(file, "not a folder\n");
  const refused = await scene.startAgent({ plugins: [file], waitOnline: false });
  const exit = await refused.waitForExit();
  const said = refused.lines.join("\n");
  assert.equal(exit.code, 2, said);
  assert.match(said, /Cannot read plugin directory \S*plugins-file\b.*ENOTDIR/, said);
});
