/**
 * Python 3.11 expressions (Grammar/python.gram, "EXPRESSIONS"): expression (conditional, lambda), disjunction,
 * conjunction, inversion, comparison, the binary operator levels, factor, power, await and primary. The
 * right-recursive rules (not, unary, `**`, conditional, lambda) are parsed with loops, so that only brackets
 * (at most 200 deep: tokenizer.ts) nest JavaScript calls; `Cursor.enter` counts pegen's stack for them.
 */
import { type Cursor, ParseError } from "./parse_base.ts";
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
      const at = p.next().start;
      const args = lambdaParams(p);
      p.expect(":");
      p.enter(2);
      pending.push({ lambda: args, at });
      continue;
    }
    const d = first ?? disjunction(p);
    first = null;
    if (p.at("if")) {
      p.next();
      const test = disjunction(p);
      if (!p.at("else")) {
        if (p.at(":")) throw p.fail();
        throw p.specific("expected 'else' after 'if' expression", d.at);
      }
      p.next();
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
  const at = p.expect("yield").start;
  if (p.eat("from")) return { t: "YieldFrom", value: expression(p), at };
  return { t: "Yield", value: startsExpression(p) ? starExpressions(p) : null, at };
}

/** named_expression: NAME ':=' expression | expression !':=' */
export function namedExpression(p: Cursor): PExpr {
  if (p.atName() && p.at(":=", 1)) {
    const name = p.next();
    p.next();
    const value = expression(p);
    return { t: "NamedExpr", target: { t: "Name", id: name.text, at: name.start }, value, at: name.start };
  }
  const e = expression(p);
  if (p.at(":=")) {
    const at = p.next().start;
    if (p.attempt(() => expression(p)))
      throw p.specific(`cannot use assignment expressions with ${exprName(e)}`, e.at);
    throw new ParseError("invalid syntax", at, false);
  }
  return e;
}

/** star_named_expression: '*' bitwise_or | named_expression */
export function starNamedExpression(p: Cursor): PExpr {
  if (p.at("*")) {
    const at = p.next().start;
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
  return { t: "Tuple", elts, at: first.at };
}

/** star_expression: '*' bitwise_or | expression */
export function starExpression(p: Cursor): PExpr {
  if (p.at("*")) {
    const at = p.next().start;
    return { t: "Starred", value: bitwiseOr(p), at };
  }
  return expression(p);
}

/** Whether the next token can start an expression (used after a trailing comma). */
export function startsExpression(p: Cursor): boolean {
  const t = p.peek();
  if (t.type === "NUMBER" || t.type === "STRING") return true;
  if (t.type === "NAME") return p.atName() || /^(True|False|None|not|lambda|await)$/.test(t.text);
  return t.type === "OP" && /^(\(|\[|\{|-|\+|~|\*|\.\.\.)$/.test(t.text);
}

/** disjunction / conjunction: flat BoolOps. */
export function disjunction(p: Cursor): PExpr {
  const first = conjunction(p);
  if (!p.at("or")) return first;
  const values = [first];
  while (p.eat("or")) values.push(conjunction(p));
  return { t: "BoolOp", op: "or", values, at: first.at };
}

function conjunction(p: Cursor): PExpr {
  const first = inversion(p);
  if (!p.at("and")) return first;
  const values = [first];
  while (p.eat("and")) values.push(inversion(p));
  return { t: "BoolOp", op: "and", values, at: first.at };
}

/** inversion: 'not' inversion | comparison */
function inversion(p: Cursor): PExpr {
  if (!p.at("not")) return comparison(p);
  const nots: number[] = [];
  const level = p.level;
  while (p.at("not")) {
    nots.push(p.next().start);
    p.enter(1);
  }
  let e = comparison(p);
  for (let k = nots.length - 1; k >= 0; k--) e = { t: "UnaryOp", op: "not", operand: e, at: nots[k] ?? e.at };
  p.level = level;
  return e;
}

function comparison(p: Cursor): PExpr {
  const left = bitwiseOr(p);
  const ops: string[] = [];
  const comparators: PExpr[] = [];
  for (;;) {
    const t = p.peek();
    if (!((t.type === "OP" || t.type === "NAME") && COMPARE.has(t.text))) break;
    let op = t.text;
    if (op === "not") {
      if (!p.at("in", 1)) break;
      p.next();
      op = "not in";
    } else if (op === "is" && p.at("not", 1)) {
      p.next();
      op = "is not";
    }
    p.next();
    ops.push(op);
    comparators.push(bitwiseOr(p));
  }
  return ops.length === 0 ? left : { t: "Compare", left, ops, comparators, at: left.at };
}

/** bitwise_or down to term: left-associative binary operators, by precedence climbing. */
export function bitwiseOr(p: Cursor): PExpr {
  const first = factor(p);
  const next = p.peek();
  if (next.type !== "OP" || BINARY[next.text] === undefined) return first;
  const operands: PExpr[] = [first];
  const ops: { op: string; prec: number; at: number }[] = [];
  const reduce = (): void => {
    const right = operands.pop() as PExpr;
    const left = operands.pop() as PExpr;
    const o = ops.pop() as { op: string; at: number };
    operands.push({ t: "BinOp", op: o.op, left, right, at: left.at, opAt: o.at });
  };
  for (;;) {
    const t = p.peek();
    const prec = t.type === "OP" ? BINARY[t.text] : undefined;
    if (prec === undefined) break;
    p.next();
    while (ops.length > 0 && (ops[ops.length - 1]?.prec ?? 0) >= prec) reduce();
    ops.push({ op: t.text, prec, at: t.start });
    operands.push(factor(p));
  }
  while (ops.length > 0) reduce();
  return operands[0] as PExpr;
}

/** factor: ('+' | '-' | '~') factor | power;  power: await_primary '**' factor | await_primary */
function factor(p: Cursor): PExpr {
  const t = p.peek();
  let first: PExpr | null = null;
  if (t.type !== "OP" || (t.text !== "-" && t.text !== "+" && t.text !== "~")) {
    first = awaitPrimary(p);
    if (!p.at("**")) return first;
  }
  const level = p.level;
  // Each link: the unary operators before an operand, the operand, and whether `**` follows.
  const links: { unary: { op: "-" | "+" | "~"; at: number }[]; base: PExpr }[] = [];
  if (first) {
    links.push({ unary: [], base: first });
    p.next();
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
    p.next();
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
  if (!result) throw new ParseError("invalid syntax", p.peek().start, false);
  return result;
}

/** await_primary: AWAIT primary | primary */
function awaitPrimary(p: Cursor): PExpr {
  if (p.at("await")) {
    const at = p.next().start;
    return { t: "Await", value: primary(p), at };
  }
  return primary(p);
}
