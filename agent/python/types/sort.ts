/**
 * `list.sort()` and `sorted()`: CPython 3.11's listsort (Objects/listobject.c) as far as a Body can observe
 * it. Keys are computed first, all of them; `reverse` reverses, sorts, reverses again (stability); runs are
 * found by `count_run` and extended by `binarysort` to `minrun`, then merged. Lists under 64 items are sorted
 * by exactly CPython's sequence of `<` comparisons, so a comparison that fails (`[1, 'a']`: "'<' not
 * supported between instances of 'str' and 'int'") fails as in CPython, and an inconsistent order (NaN)
 * gives CPython's result. Longer lists merge without galloping: the same result whenever `<` is a total order.
 */
import { lessThan } from "../runtime/compare.ts";
import { type Invoke, type PyValue, spliceItems } from "../runtime/values.ts";

interface Pair {
  key: PyValue;
  item: PyValue;
}

const less = (a: Pair, b: Pair): boolean => lessThan(a.key, b.key);

function reverseRange(xs: Pair[], lo: number, hi: number): void {
  for (let i = lo, j = hi - 1; i < j; i++, j--) {
    const t = xs[i] as Pair;
    xs[i] = xs[j] as Pair;
    xs[j] = t;
  }
}

/** The length of the run at `lo` (strictly descending runs are reversed in place). */
function countRun(xs: Pair[], lo: number, hi: number): number {
  if (lo + 1 === hi) return 1;
  let n = 2;
  if (less(xs[lo + 1] as Pair, xs[lo] as Pair)) {
    for (let i = lo + 2; i < hi && less(xs[i] as Pair, xs[i - 1] as Pair); i++) n++;
    reverseRange(xs, lo, lo + n);
  } else {
    for (let i = lo + 2; i < hi && !less(xs[i] as Pair, xs[i - 1] as Pair); i++) n++;
  }
  return n;
}

/** Binary insertion sort of xs[lo:hi] whose first `start - lo` items are sorted already. */
function binarySort(xs: Pair[], lo: number, hi: number, start: number): void {
  for (let s = start === lo ? start + 1 : start; s < hi; s++) {
    const pivot = xs[s] as Pair;
    let l = lo;
    let r = s;
    do {
      const p = l + ((r - l) >> 1);
      if (less(pivot, xs[p] as Pair)) r = p;
      else l = p + 1;
    } while (l < r);
    for (let p = s; p > l; p--) xs[p] = xs[p - 1] as Pair;
    xs[l] = pivot;
  }
}

function minRun(n: number): number {
  let r = 0;
  while (n >= 64) {
    r |= n & 1;
    n >>= 1;
  }
  return n + r;
}

/** Stable merge of the adjacent sorted runs xs[lo:mid] and xs[mid:hi]. */
function merge(xs: Pair[], lo: number, mid: number, hi: number): void {
  const left = xs.slice(lo, mid);
  let i = 0;
  let j = mid;
  let k = lo;
  while (i < left.length && j < hi) {
    if (less(xs[j] as Pair, left[i] as Pair)) xs[k++] = xs[j++] as Pair;
    else xs[k++] = left[i++] as Pair;
  }
  while (i < left.length) xs[k++] = left[i++] as Pair;
}

function timsort(xs: Pair[]): void {
  const n = xs.length;
  if (n < 2) return;
  const min = minRun(n);
  const runs: [number, number][] = [];
  for (let lo = 0; lo < n; ) {
    let length = countRun(xs, lo, n);
    if (length < min) {
      const force = Math.min(min, n - lo);
      binarySort(xs, lo, lo + force, lo + length);
      length = force;
    }
    runs.push([lo, lo + length]);
    lo += length;
  }
  while (runs.length > 1) {
    const merged: [number, number][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r] as [number, number];
      const b = runs[r + 1];
      if (b === undefined) merged.push(a);
      else {
        merge(xs, a[0], a[1], b[1]);
        merged.push([a[0], b[1]]);
      }
    }
    runs.splice(0, runs.length, ...merged);
  }
}

/** Sorts `items` in place by Python `<` of `key(item)` (or the items), stable, optionally reversed. */
export function sortItems(items: PyValue[], key: PyValue, reverse: boolean, invoke: Invoke): void {
  if (items.length === 0) return;
  const pairs: Pair[] = items.map((item) => ({ key: key === null ? item : invoke(key, [item]), item }));
  if (reverse) pairs.reverse();
  timsort(pairs);
  if (reverse) pairs.reverse();
  spliceItems(
    items,
    0,
    items.length,
    pairs.map((p) => p.item),
  );
}
