/**
 * The name rules of SPEC section 6, checked once the whole Body is known: a Python built-in outside the subset
 * (`open`, `eval`, …) is refused unless the Body binds that name itself; with the plan's scripts known, a bare
 * name that is neither a supported built-in, a script, `args`, nor bound anywhere in the Body is refused (a
 * misspelled script name must not let the scripts before it run); `x.m(...)` with a method no type has is
 * refused unless `x` may be a script (murano-agent runs the script for any attribute call on it).
 */

import { METHOD_NAMES } from "../types/registry.ts";
import { type NameUses, Refusal } from "./checker.ts";
import { BUILTINS, REFUSED_BUILTINS } from "./rules.ts";

/** Throws Refusal for the first name (in source order) the Body may not use. */
export function checkNames(names: NameUses, scripts: ReadonlySet<string> | undefined): void {
  const problems: Refusal[] = [];
  for (const use of names.uses) {
    if (names.bound.has(use.name)) continue;
    if (REFUSED_BUILTINS.has(use.name)) problems.push(new Refusal(`"${use.name}" is not supported`, use.at));
    else if (scripts && !BUILTINS.has(use.name) && !scripts.has(use.name) && use.name !== "args")
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
    const maybeScript =
      object !== null &&
      object !== "args" &&
      !BUILTINS.has(object) &&
      !names.bound.has(object) &&
      (scripts === undefined || scripts.has(object));
    if (!maybeScript) problems.push(new Refusal(`"${call.method}" is not a supported method`, call.at));
  }
  const first = problems.reduce<Refusal | null>((a, b) => (a === null || b.at < a.at ? b : a), null);
  if (first) throw first;
}
