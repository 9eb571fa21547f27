/**
 * Bounded by construction: whether a checked Body can be evaluated on the agent's own event loop (in-process, no
 * worker) because its evaluation cannot spin and cannot allocate more than a small multiple of its inputs. The
 * Body worker (SPEC 6, worker/worker.ts) exists for the Bodies that could: `for x in range(10**12)`,
 * `[0] * 10**9`, `s = s + s` a hundred times. This rule admits a Body only when a static bound proves it cannot.
 *
 * The rule (docs/murano.md "Bodies bounded by construction"):
 * 1. **No repetition.** No `for`, no comprehension (the checker already refuses `while`, `def`, `lambda`,
 *    recursion): every statement and expression runs at most once, so the work is a sum over the Body's nodes.
 * 2. **Every operation is linear in its operands.** Allowed: `+ - | & ^ >>`, comparisons, `and/or/not`,
 *    `x if c else y`, subscripts and slices, displays, f-strings, `%` on a literal template, and the built-ins
 *    and methods of bounded_calls.ts (which says why each other one is out: `*`, `**`, `<<`, `/`, `//`, `%` on
 *    non-literal templates, `range`, `sum`, width bombs …). Mutation (`x[k] = v`, `x.attr = v`, `append` …) is
 *    out, `x += y` too (in place on a list): it would grow values that were already sized.
 * 3. **Calls go to known callables only**: a built-in or script named directly (not rebound in the Body), a
 *    method by name (`x.m(...)`), a script's attribute (`deploy.x()`). A call of any other value is out.
 * 4. **The sizes add up**: an abstract run gives every name a bound (bounded_size.ts: `a·A + o·O + k` units of
 *    the Parameters' size A and a script result's size O), a branch the larger of its arms, so doubling
 *    (`s = s + s`, `a = [a, a]`, whose repr doubles) is seen. It sums what the Body allocates and what it
 *    computes; a plan then runs in-process when both sums, with its own A and O, fit the budgets of
 *    {@link fitsInProcess}.
 *
 * Script calls: a Body in-process is re-run from its start after each script call with the outcomes so far
 * (worker/in_process.ts), so its computing bound is multiplied by its script call sites + 1.
 */
import type { BodyTree, Element, Expr, Stmt, Target } from "./ast.ts";
import {
  builtinCost,
  type CallCost,
  methodCost,
  type Operand,
  percentFields,
  REPR,
  specProblem,
  specSlack,
} from "./bounded_calls.ts";
import {
  ARGS,
  add,
  type Bound,
  constant,
  max,
  SCRIPT_RESULT,
  type Size,
  scale,
  ZERO,
} from "./bounded_size.ts";
import { BUILTINS } from "./rules.ts";

export type { Bound, Size } from "./bounded_size.ts";

export type Boundedness =
  | { readonly bounded: true; readonly bound: Bound }
  | { readonly bounded: false; readonly construct: string };

/** Thrown inside the walk: the construct that puts the Body outside the rule. */
class Outside extends Error {}

/** Whether a Body of `tree` (the plan's `scripts`) is inside the rule, with its bound; else the construct. */
export function boundOf(tree: BodyTree, scripts: ReadonlySet<string>): Boundedness {
  const walk = new Walk(tree.locals, scripts);
  try {
    walk.block(tree.statements, new Map());
  } catch (error) {
    if (error instanceof Outside) return { bounded: false, construct: error.message };
    throw error;
  }
  const bound = { memory: walk.memory, time: walk.time, calls: walk.calls, result: walk.result };
  return { bounded: true, bound };
}

type Env = Map<string, Size>;

class Walk {
  memory: Size = ZERO;
  time: Size = ZERO;
  calls = 0;
  result: Size = ZERO;
  private readonly locals: ReadonlySet<string>;
  private readonly scripts: ReadonlySet<string>;
  constructor(locals: ReadonlySet<string>, scripts: ReadonlySet<string>) {
    this.locals = locals;
    this.scripts = scripts;
  }

  block(statements: readonly Stmt[], env: Env): void {
    for (const s of statements) this.statement(s, env);
  }

  private statement(s: Stmt, env: Env): void {
    switch (s.kind) {
      case "expr":
        this.expr(s.expr, env);
        return;
      case "assign": {
        const value = this.expr(s.value, env);
        for (const target of s.targets) this.bind(target, value, env);
        return;
      }
      case "augassign": {
        // `x += y` extends a list (or a set, a dict) in place: mutation, like `x.extend(y)`.
        if (s.target.kind !== "name" || s.op !== ">>") {
          throw new Outside("augmented assignment (in place on a list, set or dict: mutation)");
        }
        const left: Expr = { kind: "name", name: s.target.name, pos: { line: 0, column: 0 } };
        env.set(s.target.name, this.binary(s.op, left, s.value, env));
        return;
      }
      case "if": {
        const arms: Env[] = [];
        for (const branch of s.branches) {
          this.expr(branch.test, env);
          const arm = new Map(env);
          this.block(branch.body, arm);
          arms.push(arm);
        }
        const otherwise = new Map(env);
        this.block(s.otherwise, otherwise);
        arms.push(otherwise);
        for (const arm of arms)
          for (const [name, size] of arm) env.set(name, max(env.get(name) ?? ZERO, size));
        return;
      }
      case "return":
        if (s.value !== null) this.result = max(this.result, this.expr(s.value, env));
        return;
      case "pass":
        return;
      default:
        throw new Outside(`"${s.kind}" (a loop: its work is not bounded by the Body's size)`);
    }
  }

  private bind(target: Target, value: Size, env: Env): void {
    switch (target.kind) {
      case "name":
        env.set(target.name, value);
        return;
      case "unpack":
        for (const item of target.items) this.bind(item, value, env);
        return;
      case "starUnpack":
        this.spend(value, value);
        for (const item of [...target.before, target.star, ...target.after]) this.bind(item, value, env);
        return;
      default:
        throw new Outside("assignment to an item or attribute (mutation)");
    }
  }

  private spend(alloc: Size, time: Size): void {
    this.memory = add(this.memory, alloc);
    this.time = add(this.time, time);
  }

  private apply(cost: CallCost): Size {
    if ("refused" in cost) throw new Outside(cost.refused);
    this.spend(cost.alloc, cost.time);
    return cost.size;
  }

  private expr(e: Expr, env: Env): Size {
    switch (e.kind) {
      case "literal":
        return constant(typeof e.value === "string" ? e.value.length : 1 + String(e.value).length);
      case "name":
        if (env.has(e.name)) return env.get(e.name) ?? ZERO;
        if (this.locals.has(e.name)) return ZERO; // read before bound: UnboundLocalError
        return e.name === "args" && !this.scripts.has("args") ? ARGS : ZERO;
      case "attribute":
        return this.expr(e.object, env);
      case "subscript": {
        const object = this.expr(e.object, env);
        const index = this.expr(e.index, env);
        if (e.index.kind === "slice") this.spend(object, object);
        else this.spend(ZERO, index);
        return object;
      }
      case "slice":
        return add(...[e.lower, e.upper, e.step].map((x) => (x === null ? ZERO : this.expr(x, env))));
      case "call":
        return this.call(e, env);
      case "binary":
        return this.binary(e.op, e.left, e.right, env);
      case "unary": {
        const operand = this.expr(e.operand, env);
        if (e.op === "not") return constant(1);
        this.spend(operand, operand);
        return operand;
      }
      case "logical":
        return max(this.expr(e.left, env), this.expr(e.right, env));
      case "compare": {
        const sizes = [e.first, ...e.rest.map((r) => r.right)].map((x) => this.expr(x, env));
        this.spend(ZERO, scale(add(...sizes), 2));
        return constant(1);
      }
      case "conditional":
        this.expr(e.test, env);
        return max(this.expr(e.whenTrue, env), this.expr(e.whenFalse, env));
      case "list":
      case "tuple":
      case "set": {
        const size = add(constant(e.items.length), ...e.items.map((item) => this.element(item, env)));
        this.spend(size, size);
        return size;
      }
      case "dict": {
        const parts = e.entries.flatMap((x) => [
          x.key === null ? ZERO : this.expr(x.key, env),
          this.expr(x.value, env),
        ]);
        const size = add(constant(e.entries.length), ...parts);
        this.spend(size, size);
        return size;
      }
      case "fstring": {
        let size = constant(0);
        for (const part of e.parts) {
          if (typeof part === "string") {
            size = add(size, constant(part.length));
            continue;
          }
          const spec = part.spec.map((x) => (typeof x === "string" ? x : null));
          if (spec.includes(null))
            throw new Outside("an f-string field nested in a spec (a width from a value)");
          const problem = specProblem(spec.join(""));
          if (problem !== null) throw new Outside(problem);
          size = add(size, scale(this.expr(part.expr, env), REPR), constant(specSlack(spec.join(""))));
        }
        this.spend(size, size);
        return size;
      }
      default:
        throw new Outside(`a ${e.kind} (a loop: its work is not bounded by the Body's size)`);
    }
  }

  /** An item of a display: `*x` spreads x's elements (a str's characters become elements). */
  private element(item: Element, env: Env): Size {
    if (item.kind !== "starred") return this.expr(item, env);
    const size = this.expr(item.value, env);
    this.spend(scale(size, 32), size);
    return size;
  }

  private binary(op: string, left: Expr, right: Expr, env: Env): Size {
    const l = this.expr(left, env);
    const r = this.expr(right, env);
    const both = add(l, r);
    if (op === "+" || op === "-" || op === "|" || op === "&" || op === "^" || op === ">>") {
      this.spend(both, both);
      return both;
    }
    if (op === "%" && left.kind === "literal" && typeof left.value === "string") {
      const fields = percentFields(left.value);
      if (typeof fields === "string") throw new Outside(fields);
      const size = add(l, scale(r, fields.count * REPR), constant(fields.slack));
      this.spend(size, size);
      return size;
    }
    throw new Outside(`the operator ${op} (its result can be a product or a power of its operands)`);
  }

  private call(e: Extract<Expr, { kind: "call" }>, env: Env): Size {
    const operands: Operand[] = [
      ...e.args.map((a) =>
        a.kind === "starred"
          ? { size: this.expr(a.value, env), expr: a.value, spread: true }
          : { size: this.expr(a, env), expr: a, spread: false },
      ),
      ...e.keywords.map((k) =>
        k.name === null
          ? { size: this.expr(k.value, env), expr: k.value, spread: true }
          : { size: this.expr(k.value, env), expr: k.value, spread: false, keyword: k.name },
      ),
    ];
    const callee = e.callee;
    if (callee.kind === "name" && !this.locals.has(callee.name)) {
      if (this.scripts.has(callee.name)) return this.scriptCall(operands);
      if (BUILTINS.has(callee.name)) return this.apply(builtinCost(callee.name, operands));
    }
    if (callee.kind === "attribute") {
      const object = callee.object;
      if (object.kind === "name" && this.scripts.has(object.name) && !this.locals.has(object.name)) {
        return this.scriptCall(operands);
      }
      const receiver = { size: this.expr(object, env), expr: object, spread: false };
      return this.apply(methodCost(callee.name, receiver, operands));
    }
    throw new Outside("a call of a value the rule cannot see through (a rebound name, a stored method …)");
  }

  /** A script call: its command line and input are str() of its arguments; its result is a script's result. */
  private scriptCall(operands: readonly Operand[]): Size {
    this.calls++;
    const text = scale(add(...operands.map((x) => x.size)), REPR);
    this.spend(text, text);
    return SCRIPT_RESULT;
  }
}
