/**
 * Method calls: `x.name(...)` finds the row of x's type in types/registry.ts, binds the arguments as CPython
 * does for that signature (types/args.ts) and runs the type's implementation (types/str.ts, list.ts, …).
 * `str.lower(x)` and `dict.fromkeys(...)` call a method through its type: the first argument is then the
 * instance ("descriptor 'lower' for 'str' objects doesn't apply to a 'int' object"), except for class methods.
 */

import { bindArgs, type Method } from "../types/args.ts";
import { COMPLEX_METHODS } from "../types/complex.ts";
import { DICT_METHODS } from "../types/dict.ts";
import { LIST_METHODS } from "../types/list.ts";
import { FLOAT_METHODS, INT_METHODS } from "../types/number.ts";
import { CLASS_METHODS, signatureOf, type TypeKey } from "../types/registry.ts";
import { RANGE_METHODS, TUPLE_METHODS } from "../types/sequence.ts";
import { SET_METHODS } from "../types/set.ts";
import { STR_METHODS } from "../types/str.ts";
import { typeKey } from "./access.ts";
import { pyFail } from "./exceptions.ts";
import { type CallArgs, type Invoke, PyBuiltin, type PyValue, typeName } from "./values.ts";

/** The implementations, by type, each table complete for its registry row (checked by its type). */
const IMPLEMENTATIONS: { readonly [K in TypeKey]: Readonly<Record<string, Method<never>>> } = {
  str: STR_METHODS,
  list: LIST_METHODS,
  tuple: TUPLE_METHODS,
  range: RANGE_METHODS,
  dict: DICT_METHODS,
  set: SET_METHODS,
  int: INT_METHODS,
  float: FLOAT_METHODS,
  complex: COMPLEX_METHODS,
};

/** The type whose methods a built-in type name offers (`bool.bit_length` is int's). */
function typeOfClass(name: string): TypeKey | undefined {
  if (name === "bool") return "int";
  return Object.hasOwn(IMPLEMENTATIONS, name) ? (name as TypeKey) : undefined;
}

function run(type: TypeKey, self: PyValue, name: string, call: CallArgs, invoke: Invoke): PyValue {
  const signature = signatureOf(type, name);
  const impl = IMPLEMENTATIONS[type][name];
  if (signature === undefined || impl === undefined)
    throw pyFail("AttributeError", `'${typeName(self)}' object has no attribute '${name}'`);
  const a = bindArgs(type, name, signature, call);
  return (impl as Method<PyValue>)(self, a, { invoke, keywords: call.keywords });
}

/** `self.name(*args, **keywords)` */
export function callMethod(self: PyValue, name: string, call: CallArgs, invoke: Invoke): PyValue {
  if (self instanceof PyBuiltin) {
    const type = typeOfClass(self.name);
    if (type === undefined || signatureOf(type, name) === undefined)
      throw pyFail("AttributeError", `type object '${self.name}' has no attribute '${name}'`);
    if (CLASS_METHODS.has(name)) return run(type, null, name, call, invoke);
    const [instance, ...rest] = call.args;
    if (instance === undefined)
      throw pyFail("TypeError", `unbound method ${type}.${name}() needs an argument`);
    if (typeKey(instance) !== type) {
      throw pyFail(
        "TypeError",
        `descriptor '${name}' for '${type}' objects doesn't apply to a '${typeName(instance)}' object`,
      );
    }
    return run(type, instance, name, { args: rest, keywords: call.keywords }, invoke);
  }
  const type = typeKey(self);
  if (type === undefined)
    throw pyFail("AttributeError", `'${typeName(self)}' object has no attribute '${name}'`);
  return run(type, self, name, call, invoke);
}
