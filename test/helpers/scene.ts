/**
 * A test's world: its own broker, temp folder, agent id, data dir, side-effect file and engine, all cleaned up
 * afterwards, also when the test fails.
 */
import { chmodSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentOptions,
  type AgentProcess,
  makeTempDir,
  removeDir,
  startAgent,
  uniqueAgentId,
} from "./agent_process.ts";
import { type MosquittoBroker, startBroker } from "./broker.ts";
import { killRecordedExecutions } from "./effects.ts";
import { connectEngine, type Engine } from "./engine.ts";
import type { ServerProcess } from "./server_process.ts";

/** A broker process a scene can run: mosquitto by default, nats-server for the 3.1.1 fallback tests. */
export interface MqttServer extends ServerProcess {
  readonly url: string;
  readonly port: number;
}

export interface SceneOptions<S extends MqttServer> {
  /** For the default mosquitto: persistence saved after every change. Default true. */
  durableBroker?: boolean;
  /** Starts another broker instead of the default mosquitto; gets the scene's folder (created already). */
  server?: (root: string) => Promise<S>;
  /** The test engine's MQTT version. Default 5. */
  engineProtocol?: 4 | 5;
}

export interface Scene<S extends MqttServer = MosquittoBroker> {
  broker: S;
  /** The test's temp folder (removed afterwards). */
  root: string;
  agentId: string;
  /** The agent's data dir (LMDB journal) inside `root`. */
  dataDir: string;
  /** The side-effect file the test's scripts append to. */
  effects: string;
  engine: Engine;
  /** Every agent started through {@link Scene.startAgent}, killed afterwards if still running. */
  agents: AgentProcess[];
  /** Starts `idem run` against this scene's broker, agent id and data dir (each overridable). */
  startAgent(options?: Partial<AgentOptions>): Promise<AgentProcess>;
}

/**
 * Opens a scene and registers its cleanup with `hooks.after` (a test context `t`, or `{ after }` from
 * node:test for a suite): agents killed, orphaned scripts killed, engine closed, broker stopped, temp folder
 * removed — also when the test fails.
 */
export async function openScene<S extends MqttServer = MosquittoBroker>(
  hooks: { after(fn: () => Promise<void>): void },
  name: string,
  options: SceneOptions<S> = {},
): Promise<Scene<S>> {
  const root = await makeTempDir(name);
  // Scripts may run as another user than the test; let them append to the side-effect file.
  chmodSync(root, 0o777);
  const agentId = uniqueAgentId(name);
  const effects = join(root, "effects.log");
  const agents: AgentProcess[] = [];
  let broker: S | undefined;
  let engine: Engine | undefined;
  hooks.after(async () => {
    for (const agent of agents) await agent.kill9();
    killRecordedExecutions(effects);
    await engine?.close().catch(() => {});
    await broker?.dispose();
    if (process.env.IDEM_TEST_KEEP !== "1") await removeDir(root);
  });
  broker = options.server
    ? await options.server(root)
    : ((await startBroker({ durable: options.durableBroker ?? true })) as unknown as S);
  engine = await connectEngine(broker, { agentId, protocolVersion: options.engineProtocol ?? 5 });
  const server = broker;
  const scene: Scene<S> = {
    broker,
    root,
    agentId,
    dataDir: join(root, "data"),
    effects,
    engine,
    agents,
    async startAgent(overrides = {}) {
      const agent = await startAgent({ broker: server, agentId, dataDir: scene.dataDir, ...overrides });
      agents.push(agent);
      return agent;
    },
  };
  return scene;
}
