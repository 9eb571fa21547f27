/**
 * Simple statements (Grammar/python.gram `simple_stmts`): `;`-separated on one logical line — assignment
 * (chained, annotated, augmented), expression, return, import, raise, pass, del, yield, assert, break,
 * continue, global, nonlocal.
 */
import type { Cursor } from "./parse_base.ts";
import type { Alias, PExpr, PStmt } from "./syntax.ts";
import { checkTarget, exprName, invalidTarget } from "./targets.ts";

const AUGMENTED = new Set(["+=", "-=", "*=", "@=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "**=", "//="]);

/** simple_stmt (';' simple_stmt)* [';'] NEWLINE */
export function simpleStmts(p: Cursor): PStmt[] {
  const out = [simpleStmt(p)];
  while (p.eat(";")) {
    if (p.kind() === "NEWLINE") break;
    out.push(simpleStmt(p));
  }
  if (p.kind() !== "NEWLINE") throw p.fail();
  p.skip();
  return out;
}

function simpleStmt(p: Cursor): PStmt {
  const at = p.offset();
  if (p.kind() === "NAME") {
    const keyword = p.spelling();
    switch (keyword) {
      case "pass":
      case "break":
      case "continue":
        p.skip();
        return { t: keyword === "pass" ? "Pass" : keyword === "break" ? "Break" : "Continue", at };
      case "return":
        p.skip();
        return { t: "Return", value: p.g.startsExpression(p) ? p.g.starExpressions(p) : null, at };
      case "raise": {
        p.skip();
        if (!p.g.startsExpression(p)) return { t: "Raise", exc: null, cause: null, at };
        const exc = p.g.expression(p);
        return { t: "Raise", exc, cause: p.eat("from") ? p.g.expression(p) : null, at };
      }
      case "global":
      case "nonlocal": {
        p.skip();
        const names = [p.name().text];
        while (p.eat(",")) names.push(p.name().text);
        return {
          t: keyword === "global" ? "Global" : "Nonlocal",
          names,
          at,
        };
      }
      case "del": {
        p.skip();
        const targets: PExpr[] = [];
        do {
          if (p.at(";") || p.kind() === "NEWLINE") break;
          const e = p.g.bitwiseOr(p);
          targets.push(checkTarget(p, e, "del"));
        } while (p.eat(","));
        if (targets.length === 0 || !(p.at(";") || p.kind() === "NEWLINE")) throw p.fail();
        return { t: "Delete", targets, at };
      }
      case "assert": {
        p.skip();
        const test = p.g.expression(p);
        return { t: "Assert", test, msg: p.eat(",") ? p.g.expression(p) : null, at };
      }
      case "import":
        p.skip();
        return { t: "Import", names: commaList(p, () => alias(p, true)), at };
      case "from":
        return importFrom(p);
      case "yield": {
        const value = p.g.yieldExpr(p);
        if (p.at("=")) throw p.specific("assignment to yield expression not possible", value.at);
        return { t: "Expr", value, at };
      }
    }
  }
  return assignmentOrExpression(p);
}

function assignmentOrExpression(p: Cursor): PStmt {
  const at = p.offset();
  const first = p.g.starExpressions(p);
  const next = p.peek();
  if (p.at(":")) {
    p.skip();
    const annotation = p.g.expression(p);
    if (first.t === "Tuple" || first.t === "List")
      throw p.specific(`only single target (not ${exprName(first)}) can be annotated`, first.at);
    if (first.t !== "Name" && first.t !== "Attribute" && first.t !== "Subscript")
      throw p.specific("illegal target for annotation", first.at);
    const value = p.eat("=") ? rhs(p) : null;
    return { t: "AnnAssign", target: first, annotation, value, simple: first.t === "Name", at };
  }
  if (next.type === "OP" && AUGMENTED.has(next.text)) {
    p.skip();
    const value = rhs(p);
    if (first.t !== "Name" && first.t !== "Attribute" && first.t !== "Subscript")
      throw p.specific(`'${exprName(first)}' is an illegal expression for augmented assignment`, first.at);
    return { t: "AugAssign", target: first, op: next.text.slice(0, -1), value, at, opAt: next.start };
  }
  if (p.at("=")) {
    const bad = invalidTarget(first, "assign");
    if (bad) {
      p.skip();
      const hint = bad === first ? checkMaybeEquals(first) : null;
      if (hint && p.attempt(() => p.g.bitwiseOr(p)) && !p.at("=") && !p.at(":="))
        throw p.specific(`cannot assign to ${hint} here. Maybe you meant '==' instead of '='?`, first.at);
      checkTarget(p, first, "assign");
    }
    const targets = [first];
    let value: PExpr = first;
    while (p.eat("=")) {
      value = rhs(p);
      if (p.at("=")) targets.push(value);
    }
    for (const target of targets) checkTarget(p, target, "assign");
    return { t: "Assign", targets, value, at };
  }
  if (first.t === "Name" && (first.id === "print" || first.id === "exec") && p.g.startsExpression(p))
    throw p.specific(
      `Missing parentheses in call to '${first.id}'. Did you mean ${first.id}(...)?`,
      first.at,
    );
  return { t: "Expr", value: first, at };
}

/** The expression name when a lone invalid target may be a mistyped comparison (CPython's hint). */
function checkMaybeEquals(target: PExpr): string | null {
  if (target.t === "Name" || target.t === "Attribute" || target.t === "Subscript") return null;
  if (target.t === "Yield" || target.t === "YieldFrom" || target.t === "Lambda" || target.t === "IfExp")
    return null;
  if (target.t === "Compare" || target.t === "BoolOp" || target.t === "NamedExpr") return null;
  if (target.t === "UnaryOp" && target.op === "not") return null;
  if (target.t === "Constant" && (target.value === null || typeof target.value === "boolean")) return null;
  return exprName(target);
}

/** annotated_rhs: yield_expr | star_expressions */
function rhs(p: Cursor): PExpr {
  return p.at("yield") ? p.g.yieldExpr(p) : p.g.starExpressions(p);
}

function commaList<T>(p: Cursor, item: () => T): T[] {
  const out = [item()];
  while (p.eat(",")) out.push(item());
  return out;
}

/** dotted_as_name (`a.b.c as d`) or import_from_as_name (`b as c`). */
function alias(p: Cursor, dotted: boolean): Alias {
  const first = p.name();
  let name = first.text;
  while (dotted && p.eat(".")) name += `.${p.name().text}`;
  const asname = p.eat("as") ? p.name().text : null;
  return { name, asname, at: first.start };
}

function importFrom(p: Cursor): PStmt {
  const at = p.expect("from");
  let level = 0;
  while (p.at(".") || p.at("...")) level += p.next().text.length;
  let module: string | null = null;
  if (!p.at("import")) {
    module = p.name().text;
    while (p.eat(".")) module += `.${p.name().text}`;
  }
  p.expect("import");
  if (p.at("*")) {
    const star = p.skip();
    return { t: "ImportFrom", module, names: [{ name: "*", asname: null, at: star }], level, at };
  }
  if (p.eat("(")) {
    const names = [alias(p, false)];
    while (p.eat(",")) {
      if (p.at(")")) break;
      names.push(alias(p, false));
    }
    p.expect(")");
    return { t: "ImportFrom", module, names, level, at };
  }
  const names = commaList(p, () => alias(p, false));
  return { t: "ImportFrom", module, names, level, at };
}
