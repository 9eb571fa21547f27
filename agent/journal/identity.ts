/**
 * Which VM a journal belongs to (SPEC 5.5): the `instanceId` setting, else cloud-init's instance-id, else
 * /etc/machine-id. A journal found with another identity came with a disk image or a copied data dir: it is
 * another VM's history, and this VM must not be fenced, replayed or refused by it.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/** Where the identity came from, for the log line that reports it. */
export interface InstanceIdentity {
  id: string;
  source: "config" | "cloud-init" | "machine-id" | "hostname";
}

const CLOUD_INIT = "/var/lib/cloud/data/instance-id";
const MACHINE_ID = "/etc/machine-id";

function firstLine(file: string): string | undefined {
  try {
    const line = readFileSync(file, "utf8").split("\n")[0]?.trim();
    return line ? line : undefined;
  } catch {
    return undefined;
  }
}

/** This VM's identity: `configured` if given, else the first of cloud-init's instance-id, machine-id, host name. */
export function instanceIdentity(configured: string | undefined): InstanceIdentity {
  if (configured) return { id: configured, source: "config" };
  const cloud = firstLine(CLOUD_INIT);
  if (cloud) return { id: cloud, source: "cloud-init" };
  const machine = firstLine(MACHINE_ID);
  if (machine) return { id: machine, source: "machine-id" };
  return { id: hostname(), source: "hostname" };
}
