/**
 * The match statement and its patterns (Grammar/python.gram "Match statement", PEP 634): literal, capture,
 * wildcard, value, group, sequence, mapping, class, or- and as-patterns. idem refuses `match`, but CPython's
 * syntax errors inside one must still be found.
 */
import type { Cursor } from "./parse_base.ts";
import { strings } from "./parse_string.ts";
import type { MatchCase, Pattern, PExpr, PStmt } from "./syntax.ts";

type Block = (p: Cursor, what: string, headerAt: number) => PStmt[];

/** "match" subject_expr ':' NEWLINE INDENT case_block+ DEDENT */
export function matchStatement(p: Cursor, block: Block): PStmt {
  const at = p.skip();
  const first = p.g.starNamedExpression(p);
  let subject = first;
  if (p.at(",")) {
    const elts = [first];
    while (p.eat(",")) {
      if (p.at(":")) break;
      elts.push(p.g.starNamedExpression(p));
    }
    subject = { t: "Tuple", elts, at: first.at };
  } else if (first.t === "Starred") throw p.fail();
  p.expect(":");
  if (p.kind() !== "NEWLINE") throw p.fail();
  p.skip();
  if (p.kind() !== "INDENT") throw p.fail();
  p.skip();
  const cases: MatchCase[] = [];
  while (p.atName() && p.spelling() === "case") {
    const caseAt = p.skip();
    const pattern = patterns(p);
    const guard = p.eat("if") ? p.g.namedExpression(p) : null;
    p.expect(":");
    cases.push({ pattern, guard, body: block(p, "'case' statement", caseAt) });
  }
  if (cases.length === 0 || p.kind() !== "DEDENT") throw p.fail();
  p.skip();
  return { t: "Match", subject, cases, at };
}

/** patterns: open_sequence_pattern | pattern */
function patterns(p: Cursor): Pattern {
  const at = p.offset();
  const first = maybeStar(p);
  if (!p.at(",")) {
    if (first.t === "MatchStar") throw p.fail();
    return first;
  }
  const items = [first];
  while (p.eat(",")) {
    if (p.at(":") || p.at("if")) break;
    items.push(maybeStar(p));
  }
  return { t: "MatchSequence", patterns: items, at };
}

function maybeStar(p: Cursor): Pattern {
  if (p.at("*")) {
    const at = p.skip();
    const name = p.name().text;
    return { t: "MatchStar", name: name === "_" ? null : name, at };
  }
  return pattern(p);
}

/** pattern: or_pattern ['as' NAME] */
function pattern(p: Cursor): Pattern {
  const at = p.offset();
  const alternatives = [closed(p)];
  while (p.eat("|")) alternatives.push(closed(p));
  const [only] = alternatives;
  let result: Pattern =
    alternatives.length === 1 && only ? only : { t: "MatchOr", patterns: alternatives, at };
  if (p.eat("as")) {
    const name = captureTarget(p);
    result = { t: "MatchAs", pattern: result, name, at };
  }
  return result;
}

function captureTarget(p: Cursor): string {
  const t = p.name();
  if (t.text === "_" || p.at(".") || p.at("(") || p.at("=")) throw p.fail();
  return t.text;
}

function closed(p: Cursor): Pattern {
  const t = p.peek();
  const at = t.start;
  if (t.type === "NUMBER" || (t.type === "OP" && t.text === "-") || t.type === "STRING")
    return { t: "MatchValue", value: literal(p), at };
  if (t.type === "NAME" && (t.text === "None" || t.text === "True" || t.text === "False")) {
    p.skip();
    return { t: "MatchSingleton", value: t.text === "None" ? null : t.text === "True", at };
  }
  if (t.type === "OP" && (t.text === "(" || t.text === "[")) {
    p.skip();
    const close = t.text === "(" ? ")" : "]";
    if (p.eat(close)) return { t: "MatchSequence", patterns: [], at };
    const first = maybeStar(p);
    if (close === ")" && p.eat(")")) {
      if (first.t === "MatchStar") throw p.fail();
      return first;
    }
    const items = [first];
    while (p.eat(",")) {
      if (p.at(close)) break;
      items.push(maybeStar(p));
    }
    p.expect(close);
    return { t: "MatchSequence", patterns: items, at };
  }
  if (t.type === "OP" && t.text === "{") return mapping(p);
  if (!p.atName()) throw p.fail();
  // capture, wildcard, value (dotted name) or class pattern
  let cls: PExpr = { t: "Name", id: p.name().text, at };
  let dotted = false;
  while (p.eat(".")) {
    const name = p.name();
    cls = { t: "Attribute", value: cls, attr: name.text, at, attrAt: name.start };
    dotted = true;
  }
  if (p.at("(")) return classPattern(p, cls, at);
  if (p.at("=")) throw p.fail();
  if (dotted) return { t: "MatchValue", value: cls, at };
  const id = cls.t === "Name" ? cls.id : "_";
  return { t: "MatchAs", pattern: null, name: id === "_" ? null : id, at };
}

/** signed_number, complex_number or strings (literal_pattern / literal_expr without the keywords). */
function literal(p: Cursor): PExpr {
  const t = p.peek();
  if (t.type === "STRING") return strings(p);
  const minus = p.eat("-");
  const n = p.next();
  if (n.type !== "NUMBER") throw p.fail();
  let value: PExpr = { t: "Constant", value: n.text, at: n.start };
  if (minus) value = { t: "UnaryOp", op: "-", operand: value, at: t.start };
  if (p.at("+") || p.at("-")) {
    const op = p.next();
    if (/[jJ]$/.test(n.text)) throw p.specific("real number required in complex literal", n.start);
    const imag = p.next();
    if (imag.type !== "NUMBER") throw p.fail();
    if (!/[jJ]$/.test(imag.text))
      throw p.specific("imaginary number required in complex literal", imag.start);
    value = {
      t: "BinOp",
      op: op.text,
      left: value,
      right: { t: "Constant", value: imag.text, at: imag.start },
      at: t.start,
      opAt: op.start,
    };
  }
  return value;
}

function mapping(p: Cursor): Pattern {
  const at = p.expect("{");
  const keys: PExpr[] = [];
  const values: Pattern[] = [];
  let rest: string | null = null;
  while (!p.at("}")) {
    if (p.eat("**")) {
      rest = captureTarget(p);
      p.eat(",");
      break;
    }
    const t = p.peek();
    if (t.type === "NAME" && (t.text === "None" || t.text === "True" || t.text === "False")) {
      p.skip();
      keys.push({ t: "Constant", value: t.text === "None" ? null : t.text === "True", at: t.start });
    } else if (p.atName()) {
      let key: PExpr = { t: "Name", id: p.name().text, at: t.start };
      if (!p.at(".")) throw p.fail();
      while (p.eat(".")) {
        const name = p.name();
        key = { t: "Attribute", value: key, attr: name.text, at: t.start, attrAt: name.start };
      }
      keys.push(key);
    } else keys.push(literal(p));
    p.expect(":");
    values.push(pattern(p));
    if (!p.eat(",")) break;
  }
  p.expect("}");
  return { t: "MatchMapping", keys, patterns: values, rest, at };
}

function classPattern(p: Cursor, cls: PExpr, at: number): Pattern {
  p.expect("(");
  const patterns: Pattern[] = [];
  const kwdAttrs: string[] = [];
  const kwdPatterns: Pattern[] = [];
  while (!p.at(")")) {
    if (p.atName() && p.at("=", 1)) {
      kwdAttrs.push(p.name().text);
      p.skip();
      kwdPatterns.push(pattern(p));
    } else {
      if (kwdAttrs.length > 0) throw p.specific("positional patterns follow keyword patterns", p.offset());
      patterns.push(pattern(p));
    }
    if (!p.eat(",")) break;
  }
  p.expect(")");
  return { t: "MatchClass", cls, patterns, kwdAttrs, kwdPatterns, at };
}
