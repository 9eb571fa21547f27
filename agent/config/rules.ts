/**
 * What a valid configuration must also be, beyond its schema: broker URLs of a kind the agent can connect to
 * (agent/config/broker_url.ts; several `broker.urls` only of one real cluster, not `embedded`), names of
 * `environment` variables a shell accepts, `replyTopics` that are MQTT topic filters (SPEC 3; default
 * `["<prefix>/+/results", "<prefix>/<agentId>/#"]`). Resolves what is derived: `broker.urls` always set
 * (`[url]` when absent), `broker.url` its first, a `USER@` of the URL moved to `broker.username`.
 */
import { IdemError } from "../errors.ts";
import { topicNameProblem } from "../transport/topic.ts";
import { topicFilterProblem } from "../transport/topic_filter.ts";
import { brokerUrl, urlUsername, withoutUserinfo } from "./broker_url.ts";
import type { Config } from "./schema.ts";
import type { Source, SourcedProblem } from "./sources.ts";

/** SPEC 3's default `replyTopics`: every agent's results topic, and everything below the agent's own level. */
export function defaultReplyTopics(prefix: string, agentId: string): string[] {
  return [`${prefix}/+/results`, `${prefix}/${agentId}/#`];
}

/** Checks and completes `config` in place; appends what is wrong to `problems`. */
export function applyRules(config: Config, sources: Map<string, Source>, problems: SourcedProblem[]): void {
  const from = (key: string): Source => sources.get(key) ?? { kind: "default" };
  const broker = config.broker;
  const key = broker.urls === undefined ? "broker.url" : "broker.urls";
  const given = broker.urls ?? [broker.url];
  const urls: string[] = [];
  given.forEach((url, i) => {
    try {
      const checked = brokerUrl(url);
      const user = urlUsername(checked);
      if (user !== undefined) broker.username ??= user;
      urls.push(user === undefined ? checked : withoutUserinfo(checked));
    } catch (error) {
      if (!(error instanceof IdemError)) throw error;
      const path = key === "broker.url" ? ["broker", "url"] : ["broker", "urls", String(i)];
      problems.push({ path, source: from(key), message: error.message });
    }
  });
  if (urls.length > 1 && urls.some((url) => url.startsWith("embedded"))) {
    problems.push({
      path: ["broker", "urls"],
      source: from(key),
      message: "the embedded broker is one node; give mqtt://HOST:PORT nodes of one cluster",
    });
  }
  if (broker.password !== undefined && broker.username === undefined) {
    // MQTT 3.1.1 has no password without a user name: the broker (the embedded one too) closes the connection,
    // and the agent would only retry (SPEC 2 falls back to 3.1.1).
    problems.push({
      path: ["broker", "password"],
      source: from("broker.password"),
      message:
        "a password needs a user name: give broker.username (IDEM_BROKER_USERNAME, --broker-username) too",
    });
  }
  if (urls.length > 0) {
    broker.urls = urls;
    broker.url = urls[0] as string;
  }
  for (const name of Object.keys(config.environment)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push({
        path: ["environment", name],
        source: from("environment"),
        message: 'give variable names of letters, digits and "_", not starting with a digit',
      });
    }
  }
  const topicProblem = topicNameProblem(`${config.prefix}/${config.agentId}/plans`);
  if (topicProblem !== undefined) {
    // A control character or an over-long name: the broker would drop the connection on every subscribe.
    problems.push({
      path: ["prefix"],
      source: from("prefix"),
      message: `${JSON.stringify(config.prefix)} makes topics the broker refuses (${topicProblem}): give a topic prefix of printable characters without "+" or "#"`,
    });
  }
  config.replyTopics ??= defaultReplyTopics(config.prefix, config.agentId);
  config.replyTopics.forEach((filter, i) => {
    const problem = topicFilterProblem(filter);
    if (problem === undefined) return;
    problems.push({
      path: ["replyTopics", String(i)],
      source: from("replyTopics"),
      message: `${JSON.stringify(filter)} is not a topic filter as ${problem}: give MQTT topic filters such as "idem/+/results"`,
    });
  });
}
