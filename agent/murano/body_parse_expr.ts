/**
 * Reads @lezer/python expression and target nodes into the checked tree (body_ast.ts). Every node kind not
 * handled here is refused with its position, so the supported subset is exactly what this file accepts.
 */
import type { SyntaxNode } from "@lezer/common";
import type { BinaryOp, CompareOp, ComprehensionLoop, Expr, FormatField, Keyword, Target } from "./body_ast.ts";
import { refuse, type SourcePos } from "./body_fail.ts";
import { decodeNumber, decodeStringToken, splitStringToken, unescape } from "./body_literals.ts";
import { KEYWORDS, PYTHON2_ONLY } from "./body_rules.ts";

/** State shared while reading one Body: the text, positions, and the names it binds and uses. */
export interface Reader {
  text: string;
  pos(offset: number): SourcePos;
  /** Names bound by the Body's own statements (function locals in murano-agent's wrapper). */
  locals: Set<string> | null;
  /** Every name bound anywhere (statements, lambda parameters, comprehension targets). */
  bound: Set<string>;
  /** Bare names read, with where: checked once all bindings are known. */
  uses: { name: string; pos: SourcePos }[];
  /** `x.name(...)` with a name that is no supported method: valid only when `x` is a script. */
  scriptCalls: { object: string | null; method: string; pos: SourcePos }[];
}

const REFUSED_NODES: Record<string, string> = {
  NamedExpression: '":=" (assignment expressions)',
  AwaitExpression: '"await"',
  YieldExpression: '"yield"',
  Ellipsis: '"..."',
};

const ARITH: Record<string, BinaryOp> = { "+": "+", "-": "-", "*": "*", "/": "/", "//": "//", "%": "%", "**": "**" };
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

function single(r: Reader, nodes: SyntaxNode[], at: number): SyntaxNode {
  const [first, extra] = nodes;
  if (!first) throw refuse("invalid syntax", r.pos(at));
  if (extra) {
    if (extra.name === "for" || extra.name === "async") throw refuse("invalid syntax", r.pos(extra.from));
    if (first.name === "*" || first.name === "**") throw refuse(`"${first.name}" unpacking is not supported`, r.pos(first.from));
    throw refuse("invalid syntax", r.pos(extra.from));
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
  throw refuse(`cannot assign to "${snippet(r, n)}"`, r.pos(n.from));
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
      if (op !== "-" && op !== "+" && op !== "not") throw refuse(`operator "${op}" is not supported`, r.pos(n.from));
      return { kind: "unary", op, operand: readExpr(r, single(r, c.slice(1), n.from)) };
    }
    case "ConditionalExpression": {
      const [then, , test, , otherwise] = c;
      if (!then || !test || !otherwise) throw refuse("invalid syntax", r.pos(n.from));
      return { kind: "conditional", test: readExpr(r, test), then: readExpr(r, then), otherwise: readExpr(r, otherwise) };
    }
    case "LambdaExpression":
      return readLambda(r, c, n.from);
  }
  const what = REFUSED_NODES[n.name] ?? `"${snippet(r, n)}"`;
  throw refuse(`${what} is not supported`, r.pos(n.from));
}

function text(r: Reader, n: SyntaxNode): string {
  return r.text.slice(n.from, n.to);
}

function snippet(r: Reader, n: SyntaxNode): string {
  const t = text(r, n).split("\n")[0] ?? "";
  return t.length > 30 ? `${t.slice(0, 30)}…` : t;
}

function checkName(r: Reader, n: SyntaxNode): string {
  const name = text(r, n);
  if (KEYWORDS.has(name)) throw refuse("invalid syntax", r.pos(n.from));
  if (name.startsWith("__")) throw refuse(`"${name}" is not supported (dunder names)`, r.pos(n.from));
  return name;
}

function checkAttribute(r: Reader, n: SyntaxNode): string {
  const name = text(r, n);
  if (KEYWORDS.has(name)) throw refuse(`invalid syntax: "${name}" is a keyword`, r.pos(n.from));
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
    if (!key || colon?.name !== ":" || !value || extra) throw refuse("invalid syntax", r.pos(key?.from ?? at));
    return { key: readExpr(r, key), value: readExpr(r, value) };
  });
  return { kind: "dict", entries };
}

/** `element for target in iterable if condition ...` from a flat token list (comprehensions, generator args). */
function readLoops(r: Reader, nodes: SyntaxNode[], at: number): ComprehensionLoop[] {
  const loops: ComprehensionLoop[] = [];
  let i = 0;
  while (i < nodes.length) {
    const head = nodes[i];
    if (head?.name !== "for") throw refuse(head?.name === "async" ? '"async" is not supported' : "invalid syntax", r.pos(head?.from ?? at));
    const inAt = nodes.findIndex((node, k) => k > i && node.name === "in");
    const iterable = nodes[inAt + 1];
    if (inAt < 0 || !iterable) throw refuse("invalid syntax", r.pos(head.from));
    const target = readTargetList(r, nodes.slice(i + 1, inAt), head.from);
    const loop: ComprehensionLoop = { target, iterable: readExpr(r, iterable), conditions: [] };
    i = inAt + 2;
    while (nodes[i]?.name === "if") {
      const cond = nodes[i + 1];
      if (!cond) throw refuse("invalid syntax", r.pos(nodes[i]?.from ?? at));
      loop.conditions.push(readExpr(r, cond));
      i += 2;
    }
    loops.push(loop);
  }
  return loops;
}

function readComprehension(r: Reader, n: SyntaxNode, inner: SyntaxNode[]): Expr {
  const saved = r.locals;
  r.locals = null; // comprehension variables do not leak into the Body (Python 3)
  try {
    if (n.name === "DictionaryComprehensionExpression") {
      const [key, , value] = inner;
      if (!key || !value) throw refuse("invalid syntax", r.pos(n.from));
      const loops = readLoops(r, inner.slice(3), n.from);
      return { kind: "dictComprehension", key: readExpr(r, key), value: readExpr(r, value), loops };
    }
    const [element] = inner;
    if (!element) throw refuse("invalid syntax", r.pos(n.from));
    const loops = readLoops(r, inner.slice(1), n.from);
    const result = n.name === "ArrayComprehensionExpression" ? "list" : n.name === "SetComprehensionExpression" ? "set" : "generator";
    return { kind: "comprehension", result, element: readExpr(r, element), loops };
  } finally {
    r.locals = saved;
  }
}

function readMember(r: Reader, c: SyntaxNode[], at: number): Expr {
  const [objectNode, open] = c;
  if (!objectNode || !open) throw refuse("invalid syntax", r.pos(at));
  const object = readExpr(r, objectNode);
  if (open.name === ".") {
    const prop = c[2];
    if (!prop) throw refuse("invalid syntax", r.pos(open.from));
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
    else throw refuse("invalid syntax", r.pos(n.from));
  }
  if (parts.length > 3) throw refuse("invalid syntax", r.pos(at));
  return { kind: "slice", lower: parts[0] ?? null, upper: parts[1] ?? null, step: parts[2] ?? null };
}

function readCall(r: Reader, c: SyntaxNode[], at: number): Expr {
  const [calleeNode, argList] = c;
  if (!calleeNode || argList?.name !== "ArgList") throw refuse("invalid syntax", r.pos(at));
  const callee = readExpr(r, calleeNode);
  const inner = kids(argList).slice(1, -1);
  if (inner.some((n) => n.name === "for")) {
    const [element] = inner;
    const saved = r.locals;
    r.locals = null;
    try {
      const loops = readLoops(r, inner.slice(1), at);
      const gen: Expr = { kind: "comprehension", result: "generator", element: readExpr(r, element ?? argList), loops };
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
      if (keywords.some((k) => k.name === name)) throw refuse(`keyword argument "${name}" repeated`, r.pos(first.from));
      keywords.push({ name, value: readExpr(r, value) });
    } else {
      if (keywords.length > 0) throw refuse("positional argument follows keyword argument", r.pos(first?.from ?? at));
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

function readBinary(r: Reader, c: SyntaxNode[], at: number): Expr {
  const left = c[0];
  const right = c[c.length - 1];
  if (!left || !right || c.length < 3) throw refuse("invalid syntax", r.pos(at));
  const op = c.slice(1, -1).map((n) => text(r, n)).join(" ");
  if (op === "and" || op === "or") return { kind: "logical", op, left: readExpr(r, left), right: readExpr(r, right) };
  if (COMPARE.has(op)) {
    const compareOp = op as CompareOp;
    const first = readExpr(r, left);
    const chained = left.name === "BinaryExpression" && first.kind === "compare";
    const rest = chained ? first.rest : [];
    rest.push({ op: compareOp, right: readExpr(r, right) });
    return { kind: "compare", first: chained ? first.first : first, rest };
  }
  const arith = ARITH[op];
  if (arith === undefined) throw refuse(`operator "${op === "<>" ? "<>" : op}" is not supported`, r.pos(c[1]?.from ?? at));
  return { kind: "binary", op: arith, left: readExpr(r, left), right: readExpr(r, right) };
}

function readLambda(r: Reader, c: SyntaxNode[], at: number): Expr {
  const paramList = c.find((n) => n.name === "ParamList");
  const params: string[] = [];
  for (const item of paramList ? splitCommas(kids(paramList)).items : []) {
    const [param, extra] = item;
    if (param?.name !== "VariableName" || extra) {
      throw refuse("lambda parameters other than plain names are not supported", r.pos(param?.from ?? at));
    }
    const name = checkName(r, param);
    r.bound.add(name);
    params.push(name);
  }
  const body = c[c.length - 1];
  if (!body || body.name === ":" || body.name === "ParamList") throw refuse("invalid syntax", r.pos(at));
  const saved = r.locals;
  r.locals = null;
  try {
    return { kind: "lambda", params, body: readExpr(r, body) };
  } finally {
    r.locals = saved;
  }
}

/** String, f-string and implicitly concatenated strings. */
function readString(r: Reader, n: SyntaxNode): Expr {
  const pieces = n.name === "ContinuedString" ? kids(n) : [n];
  const parts: (string | FormatField)[] = [];
  for (const piece of pieces) {
    if (piece.name === "String") parts.push(decodeStringToken(text(r, piece), r.pos(piece.from)));
    else if (piece.name === "FormatString") parts.push(...readFormatString(r, piece));
    else throw refuse("invalid syntax", r.pos(piece.from));
  }
  if (parts.every((p) => typeof p === "string")) return { kind: "literal", value: parts.join("") };
  return { kind: "fstring", parts };
}

function readFormatString(r: Reader, n: SyntaxNode): (string | FormatField)[] {
  const { prefix, quote } = splitStringToken(text(r, n), r.pos(n.from));
  const start = n.from + prefix.length + quote.length;
  return readFormatParts(r, kids(n), start, n.to - quote.length, prefix.includes("r"));
}

function readFormatParts(r: Reader, fields: SyntaxNode[], from: number, to: number, raw: boolean): (string | FormatField)[] {
  const parts: (string | FormatField)[] = [];
  let cursor = from;
  const literal = (end: number): void => {
    const chunk = r.text.slice(cursor, end).replace(/\{\{/g, "{").replace(/\}\}/g, "}");
    if (chunk) parts.push(raw ? chunk : unescape(chunk, r.pos(cursor)));
  };
  for (const field of fields) {
    if (field.name !== "FormatReplacement") continue;
    literal(field.from);
    parts.push(readFormatField(r, field, raw));
    cursor = field.to;
  }
  literal(to);
  return parts;
}

function readFormatField(r: Reader, field: SyntaxNode, raw: boolean): FormatField {
  const c = kids(field).slice(1, -1);
  const exprNode = c[0];
  if (!exprNode) throw refuse("invalid syntax", r.pos(field.from));
  let conversion: FormatField["conversion"] = null;
  let spec: (string | FormatField)[] = [];
  for (const part of c.slice(1)) {
    if (part.name === "FormatConversion") {
      const conv = text(r, part).slice(1);
      if (conv !== "r" && conv !== "s" && conv !== "a") throw refuse("invalid f-string conversion", r.pos(part.from));
      conversion = conv;
    } else if (part.name === "FormatSpec") {
      spec = readFormatParts(r, kids(part), part.from + 1, part.to, raw);
    } else {
      throw refuse(`"${snippet(r, part)}" in an f-string is not supported`, r.pos(part.from));
    }
  }
  return { expr: readExpr(r, exprNode), conversion, spec };
}
