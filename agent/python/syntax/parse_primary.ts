/**
 * primary (Grammar/python.gram): an atom followed by any chain of `.name`, `(arguments)` / a generator
 * argument, and `[slices]`. A chain is a loop, so 1000 `.strip()` calls cost no stack. Call arguments follow
 * `args`/`kwargs`: positional and `*x` first, then `name=x` and `*x`, then `name=x` and `**x`.
 */
import { atom, comprehensionClauses } from "./parse_atom.ts";
import { type Cursor, fit } from "./parse_base.ts";
import type { Keyword, PExpr } from "./syntax.ts";

export function primary(p: Cursor): PExpr {
  let e = atom(p);
  for (;;) {
    if (p.at(".")) {
      p.skip();
      const name = p.name();
      e = { t: "Attribute", value: e, attr: name.text, at: e.at, attrAt: name.start };
    } else if (p.at("(")) {
      e = call(p, e, true);
    } else if (p.at("[")) {
      p.skip();
      p.enter(20);
      const slice = slices(p);
      p.level -= 20;
      p.expect("]");
      e = { t: "Subscript", value: e, slice, at: e.at };
    } else return e;
  }
}

/** `(` arguments `)` after `func` (at `(`); a lone generator expression argument when `genexp`. */
export function call(p: Cursor, func: PExpr, genexp: boolean): PExpr & { t: "Call" } {
  p.expect("(");
  p.enter(20);
  const args: PExpr[] = [];
  const keywords: Keyword[] = [];
  let phase = 0; // 0: positional; 1: after a keyword; 2: after `**`
  while (!p.at(")")) {
    const start = p.offset();
    if (p.at("*")) {
      if (phase === 2)
        throw p.specific("iterable argument unpacking follows keyword argument unpacking", start);
      p.skip();
      args.push({ t: "Starred", value: p.g.expression(p), at: start });
    } else if (p.at("**")) {
      p.skip();
      keywords.push({ arg: null, value: p.g.expression(p), at: start });
      phase = 2;
    } else if (p.atName() && p.at("=", 1)) {
      const arg = p.identifier();
      p.skip();
      p.skip();
      keywords.push({ arg, value: p.g.expression(p), at: start });
      phase = Math.max(phase, 1);
    } else {
      const value = p.atName() && p.at(":=", 1) ? p.g.namedExpression(p) : p.g.expression(p);
      if (p.at(":=")) throw p.fail();
      if (p.at("=")) throw p.fail();
      if (p.at("for") || p.at("async")) {
        if (!genexp || args.length > 0 || keywords.length > 0)
          throw p.specific("Generator expression must be parenthesized", value.at);
        const generators = comprehensionClauses(p);
        if (!p.at(")")) {
          if (p.at(",")) throw p.specific("Generator expression must be parenthesized", value.at);
          throw p.fail();
        }
        args.push({ t: "GeneratorExp", elt: value, generators, at: start });
        break;
      }
      if (phase > 0)
        throw p.specific(
          phase === 2
            ? "positional argument follows keyword argument unpacking"
            : "positional argument follows keyword argument",
          value.at,
        );
      args.push(value);
    }
    if (!p.eat(",")) break;
  }
  p.level -= 20;
  p.expect(")");
  return { t: "Call", func, args: fit(args), keywords: fit(keywords), at: func.at };
}

/** slices: slice !',' | ','.(slice | starred_expression)+ [','] */
function slices(p: Cursor): PExpr {
  const at = p.offset();
  const items: PExpr[] = [];
  let comma = false;
  for (;;) {
    if (p.at("*")) {
      const star = p.skip();
      items.push({ t: "Starred", value: p.g.expression(p), at: star });
    } else items.push(slice(p));
    if (!p.at(",")) break;
    p.skip();
    comma = true;
    if (p.at("]")) break;
  }
  const [only] = items;
  if (items.length === 1 && !comma && only && only.t !== "Starred") return only;
  return { t: "Tuple", elts: fit(items), at };
}

/** slice: [expression] ':' [expression] [':' [expression]] | named_expression */
function slice(p: Cursor): PExpr {
  const at = p.offset();
  let lower: PExpr | null = null;
  if (!p.at(":")) {
    if (p.atName() && p.at(":=", 1)) return p.g.namedExpression(p);
    lower = p.g.expression(p);
    if (p.at(":=")) throw p.fail();
    if (!p.at(":")) return lower;
  }
  p.skip();
  const bound = (): PExpr | null => (p.at(":") || p.at(",") || p.at("]") ? null : p.g.expression(p));
  const upper = bound();
  let step: PExpr | null = null;
  if (p.eat(":")) step = bound();
  return { t: "Slice", lower, upper, step, at };
}
