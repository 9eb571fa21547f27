/**
 * bench/startup.ts's eye on the broker: one MQTT 5 subscriber on every agent's status topic (`idem/+/status`).
 * `online(agentId)` resolves with the `performance.now()` arrival time of the next `online` status of that agent
 * that arrives after the call (a retained or earlier status of the same agent id does not count).
 */
import type { MqttClient } from "mqtt";
import { connectClient } from "./lab.ts";

export interface OnlineWatch {
  online(agentId: string): Promise<number>;
  close(): Promise<void>;
}

export async function watchOnline(port: number): Promise<OnlineWatch> {
  const client: MqttClient = await connectClient(
    port,
    `bench-watch-${Math.random().toString(36).slice(2, 8)}`,
  );
  const waiting = new Map<string, (time: number) => void>();
  client.on("message", (topic, payload) => {
    const time = performance.now();
    const agentId = topic.split("/")[1] ?? "";
    try {
      if ((JSON.parse(payload.toString()) as { State?: string }).State !== "online") return;
    } catch {
      return; // not a status
    }
    const resolve = waiting.get(agentId);
    waiting.delete(agentId);
    resolve?.(time);
  });
  await client.subscribeAsync("idem/+/status", { qos: 1 });
  return {
    online: (agentId) => new Promise((resolve) => waiting.set(agentId, resolve)),
    close: () => client.endAsync(true),
  };
}
