/**
 * Statements and blocks (Grammar/python.gram `statements`, `compound_stmt`, `block`): if/elif/else, for, while,
 * with, try (except, except*, else, finally), def, class, decorators, match (soft keyword: tried first, else the line is
 * a simple statement). A header without its indented block is CPython's IndentationError "expected an
 * indented block after … on line N".
 */
import { type Cursor, fit } from "./parse_base.ts";
import { defParams } from "./parse_params.ts";
import { matchStatement } from "./parse_pattern.ts";
import { call } from "./parse_primary.ts";
import { simpleStmts } from "./parse_stmt.ts";
import type { Handler, PExpr, PStmt, WithItem } from "./syntax.ts";
import { checkTarget } from "./targets.ts";

/** statement+ up to a DEDENT or the end. */
export function statements(p: Cursor): PStmt[] {
  const out: PStmt[] = [];
  while (p.kind() !== "DEDENT" && p.kind() !== "ENDMARKER") {
    const some = statement(p);
    for (const s of some) out.push(s);
  }
  return fit(out);
}

function statement(p: Cursor): PStmt[] {
  const kind = p.kind();
  if (kind === "NAME") {
    switch (p.spelling()) {
      case "if":
        return [ifStatement(p, "if")];
      case "for":
      case "while":
      case "with":
      case "try":
      case "def":
      case "class":
        return [compound(p, false)];
      case "async":
        if (p.at("def", 1) || p.at("for", 1) || p.at("with", 1)) {
          return [compound(p, true, p.skip())];
        }
        break;
      case "match": {
        const m = p.attempt(() => matchStatement(p, block));
        if (m) return [m];
      }
    }
  } else if (p.at("@")) return [decorated(p)];
  return simpleStmts(p);
}

/** Line (1-based) of an offset, for "on line N" messages. */
function lineOf(p: Cursor, at: number): number {
  let line = 1;
  for (let k = p.text.indexOf("\n"); k >= 0 && k < at; k = p.text.indexOf("\n", k + 1)) line++;
  return line;
}

/** block: NEWLINE INDENT statements DEDENT | simple_stmts — after the header's `:`. */
export function block(p: Cursor, what: string, headerAt: number): PStmt[] {
  if (p.kind() !== "NEWLINE") return simpleStmts(p);
  p.skip();
  if (p.kind() !== "INDENT")
    throw p.specific(
      `expected an indented block after ${what} on line ${lineOf(p, headerAt)}`,
      p.offset(),
      "IndentationError",
    );
  p.skip();
  const body = statements(p);
  if (p.kind() !== "DEDENT") throw p.fail();
  p.skip();
  return body;
}

function colon(p: Cursor): void {
  if (p.at(":")) {
    p.skip();
    return;
  }
  if (p.kind() === "NEWLINE") throw p.specific("expected ':'", p.offset());
  throw p.fail();
}

function ifStatement(p: Cursor, keyword: "if" | "elif"): PStmt {
  const at = p.expect(keyword);
  const test = p.g.namedExpression(p);
  colon(p);
  const body = block(p, `'${keyword}' statement`, at);
  let orelse: PStmt[] = [];
  if (p.at("elif")) orelse = [ifStatement(p, "elif")];
  else if (p.at("else")) orelse = elseBlock(p);
  return { t: "If", test, body, orelse, at, elif: keyword === "elif" };
}

function elseBlock(p: Cursor): PStmt[] {
  const at = p.expect("else");
  p.force(":");
  return block(p, "'else' statement", at);
}

function compound(p: Cursor, isAsync: boolean, asyncAt?: number): PStmt {
  const t = p.next();
  const at = asyncAt ?? t.start;
  switch (t.text) {
    case "for": {
      const target = p.g.starTargets(p);
      p.expect("in");
      const iter = p.g.starExpressions(p);
      p.force(":");
      const body = block(p, "'for' statement", t.start);
      return { t: "For", target, iter, body, orelse: p.at("else") ? elseBlock(p) : [], isAsync, at };
    }
    case "while": {
      const test = p.g.namedExpression(p);
      colon(p);
      const body = block(p, "'while' statement", t.start);
      return { t: "While", test, body, orelse: p.at("else") ? elseBlock(p) : [], at };
    }
    case "with": {
      const items = p.at("(")
        ? (p.attempt(() => withItems(p, true)) ?? withItems(p, false))
        : withItems(p, false);
      return { t: "With", items, body: block(p, "'with' statement", t.start), isAsync, at };
    }
    case "try":
      return tryStatement(p, at);
    case "def": {
      const name = p.name().text;
      p.force("(");
      const args = defParams(p);
      p.expect(")");
      const returns = p.eat("->") ? p.g.expression(p) : null;
      p.force(":");
      const body = block(p, "function definition", t.start);
      return { t: "FunctionDef", name, args, body, decorators: [], returns, isAsync, at };
    }
    default: {
      const name = p.name().text;
      let bases: PExpr[] = [];
      let keywords: (PExpr & { t: "Call" })["keywords"] = [];
      if (p.at("(")) ({ args: bases, keywords } = call(p, { t: "Name", id: name, at }, false));
      colon(p);
      const body = block(p, "class definition", t.start);
      return { t: "ClassDef", name, bases, keywords, body, decorators: [], at };
    }
  }
}

/** with_item list, parenthesized (`with (a as b, c):`) or not; ends after the `:`. */
function withItems(p: Cursor, parenthesized: boolean): WithItem[] {
  if (parenthesized) p.expect("(");
  const items: WithItem[] = [];
  for (;;) {
    const context = p.g.expression(p);
    let vars: PExpr | null = null;
    if (p.eat("as")) {
      const star = p.at("*") ? p.skip() : -1;
      const target = p.g.bitwiseOr(p);
      vars = star >= 0 ? { t: "Starred", value: target, at: star } : target;
      if (!(p.at(",") || p.at(")") || p.at(":"))) throw p.fail();
      checkTarget(p, vars, "assign");
    }
    items.push({ context, vars });
    if (!p.eat(",")) break;
    if (parenthesized && p.at(")")) break;
  }
  if (parenthesized) p.expect(")");
  colon(p);
  return items;
}

function tryStatement(p: Cursor, at: number): PStmt {
  p.force(":");
  const body = block(p, "'try' statement", at);
  const handlers: Handler[] = [];
  let star: boolean | null = null;
  while (p.at("except")) {
    const hAt = p.skip();
    const isStar = p.eat("*");
    if (star !== null && star !== isStar)
      throw p.specific("cannot have both 'except' and 'except*' on the same 'try'", hAt);
    star = isStar;
    let type: PExpr | null = null;
    let name: string | null = null;
    if (isStar || !p.at(":")) {
      type = p.g.expression(p);
      if (p.at(",")) throw p.specific("multiple exception types must be parenthesized", type.at);
      if (p.eat("as")) name = p.name().text;
    }
    colon(p);
    handlers.push({
      type,
      name,
      body: block(p, `'${isStar ? "except*" : "except"}' statement`, hAt),
      at: hAt,
    });
  }
  const orelse = handlers.length > 0 && p.at("else") ? elseBlock(p) : [];
  let finalbody: PStmt[] = [];
  if (p.at("finally")) {
    const fAt = p.skip();
    p.force(":");
    finalbody = block(p, "'finally' statement", fAt);
  }
  if (handlers.length === 0 && finalbody.length === 0)
    throw p.specific("expected 'except' or 'finally' block", p.offset());
  return { t: "Try", body, handlers, orelse, finalbody, star: star === true, at };
}

/** decorators followed by a def or class. */
function decorated(p: Cursor): PStmt {
  const decorators: PExpr[] = [];
  while (p.eat("@")) {
    decorators.push(p.g.namedExpression(p));
    if (p.kind() !== "NEWLINE") throw p.fail();
    p.skip();
  }
  const at = p.offset();
  let isAsync = false;
  if (p.at("async") && p.at("def", 1)) {
    p.skip();
    isAsync = true;
  }
  if (!p.at("def") && !p.at("class")) throw p.fail();
  const s = compound(p, isAsync, isAsync ? at : undefined);
  if (s.t === "FunctionDef" || s.t === "ClassDef") s.decorators = decorators;
  return s;
}
