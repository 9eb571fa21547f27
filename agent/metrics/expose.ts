/**
 * Where the metrics go: `GET http://metrics.host:metrics.port/metrics` (Prometheus text format, 0.0.4), and/or
 * the file `metrics.textfile` for node-exporter's textfile collector, rewritten atomically (a temp file beside it,
 * then rename) every {@link TEXTFILE_INTERVAL_MS} and once more at stop, so a reader never sees half a file.
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { IdemError } from "../errors.ts";
import { type AgentMetrics, agentMetrics } from "./registry.ts";
import type { MetricsSettings, MetricsSink, MetricsSources } from "./sink.ts";

/** How often the textfile is rewritten, in ms: node-exporter reads it at each of its own scrapes. */
export const TEXTFILE_INTERVAL_MS = 5000;

export async function exposeMetrics(
  settings: MetricsSettings,
  sources: MetricsSources,
): Promise<MetricsSink> {
  const metrics = agentMetrics(sources);
  const { log } = sources;
  const { port } = settings;
  const server = port === undefined ? undefined : await serve(metrics, settings, port);
  if (port !== undefined)
    log.info("metrics-http", { url: `http://${hostPort(settings.host, port)}/metrics` });

  const file = settings.textfile;
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastFailure = "";
  const write = async (): Promise<void> => {
    if (file === undefined) return;
    const text = await metrics.registry.metrics();
    writeAtomically(file, text);
  };
  if (file !== undefined) {
    const text = await metrics.registry.metrics();
    try {
      writeAtomically(file, text);
    } catch (cause) {
      server?.close();
      throw new IdemError(
        2,
        `Cannot write metrics to metrics.textfile ${file} as ${(cause as Error).message}: give a file in a folder the agent can write (node-exporter's --collector.textfile.directory), named *.prom`,
        { cause },
      );
    }
    log.info("metrics-textfile", { path: file, everySeconds: TEXTFILE_INTERVAL_MS / 1000 });
    timer = setInterval(() => {
      write().then(
        () => {
          lastFailure = "";
        },
        (error: unknown) => {
          // Said once per distinct failure, not every few seconds.
          const message = (error as Error).message;
          if (message !== lastFailure) log.warn("metrics-textfile-failed", { path: file, message });
          lastFailure = message;
        },
      );
    }, TEXTFILE_INTERVAL_MS);
    timer.unref();
  }

  return {
    event: (event) => metrics.event(event),
    sessionReady: () => metrics.sessionReady(),
    async stop() {
      clearInterval(timer);
      await write().catch((error: unknown) =>
        log.warn("metrics-textfile-failed", { path: file, message: (error as Error).message }),
      );
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** Listens on host:port; resolves once bound. A port in use is a start error naming `metrics.port`. */
function serve(metrics: AgentMetrics, settings: MetricsSettings, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" || path !== "/metrics") {
      response
        .writeHead(404, { "content-type": "text/plain" })
        .end("Not found: metrics are at GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (error: unknown) =>
        response.writeHead(500, { "content-type": "text/plain" }).end(`${(error as Error).message}\n`),
    );
  });
  const where = hostPort(settings.host, port);
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const why =
        error.code === "EADDRINUSE"
          ? "that port is in use"
          : error.code === "EACCES"
            ? "the agent may not bind that port (below 1024 needs root)"
            : error.code === "EADDRNOTAVAIL"
              ? `${settings.host} is not an address of this host`
              : error.message;
      reject(
        new IdemError(
          2,
          `Cannot serve metrics on http://${where}/metrics as ${why}: set metrics.port to a free port (metrics.host to an address of this host), or leave metrics.port out`,
          { cause: error },
        ),
      );
    });
    server.listen(port, settings.host, () => resolve(server));
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `text` into `file` by a temp file beside it and a rename: a reader sees the old file or the new one. */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
