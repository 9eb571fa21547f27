/**
 * Parameter lists of `def` and `lambda` (Grammar/python.gram `parameters`, `lambda_parameters`):
 * positional-only parameters before `/`, defaults only at the end of the positional ones, `*args` or a bare `*`
 * followed by keyword-only parameters, `**kwargs` last; annotations only in `def`.
 */
import type { Cursor } from "./parse_base.ts";
import type { Arg, Arguments } from "./syntax.ts";

/** lambda_params, up to (not including) `:`. */
export function lambdaParams(p: Cursor): Arguments {
  return parameters(p, ":", false);
}

/** def parameters, up to (not including) `)`. */
export function defParams(p: Cursor): Arguments {
  return parameters(p, ")", true);
}

function parameters(p: Cursor, close: string, annotated: boolean): Arguments {
  const out: Arguments = {
    posonly: [],
    args: [],
    vararg: null,
    kwonly: [],
    kwarg: null,
    defaults: [],
    kwDefaults: [],
  };
  let star = false;
  let slash = false;
  let bareStarAt = -1;
  const param = (starred: boolean): Arg => {
    const name = p.name();
    let annotation = null;
    if (annotated && p.eat(":")) {
      annotation = starred && p.at("*") ? p.g.starNamedExpression(p) : p.g.expression(p);
    }
    return { name: name.text, annotation, at: name.start };
  };
  while (!p.at(close)) {
    if (p.at("/")) {
      if (slash || star || out.args.length === 0) throw p.fail();
      p.skip();
      out.posonly = out.args;
      out.args = [];
      slash = true;
    } else if (p.at("*")) {
      if (star) throw p.fail();
      const at = p.skip();
      star = true;
      if (p.at(",")) bareStarAt = at;
      else out.vararg = param(true);
    } else if (p.at("**")) {
      p.skip();
      out.kwarg = param(false);
      p.eat(",");
      if (!p.at(close)) throw p.fail();
      break;
    } else {
      const arg = param(false);
      const value = p.eat("=") ? p.g.expression(p) : null;
      if (star) {
        out.kwonly.push(arg);
        out.kwDefaults.push(value);
      } else {
        if (value) out.defaults.push(value);
        else if (out.defaults.length > 0)
          throw p.specific("non-default argument follows default argument", arg.at);
        out.args.push(arg);
      }
    }
    if (!p.eat(",")) break;
  }
  if (bareStarAt >= 0 && out.kwonly.length === 0)
    throw p.specific("named arguments must follow bare *", bareStarAt);
  if (!p.at(close)) throw p.fail();
  return out;
}
