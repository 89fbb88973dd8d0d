/**
 * @file The one place where index tensors and lists are checked and normalised
 * (docs/architecture.md#types): indices — `takeRows`'s rows, `crossEntropy`'s labels, and the
 * indexing ops' (`gather`, `takeAlongAxis`, `scatterAdd`, `oneHot`) — are int32; float32
 * tensors of whole numbers are still accepted (what every index was before there were
 * types) and converted. An index list becomes an int32 tensor, exact to 2³¹. Indices on
 * the host (a list, or a tensor of the CPU backend) out of range are a `RangeError`
 * naming the op.
 */
import { astype } from "./astype.ts";
import { describeTypes, type DType } from "./dtype.ts";
import { describe, type Tensor } from "./tensor.ts";

/** The types an index tensor may have: int32, or float32 holding whole numbers. */
export const INDEX_TYPES: readonly DType[] = ["int32", "float32"];

/** Checks that `t`, argument `name` of `op`, is an index tensor's type. */
export function checkIndexType(op: string, name: string, t: Tensor): void {
  if (!INDEX_TYPES.includes(t.dtype)) {
    throw new TypeError(
      `${op}: expected ${name} to be ${describeTypes(INDEX_TYPES)} indices, got ${t.dtype}`,
    );
  }
}

/**
 * `t` as int32 indices: itself if int32, else a new int32 tensor of its whole numbers
 * (`astype`; the caller disposes it). Checks the type first.
 */
export function int32Indices(op: string, name: string, t: Tensor): Tensor {
  checkIndexType(op, name, t);
  return t.dtype === "int32" ? t : astype(t, "int32");
}

/**
 * Checks an index list for a dimension of `n`: a non-empty array-like of integers in
 * [0, n) — or, `fromEnd` (NumPy's `take`), in [−n, n), a negative one counting from the
 * end; returns them as int32 in [0, n).
 */
export function checkIndexList(
  op: string,
  name: string,
  indices: unknown,
  n: number,
  { fromEnd = false }: { readonly fromEnd?: boolean } = {},
): Int32Array<ArrayBuffer> {
  const list = indices as ArrayLike<unknown>;
  if (
    list === null || typeof list !== "object" || !Number.isInteger(list.length) ||
    list.length < 1
  ) {
    throw new TypeError(`${op}: expected a non-empty array of ${name}, got ${describe(indices)}`);
  }
  // Before the indices are copied: an array-like may claim any length.
  if (list.length > 2 ** 31) {
    throw new RangeError(`${op}: expected at most 2147483648 ${name}, got ${list.length}`);
  }
  const low = fromEnd ? -n : 0;
  return Int32Array.from({ length: list.length }, (_, i) => {
    const r = list[i];
    if (typeof r !== "number" || !Number.isInteger(r) || r < low || r >= n) {
      throw new RangeError(
        `${op}: expected ${name} in [${low}, ${n}), got ${
          typeof r === "number" ? r : describe(r)
        } at position ${i}`,
      );
    }
    return r < 0 ? r + n : r;
  });
}
