/**
 * Asks CPython (`python3`, 3.11) whether Bodies compile as murano-agent compiles them: the Body un-indented,
 * wrapped in `def __execution_plan_main():` and followed by the `try:` that calls it, then
 * `compile(text, '<body>', 'exec')`. One python3 process answers a whole batch (JSON in, JSON out).
 */
import { execFileSync } from "node:child_process";

export interface CpythonVerdict {
  /** null when the Body compiles; else the exception's type name ("SyntaxError", "IndentationError", …). */
  error: string | null;
  message: string;
  /** The Body's line (the wrapper's first line removed) and CPython's 1-based offset, when given. */
  line: number | null;
  offset: number | null;
}

const SCRIPT = String.raw`
import json, sys
def wrap(body):
    lines = body.expandtabs(4).split('\n')
    m = sys.maxsize
    for line in lines:
        ind = -1
        for i, c in enumerate(line):
            if c != ' ':
                ind = i
                break
        if 0 <= ind < m:
            m = ind
    s = 'def __execution_plan_main():\n' + '\n'.join(' ' * 4 + l[m:] for l in lines)
    s += "\ntry:\n    __execution_plan_result = __execution_plan_main()\nexcept Exception as e:\n    __execution_plan_exception = e\n"
    return s
import warnings
warnings.simplefilter('ignore')
def verdict(body):
    try:
        compile(wrap(body), '<body>', 'exec')
        return {'error': None, 'message': '', 'line': None, 'offset': None}
    except BaseException as e:
        line = getattr(e, 'lineno', None)
        return {'error': type(e).__name__, 'message': str(getattr(e, 'msg', e)),
                'line': line - 1 if isinstance(line, int) else None, 'offset': getattr(e, 'offset', None)}
def run():
    # compile() runs 3 frames deep, as in idem's model of murano-agent (compile_checks.ts MAX_COMPILE_DEPTH).
    out = []
    for body in json.load(sys.stdin):
        out.append(verdict(body))
    return out
json.dump(run(), sys.stdout)
`;

/** CPython's verdict for each Body, in order. */
export function cpythonCompile(bodies: readonly string[]): CpythonVerdict[] {
  const out = execFileSync("python3", ["-c", SCRIPT], {
    input: JSON.stringify(bodies),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  return JSON.parse(out) as CpythonVerdict[];
}
