/**
 * Topic names the agent may publish to (SPEC 3 `ReplyTo`). A reply on a topic the broker refuses is not merely
 * lost: mosquitto drops the whole connection on a malformed topic name (measured, 2.0.11: DISCONNECT 0x81 on
 * MQTT 5, a bare close on 3.1.1), and a lone surrogate is silently published under another name (U+FFFD).
 * So a topic is checked before it is promised a reply, and again before it is published.
 */

/** The longest topic name idem publishes to, in bytes of UTF-8 (MQTT allows 65,535; SPEC 3 says 1024). */
export const MAX_TOPIC_BYTES = 1024;

/**
 * Why `topic` is not a valid MQTT topic *name* to publish to, or `undefined` when it is one: empty; over
 * {@link MAX_TOPIC_BYTES} bytes of UTF-8; a wildcard (`+`, `#`); U+0000; a control character (U+0001–U+001F,
 * U+007F–U+009F); a noncharacter (U+FDD0–U+FDEF, and U+FFFE/U+FFFF in every plane, as mosquitto refuses them
 * all); a lone surrogate (not well-formed UTF-16, so not encodable as UTF-8); a leading `$` (reserved for the
 * broker: `$SYS/…` is refused, other `$` topics never reach `#` subscribers).
 */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return "the topic name is empty";
  if (topic.startsWith("$")) return 'the topic name starts with "$", which is reserved for the broker';
  let bytes = 0;
  for (let index = 0; index < topic.length; index++) {
    const unit = topic.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = topic.charCodeAt(index + 1);
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        return `the topic name contains a lone surrogate (${codePoint(unit)}) at index ${index}`;
      }
      const point = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
      if (isNoncharacter(point))
        return `the topic name contains the noncharacter ${codePoint(point)} at index ${index}`;
      bytes += 4;
      index++;
      continue;
    }
    if (unit === 0x2b || unit === 0x23) return `the topic name contains the wildcard "${topic[index]}"`;
    if (unit === 0) return `the topic name contains U+0000 at index ${index}`;
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) {
      return `the topic name contains the control character ${codePoint(unit)} at index ${index}`;
    }
    if (isNoncharacter(unit))
      return `the topic name contains the noncharacter ${codePoint(unit)} at index ${index}`;
    bytes += unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3;
  }
  if (bytes > MAX_TOPIC_BYTES) {
    return `the topic name has ${bytes} bytes of UTF-8, over the ${MAX_TOPIC_BYTES} allowed`;
  }
  return undefined;
}

/** `topic` with its control characters (and other code points unfit for a log line) written as `\uXXXX`. */
export function printableTopic(topic: string): string {
  let out = "";
  for (const char of topic) {
    const point = char.codePointAt(0) ?? 0;
    const lone = char.length === 1 && point >= 0xd800 && point <= 0xdfff;
    out +=
      point <= 0x1f || (point >= 0x7f && point <= 0x9f) || lone || isNoncharacter(point)
        ? `\\u${point.toString(16).padStart(4, "0")}`
        : char;
  }
  return out;
}

function isNoncharacter(point: number): boolean {
  return (point >= 0xfdd0 && point <= 0xfdef) || (point & 0xfffe) === 0xfffe;
}

function codePoint(point: number): string {
  return `U+${point.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * What a message the session received is, by the topic name the broker delivered it under: the agent's own
 * retained `status`, an operator request on its `control` topic (`pipeline/control.ts`), or a `plan` (anything
 * else is a plan, whatever name the broker gave it: RabbitMQ swaps `.` and `/` between MQTT topics and AMQP
 * routing keys).
 */
export function route(
  topic: string,
  statusTopic: string,
  controlTopic?: string,
): "status" | "control" | "plan" {
  if (sameTopic(topic, statusTopic)) return "status";
  return controlTopic !== undefined && sameTopic(topic, controlTopic) ? "control" : "plan";
}

/**
 * True when `a` and `b` name the same topic with `.` and `/` taken as the same level separator. RabbitMQ does
 * not swap them back: `idem/web-1.prod/status` becomes the routing key `idem.web-1.prod.status`, delivered as
 * `idem/web-1/prod/status`.
 */
export function sameTopic(a: string, b: string): boolean {
  return a === b || (a.length === b.length && a.replaceAll(".", "/") === b.replaceAll(".", "/"));
}
