/**
 * The agent's V8 settings (build.mjs `V8_FLAGS`, baked into the bundles) that its process did not start with,
 * applied by the agent itself. The executable starts with the heap sizes only: any other V8 flag makes V8 refuse
 * the code caches made without it (Node's built-in one and the executable's own), ≈ 35 ms of every start
 * (docs/benchmarks.md, "Session 10"). So, in a process started without them:
 *
 * - the stack (`--stack-size=N`, KiB) is raised at once ({@link ensureEngineStack}, native/engine_stack.ts),
 *   before any Body is compiled or evaluated;
 * - the others (`--no-turbofan`, `--optimize-for-size`, `--gc-memory-reducer-start-delay-ms=…`) are set with
 *   `v8.setFlagsFromString` once the start is over ({@link applyLateFlags}: agent.ts calls it at the first quiet
 *   moment or after a few hundred commits). Set sooner, they would make V8 refuse Node's code cache for each
 *   built-in module the start loads after them (one loaded later, as the child_process fallback, is compiled from
 *   source once: a few ms). Each of them is read by V8 when it acts (tiering, heap growth, the memory reducer's
 *   timer), not only at its start; Node warns that flags changed after the start may behave unpredictably, and
 *   test/build/v8_flags.test.ts shows TurboFan idle from then on in the executable.
 * - the heap sizes never: V8 reads them once, when it sets its heap up. The executable starts with them; a Node
 *   started without them keeps V8's (docs/deploy.md: give them on its command line).
 *
 * A flag given on the command line (`npm start`, `node … dist/idem.mjs` as docs/deploy.md says) is left as given.
 * From the sources (tests) nothing is baked and nothing changes; on Deno nothing either (`--v8-flags=` carries
 * them all). The build's training run (native/sea_main.ts) keeps its start flags: V8 ties the code cache it
 * writes at exit to the flags of that moment.
 */
import { setFlagsFromString } from "node:v8";
import { raiseStackLimit, type StackRaise } from "./engine_stack.ts";

/** Set by build.mjs in a bundle: the agent's V8 flags (`V8_FLAGS`), those the docs say to run it with. */
declare const __IDEM_V8_FLAGS__: string[] | undefined;
/** Set by build.mjs in a bundle: those of them a process can only start with, the heap sizes (`startFlags`). */
declare const __IDEM_START_V8_FLAGS__: string[] | undefined;

/** Set on globalThis by native/sea_main.ts in the build's training run. */
export const TRAINING_RUN = Symbol.for("idem.codeCacheTraining");

/** What is left to apply: the stack (KiB) and the flags set once the start is over. */
export interface SettingsLeft {
  stackKB: number | undefined;
  late: string[];
}

const STACK_FLAG = /^--stack-size=(\d+)$/;

/**
 * Of `wanted`, what a process started with `given` (its `process.execArgv`: the executable's built-in flags are
 * there too) has still to apply; a flag named in `given`, whatever its value, is left as given, and one of
 * `startOnly` (the heap sizes: V8 reads them once, when it sets its heap up) is never set late.
 */
export function settingsLeft(
  wanted: readonly string[],
  given: readonly string[],
  startOnly: readonly string[],
): SettingsLeft {
  const skipped = new Set([...given, ...startOnly].map(flagName));
  const left = wanted.filter((flag) => !skipped.has(flagName(flag)));
  const stack = left.map((flag) => STACK_FLAG.exec(flag)).find((match) => match !== null);
  return {
    stackKB: stack ? Number(stack[1]) : undefined,
    late: left.filter((flag) => !STACK_FLAG.test(flag)),
  };
}

/** `--no-turbofan` and `--turbofan` name one flag, as `--stack-size=1500` and `--stack-size=984` do. */
function flagName(flag: string): string {
  const name = flag.replace(/^--(no-)?/, "").split("=")[0] ?? flag;
  return name.replaceAll("_", "-");
}

function left(): SettingsLeft {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const wanted = typeof __IDEM_V8_FLAGS__ === "undefined" || deno ? [] : __IDEM_V8_FLAGS__;
  const startOnly = typeof __IDEM_START_V8_FLAGS__ === "undefined" ? [] : __IDEM_START_V8_FLAGS__;
  return settingsLeft(wanted, process.execArgv, startOnly);
}

/** What the first {@link ensureEngineStack} did: null when nothing was left to raise. */
let stack: StackRaise | null | undefined;

/**
 * Raises V8's stack limit when this process should have a larger one than it started with; the first call does
 * it, every call returns what it did (undefined when nothing was left to raise). Cheap after the first: called
 * before each compile of a Body (pipeline/validate.ts, murano/execute.ts) as well as at the start (agent.ts).
 */
export function ensureEngineStack(): StackRaise | undefined {
  if (stack === undefined) {
    const kb = left().stackKB;
    stack = kb === undefined ? null : raiseStackLimit(kb);
  }
  return stack ?? undefined;
}

let lateApplied = false;

/** Sets the flags left for after the start, once; returns them (none on later calls or in the training run). */
export function applyLateFlags(): string[] {
  if (lateApplied || (globalThis as Record<symbol, unknown>)[TRAINING_RUN] === true) return [];
  lateApplied = true;
  const { late } = left();
  for (const flag of late) setFlagsFromString(flag);
  return late;
}
