/**
 * The peer, murano-agent 10.0.0, driven by the shared harness (`../shared/peerbench`, its README): a check that
 * it is installed (setup.sh runs only when something is missing: it needs apt), its private RabbitMQ node with
 * the MQTT plugin (`rabbit-mqtt.sh up PORT | down`: AMQP 127.0.0.1:35672, epmd 34369, MQTT on PORT) that both
 * agents share, and one rep = `engine.py perf 1`, read back from `$PEERBENCH_DIR/results/perf.json`.
 *
 * Paths: the scripts from env `IDEM_PEERBENCH_SCRIPTS` (default `<repo>/../shared/peerbench`), the installed
 * peer from env `PEERBENCH_DIR` (default `<tmp>/peerbench`). engine.py runs in a process group of its own
 * (its murano-agent child with it), so `stopPeer()` ends both by that group's id on an error or Ctrl-C.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/helpers/agent_process.ts";
import { canConnect } from "../test/helpers/server_process.ts";
import type { Rep } from "./peer_table.ts";

export const PEER_SCRIPTS = process.env.IDEM_PEERBENCH_SCRIPTS ?? join(REPO_ROOT, "../shared/peerbench");
export const PEER_DIR = process.env.PEERBENCH_DIR ?? join(tmpdir(), "peerbench");
/** Debian's Python: it has kombu and murano-agent's dependencies (`python3` on the PATH may be pyenv's). */
const PYTHON = "/usr/bin/python3";
const MODULES =
  "kombu, oslo_config, oslo_log, oslo_service, eventlet, semantic_version, cryptography, git, yaml";
/** The node's fixed ports (setup.sh): AMQP, epmd, Erlang distribution. */
const NODE_PORTS = [35672, 34369, 35674];
const REP_TIMEOUT_MS = 10 * 60_000;
const env = { ...process.env, PEERBENCH_DIR: PEER_DIR };

/** What is missing of the peer's install (empty: ready). */
function missing(): string[] {
  const files = [
    join(PEER_DIR, "ma/bin/muranoagent"),
    join(PEER_DIR, "ma/muranoagent/execution_plan_queue.py"),
    join(PEER_DIR, "rmq/env.sh"),
    join(PEER_DIR, "muranoagent.conf"),
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
    join(PEER_SCRIPTS, "engine.py"),
    join(PEER_SCRIPTS, "rabbit-mqtt.sh"),
  ];
  const absent = files.filter((file) => !existsSync(file));
  if (absent.length === 0 && !readFileSync(files[1] as string, "utf8").includes("open(plan_file_path, 'w')"))
    absent.push("the upstream write-mode fix in execution_plan_queue.py");
  if (spawnSync(PYTHON, ["-c", `import ${MODULES}`], { stdio: "ignore" }).status !== 0)
    absent.push(`${PYTHON} modules (${MODULES})`);
  return absent;
}

/** Installs the peer with setup.sh when anything is missing; returns what was done. */
export function ensurePeer(): string {
  const before = missing();
  if (before.length === 0) return `murano-agent 10.0.0 present in ${PEER_DIR}`;
  if (!existsSync(join(PEER_SCRIPTS, "setup.sh")))
    throw new Error(
      `Cannot set up the peer as ${PEER_SCRIPTS}/setup.sh is missing: set IDEM_PEERBENCH_SCRIPTS`,
    );
  console.log(`setting up the peer (missing: ${before.join("; ")}) with ${PEER_SCRIPTS}/setup.sh …`);
  const setup = spawnSync("bash", [join(PEER_SCRIPTS, "setup.sh")], { env, stdio: "inherit" });
  const after = missing();
  if (setup.status !== 0 || after.length > 0)
    throw new Error(
      `Cannot set up the peer (setup.sh exit ${setup.status}; missing: ${after.join("; ")}): it needs apt as root`,
    );
  return `murano-agent 10.0.0 installed in ${PEER_DIR}`;
}

function script(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [join(PEER_SCRIPTS, "rabbit-mqtt.sh"), ...args],
      { env, timeout: timeoutMs },
      (error, out, err) =>
        error
          ? reject(new Error(`rabbit-mqtt.sh ${args.join(" ")} failed: ${error.message}\n${err}`))
          : resolve(out),
    );
  });
}

let rabbitUp = false;

/** Starts the peer's node with MQTT on `mqttPort`; fails clearly when its fixed ports are taken or it does not boot. */
export async function startRabbit(mqttPort: number): Promise<string> {
  for (const port of NODE_PORTS) {
    if (await canConnect("127.0.0.1", port))
      throw new Error(
        `Cannot start the peer's RabbitMQ node as 127.0.0.1:${port} is in use (another bench? stop it with ` +
          `\`PEERBENCH_DIR=${PEER_DIR} bash ${PEER_SCRIPTS}/rabbit-mqtt.sh down\`)`,
      );
  }
  rabbitUp = true;
  const out = await script(["up", String(mqttPort)], 150_000);
  for (const port of [mqttPort, 35672]) {
    if (!(await canConnect("127.0.0.1", port))) {
      const log = join(PEER_DIR, "rmq/server-mqtt.out");
      const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
      throw new Error(
        `The peer's RabbitMQ node did not open 127.0.0.1:${port} within 90 s; ${log}:\n${tail}`,
      );
    }
  }
  return out.trim();
}

/** Stops the node and its epmd (by PID, in rabbit-mqtt.sh) if `startRabbit` started it. */
export async function stopRabbit(): Promise<void> {
  if (!rabbitUp) return;
  rabbitUp = false;
  await script(["down"], 60_000);
}

let engine: ChildProcess | undefined;

/** Ends a running engine.py and its murano-agent (their process group, by its id). */
export function stopPeer(): void {
  if (engine?.pid === undefined || engine.exitCode !== null || engine.signalCode !== null) return;
  try {
    process.kill(-engine.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** One rep of the peer: `engine.py perf 1` (a new murano-agent, empty storage); throws on a failed plan. */
export async function peerRep(): Promise<Rep> {
  const file = join(PEER_DIR, "results/perf.json");
  rmSync(file, { force: true });
  let output = "";
  const child = spawn(PYTHON, [join(PEER_SCRIPTS, "engine.py"), "perf", "1"], {
    cwd: PEER_DIR,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  engine = child;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stopPeer();
  }, REP_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exit) => resolve(exit));
  }).finally(() => clearTimeout(timer));
  if (code !== 0 || !existsSync(file))
    throw new Error(
      `engine.py perf 1 failed (exit ${code}${timedOut ? `, killed after ${REP_TIMEOUT_MS / 60_000} min` : ""}):\n${output}`,
    );
  return fromPerf(JSON.parse(readFileSync(file, "utf8"))[0]);
}

/** engine.py's rep (seconds, kB) as a {@link Rep}; throws when a plan failed or a result is missing. */
function fromPerf(r: Record<string, unknown>): Rep {
  const n = (key: string) => {
    const value = r[key];
    if (typeof value !== "number") throw new Error(`perf.json has no number ${key}: ${JSON.stringify(r)}`);
    return value;
  };
  const first = r.first_result as { ErrorCode?: number } | null;
  if (first?.ErrorCode !== 0) throw new Error(`The peer's first plan failed: ${JSON.stringify(first)}`);
  if (n("tput_received") !== 500 || n("tput_errors") !== 0)
    throw new Error(`The peer's 500 came back as ${n("tput_received")} results, ${n("tput_errors")} errors`);
  return {
    startupMs: n("startup_s") * 1000,
    idleRssKb: n("rss_idle_kb"),
    latencyMs: r.latency_ms as number[],
    totalS: n("tput_total_s"),
    plansPerS: n("tput_plans_per_s"),
    cpuMsPerPlan: (n("tput_agent_cpu_s") * 1000) / 500,
    rssAfter500Kb: n("rss_after_500_kb"),
  };
}
