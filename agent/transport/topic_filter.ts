/**
 * MQTT topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7), for the topics a plan may have its reply published to
 * (SPEC 3 `replyTopics`): levels separated by `/`; `+` matches exactly one level (an empty one too); `#`, alone
 * in the last level, matches that level's parent and every level below it. A topic name starting with `$` is
 * never matched by a filter whose first level is a wildcard (`#` and `+/…` do not see `$SYS/…`).
 *
 * Matching is on the name exactly as given: brokers that rewrite `.` and `/` (RabbitMQ, `topic.ts`) are the
 * reply check's business (`pipeline/validate.ts`), not the matcher's.
 */
import { MAX_TOPIC_BYTES } from "./topic.ts";

/** Why `filter` is not a valid MQTT topic filter, or `undefined` when it is one. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "the topic filter is empty";
  if (filter.includes("\u0000")) return "the topic filter contains U+0000";
  if (Buffer.byteLength(filter, "utf8") > MAX_TOPIC_BYTES) {
    return `the topic filter is over ${MAX_TOPIC_BYTES} bytes of UTF-8`;
  }
  const levels = filter.split("/");
  for (const [index, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || index !== levels.length - 1)) {
      return 'the topic filter has "#" other than as its whole last level';
    }
    if (level.includes("+") && level !== "+") {
      return 'the topic filter has "+" other than as a whole level';
    }
  }
  return undefined;
}

/** True when the topic name `topic` matches the (valid) topic filter `filter`. */
export function matchesFilter(filter: string, topic: string): boolean {
  const want = filter.split("/");
  const have = topic.split("/");
  if (topic.startsWith("$") && (want[0] === "+" || want[0] === "#")) return false;
  for (let index = 0; index < want.length; index++) {
    const level = want[index];
    if (level === "#") return true;
    if (index >= have.length) return false;
    if (level !== "+" && level !== have[index]) return false;
  }
  return want.length === have.length;
}
