/**
 * A plan whose script runs until the test lets it end: it records `start` in the side-effect file (so that a
 * scene's cleanup kills it), waits until the gate file exists, records `done` and exits. The test decides when a
 * plan is running and when it ends, without sleeps standing in for either.
 */
import { writeFileSync } from "node:fs";
import { applicationPlan, type MuranoPlan, type PlanOptions } from "./plans.ts";

export interface Gate {
  /** The file whose creation lets the script end. */
  path: string;
  /** Creates the file: every script waiting on this gate ends. */
  open(): void;
}

export function makeGate(path: string): Gate {
  return { path, open: () => writeFileSync(path, "open\n") };
}

/** {@link applicationPlan} whose entry point waits for `gate` to open before it ends. */
export function gatedPlan(gate: Gate, options: PlanOptions): MuranoPlan {
  const plan = applicationPlan(options);
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  const script = [
    "#!/bin/sh",
    `F=${quote(options.effects)}`,
    'echo "start $$ $*" >> "$F"',
    `while [ ! -e ${quote(gate.path)} ]; do sleep 0.05; done`,
    'echo "done $$ $*" >> "$F"',
    'echo "ran $$ $*"',
    "",
  ].join("\n");
  const files = plan.Files as Record<string, { Name: string; BodyType: string; Body: string }>;
  const entry = Object.values(files).find((file) => file.Name === (options.entryName ?? "deploy.sh"));
  if (!entry) throw new Error("Cannot make a gated plan: the plan has no entry point file");
  entry.BodyType = "Text";
  entry.Body = script;
  return plan;
}
