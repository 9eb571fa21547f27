/**
 * The embedded broker (aedes, MQTT 3.1.1) as a process of its own: `idem run --broker embedded:PORT` under an
 * agent id of its own, so that agents under test can come and go while the broker stays (an agent on
 * `--broker embedded` takes its broker down with it). Ready once the port accepts connections.
 */
import { join } from "node:path";
import { DEFAULT_COMMAND, REPO_ROOT } from "./agent_process.ts";
import { freePort, ServerProcess } from "./server_process.ts";

export class EmbeddedBrokerProcess extends ServerProcess {
  readonly port: number;

  constructor(port: number, dir: string) {
    const [program, ...prefix] = DEFAULT_COMMAND;
    // The sources' entry is relative to the repository root; a server process runs in the test's directory.
    const absolute = prefix.map((part) => (part.endsWith(".ts") ? join(REPO_ROOT, part) : part));
    super({
      label: `embedded broker on port ${port}`,
      command: [
        program as string,
        ...absolute,
        "run",
        "--broker",
        `embedded:${port}`,
        "--agent-id",
        `broker-host-${port}`,
        "--data-dir",
        join(dir, "broker-host"),
      ],
      ports: [port],
      dir,
      startTimeoutMs: 20_000,
    });
    this.port = port;
  }

  /** `mqtt://127.0.0.1:PORT`, for the agents' `--broker`. */
  get url(): string {
    return `mqtt://${this.host}:${this.port}`;
  }
}

/** Starts `idem run --broker embedded:PORT` on a free loopback port, in a folder of `root`. */
export async function startEmbeddedBrokerProcess(root: string): Promise<EmbeddedBrokerProcess> {
  const broker = new EmbeddedBrokerProcess(await freePort(), join(root, "embedded-broker"));
  await broker.start();
  return broker;
}
