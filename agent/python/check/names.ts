/**
 * The name rules of SPEC section 6, checked once the whole Body is known. A name resolves as CPython resolves
 * it in murano-agent's wrapper: a comprehension variable or a Body local (bound anywhere in the Body's own
 * statements) first, then a global — the plan's scripts (murano-agent puts them in the exec globals, after
 * `args`, so a script named `args` wins), then `args` — and last a built-in from `__builtins__`. So a script
 * or a local named `input`, `print` or `open` is allowed; a refused built-in (`open`, `eval`, …) is refused only
 * where the name really resolves to it. With the plan's scripts known, a bare name that is neither a supported
 * built-in, a script, `args`, nor bound anywhere in the Body is refused (a misspelled script name must not let
 * the scripts before it run); `x.m(...)` with a method no type has is refused unless `x` may be a script
 * (murano-agent runs the script for any attribute call on it).
 */

import { METHOD_NAMES } from "../types/registry.ts";
import { type Enclosing, type NameUses, Refusal } from "./checker.ts";
import { BUILTINS, REFUSED_BUILTINS, WRAPPER_GLOBALS } from "./rules.ts";

/** What a bare name denotes where it is read; "global" is a global no plan script defines (when unknown). */
type Resolution = "local" | "wrapper" | "script" | "args" | "builtin" | "refused" | "global";

function resolve(
  name: string,
  enclosing: Enclosing,
  names: NameUses,
  scripts: ReadonlySet<string> | undefined,
): Resolution {
  if (names.locals.has(name) || enclosing.some((scope) => scope.has(name))) return "local";
  // murano-agent's `def __execution_plan_main` replaces a script of that name in the exec globals.
  if (WRAPPER_GLOBALS.has(name)) return "wrapper";
  if (scripts?.has(name)) return "script";
  if (name === "args") return "args";
  if (BUILTINS.has(name)) return "builtin";
  if (REFUSED_BUILTINS.has(name)) return "refused";
  return "global";
}

/** Throws Refusal for the first name (in source order) the Body may not use. */
export function checkNames(names: NameUses, scripts: ReadonlySet<string> | undefined): void {
  const problems: Refusal[] = [];
  for (const use of names.uses) {
    const resolution = resolve(use.name, use.enclosing, names, scripts);
    if (resolution === "refused") problems.push(new Refusal(`"${use.name}" is not supported`, use.at));
    else if (resolution === "wrapper")
      problems.push(new Refusal(`"${use.name}" is not supported (murano-agent's wrapper)`, use.at));
    // SPEC 6: a name bound anywhere in the Body (comprehensions too) is left to run time (NameError there).
    else if (resolution === "global" && scripts && !names.bound.has(use.name))
      problems.push(
        new Refusal(
          `unknown name "${use.name}" (not a supported built-in, a script of the plan, args, or a name the Body assigns)`,
          use.at,
        ),
      );
  }
  for (const call of names.calls) {
    if (METHOD_NAMES.has(call.method)) continue;
    const object = call.object;
    const resolution = object === null ? null : resolve(object, call.enclosing, names, scripts);
    const maybeScript = resolution === "script" || (scripts === undefined && resolution === "global");
    if (!maybeScript) problems.push(new Refusal(`"${call.method}" is not a supported method`, call.at));
  }
  const first = problems.reduce<Refusal | null>((a, b) => (a === null || b.at < a.at ? b : a), null);
  if (first) throw first;
}
