/**
 * Assignment, `for`, `with … as` and `del` targets. The parser reads a target as an expression and then
 * checks it, which accepts exactly Grammar/python.gram's star_targets / del_targets (names, attributes,
 * subscripts, and tuples/lists of them; `*x` inside a tuple or list) and reports a wrong one with CPython's
 * message (`_PyPegen_get_invalid_target`, `_PyPegen_get_expr_name`).
 */
import type { Cursor } from "./parse_base.ts";
import type { PExpr } from "./syntax.ts";

export type TargetKind = "assign" | "for" | "del";

/** CPython's name for an expression in "cannot assign to …" messages. */
export function exprName(e: PExpr): string {
  switch (e.t) {
    case "Attribute":
      return "attribute";
    case "Subscript":
      return "subscript";
    case "Starred":
      return "starred";
    case "Name":
      return "name";
    case "List":
      return "list";
    case "Tuple":
      return "tuple";
    case "Lambda":
      return "lambda";
    case "Call":
      return "function call";
    case "BoolOp":
    case "BinOp":
    case "UnaryOp":
      return "expression";
    case "GeneratorExp":
      return "generator expression";
    case "Yield":
    case "YieldFrom":
      return "yield expression";
    case "Await":
      return "await expression";
    case "ListComp":
      return "list comprehension";
    case "SetComp":
      return "set comprehension";
    case "DictComp":
      return "dict comprehension";
    case "Dict":
      return "dict literal";
    case "Set":
      return "set display";
    case "JoinedStr":
      return "f-string expression";
    case "Constant":
      if (e.value === null) return "None";
      if (e.value === true) return "True";
      if (e.value === false) return "False";
      if (typeof e.value === "object" && e.value !== null && "ellipsis" in e.value) return "ellipsis";
      return "literal";
    case "Compare":
      return "comparison";
    case "IfExp":
      return "conditional expression";
    case "NamedExpr":
      return "named expression";
    case "Slice":
      return "slice";
  }
}

/** The part of `e` that is not a valid target of `kind`, or null when `e` is a valid target. */
export function invalidTarget(e: PExpr, kind: TargetKind): PExpr | null {
  switch (e.t) {
    case "List":
    case "Tuple":
      for (const elt of e.elts) {
        const bad = invalidTarget(elt, kind);
        if (bad) return bad;
      }
      return null;
    case "Starred":
      if (kind === "del") return e;
      if (e.value.t === "Starred") return e.value;
      return invalidTarget(e.value, kind);
    case "Name":
    case "Subscript":
    case "Attribute":
      return null;
    default:
      return e;
  }
}

/** Throws CPython's error when `e` is not a valid target of `kind`. */
export function checkTarget(p: Cursor, e: PExpr, kind: TargetKind): PExpr {
  const bad = invalidTarget(e, kind);
  if (!bad) return e;
  if (bad.t === "Yield" || bad.t === "YieldFrom")
    if (kind === "assign") throw p.specific("assignment to yield expression not possible", bad.at);
  throw p.specific(`cannot ${kind === "del" ? "delete" : "assign to"} ${exprName(bad)}`, bad.at);
}

/** star_targets where `in` may follow (`for` statements and comprehensions): `a`, `a, *b`, `(a, b),`. */
export function starTargets(p: Cursor): PExpr {
  const at = p.offset();
  const elts: PExpr[] = [];
  let comma = false;
  for (;;) {
    if (p.at("*")) {
      const star = p.skip();
      elts.push({ t: "Starred", value: p.g.bitwiseOr(p), at: star });
    } else elts.push(p.g.bitwiseOr(p));
    if (!p.at(",")) break;
    p.skip();
    comma = true;
    if (p.at("in") || p.at("=") || p.at(")") || p.at(":")) break;
  }
  const [only] = elts;
  const e: PExpr = elts.length === 1 && !comma && only ? only : { t: "Tuple", elts, at };
  checkTarget(p, e, "for");
  if (p.at("in")) return e;
  throw p.fail();
}
