/**
 * The hashKey of a tuple (values.ts), in time and memory linear in the tuple's objects, however deep.
 *
 * Shape: `t=<items>`, the item keys each as `<length>:<key>` (so no two item lists give one text), while that
 * text is at most INLINE_MAX long; else `t<hash>#<digest>`: CPython's `hash()` of the tuple (SetTable reads it
 * there, and computes the hash of a `t=` key from its items, set_table.ts) and the SHA-256 of `<items>`. An
 * inner tuple's item key is therefore at most ~260 characters: a tuple nested N deep costs O(N),
 * where keys that embed their items' keys whole double per level (`x = (x,)` 26 times took 6 s). SHA-256 makes
 * two unequal tuples' keys meet with negligible probability (2**-128), even for a Body that tries.
 *
 * The walk keeps its own stack, so a 100,000-deep tuple is hashed (CPython hashes it too, recursing in C).
 * Digest keys are cached per tuple object (a hashable tuple never changes): a tuple shared by many others
 * (`x = (x, x)`) is walked once; inline keys are cheaper to rebuild than to cache. An item that is unhashable throws scalarKey's TypeError.
 * A leaf module: values.ts passes how to recognise a tuple and how to key anything else.
 */
import { createHash } from "node:crypto";
import { tupleHash } from "../types/set_table.ts";

/** Longest item text kept inline in a tuple's key: most tuples a Body builds; a digest costs ~10 µs. */
const INLINE_MAX = 256;

interface Tuple {
  readonly items: readonly unknown[];
}

const cache = new WeakMap<Tuple, string>();

/** The key of `root`; `isTuple` recognises inner tuples, `scalarKey` keys any other item. */
export function tupleKey<T extends Tuple>(
  root: T,
  isTuple: (v: unknown) => v is T,
  scalarKey: (v: T["items"][number]) => string,
): string {
  const known = cache.get(root);
  if (known !== undefined) return known;
  // Each frame: a tuple, the index of its next item, the keys of the items before it.
  const stack: { tuple: T; next: number; keys: string[] }[] = [{ tuple: root, next: 0, keys: [] }];
  for (;;) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (top.next < top.tuple.items.length) {
      const item = top.tuple.items[top.next];
      if (isTuple(item)) {
        const key = cache.get(item);
        if (key === undefined) {
          stack.push({ tuple: item, next: 0, keys: [] });
          continue;
        }
        top.keys.push(key);
      } else top.keys.push(scalarKey(item));
      top.next++;
      continue;
    }
    const key = keyOf(top.keys);
    if (key[1] !== "=") cache.set(top.tuple, key);
    stack.pop();
    const parent = stack[stack.length - 1];
    if (parent === undefined) return key;
    parent.keys.push(key);
    parent.next++;
  }
}

function keyOf(keys: readonly string[]): string {
  let text = "";
  for (const k of keys) text += `${k.length}:${k}`;
  if (text.length <= INLINE_MAX) return `t=${text}`;
  return `t${tupleHash(keys)}#${createHash("sha256").update(text).digest("base64")}`;
}
