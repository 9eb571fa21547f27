/**
 * Keeps the safe subset (SPEC section 6) of a parsed Body and builds the evaluator's tree (ast.ts). Everything
 * else is refused with code 2, its construct, line and column: statements other than expressions, assignment,
 * augmented assignment, if, for, return, pass, break, continue; lambda, `:=`, await, yield, `...`, bytes,
 * the matrix operator `@`, async comprehensions, dunder names and attributes (`__name__` form:
 * rules.ts isDunder), Python 2 spellings. Arithmetic and bitwise operators, `*` and `**` unpacking in displays and calls, and starred
 * assignment targets are kept (CPython's compiler has already refused a star out of place: compile_checks.ts).
 * Names are checked by names.ts once the tree is built.
 */

import type { FormattedValue, PExpr, PStmt } from "../syntax/syntax.ts";
import type {
  BinaryOp,
  ComprehensionLoop,
  DictEntry,
  Element,
  Expr,
  FormatField,
  Literal,
  Stmt,
  Target,
} from "./ast.ts";
import { formatAttributes } from "./format_fields.ts";
import { isDunder, PYTHON2_ONLY } from "./rules.ts";

/** A construct idem refuses: its description and offset. */
export class Refusal extends Error {
  readonly at: number;
  constructor(what: string, at: number) {
    super(what);
    this.at = at;
  }
}

/** The binary operators of the subset: all of Python's but the matrix product `@`. */
const OPERATORS = new Set(["+", "-", "*", "/", "//", "%", "**", "|", "&", "^", "<<", ">>"]);

const STATEMENTS: Partial<Record<PStmt["t"], string>> = {
  Import: '"import"',
  With: '"with"',
  FunctionDef: '"def"',
  ClassDef: '"class"',
  Try: '"try"',
  Raise: '"raise"',
  While: '"while"',
  Assert: '"assert"',
  Delete: '"del"',
  Match: '"match"',
  Global: '"global"',
  Nonlocal: '"nonlocal"',
};

const EXPRESSIONS: Partial<Record<PExpr["t"], string>> = {
  Lambda: '"lambda"',
  NamedExpr: '":=" (assignment expressions)',
  Await: '"await"',
  Yield: '"yield"',
  YieldFrom: '"yield from"',
  Starred: '"*" unpacking',
};

/**
 * The comprehension scopes a name is read in, innermost last: each holds the names its loops bind (filled as
 * the checker goes, complete once the Body is checked). A comprehension is a function of its own in CPython.
 */
export type Enclosing = readonly ReadonlySet<string>[];

/** What the checker learned about names while building the tree. */
export interface NameUses {
  /** Names read, with their offsets and the comprehension scopes they are read in. */
  uses: { name: string; at: number; enclosing: Enclosing }[];
  /** Every name bound anywhere: assignments, loops, comprehensions. */
  bound: Set<string>;
  /** Names the Body's own statements bind (function locals in murano-agent's wrapper). */
  locals: Set<string>;
  /** `x.m(...)` calls: the object's name (null when not a bare name), the method, its offset, its scopes. */
  calls: { object: string | null; method: string; at: number; enclosing: Enclosing }[];
}

export class Checker {
  readonly names: NameUses = { uses: [], bound: new Set(), locals: new Set(), calls: [] };
  /** The comprehension scopes being checked, innermost last: their variables are not Body locals. */
  private scopes: Set<string>[] = [];
  readonly position: (at: number) => { line: number; column: number };

  constructor(position: (at: number) => { line: number; column: number }) {
    this.position = position;
  }

  statements(stmts: PStmt[]): Stmt[] {
    return stmts.map((s) => this.statement(s));
  }

  private statement(s: PStmt): Stmt {
    switch (s.t) {
      case "Expr":
        if (s.value.t === "Yield" || s.value.t === "YieldFrom")
          throw new Refusal('"yield" is not supported', s.at);
        return { kind: "expr", expr: this.expr(s.value) };
      case "Assign": {
        const targets = s.targets.map((t) => this.target(t));
        return { kind: "assign", targets, value: this.expr(s.value) };
      }
      case "AugAssign": {
        if (!OPERATORS.has(s.op)) throw new Refusal(`operator "${s.op}=" is not supported`, s.opAt);
        const target = this.target(s.target);
        const value = this.expr(s.value);
        if (target.kind === "unpack" || target.kind === "starUnpack")
          throw new Refusal("unpacking is not supported here", s.at);
        return { kind: "augassign", target, op: s.op as BinaryOp, value };
      }
      case "AnnAssign":
        throw new Refusal("variable annotations are not supported", s.at);
      case "If": {
        const branches: { test: Expr; body: Stmt[] }[] = [];
        let node: PStmt = s;
        for (;;) {
          if (node.t !== "If") break;
          branches.push({ test: this.expr(node.test), body: this.statements(node.body) });
          const only: PStmt | undefined = node.orelse[0];
          if (node.orelse.length === 1 && only?.t === "If" && only.elif) node = only;
          else return { kind: "if", branches, otherwise: this.statements(node.orelse) };
        }
        return { kind: "if", branches, otherwise: [] };
      }
      case "For": {
        if (s.isAsync) throw new Refusal('"async" is not supported', s.at);
        const target = this.target(s.target);
        const iterable = this.expr(s.iter);
        return {
          kind: "for",
          target,
          iterable,
          body: this.statements(s.body),
          otherwise: this.statements(s.orelse),
        };
      }
      case "Return":
        return { kind: "return", value: s.value ? this.expr(s.value) : null };
      case "Pass":
        return { kind: "pass" };
      case "Break":
        return { kind: "break" };
      case "Continue":
        return { kind: "continue" };
      case "ImportFrom":
        throw new Refusal('"from … import" is not supported', s.at);
      case "FunctionDef":
      case "ClassDef":
        if (s.decorators.length > 0) throw new Refusal("decorators are not supported", s.at);
        if (s.t === "FunctionDef" && s.isAsync) throw new Refusal('"async" is not supported', s.at);
    }
    throw new Refusal(`${STATEMENTS[s.t] ?? `"${s.t}"`} is not supported`, s.at);
  }

  private target(e: PExpr): Target {
    switch (e.t) {
      case "Name":
        this.bindName(e.id, e.at);
        return { kind: "name", name: e.id };
      case "Attribute":
        return { kind: "attribute", object: this.expr(e.value), name: this.attribute(e.attr, e.attrAt) };
      case "Subscript":
        return { kind: "subscript", object: this.expr(e.value), index: this.expr(e.slice) };
      case "Tuple":
      case "List": {
        const star = e.elts.findIndex((x) => x.t === "Starred");
        const items = e.elts.map((x) => this.target(x.t === "Starred" ? x.value : x));
        if (star < 0) return { kind: "unpack", items };
        return {
          kind: "starUnpack",
          before: items.slice(0, star),
          star: items[star] as Target,
          after: items.slice(star + 1),
        };
      }
      default:
        throw new Refusal(`${EXPRESSIONS[e.t] ?? `"${e.t}"`} is not supported`, e.at);
    }
  }

  private bindName(name: string, at: number): void {
    this.dunder(name, at, "names");
    this.names.bound.add(name);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.add(name);
    else this.names.locals.add(name);
  }

  private dunder(name: string, at: number, what: "names" | "attributes"): void {
    if (isDunder(name)) throw new Refusal(`"${name}" is not supported (dunder ${what})`, at);
  }

  private attribute(name: string, at: number): string {
    this.dunder(name, at, "attributes");
    if (PYTHON2_ONLY.has(name)) throw new Refusal(`"${name}" is Python 2 only and not supported`, at);
    return name;
  }

  expr(e: PExpr): Expr {
    switch (e.t) {
      case "Name":
        this.dunder(e.id, e.at, "names");
        this.names.uses.push({ name: e.id, at: e.at, enclosing: [...this.scopes] });
        return { kind: "name", name: e.id, pos: this.position(e.at) };
      case "Constant":
        return { kind: "literal", value: this.constant(e.value, e.at) };
      case "JoinedStr":
        return { kind: "fstring", parts: e.parts.map((p) => (typeof p === "string" ? p : this.field(p))) };
      case "Attribute":
        return { kind: "attribute", object: this.expr(e.value), name: this.attribute(e.attr, e.attrAt) };
      case "Subscript":
        return { kind: "subscript", object: this.expr(e.value), index: this.expr(e.slice) };
      case "Slice": {
        const part = (x: PExpr | null): Expr | null => (x ? this.expr(x) : null);
        return { kind: "slice", lower: part(e.lower), upper: part(e.upper), step: part(e.step) };
      }
      case "Call": {
        const callee = this.expr(e.func);
        const args = e.args.map((a) => this.element(a));
        const keywords = e.keywords.map((k) => ({ name: k.arg, value: this.expr(k.value) }));
        this.formatTemplate(e);
        if (e.func.t === "Attribute")
          this.names.calls.push({
            object: e.func.value.t === "Name" ? e.func.value.id : null,
            method: e.func.attr,
            at: e.func.attrAt,
            enclosing: [...this.scopes],
          });
        return { kind: "call", callee, args, keywords };
      }
      case "BinOp":
        if (!OPERATORS.has(e.op)) throw new Refusal(`operator "${e.op}" is not supported`, e.opAt);
        return { kind: "binary", op: e.op as BinaryOp, left: this.expr(e.left), right: this.expr(e.right) };
      case "UnaryOp":
        return { kind: "unary", op: e.op, operand: this.expr(e.operand) };
      case "BoolOp":
        return e.values
          .map((v) => this.expr(v))
          .reduce((left, right) => ({ kind: "logical", op: e.op, left, right }));
      case "Compare":
        return {
          kind: "compare",
          first: this.expr(e.left),
          rest: e.ops.map((op, k) => ({ op: op as never, right: this.expr(e.comparators[k] as PExpr) })),
        };
      case "IfExp":
        return {
          kind: "conditional",
          test: this.expr(e.test),
          whenTrue: this.expr(e.body),
          whenFalse: this.expr(e.orelse),
        };
      case "List":
      case "Tuple":
      case "Set":
        return {
          kind: e.t === "List" ? "list" : e.t === "Tuple" ? "tuple" : "set",
          items: e.elts.map((x) => this.element(x)),
        };
      case "Dict":
        return {
          kind: "dict",
          entries: e.keys.map(
            (k, i): DictEntry => ({
              key: k === null ? null : this.expr(k),
              value: this.expr(e.values[i] as PExpr),
            }),
          ),
        };
      case "ListComp":
      case "SetComp":
      case "GeneratorExp":
      case "DictComp":
        return this.comprehension(e);
    }
    throw new Refusal(`${EXPRESSIONS[e.t] ?? `"${e.t}"`} is not supported`, e.at);
  }

  /**
   * `'…'.format(…)`, `'…'.format_map(…)`, `str.format('…', …)`: a dunder attribute in a field of the literal
   * template is refused (it would read object internals).
   */
  private formatTemplate(e: PExpr & { t: "Call" }): void {
    if (e.func.t !== "Attribute" || (e.func.attr !== "format" && e.func.attr !== "format_map")) return;
    const receiver = e.func.value;
    const template =
      receiver.t === "Name" && receiver.id === "str" && e.func.attr === "format" ? e.args[0] : receiver;
    if (template?.t !== "Constant" || typeof template.value !== "string") return;
    const dunder = formatAttributes(template.value).find(isDunder);
    if (dunder !== undefined)
      throw new Refusal(`"${dunder}" is not supported (dunder attributes in a format string)`, template.at);
  }

  /** An item of a display or a positional argument: `*x` is kept there. */
  private element(e: PExpr): Element {
    return e.t === "Starred" ? { kind: "starred", value: this.expr(e.value) } : this.expr(e);
  }

  private constant(value: (PExpr & { t: "Constant" })["value"], at: number): Literal {
    if (typeof value !== "object" || value === null) return value;
    if ("imag" in value) return { imag: value.imag };
    if ("bytes" in value) throw new Refusal("bytes literals are not supported", at);
    throw new Refusal('"..." is not supported', at);
  }

  private field(f: FormattedValue): FormatField {
    return {
      expr: this.expr(f.value),
      conversion: f.conversion,
      spec: (f.spec ?? []).map((p) => (typeof p === "string" ? p : this.field(p))),
    };
  }

  private comprehension(e: PExpr & { t: "ListComp" | "SetComp" | "GeneratorExp" | "DictComp" }): Expr {
    // The first iterable is evaluated in the enclosing scope, everything else in the comprehension's own.
    const loops: ComprehensionLoop[] = [];
    const depth = this.scopes.length;
    try {
      for (const g of e.generators) {
        if (g.isAsync) throw new Refusal('"async" is not supported', g.at);
        const iterable = this.expr(g.iter);
        if (this.scopes.length === depth) this.scopes.push(new Set());
        loops.push({ target: this.target(g.target), iterable, conditions: g.ifs.map((c) => this.expr(c)) });
      }
      if (e.t === "DictComp")
        return { kind: "dictComprehension", key: this.expr(e.key), value: this.expr(e.value), loops };
      const result = e.t === "ListComp" ? "list" : e.t === "SetComp" ? "set" : "generator";
      return { kind: "comprehension", result, element: this.expr(e.elt), loops };
    } finally {
      this.scopes.length = depth;
    }
  }
}
