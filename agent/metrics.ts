/**
 * Prometheus metrics (`metrics` setting; issue 12): off by default, and then nothing of them is loaded — the
 * registry and `prom-client` are imported only when `metrics.port` or `metrics.textfile` is set, so an agent
 * without metrics pays neither start-up time nor memory for them.
 *
 * The agent feeds them from the places it already has: every event it emits ({@link MetricsSink.event}, the one
 * sink of `ctx.emit`) and every session it establishes ({@link MetricsSink.sessionReady}); depths and sizes
 * (queue, outbox, journal bytes, running plans) are read from the journal when the metrics are collected. What
 * is exposed, and under which names: `metrics/registry.ts`.
 */
import type { Config } from "./config.ts";
import type { MetricsSink, MetricsSources } from "./metrics/sink.ts";

export type { MetricsSettings, MetricsSink, MetricsSources } from "./metrics/sink.ts";

/**
 * Starts serving `http://host:port/metrics` and/or writing `textfile`, as `settings` say; undefined (nothing
 * loaded) when neither is set.
 *
 * Errors: IdemError (exit 2) naming `metrics.port` when the port is in use or cannot be bound, naming
 * `metrics.textfile` when the file cannot be written.
 */
export async function startMetrics(
  settings: Config["metrics"],
  sources: MetricsSources,
): Promise<MetricsSink | undefined> {
  if (settings?.port === undefined && settings?.textfile === undefined) return undefined;
  const { exposeMetrics } = await import("./metrics/expose.ts");
  return exposeMetrics(settings, sources);
}
