/**
 * Body parse speed: a Body is compiled at intake on the agent's main thread (agent/pipeline/validate.ts), so
 * its parse blocks pings and PUBACKs for as long as it takes. This program builds Bodies of 100 KB, 1 MB and
 * 4 MB of two shapes — realistic statements (script calls, format, if/for, dicts, comprehensions, f-strings)
 * and one long expression (a list of dict literals, the shape of data pasted into a Body) — and times, in CPU
 * time of this process, best of `--runs`:
 *
 * - "parse": tokenizer + parser (syntax/parse_module.ts), the part that grows with the text;
 * - "compile": the whole of `compile(source)` as intake runs it (parse, CPython's compile-time checks, the
 *   subset checker);
 * - CPython: python3's `ast.parse()` (its parse alone) and `compile()` (the floor) of the same wrapped text
 *   (murano-agent's wrapper); the ratios are idem's parse over ast.parse and idem's compile over compile().
 *
 * Each row prints ms and MB/s. Both sides must accept the Body.
 *
 *   node bench/parse.ts [--runs N] [--sizes 100000,1000000,4000000]
 */
import { execFileSync } from "node:child_process";
import * as python from "../agent/python/mod.ts";
import { parseModule, wrap } from "../agent/python/syntax/parse_module.ts";
import { intArg, ms, printTable } from "./lab.ts";

const RUNS = intArg("--runs", 3);
const sizesAt = process.argv.indexOf("--sizes");
const SIZES = (sizesAt >= 0 ? (process.argv[sizesAt + 1] ?? "") : "100000,1000000,4000000")
  .split(",")
  .map(Number);

/** One block of realistic statements; `k` varies names and numbers so that nothing repeats exactly. */
function block(k: number): string {
  return [
    `r${k} = deploy('--tag {0} --n {1}'.format(args.tag, ${k}), input=args.get('input_${k % 7}'))`,
    `if r${k}.exitCode != 0 and not args.force:`,
    `    return {'ok': False, 'step': ${k}, 'error': r${k}.stderr[-200:], 'ratio': ${k}.5e-3}`,
    `items = [line.strip() for line in r${k}.stdout.split('\\n') if line and not line.startswith('#')]`,
    `for i, item in enumerate(items[:${(k % 50) + 1}]):`,
    `    total += len(item) * 3 + (i % 4) ** 2 - 0x${(k % 255).toString(16)}`,
    `    out['k${k}_%d' % i] = f"{item!r:>20} {i:04d} {args.name}"`,
    `names = sorted(set(x.lower() for x in args.names), key=len, reverse=True)  # comment ${k}`,
    "",
  ].join("\n");
}

function statements(size: number): string {
  const parts: string[] = ["total = 0", "out = {}"];
  let length = 0;
  for (let k = 0; length < size; k++) {
    const b = block(k);
    parts.push(b);
    length += b.length + 1;
  }
  parts.push("return [total, len(out), names]");
  return parts.join("\n");
}

function longExpression(size: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let k = 0; length < size; k++) {
    const item = `{'id': ${k}, 'name': 'node-${k}', 'weight': ${k % 97}.25, 'tags': ['a', 'b${k % 10}'], 'on': ${k % 2 === 0 ? "True" : "None"}}`;
    parts.push(item);
    length += item.length + 3;
  }
  return `return [\n    ${parts.join(",\n    ")}\n]`;
}

/** CPU time (user + system) of this process so far. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function best(run: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const start = cpuMs();
    run();
    min = Math.min(min, cpuMs() - start);
  }
  return min;
}

/**
 * The python3 side: reads [text…] and N, prints [best ast.parse() ms, best compile() ms] of each text (one
 * compile() run above 1 MB: CPython compiles a 4 MB function in seconds).
 */
const HARNESS = `
import ast, json, sys, time
texts, runs = json.load(sys.stdin)
def best(fn, text, n):
    times = []
    for _ in range(n):
        t = time.process_time_ns()
        fn(text)
        times.append((time.process_time_ns() - t) / 1e6)
    return min(times)
out = []
for text in texts:
    big = len(text) > 1100000
    out.append([best(ast.parse, text, runs), best(lambda s: compile(s, '<body>', 'exec'), text, 1 if big else runs)])
print(json.dumps(out))
`;

const bodies: [string, string][] = [];
for (const size of SIZES) {
  const label = size >= 1e6 ? `${size / 1e6} MB` : `${size / 1e3} KB`;
  bodies.push([`statements, ${label}`, statements(size)]);
  bodies.push([`one expression, ${label}`, longExpression(size)]);
}
const cpython = JSON.parse(
  execFileSync("python3", ["-c", HARNESS], {
    input: JSON.stringify([bodies.map(([, source]) => wrap(source).text), RUNS]),
    encoding: "utf8",
    maxBuffer: 1 << 20,
  }),
) as [number, number][];

const rate = (bytes: number, time: number): string => `${(bytes / 1e6 / (time / 1000)).toFixed(1)} MB/s`;
const rows: string[][] = [];
for (const [i, [name, source]] of bodies.entries()) {
  const parse = best(() => parseModule(source));
  const whole = best(() => python.compile(source));
  const [astParse = Number.NaN, pyCompile = Number.NaN] = cpython[i] ?? [];
  rows.push([
    name,
    ms(parse),
    rate(source.length, parse),
    ms(whole),
    ms(astParse),
    ms(pyCompile),
    `${(parse / astParse).toFixed(1)}x`,
    `${(whole / pyCompile).toFixed(1)}x`,
  ]);
}
const versions = `node ${process.version}, ${execFileSync("python3", ["-V"], { encoding: "utf8" }).trim()}`;
console.log(`Body parse, CPU time, best of ${RUNS} runs (${versions})\n`);
printTable(
  [
    "Body",
    "idem parse",
    "parse rate",
    "idem compile",
    "ast.parse",
    "CPython compile",
    "parse ratio",
    "compile ratio",
  ],
  rows,
);
