/**
 * `--broker embedded[:PORT]`: an in-process MQTT broker (aedes) on 127.0.0.1, for one-host use and trials.
 * It keeps sessions in memory only: plans queued while the agent is down are lost with the process. Use a
 * real broker (mosquitto with persistence) in production.
 */
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { IdemError } from "../errors.ts";

export interface EmbeddedBroker {
  readonly url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(port: number): Promise<EmbeddedBroker> {
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
