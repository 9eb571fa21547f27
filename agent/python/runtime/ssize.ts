/**
 * CPython's conversions of a Python int to a C `Py_ssize_t` (a 64-bit signed size or index), the one place that
 * decides what an int too large for an index or a size does. Leaf module: every index, size and length path
 * uses it.
 *
 * - `PyNumber_AsSsize_t(v, exc)` (Objects/abstract.c), used for subscripts (`seq[i]`, `seq[i] = x`, with
 *   IndexError) and repetition (`seq * n`, with OverflowError): "cannot fit 'int' into an index-sized integer".
 * - `PyLong_AsSsize_t` (Objects/longobject.c), used for size arguments (`s.center(n)`, `l.pop(i)`) and
 *   lengths (`len(range(10**30))`, and the length hint of `list(range(10**30))`): OverflowError "Python int
 *   too large to convert to C ssize_t".
 * - `_PyEval_SliceIndex` (Python/ceval.c), used for slice bounds and the start/end of `find`, `index`, `count`:
 *   never fails, clamps to the Py_ssize_t range.
 */
import { pyFail } from "./exceptions.ts";

export const SSIZE_MAX = 0x7fffffffffffffffn;
export const SSIZE_MIN = -0x8000000000000000n;

/** Whether `i` fits a Py_ssize_t. */
export function fitsSsize(i: bigint): boolean {
  return i <= SSIZE_MAX && i >= SSIZE_MIN;
}

/**
 * `PyNumber_AsSsize_t(i, error)`: `i` as an index, or `error` ("IndexError" for subscripts, "OverflowError"
 * for repetition counts) "cannot fit 'int' into an index-sized integer". Returns a bigint (exact, in range).
 */
export function indexSized(i: bigint, error: "IndexError" | "OverflowError"): bigint {
  if (!fitsSsize(i)) throw pyFail(error, "cannot fit 'int' into an index-sized integer");
  return i;
}

/** `PyLong_AsSsize_t(i)`: a size or a length; OverflowError "Python int too large to convert to C ssize_t". */
export function ssize(i: bigint): bigint {
  if (!fitsSsize(i)) throw pyFail("OverflowError", "Python int too large to convert to C ssize_t");
  return i;
}

/** `_PyEval_SliceIndex`: `i` clamped to the Py_ssize_t range (slice bounds, `find`/`index` start and end). */
export function clampSsize(i: bigint): bigint {
  return i > SSIZE_MAX ? SSIZE_MAX : i < SSIZE_MIN ? SSIZE_MIN : i;
}
