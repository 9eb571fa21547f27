/**
 * Runs a checked Body tree. Everything is async because any expression may call a script. The interpreter
 * yields to the event loop every few thousand steps (so timers, MQTT and an abort still work during a long
 * loop) and stops when the optional signal aborts.
 */
import { getAttr, getItem, iterate, SliceKey } from "./access.ts";
import { assign, augmentedAssign } from "./assign.ts";
import type { Expr, FormatField, Stmt } from "./ast.ts";
import { callBuiltin } from "./builtins.ts";
import { compare } from "./compare.ts";
import { comprehension } from "./comprehension.ts";
import { pyFail } from "./exceptions.ts";
import { formatValue } from "./format_spec.ts";
import { callMethod } from "./methods.ts";
import { binaryOp } from "./ops.ts";
import { pyAscii, pyRepr, pyStr } from "./repr.ts";
import type { Frame } from "./scope.ts";
import { invokeScript, type ScriptCaller } from "./script.ts";
import {
  type CallArgs,
  numeric,
  PyBuiltin,
  PyDict,
  PyList,
  PyMethod,
  PyScript,
  PySet,
  PyTuple,
  type PyValue,
  truthy,
  typeName,
} from "./values.ts";

type Flow = { kind: "return"; value: PyValue } | { kind: "break" } | { kind: "continue" } | null;

const YIELD_EVERY = 4096;

export class Interpreter {
  private steps = 0;
  private readonly call: ScriptCaller;
  private readonly signal: AbortSignal | undefined;
  constructor(call: ScriptCaller, signal: AbortSignal | undefined) {
    this.call = call;
    this.signal = signal;
  }

  tick(): void {
    if (++this.steps % YIELD_EVERY !== 0) return;
    if (this.signal?.aborted) throw this.signal.reason;
  }

  run(statements: Stmt[], frame: Frame): PyValue {
    const flow = this.block(statements, frame);
    return flow?.kind === "return" ? flow.value : null;
  }

  private block(statements: Stmt[], frame: Frame): Flow {
    for (const s of statements) {
      this.tick();
      const flow = this.statement(s, frame);
      if (flow) return flow;
    }
    return null;
  }

  private statement(s: Stmt, frame: Frame): Flow {
    switch (s.kind) {
      case "expr":
        this.eval(s.expr, frame);
        return null;
      case "assign": {
        const value = this.eval(s.value, frame);
        for (const t of s.targets) assign(this, t, value, frame);
        return null;
      }
      case "augassign":
        augmentedAssign(this, s.target, s.op, s.value, frame);
        return null;
      case "if":
        for (const branch of s.branches)
          if (truthy(this.eval(branch.test, frame))) return this.block(branch.body, frame);
        return this.block(s.otherwise, frame);
      case "for": {
        for (const item of iterate(this.eval(s.iterable, frame))) {
          this.tick();
          assign(this, s.target, item, frame);
          const flow = this.block(s.body, frame);
          if (flow?.kind === "break") return null;
          if (flow?.kind === "return") return flow;
        }
        return this.block(s.otherwise, frame);
      }
      case "return":
        return { kind: "return", value: s.value ? this.eval(s.value, frame) : null };
      case "pass":
        return null;
      case "break":
      case "continue":
        return { kind: s.kind };
    }
  }

  /** The key of a subscript: a value, or the bounds of a slice. */
  key(index: Expr, frame: Frame): PyValue | SliceKey {
    if (index.kind !== "slice") return this.eval(index, frame);
    const part = (e: Expr | null): PyValue => (e ? this.eval(e, frame) : null);
    return new SliceKey(part(index.lower), part(index.upper), part(index.step));
  }

  eval(e: Expr, frame: Frame): PyValue {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "name":
        return frame.lookup(e.name);
      case "attribute":
        return getAttr(this.eval(e.object, frame), e.name);
      case "subscript": {
        const object = this.eval(e.object, frame);
        return getItem(object, this.key(e.index, frame));
      }
      case "slice":
        throw pyFail("TypeError", "a slice inside a tuple index is not supported");
      case "call": {
        const callee = this.eval(e.callee, frame);
        const args: PyValue[] = [];
        for (const a of e.args) args.push(this.eval(a, frame));
        const keywords = new Map<string, PyValue>();
        for (const k of e.keywords) keywords.set(k.name, this.eval(k.value, frame));
        return this.invoke(callee, { args, keywords });
      }
      case "binary":
        return binaryOp(e.op, this.eval(e.left, frame), this.eval(e.right, frame));
      case "unary": {
        const v = this.eval(e.operand, frame);
        if (e.op === "not") return !truthy(v);
        const n = numeric(v);
        if (n === undefined)
          throw pyFail("TypeError", `bad operand type for unary ${e.op}: '${typeName(v)}'`);
        return e.op === "-" ? -n : n;
      }
      case "logical": {
        const left = this.eval(e.left, frame);
        return truthy(left) === (e.op === "and") ? this.eval(e.right, frame) : left;
      }
      case "compare": {
        let left = this.eval(e.first, frame);
        for (const { op, right } of e.rest) {
          const value = this.eval(right, frame);
          if (!compare(op, left, value)) return false;
          left = value;
        }
        return true;
      }
      case "conditional":
        return truthy(this.eval(e.test, frame))
          ? this.eval(e.whenTrue, frame)
          : this.eval(e.whenFalse, frame);
      case "list":
      case "tuple":
      case "set": {
        const items: PyValue[] = [];
        for (const item of e.items) items.push(this.eval(item, frame));
        if (e.kind === "list") return new PyList(items);
        if (e.kind === "tuple") return new PyTuple(items);
        const set = new PySet();
        for (const item of items) set.add(item);
        return set;
      }
      case "dict": {
        const d = new PyDict();
        for (const entry of e.entries) {
          const key = this.eval(entry.key, frame);
          d.set(key, this.eval(entry.value, frame));
        }
        return d;
      }
      case "comprehension":
      case "dictComprehension":
        return comprehension(this, e, frame);
      case "fstring":
        return this.fstring(e.parts, frame);
    }
  }

  private fstring(parts: (string | FormatField)[], frame: Frame): string {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") {
        out += part;
        continue;
      }
      let value = this.eval(part.expr, frame);
      if (part.conversion === "s") value = pyStr(value);
      else if (part.conversion === "r") value = pyRepr(value);
      else if (part.conversion === "a") value = pyAscii(value);
      out += formatValue(value, this.fstring(part.spec, frame));
    }
    return out;
  }

  /** Calls any Python callable. */
  readonly invoke = (fn: PyValue, call: CallArgs | PyValue[]): PyValue => {
    const c = Array.isArray(call) ? { args: call, keywords: new Map<string, PyValue>() } : call;
    if (fn instanceof PyBuiltin) return callBuiltin(fn.name, c, this);
    if (fn instanceof PyMethod) return callMethod(fn.self, fn.name, c, this.invoke);
    if (fn instanceof PyScript) return invokeScript(fn, c, this.call);
    throw pyFail("TypeError", `'${typeName(fn)}' object is not callable`);
  };
}
