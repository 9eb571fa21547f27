/**
 * Which VM a journal belongs to (SPEC 5.5): the `instanceId` setting, else cloud-init's instance-id, else
 * /etc/machine-id, else the host name. A journal found with another identity came with a disk image or a copied
 * data dir: it is another VM's history, and this VM must not be fenced, replayed or refused by it.
 *
 * Some values name no VM, and then this boot cannot tell which VM it is: cloud-init writes `iid-datasource-none`
 * at a boot that found no datasource (a metadata service down, say) — every such VM has it, and the same VM has
 * its real id again at its next boot; systemd writes `uninitialized` to machine-id until the first boot completes.
 * Taken for the VM's identity, either would set the VM's own journal aside (and let its run-once-ever plans run
 * again) as soon as the real id is back. Such a boot is `unknown`: the journal is neither judged nor labelled.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/** This VM's identity and where it came from; `unknown` when this boot cannot tell (see above). */
export type InstanceIdentity =
  | { id: string; source: "config" | "cloud-init" | "machine-id" | "hostname" }
  | { id: undefined; source: "unknown"; why: string };

const CLOUD_INIT = "/var/lib/cloud/data/instance-id";
const MACHINE_ID = "/etc/machine-id";
const CLOUD_INIT_NONE = "iid-datasource-none";
const MACHINE_ID_NONE = "uninitialized";

function firstLine(file: string): string | undefined {
  try {
    const line = readFileSync(file, "utf8").split("\n")[0]?.trim();
    return line ? line : undefined;
  } catch {
    return undefined;
  }
}

/**
 * This VM's identity: `configured` if given, else the first of cloud-init's instance-id, machine-id, host name;
 * `unknown` when cloud-init or machine-id says it does not know yet. `files` are for tests.
 */
export function instanceIdentity(
  configured: string | undefined,
  files: { cloudInit?: string; machineId?: string } = {},
): InstanceIdentity {
  if (configured) return { id: configured, source: "config" };
  const cloud = firstLine(files.cloudInit ?? CLOUD_INIT);
  if (cloud === CLOUD_INIT_NONE) {
    return { id: undefined, source: "unknown", why: `cloud-init found no datasource (${CLOUD_INIT_NONE})` };
  }
  if (cloud) return { id: cloud, source: "cloud-init" };
  const machine = firstLine(files.machineId ?? MACHINE_ID);
  if (machine === MACHINE_ID_NONE) {
    return { id: undefined, source: "unknown", why: `machine-id is not set up yet (${MACHINE_ID_NONE})` };
  }
  if (machine) return { id: machine, source: "machine-id" };
  return { id: hostname(), source: "hostname" };
}
