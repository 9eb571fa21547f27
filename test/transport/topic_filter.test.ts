/**
 * SPEC 3 `replyTopics`: MQTT topic filters (`+` one level, `#` the rest, `$` topics never matched by a leading
 * wildcard), as MQTT 3.1.1 / 5 section 4.7 define them. Fixed cases from the standard, then properties checked
 * against an independent regular-expression reading of the same rules.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { matchesFilter, topicFilterProblem } from "../../agent/transport/topic_filter.ts";

describe("matchesFilter", () => {
  const cases: Array<[string, string, boolean]> = [
    ["idem/+/results", "idem/vm-1/results", true],
    ["idem/+/results", "idem/vm-1/plans", false],
    ["idem/+/results", "idem/a/b/results", false],
    ["idem/+/results", "idem//results", true],
    ["idem/vm-1/#", "idem/vm-1/results", true],
    ["idem/vm-1/#", "idem/vm-1", true],
    ["idem/vm-1/#", "idem/vm-1/a/b/c", true],
    ["idem/vm-1/#", "idem/vm-12/results", false],
    ["idem/vm-1/#", "idem/vm-2/results", false],
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["#", "a/b", true],
    ["#", "$SYS/broker", false],
    ["+/broker", "$SYS/broker", false],
    ["$SYS/#", "$SYS/broker", true],
    ["$SYS/+", "$SYS/broker", true],
    ["a/b", "a/b", true],
    ["a/b", "a/b/", false],
    ["a.b/+", "a.b/c", true],
    ["a/b/+", "a.b.c", false],
  ];
  for (const [filter, topic, expected] of cases) {
    test(`${filter} ${expected ? "matches" : "does not match"} ${topic}`, () => {
      assert.equal(matchesFilter(filter, topic), expected);
    });
  }
});

describe("topicFilterProblem", () => {
  for (const filter of ["#", "+", "a/#", "+/+/#", "a/+/b", "/", "$SYS/#", "a b/c"]) {
    test(`accepts ${filter}`, () => assert.equal(topicFilterProblem(filter), undefined));
  }
  const refused: Array<[string, RegExp]> = [
    ["", /empty/],
    ["a/#/b", /"#" other than as its whole last level/],
    ["a#", /"#"/],
    ["a/b#", /"#"/],
    ["a+/b", /"\+" other than as a whole level/],
    ["a/+b", /"\+"/],
    ["a\u0000b", /U\+0000/],
    ["x".repeat(1025), /over 1024 bytes/],
  ];
  for (const [filter, reason] of refused) {
    test(`refuses ${JSON.stringify(filter).slice(0, 20)}`, () => {
      assert.match(topicFilterProblem(filter) ?? "accepted", reason);
    });
  }
});

/** Levels from a small alphabet, so that random filters and topics often match. */
const level = fc.constantFrom("a", "b", "", "vm-1", "$SYS", "a.b");
const topicName = fc
  .array(level, { minLength: 1, maxLength: 5 })
  .map((levels) => levels.join("/"))
  .filter((name) => name !== "");
const filterLevel = fc.oneof(level, fc.constant("+"));
const topicFilter = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((filter) => filter !== "")
  .chain((filter) => fc.constantFrom(filter, "#"));

/** The rules as a regular expression: `+` is `[^/]*`, a trailing `/#` is `(/.*)?`, `#` alone is anything. */
function oracle(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && /^[+#]/.test(filter)) return false;
  if (filter === "#") return true;
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const hash = filter.endsWith("/#");
  const body = (hash ? filter.slice(0, -2) : filter)
    .split("/")
    .map((part) => (part === "+" ? "[^/]*" : literal(part)))
    .join("/");
  return new RegExp(`^${body}${hash ? "(/.*)?" : ""}$`).test(topic);
}

describe("properties", () => {
  test("matches exactly as the regular-expression reading of the rules", () => {
    fc.assert(
      fc.property(topicFilter, topicName, (filter, topic) => {
        assert.equal(topicFilterProblem(filter), undefined);
        assert.equal(matchesFilter(filter, topic), oracle(filter, topic), `${filter} vs ${topic}`);
      }),
      { numRuns: 2000 },
    );
  });

  test("a filter made from a topic by wildcards matches it, unless a leading wildcard meets a $ topic", () => {
    const made = topicName.chain((topic) => {
      const levels = topic.split("/");
      return fc
        .tuple(
          fc.array(fc.boolean(), { minLength: levels.length, maxLength: levels.length }),
          fc.nat(levels.length),
        )
        .map(([plus, cut]) => {
          const parts = levels.map((part, index) => (plus[index] ? "+" : part));
          const filter = cut < levels.length ? [...parts.slice(0, cut), "#"].join("/") : parts.join("/");
          return { topic, filter };
        });
    });
    fc.assert(
      fc.property(made, ({ topic, filter }) => {
        const leadingWildcard = filter.startsWith("+") || filter.startsWith("#");
        assert.equal(matchesFilter(filter, topic), !(topic.startsWith("$") && leadingWildcard));
      }),
      { numRuns: 2000 },
    );
  });
});
