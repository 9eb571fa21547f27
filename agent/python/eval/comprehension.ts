/**
 * List, set and dict comprehensions and generator expressions, compiled. Each is a function of its own in
 * Python 3: its loop targets are locals of a new frame (they do not leak into the Body), its first iterable is
 * evaluated in the enclosing scope, and made an iterator, before the new frame exists (`[x for x in x]` reads
 * the Body's `x`); the other iterables and the conditions run inside. A generator expression is lazy: it
 * computes one item per `next()`, and raises "generator already executing" when it is resumed from inside
 * itself. The loops run on cursors (cursor.ts) in one flat loop, whatever their nesting.
 */
import type { ComprehensionLoop, Expr } from "../check/ast.ts";
import { pyFail } from "../runtime/exceptions.ts";
import {
  checkSize,
  MAX_ITEMS,
  PyDict,
  PyIter,
  PyList,
  PySet,
  type PyValue,
  truthy,
} from "../runtime/values.ts";
import { iterableOf } from "./compile_display.ts";
import { type Cursor, iterCursor } from "./cursor.ts";
import { type Ev, Frame, type Store } from "./frame.ts";
import { type Compiler, Scope, targetNames } from "./scope.ts";

interface Level {
  /** The level's iterable, evaluated in the comprehension's frame (unused for the first level). */
  iterable: Ev;
  store: Store;
  conditions: Ev[];
}

/** Whether all the conditions of a level hold. */
function holds(conditions: readonly Ev[], f: Frame): boolean {
  for (const condition of conditions) if (!truthy(condition(f))) return false;
  return true;
}

/**
 * Runs the loops from their current state to the next item that passes every condition; calls `emit` there
 * and returns true, or returns false once the first level is exhausted.
 */
class Loops {
  private readonly levels: readonly Level[];
  /** The comprehension's own frame. */
  readonly f: Frame;
  private readonly cursors: Cursor[];
  private depth = 0;
  constructor(levels: readonly Level[], f: Frame, first: Cursor) {
    this.levels = levels;
    this.f = f;
    this.cursors = [first];
  }
  advance(): boolean {
    const { levels, f, cursors } = this;
    const last = levels.length - 1;
    let depth = this.depth;
    for (;;) {
      const item = (cursors[depth] as Cursor)();
      if (item === undefined) {
        if (depth === 0) return false;
        depth--;
        continue;
      }
      f.ctx.tick();
      const level = levels[depth] as Level;
      level.store(f, item);
      if (!holds(level.conditions, f)) continue;
      if (depth === last) {
        this.depth = depth;
        return true;
      }
      depth++;
      cursors[depth] = iterCursor((levels[depth] as Level).iterable(f));
    }
  }
}

/** The lazy iterator of a generator expression. */
class Generator implements Iterator<PyValue> {
  private readonly loops: Loops;
  private readonly element: Ev;
  private readonly f: Frame;
  private state: "ready" | "running" | "done" = "ready";
  constructor(loops: Loops, element: Ev, f: Frame) {
    this.loops = loops;
    this.element = element;
    this.f = f;
  }
  next(): IteratorResult<PyValue> {
    if (this.state === "done") return { done: true, value: undefined };
    if (this.state === "running") throw pyFail("ValueError", "generator already executing");
    const ctx = this.f.ctx;
    this.state = "done";
    ctx.enter();
    this.state = "running";
    try {
      if (!this.loops.advance()) {
        this.state = "done";
        return { done: true, value: undefined };
      }
      const value = this.element(this.f);
      this.state = "ready";
      return { done: false, value };
    } catch (error) {
      this.state = "done";
      throw error;
    } finally {
      ctx.leave();
    }
  }
  [Symbol.iterator](): Iterator<PyValue> {
    return this;
  }
}

function push(items: PyValue[], value: PyValue): void {
  if (items.length >= MAX_ITEMS) checkSize(items.length + 1, "list");
  items.push(value);
}

export function compileComprehension(
  c: Compiler,
  e: Expr & { kind: "comprehension" | "dictComprehension" },
  outer: Scope,
): Ev {
  const loops: readonly ComprehensionLoop[] = e.loops;
  const names = new Set<string>();
  for (const loop of loops) targetNames(loop.target, names);
  const scope = new Scope(outer, outer.program, names);
  const first = iterableOf(c, (loops[0] as ComprehensionLoop).iterable, outer);
  const levels: Level[] = loops.map((loop, i) => ({
    iterable: i === 0 ? () => null : iterableOf(c, loop.iterable, scope),
    store: c.target(loop.target, scope),
    conditions: loop.conditions.map((condition) => c.expr(condition, scope)),
  }));
  const size = scope.size;
  const start = (f: Frame): Loops => {
    const cursor = iterCursor(first(f));
    return new Loops(levels, new Frame(size, f, f.ctx), cursor);
  };
  if (e.kind === "dictComprehension") {
    const [key, value] = [c.expr(e.key, scope), c.expr(e.value, scope)];
    return (f) =>
      eager(start(f), (run) => {
        const d = new PyDict();
        while (run.advance()) {
          if (d.entries.size >= MAX_ITEMS) checkSize(d.entries.size + 1, "dict");
          const k = key(run.f);
          d.set(k, value(run.f));
        }
        return d;
      });
  }
  const element = c.expr(e.element, scope);
  switch (e.result) {
    case "generator":
      return (f) => {
        const run = start(f);
        return new PyIter("generator", new Generator(run, element, run.f));
      };
    case "set":
      return (f) =>
        eager(start(f), (run) => {
          const set = new PySet();
          while (run.advance()) {
            if (set.entries.size >= MAX_ITEMS) checkSize(set.entries.size + 1, "set");
            set.add(element(run.f));
          }
          return set;
        });
    case "list": {
      const [only] = levels;
      if (levels.length === 1 && only) return single(first, only, element, size);
      return (f) =>
        eager(start(f), (run) => {
          const items: PyValue[] = [];
          while (run.advance()) push(items, element(run.f));
          return new PyList(items);
        });
    }
  }
}

/** Runs an eager comprehension's frame (it counts toward the recursion limit while it runs). */
function eager(run: Loops, body: (run: Loops) => PyValue): PyValue {
  const ctx = run.f.ctx;
  ctx.enter();
  try {
    return body(run);
  } finally {
    ctx.leave();
  }
}

/** `[element for target in iterable if …]`: one loop, the common case, without the general machinery. */
function single(first: Ev, level: Level, element: Ev, size: number): Ev {
  const { store, conditions } = level;
  return (outer) => {
    const next = iterCursor(first(outer));
    const f = new Frame(size, outer, outer.ctx);
    const ctx = f.ctx;
    const items: PyValue[] = [];
    ctx.enter();
    try {
      for (let item = next(); item !== undefined; item = next()) {
        ctx.tick();
        store(f, item);
        if (holds(conditions, f)) push(items, element(f));
      }
    } finally {
      ctx.leave();
    }
    return new PyList(items);
  };
}
