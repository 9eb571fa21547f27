/**
 * Name resolution as murano-agent's wrapper makes it: the Body is the body of a function, so every name it
 * assigns is a local (reading it before assignment is an UnboundLocalError); other names are the plan's
 * scripts, then `args`, then the supported built-ins; anything else is a NameError at run time.
 */
import { pyFail } from "./exceptions.ts";
import { BUILTINS } from "./rules.ts";
import { PyBuiltin, PyDict, PyScript, type PyValue, type Scope } from "./values.ts";

/** One scope: the Body's function locals, or those of a comprehension. */
export class Frame implements Scope {
  readonly vars = new Map<string, PyValue>();
  readonly parent: Scope | null;
  /** Names this scope owns even while unassigned (the Body's locals). */
  readonly owned: ReadonlySet<string>;
  constructor(parent: Scope | null, owned: ReadonlySet<string> = new Set()) {
    this.parent = parent;
    this.owned = owned;
  }
  lookup(name: string): PyValue {
    const value = this.vars.get(name);
    if (value !== undefined) return value;
    if (this.owned.has(name)) {
      throw pyFail(
        "UnboundLocalError",
        `cannot access local variable '${name}' where it is not associated with a value`,
      );
    }
    if (!this.parent) throw pyFail("NameError", `name '${name}' is not defined`);
    return this.parent.lookup(name);
  }
}

/** The module globals murano-agent gives the Body: `args` (a Bunch of Parameters) and one callable per script. */
export class Globals implements Scope {
  readonly args: PyDict;
  readonly scripts: ReadonlySet<string>;
  private readonly runners = new Map<string, PyScript>();
  private readonly builtins = new Map<string, PyBuiltin>();
  constructor(parameters: PyValue, scripts: ReadonlySet<string>) {
    this.scripts = scripts;
    this.args = new PyDict(true);
    if (parameters instanceof PyDict)
      for (const e of parameters.entries.values()) this.args.set(e.key, e.value);
  }
  lookup(name: string): PyValue {
    if (this.scripts.has(name)) {
      let runner = this.runners.get(name);
      if (!runner) {
        runner = new PyScript(name);
        this.runners.set(name, runner);
      }
      return runner;
    }
    if (name === "args") return this.args;
    if (BUILTINS.has(name)) {
      let builtin = this.builtins.get(name);
      if (!builtin) {
        builtin = new PyBuiltin(name);
        this.builtins.set(name, builtin);
      }
      return builtin;
    }
    throw pyFail("NameError", `name '${name}' is not defined`);
  }
}
