/**
 * Body evaluation speed, idem side by side with CPython. Each Body is compiled once and evaluated `--runs` times
 * in this thread (agent/python/mod.ts, no worker), and run as many times by ONE python3 process that wraps it in
 * a function as murano-agent does (`def __execution_plan_main(): <Body>`), timeit-style. The table gives the
 * best time of one evaluation on each side (the minimum, as timeit advises) in CPU time (user + system of the
 * process: on a shared machine wall time measures the neighbours too), the ratio of the best times and whether it meets the goal of issue 10 (within 10x CPython). "idem cold" is compile + evaluate of
 * the Body alone in a fresh Node process, as a fresh Body worker runs it (JIT not warmed by anything). The floor
 * row is a Body that does nothing. Both sides must return the same repr, else the bench fails: a fast wrong
 * answer is no answer.
 *
 *   node bench/body.ts [--runs N]
 */
import { execFileSync } from "node:child_process";
import * as python from "../agent/python/mod.ts";
import { intArg, ms, printTable } from "./lab.ts";

const RUNS = intArg("--runs", 5);
const GOAL = 10;

/** Name and Body source; the first is the floor. */
const BODIES: [string, string][] = [
  ["floor (empty Body)", "pass"],
  ["sum(range(10**6))", "return sum(range(10**6))"],
  ["100k list comprehension", "return len([i*2 for i in range(100000) if i % 3])"],
  ["join of a 100k generator", "return ','.join(str(i) for i in range(10**5))[-20:]"],
  ["for loop x += i, 10**6", "x = 0\nfor i in range(10**6):\n    x += i\nreturn x"],
  [
    "dict built in a loop, 10**5",
    "d = {}\nfor i in range(10**5):\n    d['k' + str(i)] = i * i\nreturn len(d)",
  ],
  [
    "str concatenated in a loop, 10**5",
    "s = ''\nfor i in range(10**5):\n    s += str(i % 10)\nreturn len(s)",
  ],
  [
    "nested loops, if/elif, 10**5",
    "n = 0\nfor i in range(100):\n    for j in range(1000):\n        if j % 3 == 0:\n            n += 1\n" +
      "        elif j % 3 == 1 and i < 50:\n            n -= 1\nreturn n",
  ],
  [
    "list.append and indexing, 10**5",
    "a = []\nfor i in range(10**5):\n    a.append(i)\nt = 0\nfor i in range(len(a)):\n    t += a[i]\nreturn t",
  ],
  [
    "tuple unpacking over dict items",
    "d = {str(i): i for i in range(10**4)}\nt = 0\nfor _ in range(10):\n    for k, v in d.items():\n" +
      "        t += v\nreturn t",
  ],
  ["list repetition [0] * 10**7", "return len([0] * 10**7)"],
  [
    "str slicing in a loop, 10**5",
    "s = 'abcdefghij' * 100\nt = 0\nfor i in range(10**5):\n    t += len(s[i % 50:i % 50 + 20])\nreturn t",
  ],
  [
    "list slicing in a loop, 10**5",
    "a = list(range(100))\nt = 0\nfor i in range(10**5):\n    t += len(a[i % 50:i % 50 + 20])\nreturn t",
  ],
  [
    "dict lookups, int and str keys, 2x10**5",
    "d = {i: i for i in range(1000)}\ne = {str(i): i for i in range(1000)}\nkeys = list(e)\nt = 0\n" +
      "for i in range(10**5):\n    t += d[i % 1000] + e[keys[i % 1000]]\nreturn t",
  ],
  ["str(i) in a loop, 10**5", "n = 0\nfor i in range(10**5):\n    n += len(str(i))\nreturn n"],
];

/** The python3 side: reads [[name, source]…] and N, prints [[best ms, repr]…] as JSON. */
const HARNESS = String.raw`
import json, sys, time
bodies, runs = json.load(sys.stdin)
out = []
for name, source in bodies:
    script = 'def __execution_plan_main():\n' + ''.join('    ' + line + '\n' for line in source.split('\n'))
    scope = {'args': {}}
    exec(compile(script, '<body>', 'exec'), scope)
    fn = scope['__execution_plan_main']
    times = []
    for _ in range(runs):
        t = time.process_time_ns()
        result = fn()
        times.append((time.process_time_ns() - t) / 1e6)
    out.append([min(times), repr(result)])
print(json.dumps(out))
`;

/** CPU time (user + system) of this process so far. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const OPTIONS: python.EvaluateOptions = {
  args: null,
  scripts: new Set<string>(),
  call: () => ({ exitCode: 0, stdout: null, stderr: null }),
};

function idem(source: string): { best: number; repr: string } {
  const program = python.compile(source);
  const times: number[] = [];
  let result: python.PyValue = null;
  for (let i = 0; i < RUNS; i++) {
    const start = cpuMs();
    result = python.evaluate(program, OPTIONS);
    times.push(cpuMs() - start);
  }
  return { best: Math.min(...times), repr: python.repr(result) };
}

/** Compile + evaluate of Body `index` in a fresh process (this program with `--cold index`), in ms. */
function cold(index: number): number {
  const out = execFileSync(process.execPath, [import.meta.filename, "--cold", String(index)], {
    encoding: "utf8",
  });
  return Number(out);
}

const coldAt = process.argv.indexOf("--cold");
if (coldAt >= 0) {
  const [, source = ""] = BODIES[Number(process.argv[coldAt + 1])] ?? [];
  const start = cpuMs();
  python.evaluate(python.compile(source), OPTIONS);
  process.stdout.write(String(cpuMs() - start));
  process.exit(0);
}

const cpython = JSON.parse(
  execFileSync("python3", ["-c", HARNESS], { input: JSON.stringify([BODIES, RUNS]), encoding: "utf8" }),
) as [number, string][];

const rows: string[][] = [];
let failed = false;
for (const [i, [name, source]] of BODIES.entries()) {
  const [pyMs = Number.NaN, pyRepr = ""] = cpython[i] ?? [];
  const own = idem(source);
  if (own.repr !== pyRepr) {
    console.error(`${name}: idem returned ${own.repr}, CPython ${pyRepr}`);
    failed = true;
  }
  const ratio = own.best / pyMs;
  const goal = i === 0 ? "" : ratio <= GOAL ? "yes" : "NO";
  rows.push([name, ms(pyMs), ms(own.best), `${ratio.toFixed(1)}x`, goal, ms(cold(i))]);
}
const versions = `node ${process.version}, ${execFileSync("python3", ["-V"], { encoding: "utf8" }).trim()}`;
console.log(`Body evaluation, CPU time, best of ${RUNS} runs (${versions})\n`);
printTable(["Body", "CPython", "idem", "ratio", `within ${GOAL}x`, "idem cold"], rows);
if (failed) process.exitCode = 1;
