/**
 * The engine side of idem's rep: one MQTT 3.1.1 client (RabbitMQ 3.10's MQTT speaks no 5) with TCP_NODELAY on its
 * socket, subscribed to `idem/<agentId>/results` at QoS 1, and the plan murano-agent gets in the same run
 * (peerbench engine.py `make_plan`): FormatVersion 2.0.0, Body `return run().stdout`, one Application script
 * `run.sh` = `#!/bin/sh\necho ok`, a fresh ID, Stamp and file id, plus a Parameter with a fresh value so that
 * every plan has content of its own and runs (SPEC: Parameters are part of the fingerprint).
 * Each result is time-stamped (`performance.now()`) on arrival; a re-sent result (the outbox is at-least-once)
 * is ignored. `check()` counts the outcomes: every plan must come back `Idem.Decision` run, ErrorCode 0.
 */
import type { MqttClient } from "mqtt";
import type { AgentProcess } from "../test/helpers/agent_process.ts";
import type { Result } from "../test/helpers/engine.ts";
import { type MuranoPlan, randomId } from "../test/helpers/plans.ts";
import { connectClient } from "./lab.ts";

let lastStamp = 0;

/** engine.py's `stamp()`: int(time × 10,000), forced above the last one. */
function stamp(): number {
  let value = Math.floor(Date.now() * 10);
  if (value <= lastStamp) value = lastStamp + 1;
  lastStamp = value;
  return value;
}

/** The peer's plan, with content of its own. */
export function benchPlan(): MuranoPlan {
  const fileId = randomId();
  return {
    FormatVersion: "2.0.0",
    Version: "1.0.0",
    Name: "bench",
    ID: randomId(),
    Action: "Execute",
    Parameters: { n: randomId() },
    Body: "return run().stdout",
    Scripts: {
      run: {
        Type: "Application",
        Version: "1.0.0",
        EntryPoint: fileId,
        Files: [],
        Options: { captureStdout: true, captureStderr: true },
      },
    },
    Files: { [fileId]: { Name: "run.sh", BodyType: "Text", Body: "#!/bin/sh\necho ok" } },
    Stamp: stamp(),
  };
}

/** A result and when it arrived. */
export interface Arrival {
  at: number;
  result: Result;
}

export class Driver {
  readonly #client: MqttClient;
  readonly #plansTopic: string;
  readonly #arrived = new Map<string, Arrival>();
  readonly #kinds = new Map<string, number>();
  #listener: (() => void) | undefined;

  private constructor(client: MqttClient, agentId: string) {
    this.#client = client;
    this.#plansTopic = `idem/${agentId}/plans`;
    client.on("message", (_topic, payload) => {
      const at = performance.now();
      const result = JSON.parse(payload.toString("utf8")) as Result;
      if (this.#arrived.has(result.SourceID)) return;
      this.#arrived.set(result.SourceID, { at, result });
      const kind = `${result.Idem?.Decision}/${result.ErrorCode}`;
      this.#kinds.set(kind, (this.#kinds.get(kind) ?? 0) + 1);
      this.#listener?.();
    });
  }

  /** Connected and subscribed to the agent's results on the broker's MQTT port. */
  static async open(port: number, agentId: string): Promise<Driver> {
    const client = await connectClient(port, `bench-engine-${randomId().slice(0, 8)}`, {
      protocolVersion: 4,
      noDelay: true,
    });
    await client.subscribeAsync(`idem/${agentId}/results`, { qos: 1 });
    return new Driver(client, agentId);
  }

  /** Publishes at QoS 1 without waiting for the PUBACK (as engine.py's AMQP publish, no confirms). */
  send(plan: MuranoPlan): void {
    this.#client.publish(this.#plansTopic, JSON.stringify(plan), { qos: 1 });
  }

  /** Publishes at QoS 1 and waits for the broker's PUBACK: the plan is queued. */
  async queue(plan: MuranoPlan): Promise<void> {
    await this.#client.publishAsync(this.#plansTopic, JSON.stringify(plan), { qos: 1 });
  }

  /**
   * The arrivals of these plans' results, once all are in. Fails after `timeoutMs` without a new one, or when
   * the agent exits, with the end of its log.
   */
  waitAll(ids: readonly string[], agent: AgentProcess, timeoutMs = 60_000): Promise<Arrival[]> {
    const collect = () => ids.map((id) => this.#arrived.get(id));
    return new Promise((resolve, reject) => {
      let count = -1;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (error?: Error) => {
        settled = true;
        clearTimeout(timer);
        this.#listener = undefined;
        if (error) reject(error);
        else resolve(collect() as Arrival[]);
      };
      const check = () => {
        if (settled) return;
        const got = collect().filter(Boolean).length;
        if (got === ids.length) return finish();
        if (agent.exited)
          return finish(
            new Error(
              `The agent exited (${JSON.stringify(agent.exited)}) after ${got}/${ids.length} results\n${agent.tail()}`,
            ),
          );
        if (got === count) return;
        count = got;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish(
              new Error(
                `No result from the agent for ${timeoutMs / 1000} s (${got}/${ids.length} in)\n${agent.tail()}`,
              ),
            ),
          timeoutMs,
        );
      };
      this.#listener = check;
      agent.exit.then(check);
      check();
    });
  }

  /** The outcomes so far (`"run/0": n, …`); throws unless every one is `run/0`. */
  check(): string {
    const line = [...this.#kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
    if (this.#kinds.size !== 1 || !this.#kinds.has("run/0"))
      throw new Error(`Cannot report idem's figures as its results were: ${line} (expected run/0 only)`);
    return line;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
