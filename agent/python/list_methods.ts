/**
 * Methods of list and set (`append`, `extend`, `pop`, `sort(key=, reverse=)`, `add`, `discard` …) and the
 * stable Python-ordered sort that `sorted()` shares.
 */
import { collect } from "./access.ts";
import { lessThan } from "./compare.ts";
import { pyFail } from "./exceptions.ts";
import { indexOf, need, noArguments } from "./methods.ts";
import { pyRepr } from "./repr.ts";
import { checkSize, hashKey, type Invoke, PyList, PySet, type PyValue, spliceItems } from "./values.ts";

/** Sorts items in place by Python `<` (stable), optionally by a key function and reversed. */
export function sortItems(
  items: PyValue[],
  key: PyValue,
  reverse: boolean,
  invoke: Invoke,
): void {
  const keys =
    key === null || key === undefined ? items : (items.map((item) => invoke(key, [item])));
  const order = items.map((_, i) => i);
  order.sort((i, j) => {
    const a = keys[i] ?? null;
    const b = keys[j] ?? null;
    if (reverse) return lessThan(b, a) ? -1 : lessThan(a, b) ? 1 : 0;
    return lessThan(a, b) ? -1 : lessThan(b, a) ? 1 : 0;
  });
  const sorted = order.map((i) => items[i] ?? null);
  spliceItems(items, 0, items.length, sorted);
}

export function listMethod(
  list: PyList,
  name: string,
  a: (PyValue | undefined)[],
  invoke: Invoke,
): PyValue {
  const items = list.items;
  switch (name) {
    case "append":
      need(name, a, 1, 1);
      items.push(a[0] ?? null);
      return null;
    case "extend":
      need(name, a, 1, 1);
      {
        const added = collect(a[0] ?? null);
        checkSize(items.length + added.length, "list");
        spliceItems(items, items.length, 0, added);
      }
      return null;
    case "insert": {
      need(name, a, 2, 2);
      const i = Number(a[0]);
      const at = i < 0 ? Math.max(0, items.length + i) : Math.min(i, items.length);
      items.splice(at, 0, a[1] ?? null);
      return null;
    }
    case "pop": {
      need(name, a, 0, 1);
      if (items.length === 0) throw pyFail("IndexError", "pop from empty list");
      const i = a[0] === undefined ? items.length - 1 : Number(a[0]);
      const at = i < 0 ? i + items.length : i;
      if (at < 0 || at >= items.length) throw pyFail("IndexError", "pop index out of range");
      return items.splice(at, 1)[0] ?? null;
    }
    case "remove": {
      need(name, a, 1, 1);
      const at = indexOf(items, a[0] ?? null);
      if (at < 0) throw pyFail("ValueError", "list.remove(x): x not in list");
      items.splice(at, 1);
      return null;
    }
    case "copy":
      noArguments("list.copy", a);
      return new PyList([...items]);
    case "clear":
      noArguments("list.clear", a);
      items.length = 0;
      return null;
    case "reverse":
      items.reverse();
      return null;
    case "sort":
      sortItems(
        items,
        a[0] ?? null,
        a[1] !== undefined && a[1] !== null && a[1] !== false && a[1] !== 0n,
        invoke,
      );
      return null;
  }
  throw pyFail("AttributeError", `'list' object has no attribute '${name}'`);
}

export function setMethod(set: PySet, name: string, a: (PyValue | undefined)[]): PyValue {
  switch (name) {
    case "add":
      need(name, a, 1, 1);
      set.add(a[0] ?? null);
      return null;
    case "discard":
    case "remove": {
      need(name, a, 1, 1);
      const removed = set.entries.delete(hashKey(a[0] ?? null));
      if (!removed && name === "remove") throw pyFail("KeyError", pyRepr(a[0] ?? null));
      return null;
    }
    case "pop": {
      const first = set.entries.entries().next();
      if (first.done) throw pyFail("KeyError", "'pop from an empty set'");
      set.entries.delete(first.value[0]);
      return first.value[1];
    }
    case "update":
      for (const source of a) for (const item of collect(source ?? null)) set.add(item);
      return null;
    case "clear":
      noArguments("set.clear", a);
      set.entries.clear();
      return null;
    case "copy": {
      const copy = new PySet();
      for (const v of set.entries.values()) copy.add(v);
      return copy;
    }
  }
  throw pyFail("AttributeError", `'set' object has no attribute '${name}'`);
}
