/**
 * @file Indices as the indexing ops (`gather`, `takeAlongAxis`, `scatterAdd`, `oneHot`)
 * take them, checked in one place. Every tensor is float32 for now, so an index is a float32 whole number (exact
 * below 2²⁴); NumPy's `take` lets a negative index count from the end of the axis, and
 * an index outside [−n, n) is a `RangeError` naming the op wherever the indices are on
 * the host (a list, or a tensor on the CPU backend). When int32 tensors land this is the
 * file that changes.
 */
import { describe } from "./tensor.ts";

/** Indices held in float32 are exact below this. */
export const MAX_INDEX = 2 ** 24;

/**
 * Checks indices into an axis of `n` elements — whole numbers in [−n, n), or with
 * `fromEnd: false` (class ids) in [0, n) — and returns them counted from the start, in
 * [0, n), as float32.
 */
export function checkIndices(
  op: string,
  indices: ArrayLike<unknown>,
  n: number,
  { fromEnd = true }: { readonly fromEnd?: boolean } = {},
): Float32Array {
  const limit = Math.min(n, MAX_INDEX);
  const low = fromEnd ? -limit : 0;
  return Float32Array.from({ length: indices.length }, (_, i) => {
    const r = indices[i];
    if (typeof r !== "number" || !Number.isInteger(r) || r < low || r >= limit) {
      throw new RangeError(
        `${op}: expected indices in [${low}, ${limit}), got ${
          typeof r === "number" ? r : describe(r)
        } at position ${i}${n > MAX_INDEX ? " (indices are float32, exact below 2^24)" : ""}`,
      );
    }
    return r < 0 ? r + n : r;
  });
}
