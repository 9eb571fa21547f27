/**
 * SPEC 5.5, superseded incarnation: a VM re-created under its name (generation 2) while the old one
 * (generation 1) is still alive — both agents with one agent id, so one MQTT client id, on one broker, each with
 * its own data dir. The old one must stand down (status `superseded`, exit 3) within seconds, every generation-2
 * plan sent during and after the overlap must run once on the new VM and never be answered 302, and the two must
 * not take the session from each other more than a handful of times. In both orders: the old VM first (the new
 * one appears), and the new one first (the old VM comes back after a partition). On mosquitto with MQTT 5 and
 * 3.1.1 (it closes the old connection on a takeover, no Last Will, no DISCONNECT 0x8E), and on the embedded
 * broker (aedes, 3.1.1: it publishes the old connection's Last Will on a takeover).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentProcess } from "../helpers/agent_process.ts";
import { readExecutions } from "../helpers/effects.ts";
import {
  BROKER_SETTINGS,
  finishedPlans,
  incarnationArgs,
  supersededLine,
  takeovers,
} from "../helpers/incarnations.ts";
import { applicationPlan, type MuranoPlan } from "../helpers/plans.ts";
import { openScene } from "../helpers/scene.ts";

const PLANS_DURING = 4;
const PLANS_AFTER = 3;

for (const setting of BROKER_SETTINGS) {
  for (const order of ["old VM first", "new VM first"] as const) {
    test(`(${setting.label}, ${order}) the generation-1 agent stands down with exit 3 and every generation-2 plan runs once on the new VM`, {
      timeout: 120_000,
    }, async (t) => {
      const scene = await openScene(t, "incarnations", setting.scene);
      const oldArgs = { generation: 1, ...incarnationArgs(scene, setting, "old-vm") };
      const newArgs = { generation: 2, ...incarnationArgs(scene, setting, "new-vm") };
      let oldVm: AgentProcess;
      let newVm: AgentProcess;
      if (order === "old VM first") {
        oldVm = await scene.startAgent(oldArgs);
        newVm = await scene.startAgent(newArgs);
      } else {
        newVm = await scene.startAgent(newArgs);
        oldVm = await scene.startAgent({ ...oldArgs, waitOnline: false });
        // Connected: from here on the two overlap on the broker.
        await oldVm.waitForLog(/\bevent=connected\b/);
      }
      const newBoot = String(
        (await scene.engine.waitForStatusMatching((s) => s.State === "online" && s.Generation === 2)).BootId,
      );

      // During the overlap: the old agent is alive (backing off, or connected again).
      const plan = (tag: string): MuranoPlan =>
        applicationPlan({ effects: scene.effects, tag, generation: 2 });
      const sent: MuranoPlan[] = [];
      for (let i = 0; i < PLANS_DURING; i++) {
        const p = plan(`during-${i}`);
        sent.push(p);
        await scene.engine.send(p);
      }
      const exit = await oldVm.waitForExit(30_000);
      assert.equal(exit.code, 3, `the old agent exits 3\n${oldVm.tail()}`);
      for (let i = 0; i < PLANS_AFTER; i++) {
        const p = plan(`after-${i}`);
        sent.push(p);
        await scene.engine.send(p);
      }

      for (const p of sent) {
        const result = await scene.engine.waitForResult(p.ID, 30_000);
        assert.equal(result.ErrorCode, 0, JSON.stringify(result));
        assert.equal(result.Idem?.Generation, 2, JSON.stringify(result));
      }
      const ids = sent.map((p) => p.ID).sort();
      assert.deepEqual(
        (await finishedPlans(newVm, ids.length)).sort(),
        ids,
        `every plan finished on the new VM\n${newVm.tail()}`,
      );
      assert.deepEqual(await finishedPlans(oldVm), [], "none on the old one");
      const effects = readExecutions(scene.effects);
      assert.deepEqual(
        effects.executions.map((e) => e.args).sort(),
        sent.map((p) => (p.Parameters as { tag: string }).tag).sort(),
        `each plan ran once:\n${effects.lines.join("\n")}`,
      );
      assert.deepEqual(
        scene.engine.results.filter((r) => r.result.ErrorCode === 302),
        [],
        "nothing answered 302",
      );
      assert.deepEqual(oldVm.matching(/\bevent=future\b/), [], oldVm.tail());

      // Why and by whom, in one line; and once on the status topic.
      const line = supersededLine(oldVm);
      assert.equal(line.byGeneration, "2", oldVm.tail());
      assert.equal(line.generation, "1", oldVm.tail());
      if (line.by === "status") assert.equal(line.byBootId, newBoot, oldVm.tail());
      else assert.ok(ids.includes(line.plan ?? ""), `a generation-2 plan told it\n${oldVm.tail()}`);
      const superseded = scene.engine.statuses.filter((s) => s.State === "superseded");
      assert.equal(superseded.length, 1, JSON.stringify(scene.engine.statuses, null, 1));
      const [gone = {}] = superseded;
      assert.equal(gone.Generation, 1);
      assert.equal((gone.SupersededBy as { Generation?: number } | undefined)?.Generation, 2);
      const afterwards = scene.engine.statuses.slice(scene.engine.statuses.indexOf(gone) + 1);
      assert.deepEqual(
        afterwards.filter((s) => s.BootId === gone.BootId),
        [],
        "it left gracefully: no Last Will of the old agent after its superseded status",
      );
      // The new agent answered that with its own status: the retained one is the new VM's, online.
      const last = await scene.engine.waitForStatusMatching(
        (s) => s.State === "online" && s.BootId === newBoot && scene.engine.status === s,
      );
      assert.equal(last.Generation, 2);

      const count = takeovers(scene, [oldVm, newVm]);
      assert.ok(
        count <= 4,
        `at most a handful of session takeovers, not a battle: ${count}\n${oldVm.tail()}`,
      );
      for (const connected of [
        ...oldVm.matching(/\bevent=connected\b/),
        ...newVm.matching(/\bevent=connected\b/),
      ]) {
        assert.match(connected, new RegExp(`\\bprotocol=${setting.protocol}\\b`));
      }
      assert.equal(newVm.exited, undefined, `the new agent serves on\n${newVm.tail()}`);
      assert.equal((await newVm.stop()).code, 0, newVm.tail());
    });
  }
}
