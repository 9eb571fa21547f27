/**
 * Runs Bodies in idem (in-thread compile + evaluate) and in CPython (`python3`, one process per batch, each Body
 * wrapped in a function as murano-agent wraps it, `args` a Bunch of the Parameters), and gives both outcomes in
 * one shape for comparison: the result's repr, or the exception's type and `str()`. For tests of the evaluator's
 * semantics, whose expected values must come from CPython itself.
 */
import { execFileSync } from "node:child_process";
import { IdemError } from "../../agent/errors.ts";
import * as python from "../../agent/python/mod.ts";
import { pyJson } from "./json_value.ts";

/** What a Body gave: `repr(result)`, or `Type: message` of the exception it raised. */
export type Outcome = string;

const HARNESS = String.raw`
import json, sys
sys.setrecursionlimit(1000)
class Bunch(dict):
    def __getattr__(self, item):
        return self.__getitem__(item)
    def __setattr__(self, key, value):
        return self.__setitem__(key, value)
def outcome(source, params):
    try:
        script = 'def __execution_plan_main():\n' + ''.join('    ' + line + '\n' for line in source.split('\n'))
        scope = {'args': Bunch(json.loads(params))}
        exec(compile(script, '<body>', 'exec'), scope)
        return repr(scope['__execution_plan_main']())
    except BaseException as e:
        return type(e).__name__ + ': ' + str(e)
print(json.dumps([outcome(source, params) for source, params in json.load(sys.stdin)]))
`;

/** CPython's outcome of each Body (Parameters `{}` unless given). */
export function cpython(sources: readonly string[], params = "{}"): Outcome[] {
  const input = JSON.stringify(sources.map((source) => [source, params]));
  const out = execFileSync("python3", ["-c", HARNESS], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  return JSON.parse(out) as Outcome[];
}

/** idem's outcome of a Body: a Python exception as CPython names it; any other error is rethrown. */
export function idem(source: string, params = "{}"): Outcome {
  try {
    const program = python.compile(source);
    const result = python.evaluate(program, {
      args: pyJson(params),
      scripts: new Set(),
      call: () => ({ exitCode: 0, stdout: null, stderr: null }),
    });
    return python.repr(result);
  } catch (error) {
    if (error instanceof IdemError && error.code === 1 && typeof error.cause === "string")
      return `${error.cause}: ${error.message}`;
    throw error;
  }
}
