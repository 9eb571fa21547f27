/**
 * Prometheus metrics from a real agent (issue 12 item 6, `agent/metrics/`): after two runs (one failing), one
 * replay and one stale plan, a scrape of `http://127.0.0.1:PORT/metrics` counts each, and the node-exporter
 * textfile written at stop says the same. A metrics port already taken stops the start (exit 2) naming
 * `metrics.port`. Without `metrics` settings, prom-client is never loaded (start-up and idle memory do not pay).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { Journal } from "../../agent/journal/journal.ts";
import { createLogger } from "../../agent/log.ts";
import { makeTempDir, removeDir } from "../helpers/agent_process.ts";
import { applicationPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";
import { freePort } from "../helpers/server_process.ts";

/** Samples of a Prometheus text exposition: `name{labels}` → value (comments skipped). */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

function sample(all: Map<string, number>, name: string): number {
  const value = all.get(name);
  assert.notEqual(value, undefined, `metric ${name} in:\n${[...all.keys()].join("\n")}`);
  return value as number;
}

test("metrics count decisions, runs by code and run seconds, over HTTP and in the textfile written at stop", {
  timeout: 90_000,
}, async (t) => {
  const scene = await openScene(t, "metrics");
  const port = await freePort();
  const textfile = join(scene.root, "idem.prom");
  const config = join(scene.root, "config.json");
  writeFileSync(config, JSON.stringify({ metrics: { port, textfile } }));
  const agent = await scene.startAgent({ generation: 5, extraArgs: ["--config", config] });
  await agent.waitForLog(/\bevent=metrics-http\b/);
  assert.ok(existsSync(textfile), "the textfile is written at start");

  const ok = applicationPlan({ effects: scene.effects, tag: "ok" });
  await scene.engine.send(ok);
  assert.equal((await scene.engine.waitForResult(ok.ID)).ErrorCode, 0);
  const again = applicationPlan({ effects: scene.effects, tag: "ok" });
  await scene.engine.send(again);
  assert.equal((await scene.engine.waitForResult(again.ID)).Idem?.Replayed, true);
  const failing = applicationPlan({ effects: scene.effects, tag: "boom", exitCode: 3 });
  await scene.engine.send(failing);
  assert.equal((await scene.engine.waitForResult(failing.ID)).ErrorCode, 100);
  const stale = applicationPlan({ effects: scene.effects, tag: "old", generation: 4 });
  await scene.engine.send(stale);
  assert.equal((await scene.engine.waitForResult(stale.ID)).ErrorCode, 301);
  // The log line and the count are written in one turn of the agent's emit: once logged, counted.
  await agent.waitForLog(/\bevent=finished\b/, { count: 2 });
  await agent.waitForLog(/\bevent=stale\b/);

  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const scraped = samples(await response.text());
  const expect = (all: Map<string, number>, where: string) => {
    const check = (name: string, value: number) =>
      assert.equal(sample(all, name), value, `${where}: ${name}`);
    check('idem_decisions_total{decision="run"}', 2);
    check('idem_decisions_total{decision="replay"}', 1);
    check('idem_decisions_total{decision="stale"}', 1);
    check('idem_decisions_total{decision="reject"}', 0);
    check('idem_runs_total{code="0"}', 1);
    check('idem_runs_total{code="100"}', 1);
    check("idem_run_seconds_count", 2);
    check('idem_events_total{event="finished"}', 2);
    check("idem_reconnects_total", 0);
    check("idem_queue_depth", 0);
    check("idem_generation", 5);
    assert.ok(sample(all, "idem_journal_bytes") > 0, `${where}: the journal has a size`);
    assert.ok(sample(all, "process_resident_memory_bytes") > 0, `${where}: RSS`);
  };
  expect(scraped, "HTTP");
  assert.equal(sample(scraped, "idem_broker_connected"), 1);
  assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);

  assert.equal((await agent.stop()).code, 0, agent.tail());
  const written = samples(readFileSync(textfile, "utf8"));
  expect(written, "textfile");
  assert.ok(!existsSync(`${textfile}.${agent.pid}.tmp`), "no temp file left beside the textfile");
  await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), "the port is closed after stop");
});

test("a metrics port in use stops the start with exit 2, naming metrics.port", {
  timeout: 60_000,
}, async (t) => {
  const scene = await openScene(t, "metrics-port");
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const address = taken.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const config = join(scene.root, "config.json");
  writeFileSync(config, JSON.stringify({ metrics: { port } }));
  const agent = await scene.startAgent({ extraArgs: ["--config", config], waitOnline: false });
  const exit = await agent.waitForExit();
  const said = agent.lines.join("\n");
  assert.equal(exit.code, 2, said);
  assert.match(said, new RegExp(`127\\.0\\.0\\.1:${port}.*in use.*metrics\\.port`), said);
});

test("without metrics settings the agent's modules never load prom-client; with a textfile they do", async (t) => {
  const cached = () =>
    Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes("prom-client"));
  await import("../../agent/agent.ts");
  const { startMetrics } = await import("../../agent/metrics.ts");
  const dir = await makeTempDir("metrics-lazy");
  const journal = Journal.open(join(dir, "data"));
  t.after(async () => {
    await journal.close();
    await removeDir(dir);
  });
  const sources = {
    journal,
    log: createLogger({ write: () => {} }),
    agentId: "lazy",
    version: "0",
    running: () => 0,
    connected: () => false,
    generation: () => 0,
  };
  assert.equal(await startMetrics(undefined, sources), undefined);
  assert.equal(await startMetrics({ host: "127.0.0.1" }, sources), undefined);
  assert.deepEqual(cached(), [], "prom-client is not loaded while metrics are off");

  const textfile = join(dir, "idem.prom");
  const sink = await startMetrics({ host: "127.0.0.1", textfile }, sources);
  assert.ok(sink, "a textfile turns the metrics on");
  assert.notDeepEqual(cached(), [], "prom-client is loaded once they are on");
  await sink.stop();
  assert.match(readFileSync(textfile, "utf8"), /^idem_queue_depth 0$/m);
});
