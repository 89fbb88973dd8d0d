/**
 * @file The GPU-versus-reference property of batched `matmul`: NumPy's `matmul` on
 * operands with leading (batch) dimensions that broadcast — each dimension of an
 * operand's batch the output's or 1, or missing — and 1-d operands, promoted as NumPy
 * promotes them. Each output is one dot product of length k, so the bound is matmul's
 * (`bounds.dot`); the reference is checked bit for bit against the product written here
 * from NumPy's definition (every batch index of the output reads index 0 of an
 * operand's dimension of 1), independently of the op's strides and folds.
 */
import fc from "fast-check";
import { matmul } from "../mod.ts";
import {
  assertBitwise,
  assertShape,
  assertWithin,
  coordinates,
  dim,
  dot,
  flushSubnormal,
  type Profile,
  profile,
  seed,
  size,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A batched matmul case: the output's batch, each operand's, the matrices, the flags. */
export interface BatchedMatmulCase {
  /** The output's batch dimensions. */
  batch: number[];
  /** a's batch dimensions: a suffix of `batch`'s rank, each the output's or 1. */
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  /** a is a vector [k] (NumPy promotes it to [1, k] and removes the 1 after). */
  vectorA: boolean;
  vectorB: boolean;
  profile: Profile;
  seed: number;
}

/** An operand's batch: the last `rank` of the output's dimensions, each kept or made 1. */
function operandBatch(batch: number[]): fc.Arbitrary<number[]> {
  return fc.integer({ min: 0, max: batch.length }).chain((rank) =>
    fc.array(fc.boolean(), { minLength: rank, maxLength: rank }).map((ones) =>
      batch.slice(batch.length - rank).map((d, i) => (ones[i] ? 1 : d))
    )
  );
}

/** Cases: batches of up to three dimensions and 24 matrices, the matrices' sides small. */
export const batchedCases: fc.Arbitrary<BatchedMatmulCase> = fc
  .array(fc.constantFrom(1, 2, 3, 5), { maxLength: 3 })
  .filter((batch) => size(batch) <= 24)
  .chain((batch) =>
    fc.record({
      batch: fc.constant(batch),
      batchA: operandBatch(batch),
      batchB: operandBatch(batch),
      m: fc.oneof(dim(40), fc.constantFrom(64, 128)),
      k: fc.oneof(dim(70), fc.constantFrom(64, 128)),
      n: fc.oneof(dim(40), fc.constantFrom(64, 128)),
      transposeA: fc.boolean(),
      transposeB: fc.boolean(),
      vectorA: fc.boolean(),
      vectorB: fc.boolean(),
      profile,
      seed,
    })
  )
  // NumPy's rules: a vector has no transpose and no batch; as a matrix it is one row of
  // a (m = 1) or one column of b (n = 1).
  .map((c) => {
    const vectorA = c.vectorA && !c.transposeA && c.batchA.length === 0 && c.batchB.length > 0;
    const vectorB = c.vectorB && !c.transposeB && c.batchB.length === 0 && c.batchA.length > 0;
    return { ...c, vectorA, vectorB, m: vectorA ? 1 : c.m, n: vectorB ? 1 : c.n };
  })
  // The output's batch is what the operands' batches broadcast to.
  .map((c) => ({
    ...c,
    batch: c.batch.slice(c.batch.length - Math.max(c.batchA.length, c.batchB.length))
      .map((_, i, kept) => {
        const at = (own: number[]) => own[own.length - kept.length + i] ?? 1;
        return Math.max(at(c.batchA), at(c.batchB));
      }),
  }));

/** The stored shapes of a case's operands and its output's shape (NumPy's). */
export function batchedShapes(c: BatchedMatmulCase): { a: number[]; b: number[]; out: number[] } {
  const a = c.vectorA ? [c.k] : [...c.batchA, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])];
  const b = c.vectorB ? [c.k] : [...c.batchB, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])];
  const out = [...c.batch, ...(c.vectorA ? [] : [c.m]), ...(c.vectorB ? [] : [c.n])];
  return { a, b, out };
}

/**
 * NumPy's batched product in float64, summed over k in order, and Σ|a·b| per output:
 * output batch index t reads, in each operand dimension of 1, index 0.
 */
export function numpyMatmul(
  c: Pick<
    BatchedMatmulCase,
    "batch" | "batchA" | "batchB" | "m" | "k" | "n" | "transposeA" | "transposeB"
  >,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { exact: Float64Array; scale: Float64Array } {
  const { m, k, n, batch } = c;
  const count = size(batch);
  const exact = new Float64Array(count * m * n), scale = new Float64Array(count * m * n);
  const matrixOf = (t: number, own: number[]) => {
    const at = coordinates(t, batch).slice(batch.length - own.length);
    return at.reduce((flat, x, d) => flat * own[d] + (own[d] === 1 ? 0 : x), 0);
  };
  for (let t = 0; t < count; t++) {
    const a0 = matrixOf(t, c.batchA) * m * k, b0 = matrixOf(t, c.batchB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0, abs = 0;
        for (let p = 0; p < k; p++) {
          const product = a[a0 + (c.transposeA ? p * m + i : i * k + p)] *
            b[b0 + (c.transposeB ? j * k + p : p * n + j)];
          sum += product;
          abs += Math.abs(product);
        }
        exact[(t * m + i) * n + j] = sum;
        scale[(t * m + i) * n + j] = abs;
      }
    }
  }
  return { exact, scale };
}

/** Batched matmul within γ(k)·Σ|ab| of the reference, the reference NumPy's product. */
export const batchedMatmulProperty: OpProperty<BatchedMatmulCase> = {
  name: "matmul batched: GPU agrees with the reference within γ(k)·Σ|ab|, as NumPy's matmul",
  numRuns: 60,
  cases: batchedCases,
  async check(backend, c) {
    const shapes = batchedShapes(c);
    const a = values(size(shapes.a), c.profile, c.seed);
    const b = values(size(shapes.b), c.profile, c.seed + 1);
    const flags = { transposeA: c.transposeA, transposeB: c.transposeB };
    const what = `matmul ${JSON.stringify(c)}`;
    using gc = matmul(backend.tensor(a, shapes.a), backend.tensor(b, shapes.b), flags);
    assertShape(gc.shape, shapes.out, what);
    using rc = matmul(ref.tensor(a, shapes.a), ref.tensor(b, shapes.b), flags);
    assertShape(rc.shape, shapes.out, `${what} (reference)`);
    const { exact, scale } = numpyMatmul(c, a, b);
    // The same sums in the same order, rounded once: bit for bit.
    assertBitwise(await rc.read(), Float32Array.from(exact), `${what} (reference)`);
    // A GPU that flushes subnormals: the reference of flushed operands (see matmulProperty).
    using rf = matmul(
      ref.tensor(a.map(flushSubnormal), shapes.a),
      ref.tensor(b.map(flushSubnormal), shapes.b),
      flags,
    );
    // Each output a sequential sum over k in every variant: |gpu − exact| ≤ γ(k)·Σ|ab|
    // (bounds.dot), and the reference is the exact sum rounded once (+ u·Σ|ab|).
    const bound = (i: number) => dot(c.k, scale[i]) + U * scale[i];
    assertWithin(await gc.read(), await rc.read(), bound, what, await rf.read());
  },
};
