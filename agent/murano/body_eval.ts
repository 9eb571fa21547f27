/**
 * Runs a checked Body tree. Everything is async because any expression may call a script. The interpreter
 * yields to the event loop every few thousand steps (so timers, MQTT and an abort still work during a long
 * loop) and stops when the optional signal aborts.
 */
import { SliceKey, collect, getAttr, getItem, iterate, setAttr, setItem } from "./body_access.ts";
import type { Expr, FormatField, Stmt, Target } from "./body_ast.ts";
import { callBuiltin } from "./body_builtins.ts";
import { pyFail } from "./body_fail.ts";
import { formatValue } from "./body_format_spec.ts";
import { callMethod } from "./body_methods.ts";
import { binaryOp, compare } from "./body_ops.ts";
import { pyRepr, pyStr } from "./body_repr.ts";
import { Frame } from "./body_scope.ts";
import { invokeScript, type ScriptCaller } from "./body_script.ts";
import {
  type CallArgs,
  PyBuiltin,
  PyDict,
  PyIter,
  PyLambda,
  PyList,
  PyMethod,
  PyScript,
  PySet,
  PyTuple,
  type PyValue,
  numeric,
  truthy,
  typeName,
} from "./body_values.ts";

type Flow = { kind: "return"; value: PyValue } | { kind: "break" } | { kind: "continue" } | null;

const YIELD_EVERY = 4096;
const MAX_DEPTH = 200;

export class Interpreter {
  private steps = 0;
  private depth = 0;
  private readonly call: ScriptCaller;
  private readonly signal: AbortSignal | undefined;
  constructor(call: ScriptCaller, signal: AbortSignal | undefined) {
    this.call = call;
    this.signal = signal;
  }

  private async tick(): Promise<void> {
    if (++this.steps % YIELD_EVERY !== 0) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.signal?.aborted) throw this.signal.reason;
  }

  async run(statements: Stmt[], frame: Frame): Promise<PyValue> {
    const flow = await this.block(statements, frame);
    return flow?.kind === "return" ? flow.value : null;
  }

  private async block(statements: Stmt[], frame: Frame): Promise<Flow> {
    for (const s of statements) {
      await this.tick();
      const flow = await this.statement(s, frame);
      if (flow) return flow;
    }
    return null;
  }

  private async statement(s: Stmt, frame: Frame): Promise<Flow> {
    switch (s.kind) {
      case "expr":
        await this.eval(s.expr, frame);
        return null;
      case "assign": {
        const value = await this.eval(s.value, frame);
        for (const t of s.targets) await this.assign(t, value, frame);
        return null;
      }
      case "augassign":
        await this.augmentedAssign(s.target, s.op, s.value, frame);
        return null;
      case "if":
        for (const branch of s.branches) if (truthy(await this.eval(branch.test, frame))) return this.block(branch.body, frame);
        return this.block(s.otherwise, frame);
      case "for": {
        for await (const item of iterate(await this.eval(s.iterable, frame))) {
          await this.tick();
          await this.assign(s.target, item, frame);
          const flow = await this.block(s.body, frame);
          if (flow?.kind === "break") return null;
          if (flow?.kind === "return") return flow;
        }
        return this.block(s.otherwise, frame);
      }
      case "return":
        return { kind: "return", value: s.value ? await this.eval(s.value, frame) : null };
      case "pass":
        return null;
      case "break":
      case "continue":
        return { kind: s.kind };
    }
  }

  private async augmentedAssign(t: Target, op: Parameters<typeof binaryOp>[0], valueExpr: Expr, frame: Frame): Promise<void> {
    if (t.kind === "unpack") throw pyFail("TypeError", "illegal expression for augmented assignment");
    const object = t.kind === "name" ? null : await this.eval(t.object, frame);
    const key = t.kind === "subscript" ? await this.key(t.index, frame) : null;
    const current =
      t.kind === "name" ? frame.lookup(t.name) : t.kind === "attribute" ? getAttr(object, t.name) : getItem(object, key ?? null);
    const value = await this.eval(valueExpr, frame);
    let result: PyValue;
    if (op === "+" && current instanceof PyList) {
      current.items.push(...(await collect(value)));
      result = current;
    } else result = binaryOp(op, current, value);
    if (t.kind === "name") frame.vars.set(t.name, result);
    else if (t.kind === "attribute") setAttr(object, t.name, result);
    else setItem(object, key ?? null, result, null);
  }

  private async assign(t: Target, value: PyValue, frame: Frame): Promise<void> {
    switch (t.kind) {
      case "name":
        frame.vars.set(t.name, value);
        return;
      case "attribute":
        setAttr(await this.eval(t.object, frame), t.name, value);
        return;
      case "subscript": {
        const object = await this.eval(t.object, frame);
        const key = await this.key(t.index, frame);
        setItem(object, key, value, key instanceof SliceKey ? await collect(value) : null);
        return;
      }
      case "unpack": {
        if (!(value instanceof PyList || value instanceof PyTuple || typeof value === "string" || value instanceof PyDict || value instanceof PySet || value instanceof PyIter)) {
          throw pyFail("TypeError", `cannot unpack non-iterable ${typeName(value)} object`);
        }
        const items = await collect(value);
        const n = t.items.length;
        if (items.length < n) throw pyFail("ValueError", `not enough values to unpack (expected ${n}, got ${items.length})`);
        if (items.length > n) throw pyFail("ValueError", `too many values to unpack (expected ${n})`);
        for (let i = 0; i < n; i++) {
          const target = t.items[i];
          if (target) await this.assign(target, items[i] ?? null, frame);
        }
      }
    }
  }

  private async key(index: Expr, frame: Frame): Promise<PyValue | SliceKey> {
    if (index.kind !== "slice") return this.eval(index, frame);
    const part = async (e: Expr | null): Promise<PyValue> => (e ? this.eval(e, frame) : null);
    return new SliceKey(await part(index.lower), await part(index.upper), await part(index.step));
  }

  async eval(e: Expr, frame: Frame): Promise<PyValue> {
    switch (e.kind) {
      case "literal":
        return e.value;
      case "name":
        return frame.lookup(e.name);
      case "attribute":
        return getAttr(await this.eval(e.object, frame), e.name);
      case "subscript": {
        const object = await this.eval(e.object, frame);
        return getItem(object, await this.key(e.index, frame));
      }
      case "slice":
        throw pyFail("TypeError", "a slice inside a tuple index is not supported");
      case "call": {
        const callee = await this.eval(e.callee, frame);
        const args: PyValue[] = [];
        for (const a of e.args) args.push(await this.eval(a, frame));
        const keywords = new Map<string, PyValue>();
        for (const k of e.keywords) keywords.set(k.name, await this.eval(k.value, frame));
        return this.invoke(callee, { args, keywords });
      }
      case "binary":
        return binaryOp(e.op, await this.eval(e.left, frame), await this.eval(e.right, frame));
      case "unary": {
        const v = await this.eval(e.operand, frame);
        if (e.op === "not") return !truthy(v);
        const n = numeric(v);
        if (n === undefined) throw pyFail("TypeError", `bad operand type for unary ${e.op}: '${typeName(v)}'`);
        return e.op === "-" ? -n : n;
      }
      case "logical": {
        const left = await this.eval(e.left, frame);
        return truthy(left) === (e.op === "and") ? this.eval(e.right, frame) : left;
      }
      case "compare": {
        let left = await this.eval(e.first, frame);
        for (const { op, right } of e.rest) {
          const value = await this.eval(right, frame);
          if (!compare(op, left, value)) return false;
          left = value;
        }
        return true;
      }
      case "conditional":
        return truthy(await this.eval(e.test, frame)) ? this.eval(e.then, frame) : this.eval(e.otherwise, frame);
      case "list":
      case "tuple":
      case "set": {
        const items: PyValue[] = [];
        for (const item of e.items) items.push(await this.eval(item, frame));
        if (e.kind === "list") return new PyList(items);
        if (e.kind === "tuple") return new PyTuple(items);
        const set = new PySet();
        for (const item of items) set.add(item);
        return set;
      }
      case "dict": {
        const d = new PyDict();
        for (const entry of e.entries) {
          const key = await this.eval(entry.key, frame);
          d.set(key, await this.eval(entry.value, frame));
        }
        return d;
      }
      case "lambda":
        return new PyLambda(e.params, e.body, frame);
      case "comprehension":
      case "dictComprehension":
        return this.comprehension(e, frame);
      case "fstring":
        return this.fstring(e.parts, frame);
    }
  }

  private async fstring(parts: (string | FormatField)[], frame: Frame): Promise<string> {
    let out = "";
    for (const part of parts) {
      if (typeof part === "string") {
        out += part;
        continue;
      }
      let value = await this.eval(part.expr, frame);
      if (part.conversion) value = part.conversion === "s" ? pyStr(value) : pyRepr(value);
      out += formatValue(value, await this.fstring(part.spec, frame));
    }
    return out;
  }

  private async comprehension(e: Expr & { kind: "comprehension" | "dictComprehension" }, outer: Frame): Promise<PyValue> {
    const frame = new Frame(outer);
    const first = e.loops[0];
    const firstIterable = first ? await this.eval(first.iterable, outer) : null;
    const produce = async function* (this: Interpreter, level: number): AsyncGenerator<PyValue> {
      const loop = e.loops[level];
      if (!loop) {
        if (e.kind === "dictComprehension") yield new PyTuple([await this.eval(e.key, frame), await this.eval(e.value, frame)]);
        else yield await this.eval(e.element, frame);
        return;
      }
      const source = level === 0 ? firstIterable : await this.eval(loop.iterable, frame);
      for await (const item of iterate(source)) {
        await this.tick();
        await this.assign(loop.target, item, frame);
        let keep = true;
        for (const c of loop.conditions) if (keep && !truthy(await this.eval(c, frame))) keep = false;
        if (keep) yield* produce.call(this, level + 1);
      }
    };
    const items = produce.call(this, 0);
    if (e.kind === "comprehension" && e.result === "generator") return new PyIter("generator", items);
    const values = await collect(new PyIter("generator", items));
    if (e.kind === "dictComprehension") {
      const d = new PyDict();
      for (const pair of values) if (pair instanceof PyTuple) d.set(pair.items[0] ?? null, pair.items[1] ?? null);
      return d;
    }
    if (e.result === "list") return new PyList(values);
    const set = new PySet();
    for (const v of values) set.add(v);
    return set;
  }

  /** Calls any Python callable. */
  readonly invoke = async (fn: PyValue, call: CallArgs | PyValue[]): Promise<PyValue> => {
    const c = Array.isArray(call) ? { args: call, keywords: new Map<string, PyValue>() } : call;
    if (fn instanceof PyBuiltin) return callBuiltin(fn.name, c, this.invoke);
    if (fn instanceof PyMethod) return callMethod(fn.self, fn.name, c, this.invoke);
    if (fn instanceof PyScript) return invokeScript(fn, c, this.call);
    if (fn instanceof PyLambda) {
      if (++this.depth > MAX_DEPTH) throw pyFail("RuntimeError", "maximum recursion depth exceeded");
      try {
        return await this.eval(fn.body, bindLambda(fn, c));
      } finally {
        this.depth--;
      }
    }
    throw pyFail("TypeError", `'${typeName(fn)}' object is not callable`);
  };
}

function bindLambda(fn: PyLambda, call: CallArgs): Frame {
  const frame = new Frame(fn.scope);
  const n = fn.params.length;
  if (call.args.length > n) {
    const given = call.args.length;
    throw pyFail("TypeError", `<lambda>() takes ${n} positional argument${n === 1 ? "" : "s"} but ${given} ${given === 1 ? "was" : "were"} given`);
  }
  call.args.forEach((v, i) => frame.vars.set(fn.params[i] ?? "", v));
  for (const [k, v] of call.keywords) {
    if (!fn.params.includes(k)) throw pyFail("TypeError", `<lambda>() got an unexpected keyword argument '${k}'`);
    if (frame.vars.has(k)) throw pyFail("TypeError", `<lambda>() got multiple values for argument '${k}'`);
    frame.vars.set(k, v);
  }
  const missing = fn.params.filter((p) => !frame.vars.has(p));
  if (missing.length > 0) {
    const names = missing.map((m) => `'${m}'`).join(" and ");
    throw pyFail("TypeError", `<lambda>() missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${names}`);
  }
  return frame;
}
