/**
 * This VM's identity (SPEC 5.5, `agent/journal/identity.ts`): the order of its sources, and the values that name
 * no VM — cloud-init's `iid-datasource-none`, machine-id's `uninitialized` — for which the boot is `unknown`
 * instead of another VM (which would set the VM's own journal aside).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { instanceIdentity } from "../../agent/journal/identity.ts";
import { makeTempDir, removeDir } from "../helpers/agent_process.ts";

test("the identity comes from the setting, else cloud-init, else machine-id, else the host name", async (t) => {
  const dir = await makeTempDir("identity");
  t.after(() => removeDir(dir));
  const cloudInit = join(dir, "instance-id");
  const machineId = join(dir, "machine-id");
  const missing = { cloudInit: join(dir, "none-1"), machineId: join(dir, "none-2") };
  writeFileSync(cloudInit, "i-0abc123\n");
  writeFileSync(machineId, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");

  assert.deepEqual(instanceIdentity("vm-7", { cloudInit, machineId }), { id: "vm-7", source: "config" });
  assert.deepEqual(instanceIdentity(undefined, { cloudInit, machineId }), {
    id: "i-0abc123",
    source: "cloud-init",
  });
  assert.deepEqual(instanceIdentity(undefined, { ...missing, machineId }), {
    id: "3d1219c7c4c5404aaa1f6d2a48adfda4",
    source: "machine-id",
  });
  assert.deepEqual(instanceIdentity(undefined, missing), { id: hostname(), source: "hostname" });
  writeFileSync(cloudInit, "\n");
  assert.equal(instanceIdentity(undefined, { cloudInit, machineId }).source, "machine-id", "empty: absent");
});

test("cloud-init without a datasource and an uninitialized machine-id are unknown, not another VM", async (t) => {
  const dir = await makeTempDir("identity-none");
  t.after(() => removeDir(dir));
  const cloudInit = join(dir, "instance-id");
  const machineId = join(dir, "machine-id");
  writeFileSync(cloudInit, "iid-datasource-none\n");
  writeFileSync(machineId, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
  assert.equal(instanceIdentity(undefined, { cloudInit, machineId }).source, "unknown");
  assert.equal(instanceIdentity(undefined, { cloudInit, machineId }).id, undefined);
  assert.equal(instanceIdentity("vm-7", { cloudInit, machineId }).id, "vm-7", "the setting still wins");

  writeFileSync(machineId, "uninitialized\n");
  assert.equal(instanceIdentity(undefined, { cloudInit: join(dir, "absent"), machineId }).source, "unknown");
});
