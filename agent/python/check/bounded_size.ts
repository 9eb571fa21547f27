/**
 * The arithmetic of the bounded rule (bounded.ts): a bound on how big a value can be, or how much a Body can
 * allocate or compute, as a linear function of the plan's inputs. A leaf module: no imports.
 *
 * The unit is one character of a string (a UTF-16 code unit) or one element of a container. A {@link Size}
 * `{a, o, k}` stands for `a·A + o·O + k` units, where A is the size of the plan's Parameters (their JSON text's
 * length bounds it: every character or element of `args` comes from at least one character of that text), O is
 * the size of one script call's result (its stdout and stderr, each capped at `outputCapBytes`), and k a constant
 * read off the Body's literals.
 */

/** `a·A + o·O + k` units (see the module's doc). */
export interface Size {
  readonly a: number;
  readonly o: number;
  readonly k: number;
}

/** A Body's bound (bounded.ts): how much it allocates and computes in one run, and its script calls. */
export interface Bound {
  readonly memory: Size;
  readonly time: Size;
  /** Its script call sites: at most this many calls (each runs at most once). */
  readonly calls: number;
  /** Its return value's size (json.dumps of it is up to 6 characters per character: `\uXXXX`). */
  readonly result: Size;
}

export const ZERO: Size = { a: 0, o: 0, k: 0 };
/** `args`: at most the Parameters' size. */
export const ARGS: Size = { a: 1, o: 0, k: 0 };
/** A script call's result Bunch `{exitCode, stdout, stderr}`. */
export const SCRIPT_RESULT: Size = { a: 0, o: 1, k: 3 };

/** A constant of `k` units (a literal). */
export function constant(k: number): Size {
  return { a: 0, o: 0, k };
}

export function add(...sizes: Size[]): Size {
  let a = 0;
  let o = 0;
  let k = 0;
  for (const s of sizes) {
    a += s.a;
    o += s.o;
    k += s.k;
  }
  return { a, o, k };
}

export function scale(size: Size, factor: number): Size {
  return { a: size.a * factor, o: size.o * factor, k: size.k * factor };
}

/** The least bound above both (either value may be the one there: a branch, `x or y`). */
export function max(x: Size, y: Size): Size {
  return { a: Math.max(x.a, y.a), o: Math.max(x.o, y.o), k: Math.max(x.k, y.k) };
}

/** The bound's value for a plan: `A` and `O` in units. */
export function unitsOf(size: Size, inputs: { A: number; O: number }): number {
  return size.a * inputs.A + size.o * inputs.O + size.k;
}
