/**
 * Where a sequential round trip's time goes inside the agent (issue 11): builds a copy of the executable with a
 * time mark (`performance.now()`) at each step of a plan's travel, runs it through `bench/ab.ts` (sequential
 * round trips on the bench's private RabbitMQ), and prints, per step, the median time from the previous mark,
 * over every plan of every round. A profile tells what costs CPU; this tells what the plan waits for, including
 * what is not JavaScript (an fsync, a spawn, the script itself, the broker and the engine between two plans).
 *
 *   node_modules/.bin/node bench/marks.ts [--rounds 3] [--n 100] [--keep DIR]
 *
 * The marks go into a copy of the tree (a temporary folder; `--keep DIR` builds there and leaves it) at the
 * anchors of {@link MARKS}: a line of source each, found verbatim, so a change that moves one makes this program
 * stop and name it rather than measure something else. The executable is the one `node build.mjs --out` makes;
 * at exit each agent writes its marks to `$IDEM_MARKS_DIR/marks-<pid>.json`. Lab only: the shipped agent has no
 * marks, and the marked one's figures are not the bench's.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intArg, pct, printTable } from "./lab.ts";

const ROOT = join(import.meta.dirname, "..");

/** [file, anchor (verbatim), mark before or after it, label], in a plan's travel order. */
const MARKS: ReadonlyArray<readonly [string, string, "before" | "after", string]> = [
  [
    "agent/transport/mqtt.ts",
    "c.handleMessage = (packet: Packet, callback: (error?: Error) => void) => {",
    "after",
    "recv",
  ],
  ["agent/journal/commits.ts", "const batch = this.#batch.splice(0);", "after", "batch-begin"],
  ["agent/journal/commits.ts", "const follower = this.#follower;", "before", "writes-done"],
  ["agent/journal/commits.ts", "settle = told;", "after", "follower-done"],
  [
    "agent/journal/commits.ts",
    "for (const pending of batch) {\n      if (thrown.has(pending)) pending.reject(thrown.get(pending));\n      else pending.resolve();",
    "before",
    "batch-end",
  ],
  [
    "agent/transport/inbound.ts",
    '(client as unknown as PacketWriter)._sendPacket({ cmd: "puback", messageId });',
    "before",
    "puback",
  ],
  [
    "agent/pipeline/run.ts",
    "#launch(entry: QueueEntry, startedAs?: number): Promise<void> {",
    "after",
    "launch",
  ],
  ["agent/pipeline/execute.ts", 'failpoint("after-running");', "after", "start-durable"],
  ["agent/murano/execute.ts", "const evaluation = evaluatePlanBody(", "before", "workdir"],
  ["agent/murano/execute.ts", "const script = Object.hasOwn(ex.scripts, name)", "before", "call"],
  [
    "agent/murano/execute.ts",
    "if (ex.controller.signal.aborted) throw stopped();\n  const scriptOptions",
    "before",
    "placed",
  ],
  ["agent/native/posix_spawn.ts", "        rc = libc.posix_spawn(\n", "before", "spawn-call"],
  [
    "agent/native/posix_spawn.ts",
    "        if (rc === osConstants.errno.ENOEXEC) {",
    "before",
    "spawn-return",
  ],
  ["agent/murano/script_runner.ts", "const pgid = child.pid;", "before", "spawned"],
  ["agent/native/posix_spawn.ts", "      waiting.delete(pid);", "before", "reaped"],
  ["agent/murano/execute.ts", "const result = await run;", "after", "script-end"],
  [
    "agent/pipeline/execute.ts",
    "await finishEntry(ctx, entry, outcome, {\n    attempt,\n    time,\n    seconds,",
    "before",
    "finish",
  ],
  [
    "agent/transport/outbox.ts",
    "#send(transport: Transport, entry: OutboxEntry, suspect: boolean): void {",
    "after",
    "publish",
  ],
];

/** The recorder, put after the entry's shebang: marks in memory, written at exit. */
const RECORDER =
  "{ const marks: Array<[string, number]> = []; const dir = process.env.IDEM_MARKS_DIR; " +
  "if (dir) { (globalThis as Record<string, unknown>).__idemMark = (label: string) => marks.push([label, performance.now()]); " +
  'process.on("exit", () => (process as unknown as { getBuiltinModule(name: string): typeof import("node:fs") })' +
  '.getBuiltinModule("node:fs").writeFileSync(dir + "/marks-" + process.pid + ".json", JSON.stringify(marks))); } }';

if (process.argv.includes("--help")) {
  console.log(
    "usage: node_modules/.bin/node bench/marks.ts [--rounds 3] [--n 100] [--keep DIR]\n  per-step medians of a plan's travel",
  );
  process.exit(0);
}
const rounds = intArg("--rounds", 3);
const n = intArg("--n", 100);
const keepAt = process.argv.indexOf("--keep");
const tree = keepAt >= 0 ? (process.argv[keepAt + 1] as string) : mkdtempSync(join(tmpdir(), "idem-marks-"));
const marksDir = mkdtempSync(join(tmpdir(), "idem-marks-out-"));
try {
  const exe = buildMarked(tree);
  execFileSync(
    process.execPath,
    [join(ROOT, "bench/ab.ts"), "--exe", exe, "--rounds", `${rounds}`, "--n", `${n}`],
    {
      stdio: "inherit",
      env: { ...process.env, IDEM_MARKS_DIR: marksDir },
    },
  );
  report(marksDir);
} finally {
  rmSync(marksDir, { recursive: true, force: true });
  if (keepAt < 0) rmSync(tree, { recursive: true, force: true });
}

/** Copies the sources to `dir`, puts the marks in, builds; returns the executable's path. */
function buildMarked(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const skipped = new Set(["node_modules", "dist", ".git"].map((name) => join(ROOT, name)));
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (source) => !skipped.has(source) && !source.includes("/bench/.lab"),
  });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  for (const [file, anchor, where, label] of MARKS) {
    const path = join(dir, file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(anchor))
      throw new Error(`Cannot place mark "${label}": ${file} no longer holds its anchor`);
    const mark = `(globalThis as Record<string, unknown> & { __idemMark?: (label: string) => void }).__idemMark?.(${JSON.stringify(label)});`;
    writeFileSync(path, text.replace(anchor, where === "before" ? `${mark}${anchor}` : `${anchor}${mark}`));
  }
  const main = join(dir, "agent/main.ts");
  const lines = readFileSync(main, "utf8").split("\n");
  lines.splice(1, 0, RECORDER);
  writeFileSync(main, lines.join("\n"));
  execFileSync(process.execPath, ["build.mjs", "--out", join(dir, "dist")], { cwd: dir, stdio: "inherit" });
  return join(dir, "dist/idem");
}

/** Per step (a mark and the one before it within a plan, split at each `recv`), the median and count. */
function report(dir: string): void {
  const steps = new Map<string, number[]>();
  const between: number[] = [];
  const cycles: number[] = [];
  const add = (key: string, value: number) => (steps.get(key) ?? steps.set(key, []).get(key))?.push(value);
  for (const file of readdirSync(dir)) {
    const marks = JSON.parse(readFileSync(join(dir, file), "utf8")) as Array<[string, number]>;
    let plan: Array<[string, number]> = [];
    let published: number | undefined;
    const close = () => {
      plan.forEach(([label, at], i) => {
        const previous = plan[i - 1];
        if (previous) add(`${String(i).padStart(2)} ${previous[0]} → ${label}`, at - previous[1]);
      });
    };
    for (const [label, at] of marks) {
      if (label === "recv") {
        close();
        // Only between plans of the sequential run: a pause (a new round, the warm-up's end) is not a step.
        if (published !== undefined && at - published < 50) between.push(at - published);
        if (plan[0] && at - plan[0][1] < 100) cycles.push(at - plan[0][1]);
        plan = [];
        published = undefined;
      }
      if (label === "publish") published = at;
      plan.push([label, at]);
    }
    close();
  }
  const rows = [...steps]
    .filter(([, values]) => values.length >= 20)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([step, values]) => [step, `${pct(values, 50).toFixed(3)} ms`, `${values.length}`]);
  rows.push([
    "   publish → next plan's recv (broker, engine, broker)",
    `${pct(between, 50).toFixed(3)} ms`,
    `${between.length}`,
  ]);
  rows.push([
    "   recv → next recv (one whole cycle)",
    `${pct(cycles, 50).toFixed(3)} ms`,
    `${cycles.length}`,
  ]);
  printTable(["step", "median", "plans"], rows);
}
