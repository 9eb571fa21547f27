/**
 * Reads calls (arguments, keywords, a generator argument) and comprehensions. Their loop variables are
 * bound in their own scope, not as Body locals (Python 3).
 */
import type { SyntaxNode } from "@lezer/common";
import type { ComprehensionLoop, Expr, Keyword } from "./ast.ts";
import { refuse, syntaxFail } from "./exceptions.ts";
import { kids, type Reader, readExpr, readTargetList, single, splitCommas, text } from "./parse_expr.ts";

/** `element for target in iterable if condition ...` from a flat token list (comprehensions, generator args). */
function readLoops(r: Reader, nodes: SyntaxNode[], at: number): ComprehensionLoop[] {
  const loops: ComprehensionLoop[] = [];
  let i = 0;
  while (i < nodes.length) {
    const head = nodes[i];
    if (head?.name !== "for")
      throw head?.name === "async"
        ? refuse('"async" is not supported', r.pos(head.from))
        : syntaxFail("invalid syntax", r.pos(head?.from ?? at));
    const inAt = nodes.findIndex((node, k) => k > i && node.name === "in");
    const iterable = nodes[inAt + 1];
    if (inAt < 0 || !iterable) throw syntaxFail("invalid syntax", r.pos(head.from));
    const target = readTargetList(r, nodes.slice(i + 1, inAt), head.from);
    const loop: ComprehensionLoop = { target, iterable: readExpr(r, iterable), conditions: [] };
    i = inAt + 2;
    while (nodes[i]?.name === "if") {
      const cond = nodes[i + 1];
      if (!cond) throw syntaxFail("invalid syntax", r.pos(nodes[i]?.from ?? at));
      loop.conditions.push(readExpr(r, cond));
      i += 2;
    }
    loops.push(loop);
  }
  return loops;
}

export function readComprehension(r: Reader, n: SyntaxNode, inner: SyntaxNode[]): Expr {
  const saved = r.locals;
  r.locals = null; // comprehension variables do not leak into the Body (Python 3)
  try {
    if (n.name === "DictionaryComprehensionExpression") {
      const [key, , value] = inner;
      if (!key || !value) throw syntaxFail("invalid syntax", r.pos(n.from));
      const loops = readLoops(r, inner.slice(3), n.from);
      return { kind: "dictComprehension", key: readExpr(r, key), value: readExpr(r, value), loops };
    }
    const [element] = inner;
    if (!element) throw syntaxFail("invalid syntax", r.pos(n.from));
    const loops = readLoops(r, inner.slice(1), n.from);
    const result =
      n.name === "ArrayComprehensionExpression"
        ? "list"
        : n.name === "SetComprehensionExpression"
          ? "set"
          : "generator";
    return { kind: "comprehension", result, element: readExpr(r, element), loops };
  } finally {
    r.locals = saved;
  }
}

export function readCall(r: Reader, c: SyntaxNode[], at: number): Expr {
  const [calleeNode, argList] = c;
  if (!calleeNode || argList?.name !== "ArgList") throw syntaxFail("invalid syntax", r.pos(at));
  const callee = readExpr(r, calleeNode);
  const inner = kids(argList).slice(1, -1);
  if (inner.some((n) => n.name === "for")) {
    const [element] = inner;
    const saved = r.locals;
    r.locals = null;
    try {
      const loops = readLoops(r, inner.slice(1), at);
      const gen: Expr = {
        kind: "comprehension",
        result: "generator",
        element: readExpr(r, element ?? argList),
        loops,
      };
      return noteCall(r, calleeNode, { kind: "call", callee, args: [gen], keywords: [] });
    } finally {
      r.locals = saved;
    }
  }
  const args: Expr[] = [];
  const keywords: Keyword[] = [];
  for (const item of splitCommas(inner).items) {
    const [first, op, value] = item;
    if (first && op?.name === "AssignOp" && value && item.length === 3) {
      const name = text(r, first);
      if (keywords.some((k) => k.name === name))
        throw syntaxFail(`keyword argument "${name}" repeated`, r.pos(first.from));
      keywords.push({ name, value: readExpr(r, value) });
    } else {
      if (keywords.length > 0)
        throw syntaxFail("positional argument follows keyword argument", r.pos(first?.from ?? at));
      args.push(readExpr(r, single(r, item, at)));
    }
  }
  return noteCall(r, calleeNode, { kind: "call", callee, args, keywords });
}

function noteCall(r: Reader, calleeNode: SyntaxNode, call: Expr & { kind: "call" }): Expr {
  if (call.callee.kind === "attribute") {
    const objectNode = calleeNode.firstChild;
    const object = objectNode?.name === "VariableName" ? text(r, objectNode) : null;
    const prop = calleeNode.lastChild ?? calleeNode;
    r.scriptCalls.push({ object, method: call.callee.name, pos: r.pos(prop.from) });
  }
  return call;
}
