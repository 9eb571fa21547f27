/**
 * Reads @lezer/python expression and target nodes into the checked tree (ast.ts). Every node kind not
 * handled here is refused with its position, so the supported subset is exactly what this file accepts.
 */
import type { SyntaxNode } from "@lezer/common";
import type { BinaryOp, CompareOp, Expr, Target } from "./ast.ts";
import { refuse, type SourcePos, syntaxFail } from "./exceptions.ts";
import { decodeNumber } from "./literals.ts";
import { readCall, readComprehension } from "./parse_call.ts";
import { readString } from "./parse_string.ts";
import { KEYWORDS, PYTHON2_ONLY } from "./rules.ts";

/** State shared while reading one Body: the text, positions, and the names it binds and uses. */
export interface Reader {
  text: string;
  pos(offset: number): SourcePos;
  /** Names bound by the Body's own statements (function locals in murano-agent's wrapper). */
  locals: Set<string> | null;
  /** Every name bound anywhere (statements, comprehension targets). */
  bound: Set<string>;
  /** Bare names read, with where: checked once all bindings are known. */
  uses: { name: string; pos: SourcePos }[];
  /** `x.name(...)` with a name that is no supported method: valid only when `x` is a script. */
  scriptCalls: { object: string | null; method: string; pos: SourcePos }[];
}

/** Valid Python the subset leaves out (SPEC section 6); anything else unknown is refused by its text. */
const REFUSED_NODES: Record<string, string> = {
  LambdaExpression: '"lambda"',
  NamedExpression: '":=" (assignment expressions)',
  AwaitExpression: '"await"',
  YieldExpression: '"yield"',
  Ellipsis: '"..."',
};

const ARITH: Record<string, BinaryOp> = {
  "+": "+",
  "-": "-",
  "*": "*",
  "/": "/",
  "//": "//",
  "%": "%",
  "**": "**",
};
const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"]);

/** The node's children, comments left out. */
export function kids(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== "Comment") out.push(c);
  return out;
}

/** Splits a flat child list at `,` tokens; `trailing` tells whether the last item was followed by a comma. */
export function splitCommas(nodes: SyntaxNode[]): { items: SyntaxNode[][]; trailing: boolean } {
  const items: SyntaxNode[][] = [[]];
  for (const n of nodes) {
    if (n.name === ",") items.push([]);
    else items[items.length - 1]?.push(n);
  }
  const trailing = items.length > 1 && items[items.length - 1]?.length === 0;
  if (trailing) items.pop();
  if (items.length === 1 && items[0]?.length === 0) return { items: [], trailing: false };
  return { items, trailing };
}

export function single(r: Reader, nodes: SyntaxNode[], at: number): SyntaxNode {
  const [first, extra] = nodes;
  if (!first) throw syntaxFail("invalid syntax", r.pos(at));
  if (extra) {
    if (extra.name === "for" || extra.name === "async") throw syntaxFail("invalid syntax", r.pos(extra.from));
    if (first.name === "*" || first.name === "**")
      throw refuse(`"${first.name}" unpacking is not supported`, r.pos(first.from));
    throw syntaxFail("invalid syntax", r.pos(extra.from));
  }
  return first;
}

/** An expression list (`a, b` or `a`): a tuple when it has a comma. */
export function readExprList(r: Reader, nodes: SyntaxNode[], at: number): Expr {
  const { items, trailing } = splitCommas(nodes);
  if (items.length === 1 && !trailing) return readExpr(r, single(r, items[0] ?? [], at));
  return { kind: "tuple", items: items.map((item) => readExpr(r, single(r, item, at))) };
}

/** A target list (`a, b` or `a`): unpacking when it has a comma. */
export function readTargetList(r: Reader, nodes: SyntaxNode[], at: number): Target {
  const { items, trailing } = splitCommas(nodes);
  if (items.length === 1 && !trailing) return readTarget(r, single(r, items[0] ?? [], at));
  return { kind: "unpack", items: items.map((item) => readTarget(r, single(r, item, at))) };
}

export function readTarget(r: Reader, n: SyntaxNode): Target {
  switch (n.name) {
    case "VariableName": {
      const name = checkName(r, n);
      r.locals?.add(name);
      r.bound.add(name);
      return { kind: "name", name };
    }
    case "ParenthesizedExpression":
      return readTarget(r, single(r, kids(n).slice(1, -1), n.from));
    case "TupleExpression":
    case "ArrayExpression":
      return readTargetList(r, kids(n).slice(1, -1), n.from);
    case "MemberExpression": {
      const e = readExpr(r, n);
      if (e.kind === "attribute" || e.kind === "subscript") return e;
    }
  }
  throw syntaxFail(`cannot assign to "${snippet(r, n)}"`, r.pos(n.from));
}

export function readExpr(r: Reader, n: SyntaxNode): Expr {
  const c = kids(n);
  switch (n.name) {
    case "VariableName": {
      const name = checkName(r, n);
      r.uses.push({ name, pos: r.pos(n.from) });
      return { kind: "name", name, pos: r.pos(n.from) };
    }
    case "Number":
      return { kind: "literal", value: decodeNumber(text(r, n), r.pos(n.from)) };
    case "Boolean":
      return { kind: "literal", value: text(r, n) === "True" };
    case "None":
      return { kind: "literal", value: null };
    case "String":
    case "FormatString":
    case "ContinuedString":
      return readString(r, n);
    case "ParenthesizedExpression":
      return readExpr(r, single(r, c.slice(1, -1), n.from));
    case "TupleExpression":
      return { kind: "tuple", items: readItems(r, c.slice(1, -1), n.from) };
    case "ArrayExpression":
      return { kind: "list", items: readItems(r, c.slice(1, -1), n.from) };
    case "SetExpression":
      return { kind: "set", items: readItems(r, c.slice(1, -1), n.from) };
    case "DictionaryExpression":
      return readDict(r, c.slice(1, -1), n.from);
    case "ArrayComprehensionExpression":
    case "SetComprehensionExpression":
    case "ComprehensionExpression":
    case "DictionaryComprehensionExpression":
      return readComprehension(r, n, c.slice(1, -1));
    case "MemberExpression":
      return readMember(r, c, n.from);
    case "CallExpression":
      return readCall(r, c, n.from);
    case "BinaryExpression":
      return readBinary(r, c, n.from);
    case "UnaryExpression": {
      const op = text(r, c[0] ?? n);
      if (op !== "-" && op !== "+" && op !== "not")
        throw refuse(`operator "${op}" is not supported`, r.pos(n.from));
      return { kind: "unary", op, operand: readExpr(r, single(r, c.slice(1), n.from)) };
    }
    case "ConditionalExpression": {
      const [whenTrue, , test, , whenFalse] = c;
      if (!whenTrue || !test || !whenFalse) throw syntaxFail("invalid syntax", r.pos(n.from));
      return {
        kind: "conditional",
        test: readExpr(r, test),
        whenTrue: readExpr(r, whenTrue),
        whenFalse: readExpr(r, whenFalse),
      };
    }
  }
  const what = REFUSED_NODES[n.name] ?? `"${snippet(r, n)}"`;
  throw refuse(`${what} is not supported`, r.pos(n.from));
}

export function text(r: Reader, n: SyntaxNode): string {
  return r.text.slice(n.from, n.to);
}

export function snippet(r: Reader, n: SyntaxNode): string {
  const t = text(r, n).split("\n")[0] ?? "";
  return t.length > 30 ? `${t.slice(0, 30)}…` : t;
}

export function checkName(r: Reader, n: SyntaxNode): string {
  const name = text(r, n);
  if (KEYWORDS.has(name)) throw syntaxFail("invalid syntax", r.pos(n.from));
  if (name.startsWith("__")) throw refuse(`"${name}" is not supported (dunder names)`, r.pos(n.from));
  return name;
}

function checkAttribute(r: Reader, n: SyntaxNode): string {
  const name = text(r, n);
  if (KEYWORDS.has(name)) throw syntaxFail(`invalid syntax: "${name}" is a keyword`, r.pos(n.from));
  if (name.startsWith("__")) throw refuse(`"${name}" is not supported (dunder attributes)`, r.pos(n.from));
  if (PYTHON2_ONLY.has(name)) throw refuse(`"${name}" is Python 2 only and not supported`, r.pos(n.from));
  return name;
}

function readItems(r: Reader, nodes: SyntaxNode[], at: number): Expr[] {
  return splitCommas(nodes).items.map((item) => readExpr(r, single(r, item, at)));
}

function readDict(r: Reader, nodes: SyntaxNode[], at: number): Expr {
  const entries = splitCommas(nodes).items.map((item) => {
    const [key, colon, value, extra] = item;
    if (key?.name === "**") throw refuse('"**" unpacking is not supported', r.pos(key.from));
    if (!key || colon?.name !== ":" || !value || extra)
      throw syntaxFail("invalid syntax", r.pos(key?.from ?? at));
    return { key: readExpr(r, key), value: readExpr(r, value) };
  });
  return { kind: "dict", entries };
}

function readMember(r: Reader, c: SyntaxNode[], at: number): Expr {
  const [objectNode, open] = c;
  if (!objectNode || !open) throw syntaxFail("invalid syntax", r.pos(at));
  const object = readExpr(r, objectNode);
  if (open.name === ".") {
    const prop = c[2];
    if (!prop) throw syntaxFail("invalid syntax", r.pos(open.from));
    return { kind: "attribute", object, name: checkAttribute(r, prop) };
  }
  const { items, trailing } = splitCommas(c.slice(2, -1));
  const parts = items.map((item) => readSubscriptPart(r, item, open.from));
  const [only] = parts;
  const index: Expr = parts.length === 1 && only && !trailing ? only : { kind: "tuple", items: parts };
  return { kind: "subscript", object, index };
}

function readSubscriptPart(r: Reader, nodes: SyntaxNode[], at: number): Expr {
  if (!nodes.some((n) => n.name === ":")) return readExpr(r, single(r, nodes, at));
  const parts: (Expr | null)[] = [null];
  for (const n of nodes) {
    if (n.name === ":") parts.push(null);
    else if (parts[parts.length - 1] === null) parts[parts.length - 1] = readExpr(r, n);
    else throw syntaxFail("invalid syntax", r.pos(n.from));
  }
  if (parts.length > 3) throw syntaxFail("invalid syntax", r.pos(at));
  return { kind: "slice", lower: parts[0] ?? null, upper: parts[1] ?? null, step: parts[2] ?? null };
}

function readBinary(r: Reader, c: SyntaxNode[], at: number): Expr {
  const left = c[0];
  const right = c[c.length - 1];
  if (!left || !right || c.length < 3) throw syntaxFail("invalid syntax", r.pos(at));
  const op = c
    .slice(1, -1)
    .map((n) => text(r, n))
    .join(" ");
  if (op === "and" || op === "or")
    return { kind: "logical", op, left: readExpr(r, left), right: readExpr(r, right) };
  if (COMPARE.has(op)) {
    const compareOp = op as CompareOp;
    const first = readExpr(r, left);
    const chained = left.name === "BinaryExpression" && first.kind === "compare";
    const rest = chained ? first.rest : [];
    rest.push({ op: compareOp, right: readExpr(r, right) });
    return { kind: "compare", first: chained ? first.first : first, rest };
  }
  const arith = ARITH[op];
  if (op === "<>") throw syntaxFail('invalid syntax: the Python 2 "<>" operator', r.pos(c[1]?.from ?? at));
  if (arith === undefined) throw refuse(`operator "${op}" is not supported`, r.pos(c[1]?.from ?? at));
  return { kind: "binary", op: arith, left: readExpr(r, left), right: readExpr(r, right) };
}
