/**
 * Python 3.11 expressions (Grammar/python.gram, "EXPRESSIONS"): expression (conditional, lambda), disjunction,
 * conjunction, inversion, comparison, the binary operator levels, factor, power, await and primary. The
 * right-recursive rules (not, unary, `**`, conditional, lambda) are parsed with loops, so that only brackets
 * (at most 200 deep: tokenizer.ts) nest JavaScript calls; `Cursor.enter` counts pegen's stack for them.
 */
import { type Cursor, fit, ParseError } from "./parse_base.ts";
import { lambdaParams } from "./parse_params.ts";
import { primary } from "./parse_primary.ts";
import type { Arguments, PExpr } from "./syntax.ts";
import { exprName } from "./targets.ts";

const BINARY: Record<string, number> = {
  "|": 1,
  "^": 2,
  "&": 3,
  "<<": 4,
  ">>": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "//": 6,
  "%": 6,
  "@": 6,
};
const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">=", "in", "is", "not"]);
/** The keywords and operators that can start an expression. */
const EXPRESSION_KEYWORDS = new Set(["True", "False", "None", "not", "lambda", "await"]);
const EXPRESSION_OPERATORS = new Set(["(", "[", "{", "-", "+", "~", "*", "..."]);

/** expression: disjunction 'if' disjunction 'else' expression | disjunction | lambdef */
export function expression(p: Cursor): PExpr {
  // The common case, a disjunction alone, allocates nothing.
  let first: PExpr | null = null;
  if (!p.at("lambda")) {
    first = disjunction(p);
    if (!p.at("if")) return first;
  }
  const pending: ({ lambda: Arguments; at: number } | { body: PExpr; test: PExpr })[] = [];
  const level = p.level;
  let result: PExpr;
  for (;;) {
    if (p.at("lambda")) {
      const at = p.skip();
      const args = lambdaParams(p);
      p.expect(":");
      p.enter(2);
      pending.push({ lambda: args, at });
      continue;
    }
    const d = first ?? disjunction(p);
    first = null;
    if (p.at("if")) {
      p.skip();
      const test = disjunction(p);
      if (!p.at("else")) {
        if (p.at(":")) throw p.fail();
        throw p.specific("expected 'else' after 'if' expression", d.at);
      }
      p.skip();
      p.enter(1);
      pending.push({ body: d, test });
      continue;
    }
    result = d;
    break;
  }
  for (let k = pending.length - 1; k >= 0; k--) {
    const item = pending[k];
    if (!item) continue;
    result =
      "lambda" in item
        ? { t: "Lambda", args: item.lambda, body: result, at: item.at }
        : { t: "IfExp", test: item.test, body: item.body, orelse: result, at: item.body.at };
  }
  p.level = level;
  return result;
}

/** yield_expr: 'yield' 'from' expression | 'yield' [star_expressions] */
export function yieldExpr(p: Cursor): PExpr {
  const at = p.expect("yield");
  if (p.eat("from")) return { t: "YieldFrom", value: expression(p), at };
  return { t: "Yield", value: startsExpression(p) ? starExpressions(p) : null, at };
}

/** named_expression: NAME ':=' expression | expression !':=' */
export function namedExpression(p: Cursor): PExpr {
  if (p.atName() && p.at(":=", 1)) {
    const name = p.name();
    p.skip();
    const value = expression(p);
    return { t: "NamedExpr", target: { t: "Name", id: name.text, at: name.start }, value, at: name.start };
  }
  const e = expression(p);
  if (p.at(":=")) {
    const at = p.skip();
    if (p.attempt(() => expression(p)))
      throw p.specific(`cannot use assignment expressions with ${exprName(e)}`, e.at);
    throw new ParseError("invalid syntax", at, false);
  }
  return e;
}

/** star_named_expression: '*' bitwise_or | named_expression */
export function starNamedExpression(p: Cursor): PExpr {
  if (p.at("*")) {
    const at = p.skip();
    return { t: "Starred", value: bitwiseOr(p), at };
  }
  return namedExpression(p);
}

/** star_expressions: star_expression (',' star_expression)* [','] — a Tuple when there is a comma. */
export function starExpressions(p: Cursor): PExpr {
  const first = starExpression(p);
  if (!p.at(",")) return first;
  const elts = [first];
  while (p.eat(",")) {
    if (!startsExpression(p)) break;
    elts.push(starExpression(p));
  }
  return { t: "Tuple", elts: fit(elts), at: first.at };
}

/** star_expression: '*' bitwise_or | expression */
export function starExpression(p: Cursor): PExpr {
  if (p.at("*")) {
    const at = p.skip();
    return { t: "Starred", value: bitwiseOr(p), at };
  }
  return expression(p);
}

/** Whether the next token can start an expression (used after a trailing comma). */
export function startsExpression(p: Cursor): boolean {
  const kind = p.kind();
  if (kind === "NUMBER" || kind === "STRING") return true;
  if (kind === "NAME") return p.atName() || EXPRESSION_KEYWORDS.has(p.spelling());
  return kind === "OP" && EXPRESSION_OPERATORS.has(p.spelling());
}

/** disjunction / conjunction: flat BoolOps. */
export function disjunction(p: Cursor): PExpr {
  const first = conjunction(p);
  if (!p.at("or")) return first;
  const values = [first];
  while (p.eat("or")) values.push(conjunction(p));
  return { t: "BoolOp", op: "or", values: fit(values), at: first.at };
}

function conjunction(p: Cursor): PExpr {
  const first = inversion(p);
  if (!p.at("and")) return first;
  const values = [first];
  while (p.eat("and")) values.push(inversion(p));
  return { t: "BoolOp", op: "and", values: fit(values), at: first.at };
}

/** inversion: 'not' inversion | comparison */
function inversion(p: Cursor): PExpr {
  if (!p.at("not")) return comparison(p);
  const nots: number[] = [];
  const level = p.level;
  while (p.at("not")) {
    nots.push(p.skip());
    p.enter(1);
  }
  let e = comparison(p);
  for (let k = nots.length - 1; k >= 0; k--) e = { t: "UnaryOp", op: "not", operand: e, at: nots[k] ?? e.at };
  p.level = level;
  return e;
}

function comparison(p: Cursor): PExpr {
  const left = bitwiseOr(p);
  let ops: string[] | null = null;
  const comparators: PExpr[] = [];
  for (;;) {
    const kind = p.kind();
    if (kind !== "OP" && kind !== "NAME") break;
    let op = p.spelling();
    if (!COMPARE.has(op)) break;
    if (op === "not") {
      if (!p.at("in", 1)) break;
      p.skip();
      op = "not in";
    } else if (op === "is" && p.at("not", 1)) {
      p.skip();
      op = "is not";
    }
    p.skip();
    if (ops === null) ops = [];
    ops.push(op);
    comparators.push(bitwiseOr(p));
  }
  return ops === null
    ? left
    : { t: "Compare", left, ops: fit(ops), comparators: fit(comparators), at: left.at };
}

/** bitwise_or down to term: left-associative binary operators, by precedence climbing. */
export function bitwiseOr(p: Cursor): PExpr {
  const first = factor(p);
  if (p.kind() !== "OP" || BINARY[p.spelling()] === undefined) return first;
  const operands: PExpr[] = [first];
  const ops: { op: string; prec: number; at: number }[] = [];
  const reduce = (): void => {
    const right = operands.pop() as PExpr;
    const left = operands.pop() as PExpr;
    const o = ops.pop() as { op: string; at: number };
    operands.push({ t: "BinOp", op: o.op, left, right, at: left.at, opAt: o.at });
  };
  for (;;) {
    const op = p.kind() === "OP" ? p.spelling() : "";
    const prec = BINARY[op];
    if (prec === undefined) break;
    const at = p.skip();
    while (ops.length > 0 && (ops[ops.length - 1]?.prec ?? 0) >= prec) reduce();
    ops.push({ op, prec, at });
    operands.push(factor(p));
  }
  while (ops.length > 0) reduce();
  return operands[0] as PExpr;
}

/** factor: ('+' | '-' | '~') factor | power;  power: await_primary '**' factor | await_primary */
function factor(p: Cursor): PExpr {
  let first: PExpr | null = null;
  if (!(p.at("-") || p.at("+") || p.at("~"))) {
    first = awaitPrimary(p);
    if (!p.at("**")) return first;
  }
  const level = p.level;
  // Each link: the unary operators before an operand, the operand, and whether `**` follows.
  const links: { unary: { op: "-" | "+" | "~"; at: number }[]; base: PExpr }[] = [];
  if (first) {
    links.push({ unary: [], base: first });
    p.skip();
    p.enter(2);
  }
  for (;;) {
    const unary: { op: "-" | "+" | "~"; at: number }[] = [];
    while (p.at("-") || p.at("+") || p.at("~")) {
      const t = p.next();
      unary.push({ op: t.text as "-" | "+" | "~", at: t.start });
      p.enter(1);
    }
    links.push({ unary, base: awaitPrimary(p) });
    if (!p.at("**")) break;
    p.skip();
    p.enter(2);
  }
  let result: PExpr | null = null;
  for (let k = links.length - 1; k >= 0; k--) {
    const link = links[k] as (typeof links)[number];
    let e: PExpr = result
      ? { t: "BinOp", op: "**", left: link.base, right: result, at: link.base.at, opAt: link.base.at }
      : link.base;
    for (let u = link.unary.length - 1; u >= 0; u--) {
      const op = link.unary[u] as { op: "-" | "+" | "~"; at: number };
      e = { t: "UnaryOp", op: op.op, operand: e, at: op.at };
    }
    result = e;
  }
  p.level = level;
  if (!result) throw new ParseError("invalid syntax", p.offset(), false);
  return result;
}

/** await_primary: AWAIT primary | primary */
function awaitPrimary(p: Cursor): PExpr {
  if (p.at("await")) {
    const at = p.skip();
    return { t: "Await", value: primary(p), at };
  }
  return primary(p);
}
