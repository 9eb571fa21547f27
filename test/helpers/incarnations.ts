/**
 * Two incarnations of one VM in one test (SPEC 5.5): the brokers they are tried on, each agent's config,
 * and what a test reads back — session takeovers, the `superseded` line, which agent ran which plan.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentProcess, parseLogfmt } from "./agent_process.ts";
import { MosquittoBroker } from "./broker.ts";
import { startEmbeddedBrokerProcess } from "./embedded_broker.ts";
import type { MqttServer, Scene, SceneOptions } from "./scene.ts";

/** One broker and protocol the incarnation tests run on. */
export interface BrokerSetting {
  label: string;
  /** The scene's options (which broker, the engine's protocol). */
  scene: SceneOptions<MqttServer>;
  /** `broker.protocol` forced in the agents' config file, if any. */
  agentProtocol?: 4;
  /** What the agents' `event=connected` lines say. */
  protocol: "4" | "5";
}

export const BROKER_SETTINGS: readonly BrokerSetting[] = [
  { label: "mosquitto, MQTT 5", scene: {}, protocol: "5" },
  { label: "mosquitto, MQTT 3.1.1", scene: { engineProtocol: 4 }, agentProtocol: 4, protocol: "4" },
  {
    label: "embedded broker (aedes, MQTT 3.1.1)",
    scene: { engineProtocol: 4, server: startEmbeddedBrokerProcess },
    protocol: "4",
  },
];

/**
 * `--config FILE`, `--data-dir` and `--instance-id` for one incarnation of the scene's VM: its own data dir and
 * its own identity (as cloud-init's instance-id differs between a VM and its re-creation), as on its own VM.
 */
export function incarnationArgs(scene: Scene<MqttServer>, setting: BrokerSetting, name: string) {
  const configFile = join(scene.root, `${name}.json`);
  const config = setting.agentProtocol === undefined ? {} : { broker: { protocol: setting.agentProtocol } };
  writeFileSync(configFile, JSON.stringify(config));
  return { dataDir: join(scene.root, name), extraArgs: ["--config", configFile, "--instance-id", name] };
}

/**
 * Session takeovers of the agents' client id so far: mosquitto logs each one ("already connected, closing old
 * connection"); elsewhere, every connection after the first made by either agent took the session from the other
 * or found it free, so that count bounds them.
 */
export function takeovers(scene: Scene<MqttServer>, agents: readonly AgentProcess[]): number {
  if (scene.broker instanceof MosquittoBroker) {
    const clientId = `idem-${scene.agentId}`;
    return scene.broker.log.filter((line) =>
      line.includes(`Client ${clientId} already connected, closing old connection`),
    ).length;
  }
  return agents.reduce((sum, agent) => sum + agent.matching(/\bevent=connected\b/).length, 0) - 1;
}

/** The one `level=warn event=superseded` line of `agent`, parsed (fails when there is none or several). */
export function supersededLine(agent: AgentProcess): Record<string, string> {
  const lines = agent.matching(/\bevent=superseded\b/);
  if (lines.length !== 1 || !/\blevel=warn\b/.test(lines[0] as string)) {
    throw new Error(`Expected one warn line event=superseded, got ${lines.length}\n${agent.tail()}`);
  }
  return parseLogfmt(lines[0] as string);
}

/**
 * The plan IDs `agent` finished (its `event=finished` lines), once it has logged at least `atLeast` of them: a
 * result reaches the engine through the broker, the agent's log line through its stderr pipe, and either may come
 * first. Rejects, with the agent's log, when fewer come within the wait.
 */
export async function finishedPlans(agent: AgentProcess, atLeast = 0): Promise<string[]> {
  if (atLeast > 0) await agent.waitForLog(/\bevent=finished\b/, { count: atLeast });
  return agent.matching(/\bevent=finished\b/).map((line) => parseLogfmt(line).plan ?? "");
}
