/**
 * The reference for differential tests of agent/json: CPython 3's `json.loads`, run once per batch of texts, and
 * the canonical form of SPEC 4 computed in Python (keys sorted by UTF-16 code units, ints by `str`, floats by
 * `repr`, strings escaped as JCS with lone surrogates as `\udxxx`).
 */
import { spawnSync } from "node:child_process";

/** Python's verdict on one text: accepted with SPEC 4's canonical form, or refused with its error. */
export type PythonVerdict =
  | { ok: true; canonical: string }
  | { ok: false; message: string; position: number | null }
  | { ok: "recursion" };

const REFERENCE = String.raw`
import json, sys
def esc(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        short = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'}
        if ch in short: out.append(short[ch])
        elif o < 0x20 or 0xd800 <= o <= 0xdfff: out.append('\\u%04x' % o)
        else: out.append(ch)
    return ''.join(out) + '"'
def canon(v):
    if v is None: return 'null'
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, int): return str(v)
    if isinstance(v, float): return repr(v)
    if isinstance(v, str): return esc(v)
    if isinstance(v, list): return '[' + ','.join([canon(x) for x in v]) + ']'
    keys = sorted(v, key=lambda k: k.encode('utf-16-be', 'surrogatepass'))
    return '{' + ','.join([esc(k) + ':' + canon(v[k]) for k in keys]) + '}'
for raw in sys.stdin.buffer:
    text = json.loads(raw.decode('utf-8'))
    sys.setrecursionlimit(1000)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        print(json.dumps({'ok': False, 'message': e.msg, 'position': e.pos})); continue
    except ValueError as e:
        print(json.dumps({'ok': False, 'message': str(e), 'position': None})); continue
    except RecursionError:
        print(json.dumps({'ok': 'recursion'})); continue
    sys.setrecursionlimit(10000)
    print(json.dumps({'ok': True, 'canonical': canon(value)}))
`;

/** Runs CPython 3's `json.loads` once over all `texts` (one python3 process); one verdict per text. */
export function pythonVerdicts(texts: readonly string[]): PythonVerdict[] {
  const input = texts.map((t) => `${JSON.stringify(t)}\n`).join("");
  const run = spawnSync("python3", ["-c", REFERENCE], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  const lines = run.stdout.trimEnd().split("\n");
  if (lines.length !== texts.length)
    throw new Error(`python3 answered ${lines.length} of ${texts.length} texts`);
  return lines.map((line) => JSON.parse(line) as PythonVerdict);
}

const SAME = `
import json, sys
sys.setrecursionlimit(10000)
for line in sys.stdin.buffer:
    text, ours = json.loads(line.decode('utf-8'))
    print('true' if json.dumps(json.loads(text)) == json.dumps(json.loads(ours)) else 'false')
`;

/**
 * For each pair `[text, ours]`: whether CPython's `json.loads` reads both as the same values in the same key
 * order (their `json.dumps` texts are equal: ints by digits, floats by repr, NaN as NaN). One python3 process.
 */
export function pythonSameJson(pairs: ReadonlyArray<readonly [string, string]>): boolean[] {
  const input = pairs.map((pair) => `${JSON.stringify(pair)}\n`).join("");
  const run = spawnSync("python3", ["-c", SAME], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`python3 failed (${run.status}): ${run.stderr}`);
  const lines = run.stdout
    .trimEnd()
    .split("\n")
    .filter((line) => line !== "");
  if (lines.length !== pairs.length)
    throw new Error(`python3 answered ${lines.length} of ${pairs.length} pairs`);
  return lines.map((line) => line === "true");
}
