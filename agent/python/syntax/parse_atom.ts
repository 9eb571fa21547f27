/**
 * atom (Grammar/python.gram): names, keywords constants, numbers, strings, `...`, and the bracketed forms —
 * tuple / group / generator expression, list / list comprehension, dict / set / their comprehensions.
 */

import { numberValue } from "./literals.ts";
import { type Cursor, fit } from "./parse_base.ts";
import { strings } from "./parse_string.ts";
import type { Comprehension, PExpr } from "./syntax.ts";

const CONSTANTS: Partial<Record<string, null | boolean>> = { None: null, True: true, False: false };

export function atom(p: Cursor): PExpr {
  const kind = p.kind();
  if (kind === "NAME") {
    if (p.atName()) {
      const id = p.identifier();
      return { t: "Name", id, at: p.skip() };
    }
    const text = p.spelling();
    const value = CONSTANTS[text];
    if (value === undefined) throw p.fail();
    return { t: "Constant", value, at: p.skip() };
  }
  if (kind === "NUMBER") {
    const at = p.offset();
    const value = numberValue(p.spelling(), at);
    p.skip();
    return { t: "Constant", value, at };
  }
  if (kind === "STRING") return strings(p);
  if (kind !== "OP") throw p.fail();
  const text = p.spelling();
  if (text === "...") return { t: "Constant", value: { ellipsis: true }, at: p.skip() };
  if (text !== "(" && text !== "[" && text !== "{") throw p.fail();
  const at = p.skip();
  p.enter(20);
  const e = text === "(" ? paren(p, at) : text === "[" ? bracket(p, at) : brace(p, at);
  p.level -= 20;
  return e;
}

/** tuple | group | genexp, after `(`. */
function paren(p: Cursor, at: number): PExpr {
  if (p.eat(")")) return { t: "Tuple", elts: [], at, parens: true };
  if (p.at("yield")) {
    const y = p.g.yieldExpr(p);
    p.expect(")");
    return y;
  }
  const first = p.g.starNamedExpression(p);
  if (p.at("for") || p.at("async")) {
    if (first.t === "Starred")
      throw p.specific("iterable unpacking cannot be used in comprehension", first.at);
    const generators = comprehensionClauses(p);
    p.expect(")");
    return { t: "GeneratorExp", elt: first, generators, at };
  }
  if (p.eat(")")) {
    if (first.t === "Starred") throw p.specific("cannot use starred expression here", first.at);
    return first.t === "Tuple" || first.t === "NamedExpr" ? { ...first, parens: true } : first;
  }
  p.expect(",");
  return { t: "Tuple", elts: items(p, ")", first), at, parens: true };
}

/** `first` and the rest of star_named_expressions up to `close` (consumed), after the comma that follows it. */
function items(p: Cursor, close: string, first: PExpr): PExpr[] {
  const out: PExpr[] = [first];
  while (!p.at(close)) {
    out.push(p.g.starNamedExpression(p));
    if (!p.eat(",")) break;
  }
  p.expect(close);
  return fit(out);
}

/** list | listcomp, after `[`. */
function bracket(p: Cursor, at: number): PExpr {
  if (p.eat("]")) return { t: "List", elts: [], at };
  const first = p.g.starNamedExpression(p);
  if (p.at("for") || p.at("async")) {
    if (first.t === "Starred")
      throw p.specific("iterable unpacking cannot be used in comprehension", first.at);
    const generators = comprehensionClauses(p);
    p.expect("]");
    return { t: "ListComp", elt: first, generators, at };
  }
  if (p.eat("]")) return { t: "List", elts: [first], at };
  p.expect(",");
  return { t: "List", elts: items(p, "]", first), at };
}

/** dict | set | dictcomp | setcomp, after `{`. */
function brace(p: Cursor, at: number): PExpr {
  if (p.eat("}")) return { t: "Dict", keys: [], values: [], at };
  if (p.at("**")) return dictRest(p, at, [], []);
  const first = p.g.starNamedExpression(p);
  if (p.at(":") && first.t !== "Starred" && !(first.t === "NamedExpr" && !first.parens)) {
    p.skip();
    const value = p.g.expression(p);
    if (p.at("for") || p.at("async")) {
      const generators = comprehensionClauses(p);
      p.expect("}");
      return { t: "DictComp", key: first, value, generators, at };
    }
    if (p.eat("}")) return { t: "Dict", keys: [first], values: [value], at };
    p.expect(",");
    return dictRest(p, at, [first], [value]);
  }
  if (p.at("for") || p.at("async")) {
    if (first.t === "Starred")
      throw p.specific("iterable unpacking cannot be used in comprehension", first.at);
    const generators = comprehensionClauses(p);
    p.expect("}");
    return { t: "SetComp", elt: first, generators, at };
  }
  if (p.eat("}")) return { t: "Set", elts: [first], at };
  p.expect(",");
  return { t: "Set", elts: items(p, "}", first), at };
}

/** The remaining `key: value` / `**mapping` items of a dict display, up to `}`. */
function dictRest(p: Cursor, at: number, keys: (PExpr | null)[], values: PExpr[]): PExpr {
  while (!p.at("}")) {
    if (p.at("**")) {
      p.skip();
      keys.push(null);
      values.push(p.g.bitwiseOr(p));
    } else {
      keys.push(p.g.expression(p));
      p.expect(":");
      values.push(p.g.expression(p));
    }
    if (p.at("for") || p.at("async")) {
      if (keys[keys.length - 1] === null)
        throw p.specific("dict unpacking cannot be used in dict comprehension", p.offset());
      throw p.fail();
    }
    if (!p.eat(",")) break;
  }
  p.expect("}");
  return { t: "Dict", keys: fit(keys), values: fit(values), at };
}

/** for_if_clauses: (ASYNC? 'for' star_targets 'in' ~ disjunction ('if' disjunction)*)+ */
export function comprehensionClauses(p: Cursor): Comprehension[] {
  const out: Comprehension[] = [];
  while (p.at("for") || (p.at("async") && p.at("for", 1))) {
    const at = p.offset();
    const isAsync = p.eat("async");
    p.expect("for");
    const target = p.g.starTargets(p);
    p.expect("in");
    const iter = p.g.disjunction(p);
    const ifs: PExpr[] = [];
    while (p.eat("if")) ifs.push(p.g.disjunction(p));
    out.push({ target, iter, ifs: fit(ifs), isAsync, at });
  }
  if (out.length === 0) throw p.fail();
  return fit(out);
}
