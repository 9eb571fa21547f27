/**
 * docs/plugins.md works when followed literally (issue 12 item 7): its complete plugin, taken from the markdown
 * code block itself (so a broken doc fails here), is copied into an empty temp folder outside the repository and
 * loaded by the single executable (`dist/idem run --plugins DIR`) and by the bundle on Node 24 (`node
 * dist/idem.mjs run --plugins DIR`); a plan selecting the policy gets its decisions (run, run, then 303). The
 * block is also `plugins/examples/max-runs.ts` word for word, which `test/e2e/plugins.test.ts` loads from the
 * sources.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeTempDir, removeDir, startAgent, uniqueAgentId } from "../helpers/agent_process.ts";
import { type MosquittoBroker, startBroker } from "../helpers/broker.ts";
import { readExecutions } from "../helpers/effects.ts";
import { connectEngine } from "../helpers/engine.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { BUNDLE, EXECUTABLE, ensureBuilt, REPO_ROOT } from "./runtimes.ts";

/**
 * The code block of docs/plugins.md's section "A complete plugin": the first ```ts block after that heading,
 * and the file name its first line (`// NAME — …`) gives.
 */
function documentedPlugin(markdown: string): { name: string; source: string } {
  const section = markdown.split(/^## A complete plugin$/m)[1];
  assert.ok(section !== undefined, 'docs/plugins.md has a section "## A complete plugin"');
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  assert.ok(block !== undefined, 'the section "A complete plugin" has a ```ts code block');
  const name = /^\/\/ ([\w.-]+\.(?:ts|mjs))\b/.exec(block)?.[1];
  assert.ok(name !== undefined, `the block's first line names its file (// NAME.ts — …):\n${block}`);
  return { name, source: block };
}

const documented = documentedPlugin(readFileSync(join(REPO_ROOT, "docs/plugins.md"), "utf8"));
let broker: MosquittoBroker;
let folder: string;
let plugins: string;

before(async () => {
  ensureBuilt({ executable: true });
  broker = await startBroker();
  folder = await makeTempDir("plugin-doc");
  plugins = join(folder, "plugins");
  mkdirSync(plugins);
  writeFileSync(join(plugins, documented.name), documented.source);
});

after(async () => {
  await broker?.dispose();
  if (folder) await removeDir(folder);
});

test("the plugin of docs/plugins.md is plugins/examples/max-runs.ts word for word", () => {
  const example = readFileSync(join(REPO_ROOT, "plugins/examples/max-runs.ts"), "utf8");
  assert.equal(documented.source, example, "docs/plugins.md and plugins/examples/max-runs.ts differ");
  assert.match(documented.source, /^import \{[^}]*\bdefinePolicy\b[^}]*\bType\b[^}]*\} from "idem";$/m);
});

for (const form of [
  { name: "the executable dist/idem", command: [EXECUTABLE] },
  { name: "the bundle dist/idem.mjs on Node 24", command: [process.execPath, BUNDLE] },
]) {
  test(`${form.name} loads the docs' plugin from a temp folder and a plan gets its decisions`, {
    timeout: 90_000,
  }, async (t) => {
    const agentId = uniqueAgentId("plugin-doc");
    const effects = join(folder, `${agentId}.log`);
    const engine = await connectEngine(broker, { agentId });
    t.after(() => engine.close());
    const agent = await startAgent({
      broker,
      agentId,
      dataDir: join(folder, agentId),
      plugins: [plugins],
      command: form.command,
    });
    t.after(async () => {
      await agent.stop();
    });
    assert.match(agent.matching(/\bevent=online\b/)[0] ?? "", /\bpolicies=[^ ]*\bmax-runs\b/, agent.tail());
    // Loading it says nothing worrying: no warning of the agent's, none of Node's (`(node:PID) …Warning`).
    assert.deepEqual(agent.matching(/\blevel=(warn|error)\b|Warning/), [], agent.tail());

    const codes = [];
    for (let send = 0; send < 3; send++) {
      const plan = applicationPlan({
        effects,
        tag: "doc",
        idempotency: { Policy: "max-runs", Options: { max: 2 } },
      });
      await engine.send(plan);
      const result = await engine.waitForResult(plan.ID);
      assert.equal(result.Idem?.Policy, "max-runs", JSON.stringify(result));
      codes.push(result.ErrorCode);
    }
    assert.deepEqual(codes, [0, 0, 303], agent.tail());
    assert.equal(readExecutions(effects).executions.length, 2);
  });
}
