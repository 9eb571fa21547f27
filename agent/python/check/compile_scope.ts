/**
 * The pieces of compile_checks.ts that hold no walking state: CompileError, CPython's compile depth limit, the
 * per-scope record (symtable's ste_* flags that matter here), the non-recursive depth check, and small
 * predicates on statements and patterns.
 */
import type { Pattern, PExpr, PStmt } from "../syntax/syntax.ts";

export class CompileError extends Error {
  readonly at: number;
  readonly errorType: "SyntaxError" | "RecursionError";
  constructor(message: string, at: number, errorType: "SyntaxError" | "RecursionError" = "SyntaxError") {
    super(message);
    this.at = at;
    this.errorType = errorType;
  }
}

/**
 * The deepest statement/expression nesting CPython compiles: 3000 × the frames already on the caller's stack
 * (COMPILER_STACK_FRAME_SCALE 3); a shallow caller (3 frames, as murano-agent's exec) leaves 2991.
 */
export const MAX_COMPILE_DEPTH = 2991;

export interface Scope {
  kind: "function" | "class" | "lambda" | "comprehension";
  isAsync: boolean;
  /** Names bound in this scope so far (for nonlocal and "assigned before global"). */
  bound: Set<string>;
  used: Set<string>;
  params: Set<string>;
  declared: Map<string, "global" | "nonlocal">;
  loops: number;
  blocks: number;
  hasYield: boolean;
  /** Comprehension iteration variables (walrus may not rebind them). */
  iterVars?: Set<string>;
  /** Visiting a comprehension's iterable expression (symtable's ste_comp_iter_expr). */
  iterExpr: number;
  /** In an except* handler (no break, continue or return). */
  exceptStar: number;
  comprehensionKind?: string;
  /** An `await` inside a comprehension (makes it asynchronous). */
  hasAwait?: boolean;
}

/** A new scope; it inherits whether a comprehension iterable is being visited (symtable_enter_block). */
export function newScope(kind: Scope["kind"], isAsync = false, parent?: Scope): Scope {
  return {
    kind,
    isAsync,
    bound: new Set(),
    used: new Set(),
    params: new Set(),
    declared: new Map(),
    loops: 0,
    blocks: 0,
    hasYield: false,
    exceptStar: 0,
    iterExpr: parent?.iterExpr ?? 0,
  };
}

/**
 * The deepest statement/expression nesting of the module, found without recursion (a 100,000-term sum is a
 * left-deep tree), so that the recursive walks only ever see trees CPython compiles.
 */
export function checkDepth(module: PStmt[]): void {
  // Two parallel stacks and `for…in`: no pair or array per node (a 4 MB Body has about a million nodes).
  const nodes: object[] = [];
  const depths: number[] = [];
  for (const s of module) {
    nodes.push(s);
    depths.push(1);
  }
  while (nodes.length > 0) {
    const node = nodes.pop() as Record<string, unknown>;
    const depth = depths.pop() as number;
    const t = node.t;
    const d = typeof t === "string" && !t.startsWith("Match") ? depth + 1 : depth;
    if (d > MAX_COMPILE_DEPTH + 1)
      throw new CompileError(
        "maximum recursion depth exceeded during compilation",
        (node as { at: number }).at,
        "RecursionError",
      );
    for (const key in node) {
      const value = node[key];
      if (value === null || typeof value !== "object") continue;
      if (Array.isArray(value)) {
        for (const item of value)
          if (item !== null && typeof item === "object") {
            nodes.push(item);
            depths.push(d);
          }
      } else if (!(value instanceof Map)) {
        nodes.push(value);
        depths.push(d);
      }
    }
  }
}

const fail = (message: string, at: number): CompileError => new CompileError(message, at);

export const COMPREHENSION_NAMES = {
  ListComp: "list comprehension",
  SetComp: "set comprehension",
  GeneratorExp: "generator expression",
};

/** A pattern that always matches: a capture, `_`, or an or-pattern with one. */
export function irrefutable(p: Pattern): boolean {
  if (p.t === "MatchAs") return p.pattern === null || irrefutable(p.pattern);
  if (p.t === "MatchOr") return p.patterns.some(irrefutable);
  return false;
}

/** `return value` in an async generator (checked on the function's own statements, not nested scopes). */
export function asyncGeneratorReturns(stmts: PStmt[]): void {
  for (const st of stmts) {
    if (st.t === "Return" && st.value) throw fail("'return' with value in async generator", st.at);
    if (st.t === "For" || st.t === "While" || st.t === "If")
      asyncGeneratorReturns([...st.body, ...st.orelse]);
    else if (st.t === "With") asyncGeneratorReturns(st.body);
    else if (st.t === "Try")
      asyncGeneratorReturns([
        ...st.body,
        ...st.handlers.flatMap((h) => h.body),
        ...st.orelse,
        ...st.finalbody,
      ]);
    else if (st.t === "Match") asyncGeneratorReturns(st.cases.flatMap((c) => c.body));
  }
}

export function collectNames(e: PExpr, into: Set<string>): void {
  if (e.t === "Name") into.add(e.id);
  else if (e.t === "Starred") collectNames(e.value, into);
  else if (e.t === "Tuple" || e.t === "List") for (const x of e.elts) collectNames(x, into);
}
