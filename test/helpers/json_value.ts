/**
 * JSON text as the agent reads it, for tests: the exact tree of its one parse (agent/json/parse.ts), and the
 * Python value the Body sees of it (agent/python `fromJson`), e.g. `args: pyJson('{"port": 8080}')`.
 */
import assert from "node:assert/strict";
import { type JsonValue, parseJson } from "../../agent/json/parse.ts";
import { fromJson, type PyValue } from "../../agent/python/mod.ts";

/** The exact tree of `text`; fails the test when it is not JSON. */
export function exactJson(text: string): JsonValue {
  const parsed = parseJson(text);
  if (!parsed.ok) assert.fail(parsed.message);
  return parsed.value;
}

/** What Python's `json.loads(text)` gives, as the interpreter's value (dicts keep the text's key order). */
export function pyJson(text: string): PyValue {
  return fromJson(exactJson(text));
}
