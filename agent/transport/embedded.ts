/**
 * `--broker embedded[:PORT]`: an in-process MQTT broker (aedes) on 127.0.0.1, for one-host use and trials.
 * It keeps sessions in memory only: plans queued while the agent is down are lost with the process. Use a
 * real broker (mosquitto with persistence) in production.
 *
 * aedes speaks MQTT 3.1.1 only: the agent connects to it with 3.1.1 at once (`broker.protocol` "auto" becomes 4,
 * `agent.ts`), so a correct start logs no warning; `broker.protocol: 5` with it is refused at start rather than
 * retried for ever ("Unacceptable protocol version").
 */
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { IdemError } from "../errors.ts";

export interface EmbeddedBroker {
  readonly url: string;
  close(): Promise<void>;
}

/** The MQTT version aedes speaks: 4 (3.1.1). */
export const EMBEDDED_PROTOCOL = 4;

/**
 * Starts aedes on 127.0.0.1:`port` (0: any free port). Errors (IdemError, exit 2): the port is in use (naming
 * it and a way out), or `options.protocol` is 5, which aedes refuses.
 */
export async function startEmbeddedBroker(
  port: number,
  options: { protocol?: 4 | 5 | "auto" } = {},
): Promise<EmbeddedBroker> {
  if (options.protocol === 5) {
    throw new IdemError(
      2,
      `Cannot use broker.protocol 5 with the embedded broker as it speaks MQTT 3.1.1 only: set broker.protocol to "auto" or 4, or use a broker that speaks MQTT 5 (mosquitto)`,
    );
  }
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const message =
        error.code === "EADDRINUSE"
          ? `Cannot start the embedded broker on 127.0.0.1:${port} as that port is in use: pick another with --broker embedded:${port + 1}, or use the broker already there with --broker mqtt://127.0.0.1:${port}`
          : `Cannot start the embedded broker on 127.0.0.1:${port}: ${error.message}`;
      reject(new IdemError(2, message, { cause: error }));
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
      }),
  };
}
