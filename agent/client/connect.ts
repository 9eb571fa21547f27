/**
 * The broker session of an operator command that talks to an agent (`idem send`, `idem cancel`): a clean session
 * of its own (client id `idem-COMMAND-xxxxxxxx`), MQTT 5 when the broker speaks it, else 3.1.1, no reconnect.
 * What is exchanged over it is `exchange.ts`.
 *
 * Credentials: a `USER@` in the broker URL wins over `username`; a password never comes in the URL
 * (`config/broker_url.ts` refuses it), only in `password` (`IDEM_BROKER_PASSWORD`, SPEC 9a).
 */
import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { brokerUrl } from "../config/broker_url.ts";
import { IdemError } from "../errors.ts";

export interface ClientOptions {
  /** The command's name (`send`, `cancel`): the client id's middle part and the messages' verb. */
  command: string;
  /** `IDEM_BROKER_USERNAME`; a user in the URL wins. Default: none. */
  username?: string;
  /** `IDEM_BROKER_PASSWORD`. Default: none. */
  password?: string;
}

/** Default MQTT ports when the URL names none. */
const PORTS = { mqtt: 1883, mqtts: 8883 };
/** How long one connect attempt (per protocol version) may take, in ms. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connects to `broker` (a URL or `HOST[:PORT]`, as `--broker` takes it) with MQTT 5, else 3.1.1.
 * @throws IdemError(2) for the in-process `embedded` broker (an agent's own: a command cannot reach it), a URL
 * `brokerUrl` refuses, or a broker that neither protocol version reaches (naming the broker and the cause).
 */
export async function connectClient(broker: string, options: ClientOptions): Promise<MqttClient> {
  if (broker.startsWith("embedded")) {
    throw new IdemError(
      2,
      `Cannot ${options.command} through "${broker}": give --broker the URL of the agent's broker, e.g. mqtt://127.0.0.1:1883`,
    );
  }
  const url = new URL(brokerUrl(broker));
  const tls = url.protocol === "mqtts:" || url.protocol === "ssl:";
  const username = url.username ? decodeURIComponent(url.username) : options.username;
  const settings = {
    host: url.hostname,
    port: Number(url.port || (tls ? PORTS.mqtts : PORTS.mqtt)),
    protocol: tls ? ("mqtts" as const) : ("mqtt" as const),
    clientId: `idem-${options.command}-${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 0,
    // Each packet written at once, not corked until the next tick (agent/transport does the same).
    writeCache: false,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(username ? { username } : {}),
    ...(options.password ? { password: options.password } : {}),
  };
  try {
    return await mqtt.connectAsync({ ...settings, protocolVersion: 5 });
  } catch {
    try {
      return await mqtt.connectAsync({ ...settings, protocolVersion: 4 });
    } catch (cause) {
      throw new IdemError(
        2,
        `Cannot connect to the broker at ${broker}: ${(cause as Error).message} (check --broker or IDEM_BROKER)`,
        { cause },
      );
    }
  }
}
