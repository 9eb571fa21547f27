/**
 * Which JavaScript engine limit a thrown error stands for, exactly. V8 throws a RangeError for many unrelated
 * things: the stack running out (CPython: RecursionError), a string, BigInt or array beyond what the engine can
 * hold (CPython: MemoryError: the Body asked for more memory than there is), and also for arguments out of range
 * (`toFixed(120)`, `String.fromCodePoint(0x110000)`, `BigInt(1.5)`), which inside the interpreter are its own
 * bugs. The type alone cannot tell them apart, and the messages are the engine's (they differ between engines
 * and versions), so each limit is provoked once here, and a thrown RangeError is that limit only when it is the
 * same kind of error with the same message as the one the engine gave for it: no message text is written in this
 * file. The limits are provoked when the first RangeError is asked about, not at load: running the stack out
 * touches all of it (≈ 1.5 MB of RSS with the agent's 1500 KiB stack, build.mjs `V8_FLAGS`) and costs ≈ 2 ms, which a start
 * and an agent whose Bodies never hit a RangeError need not pay (issue 11, idle RSS; docs/benchmarks.md). The
 * question comes from a `catch` that the overflow has unwound to, so the stack is there to learn on.
 *
 * - stack: a function calling itself until the engine refuses;
 * - memory: `"x".repeat(2 ** 31)` (longer than any string: refused before anything is allocated), a BigInt
 *   shifted by 2 ** 40 bits, an array of 2 ** 32 items.
 */

export type EngineLimit = "stack" | "memory";

/** The RangeError message each limit gives on this engine, learned on first use ({@link learned}). */
let limits: Map<string, EngineLimit> | undefined;

function provoke(action: () => unknown): string | null {
  try {
    action();
  } catch (error) {
    if (error instanceof RangeError) return error.message;
  }
  return null;
}

function recurse(depth: number): number {
  return recurse(depth + 1) + 1;
}

/** Each limit provoked once, its message kept (a message two limits share stays the first one's). */
function learned(): Map<string, EngineLimit> {
  if (limits) return limits;
  const found = new Map<string, EngineLimit>();
  const learn = (limit: EngineLimit, action: () => unknown) => {
    const message = provoke(action);
    if (message !== null && !found.has(message)) found.set(message, limit);
  };
  learn("stack", () => recurse(0));
  learn("memory", () => "x".repeat(2 ** 31));
  learn("memory", () => 1n << (2n ** 40n));
  learn("memory", () => new Array(2 ** 32));
  limits = found;
  return found;
}

/** The engine limit `error` stands for, or null when it is none (a bug of the interpreter, say). */
export function engineLimit(error: unknown): EngineLimit | null {
  if (!(error instanceof RangeError)) return null;
  return learned().get(error.message) ?? null;
}

/** Whether `error` is the engine's stack running out. */
export function isStackOverflow(error: unknown): boolean {
  return engineLimit(error) === "stack";
}
