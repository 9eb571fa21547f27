/**
 * Checks a whole Body and builds its tree before anything runs: murano-agent's un-indenting, a @lezer/python
 * parse, Python's syntax and indentation rules lezer is lenient about, and the safe subset. A syntax error is
 * IdemError 1 (murano-agent's code for it), valid Python outside the subset IdemError 2; both name the
 * problem, line and column. Syntax errors lezer reports win over refusals (the tree is scanned first).
 */
import type { SyntaxNode } from "@lezer/common";
import { parser } from "@lezer/python";
import type { BinaryOp, BodyTree, Stmt } from "./ast.ts";
import { refuse, type SourcePos, syntaxFail } from "./exceptions.ts";
import { METHODS } from "./methods.ts";
import { kids, type Reader, readExpr, readExprList, readTarget, readTargetList } from "./parse_expr.ts";
import { BUILTINS, REFUSED_BUILTINS } from "./rules.ts";

const REFUSED_STATEMENTS: Record<string, string> = {
  ImportStatement: '"import"',
  WithStatement: '"with"',
  FunctionDefinition: '"def"',
  ClassDefinition: '"class"',
  DecoratedStatement: "decorators",
  TryStatement: '"try"',
  RaiseStatement: '"raise"',
  WhileStatement: '"while"',
  AssertStatement: '"assert"',
  DeleteStatement: '"del"',
  YieldStatement: '"yield"',
  MatchStatement: '"match"',
  TypeDefinition: '"type"',
};

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** The message for a lezer error node: an unclosed bracket when the Body ends inside one, else "invalid syntax". */
function syntaxError(node: SyntaxNode, text: string, pos: (offset: number) => SourcePos): Error {
  if (node.from >= text.trimEnd().length) {
    for (let n: SyntaxNode | null = node.parent; n; n = n.parent) {
      const open = n.firstChild;
      const closer = open ? CLOSERS[open.name] : undefined;
      if (open && closer && n.lastChild?.name !== closer)
        return syntaxFail(`"${open.name}" was never closed`, pos(open.from));
    }
    return syntaxFail("unexpected end of Body", pos(node.from));
  }
  return syntaxFail("invalid syntax", pos(node.from));
}

const UPDATE_OPS: Record<string, BinaryOp> = {
  "+=": "+",
  "-=": "-",
  "*=": "*",
  "/=": "/",
  "//=": "//",
  "%=": "%",
  "**=": "**",
};

/** Parses and checks a Body; throws IdemError(1) for a syntax error, IdemError(2) for an unsupported construct. */
export function parseBody(source: string): BodyTree {
  const { text, indent } = unindent(source);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const column = (offset: number): number => offset - (lineStarts[lineOf(offset)] ?? 0);
  const pos = (offset: number): SourcePos => ({
    line: lineOf(offset) + 1,
    column: column(offset) + indent + 1,
  });
  const locals = new Set<string>();
  const r: Reader = { text, pos, locals, bound: new Set(), uses: [], scriptCalls: [] };

  const top = parser.parse(text).topNode;
  top.cursor().iterate((n) => {
    if (n.type.isError) throw syntaxError(n.node, text, pos);
  });
  const startsLine = (offset: number): boolean =>
    text.slice(lineStarts[lineOf(offset)] ?? 0, offset).trim() === "";

  const block = (nodes: SyntaxNode[], header: SyntaxNode | null, loops: number): Stmt[] => {
    const lines = nodes.filter((n) => n.name !== "Comment" && n.name !== ":");
    const first = lines[0];
    if (!first)
      throw syntaxFail(
        header ? "expected an indented block" : "the Body has no statements",
        pos(header?.to ?? 0),
      );
    const inline = header !== null && !startsLine(first.from);
    const col = column(first.from);
    for (const n of lines) {
      const misplaced = inline
        ? lineOf(n.from) !== lineOf(first.from)
        : !startsLine(n.from) || column(n.from) !== col;
      if (misplaced || (!inline && header && col <= column(header.from)) || (!header && col !== 0)) {
        throw syntaxFail("unexpected indentation", pos(n.from));
      }
    }
    return lines
      .flatMap((n) => (n.name === "StatementGroup" ? kids(n).filter((k) => k.name !== ";") : [n]))
      .map((n) => statement(n, loops));
  };

  const body = (n: SyntaxNode | undefined, header: SyntaxNode, loops: number): Stmt[] => {
    if (n?.name !== "Body") throw syntaxFail("invalid syntax", pos(n?.from ?? header.to));
    return block(kids(n), header, loops);
  };

  const statement = (n: SyntaxNode, loops: number): Stmt => {
    const c = kids(n);
    switch (n.name) {
      case "ExpressionStatement":
        return { kind: "expr", expr: readExprList(r, c, n.from) };
      case "AssignStatement": {
        const typeDef = c.find((k) => k.name === "TypeDef");
        if (typeDef) throw refuse("variable annotations are not supported", pos(typeDef.from));
        const segments: SyntaxNode[][] = [[]];
        for (const k of c) {
          if (k.name === "AssignOp") segments.push([]);
          else segments[segments.length - 1]?.push(k);
        }
        const valueNodes = segments.pop() ?? [];
        const value = readExprList(r, valueNodes, n.from);
        return { kind: "assign", targets: segments.map((s) => readTargetList(r, s, n.from)), value };
      }
      case "UpdateStatement": {
        const [target, op, ...valueNodes] = c;
        const binary = UPDATE_OPS[op ? text.slice(op.from, op.to) : ""];
        if (!target || !op || binary === undefined)
          throw refuse(
            `operator "${op ? text.slice(op.from, op.to) : ""}" is not supported`,
            pos(op?.from ?? n.from),
          );
        const t = readTarget(r, target);
        if (t.kind === "unpack")
          throw syntaxFail("illegal expression for augmented assignment", pos(target.from));
        return { kind: "augassign", target: t, op: binary, value: readExprList(r, valueNodes, n.from) };
      }
      case "IfStatement": {
        const branches: { test: ReturnType<typeof readExpr>; body: Stmt[] }[] = [];
        let otherwise: Stmt[] = [];
        for (let i = 0; i < c.length; ) {
          const keyword = c[i]?.name;
          if (keyword === "else") {
            otherwise = body(c[i + 1], n, loops);
            i += 2;
          } else {
            const test = c[i + 1];
            if (!test) throw syntaxFail("invalid syntax", pos(n.from));
            branches.push({ test: readExpr(r, test), body: body(c[i + 2], n, loops) });
            i += 3;
          }
        }
        return { kind: "if", branches, otherwise };
      }
      case "ForStatement": {
        if (c[0]?.name !== "for") throw refuse('"async" is not supported', pos(n.from));
        const inAt = c.findIndex((k) => k.name === "in");
        const bodyAt = c.findIndex((k) => k.name === "Body");
        if (inAt < 0 || bodyAt < 0) throw syntaxFail("invalid syntax", pos(n.from));
        const target = readTargetList(r, c.slice(1, inAt), n.from);
        const iterable = readExprList(r, c.slice(inAt + 1, bodyAt), n.from);
        const loopBody = body(c[bodyAt], n, loops + 1);
        const otherwise = c[bodyAt + 1]?.name === "else" ? body(c[bodyAt + 2], n, loops) : [];
        return { kind: "for", target, iterable, body: loopBody, otherwise };
      }
      case "ReturnStatement":
        return { kind: "return", value: c.length > 1 ? readExprList(r, c.slice(1), n.from) : null };
      case "PassStatement":
        return { kind: "pass" };
      case "BreakStatement":
      case "ContinueStatement": {
        const kind = n.name === "BreakStatement" ? "break" : "continue";
        if (loops === 0) throw syntaxFail(`"${kind}" outside a loop`, pos(n.from));
        return { kind };
      }
      case "ScopeStatement":
        throw refuse(`"${text.slice(c[0]?.from ?? n.from, c[0]?.to ?? n.to)}" is not supported`, pos(n.from));
    }
    if (n.name === "PrintStatement")
      throw syntaxFail('invalid syntax: the Python 2 "print" statement', pos(n.from));
    const refused = REFUSED_STATEMENTS[n.name];
    if (n.name === "ImportStatement" && c[0]?.name === "from")
      throw refuse('"from … import" is not supported', pos(n.from));
    if (!refused) throw syntaxFail("invalid syntax", pos(n.from));
    throw refuse(`${refused} is not supported`, pos(n.from));
  };

  const statements = block(kids(top), null, 0);
  for (const use of r.uses) {
    if (REFUSED_BUILTINS.has(use.name) && !r.bound.has(use.name))
      throw refuse(`"${use.name}" is not supported`, use.pos);
  }
  for (const call of r.scriptCalls) {
    if (METHODS.has(call.method)) continue;
    const maybeScript =
      call.object !== null &&
      call.object !== "args" &&
      !BUILTINS.has(call.object) &&
      !r.bound.has(call.object);
    if (!maybeScript) throw refuse(`"${call.method}" is not a supported method`, call.pos);
  }
  return { statements, locals };
}

/**
 * murano-agent's `_unindent`: tabs expanded to 4 columns, then the smallest indentation removed from every
 * line. (murano-agent then puts 4 spaces in front of every line; string literals get them in parse_expr.ts.)
 */
function unindent(source: string): { text: string; indent: number } {
  const lines = source.replace(/\r\n?/g, "\n").split("\n").map(expandTabs);
  let indent = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    const at = line.search(/[^ ]/);
    if (at >= 0 && at < indent) indent = at;
  }
  if (!Number.isFinite(indent)) indent = 0;
  return { text: lines.map((line) => line.slice(indent)).join("\n"), indent };
}

function expandTabs(line: string): string {
  let out = "";
  for (const ch of line) out += ch === "\t" ? " ".repeat(4 - (out.length % 4)) : ch;
  return out;
}
