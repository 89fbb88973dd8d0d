/**
 * @file `matmul`: C = op(A)·op(B), with transposes as flags so that gradients (Xᵀr) need
 * no transposed copy; batched as NumPy's `matmul` ([..., m, k]·[..., k, n], the leading
 * dimensions broadcast, a 1-d operand promoted to a matrix and its dimension removed
 * after). A batch runs through the same kernel variants as one product: each operand
 * either has every matrix of the batch (its batch stride m·k) or one matrix that every
 * product reads (stride 0, the kernel's broadcast); any other broadcast is made whole
 * first (`broadcastTo`), and a batch that only `a` has, untransposed, is folded into m
 * ([b, m, k]·[k, n] is one [b·m, k]·[k, n] product).
 */
import { encodeMatmul, type MatmulParams } from "../kernels/matmul.ts";
import { sizeOf } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkFlag, checkOptions, checkTensors } from "./_validate.ts";
import { broadcastShapes, broadcastTo, sumToShape } from "./broadcast.ts";
import { reshape } from "./shape.ts";
import { formatShape, type Tensor } from "./tensor.ts";

/**
 * Options of {@linkcode matmul}.
 *
 * @example
 * ```ts
 * import { cpu, matmul, type MatmulOptions } from "@deno-gpu/kernels";
 * using a = cpu().tensor([1, 2, 3, 4, 5, 6], [3, 2]);
 * const aTa: MatmulOptions = { transposeA: true }; // Aᵀ·A without a transposed copy
 * using c = matmul(a, a, aTa);
 * console.log(c.shape, await c.read()); // [2, 2] Float32Array [35, 44, 44, 56]
 * ```
 */
export interface MatmulOptions {
  /** Use Aᵀ: `a` is stored as [k, m]. */
  readonly transposeA?: boolean;
  /** Use Bᵀ: `b` is stored as [n, k]. */
  readonly transposeB?: boolean;
}

/** The CPU reference: each product of the batch, a float64 sum per output. */
function reference(
  [a, b]: readonly Float32Array[],
  { m, k, n, transposeA, transposeB, batch = 1, batchStrideA = 0, batchStrideB = 0 }: MatmulParams,
): Float32Array {
  const c = new Float32Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const a0 = t * batchStrideA, b0 = t * batchStrideB, c0 = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          sum += a[a0 + (transposeA ? p * m + i : i * k + p)] *
            b[b0 + (transposeB ? j * k + p : p * n + j)];
        }
        c[c0 + i * n + j] = sum;
      }
    }
  }
  return c;
}

/** `x` summed over the batch dimensions that `shape` broadcasts (NumPy's rule) to reach. */
function sumToInput(x: Tensor, shape: readonly number[]): Tensor {
  return sameShape(x.shape, shape) ? x : sumToShape(x, shape);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The product C = op(A)·op(B) (batched: each matrix's), in one kernel of the tuned
 * variant. Under jit a matmul anchors a kernel that reads its operands through their
 * views (a gathered minibatch, a transpose) and writes through its epilogue. Its vjp
 * gives batched products of g with the operands, summed over the batch dimensions an
 * operand was broadcast along.
 */
const matmulOp: OpDefinition<MatmulParams> = {
  name: "matmul",
  reference,
  kernel: encodeMatmul,
  form: (params) => ({ kind: "matmul", params }),
  vjp(g, [a, b], { transposeA, transposeB }, needed) {
    // C = op(A)·op(B): dop(A) = g·op(B)ᵀ and dop(B) = op(A)ᵀ·g, transposed back
    // where A or B is stored transposed; the flags do it without copies.
    const da = () =>
      transposeA
        ? matmul(b, g, { transposeA: transposeB, transposeB: true })
        : matmul(g, b, { transposeB: !transposeB });
    const db = () =>
      transposeB
        ? matmul(g, a, { transposeA: true, transposeB: transposeA })
        : matmul(a, g, { transposeA: !transposeA });
    return [
      needed[0] ? sumToInput(da(), a.shape) : null,
      needed[1] ? sumToInput(db(), b.shape) : null,
    ];
  },
};

/**
 * Matrix product of 2-D tensors: `[m, k]·[k, n] → [m, n]`, after the optional transposes.
 *
 * @param a The left matrix, `[m, k]` (or `[k, m]` with `transposeA`).
 * @param b The right matrix, `[k, n]` (or `[n, k]` with `transposeB`).
 * @param options Transpose flags.
 * @returns A new `[m, n]` tensor.
 * @example
 * ```ts
 * import { cpu, matmul } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using c = matmul(a, a, { transposeB: true }); // A·Aᵀ
 * console.log(c.shape, await c.read()); // [2, 2] Float32Array [14, 32, 32, 77]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor {
  checkArity("matmul", arguments, 3);
  const op = "matmul";
  const [left, right] = checkTensors(op, { a, b });
  const o = checkOptions(op, options, false, ["transposeA", "transposeB"]);
  const transposeA = checkFlag(op, "transposeA", o.transposeA);
  const transposeB = checkFlag(op, "transposeB", o.transposeB);
  for (const [name, t, flag] of [["a", left, transposeA], ["b", right, transposeB]] as const) {
    if (t.shape.length === 0 || (t.shape.length === 1 && flag)) {
      throw new RangeError(
        `${op}: expected ${name} to have at least ${flag ? 2 : 1} dimensions${
          flag ? ` (transpose${name.toUpperCase()})` : ""
        }, got shape ${formatShape(t.shape)}`,
      );
    }
  }
  // NumPy's promotion: a vector a is one row, a vector b one column, removed after.
  const vectorA = left.shape.length === 1, vectorB = right.shape.length === 1;
  const a2 = vectorA ? [1, left.shape[0]] : left.shape.slice(-2);
  const b2 = vectorB ? [right.shape[0], 1] : right.shape.slice(-2);
  const [m, k] = transposeA ? [a2[1], a2[0]] : a2;
  const [kb, n] = transposeB ? [b2[1], b2[0]] : b2;
  if (k !== kb) {
    throw new RangeError(
      `${op}: expected the inner dimensions to match, got a ${formatShape(left.shape)}${
        transposeA ? "ᵀ" : ""
      } (k = ${k}) and b ${formatShape(right.shape)}${transposeB ? "ᵀ" : ""} (k = ${kb})`,
    );
  }
  const batchA = left.shape.slice(0, -2), batchB = right.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(op, batchA, batchB);
  } catch {
    throw new RangeError(
      `${op}: expected the batch dimensions (all but the last two) to broadcast as NumPy's, ` +
        `got a ${formatShape(left.shape)} and b ${formatShape(right.shape)}`,
    );
  }
  const outShape = [...batch, ...(vectorA ? [] : [m]), ...(vectorB ? [] : [n])];
  const params = { m, k, n, transposeA, transposeB };
  const flags = { transposeA, transposeB };
  const matrix = (t: Tensor, shape: number[]) => t.shape.length === 2 ? t : reshape(t, shape);
  if (sizeOf(batch) === 1) {
    const c = runOp(matmulOp, [matrix(left, a2), matrix(right, b2)], params, [m, n]);
    return sameShape(c.shape, outShape) ? c : reshape(c, outShape);
  }
  if (sizeOf(batchB) === 1 && !transposeA && !vectorA) {
    // Only a is batched: its matrices are the rows of one [b·m, k] matrix.
    const rows = matmul(reshape(left, [sizeOf(batch) * m, k]), matrix(right, b2), flags);
    return reshape(rows, outShape);
  }
  // Each operand holds every matrix of the batch (made whole where it broadcasts
  // along some dimensions only) or one matrix, read by every product.
  const operand = (t: Tensor, own: readonly number[], matrix: number[]) =>
    sizeOf(own) === 1 ? { t, stride: 0 } : {
      t: own.length === batch.length && own.every((d, i) => d === batch[i])
        ? t
        : broadcastTo(t, [...batch, ...matrix]),
      stride: matrix[0] * matrix[1],
    };
  const A = operand(vectorA ? reshape(left, a2) : left, batchA, a2);
  const B = operand(vectorB ? reshape(right, b2) : right, batchB, b2);
  const c = runOp(
    matmulOp,
    [A.t, B.t],
    { ...params, batch: sizeOf(batch), batchStrideA: A.stride, batchStrideB: B.stride },
    [...batch, m, n],
  );
  return sameShape(c.shape, outShape) ? c : reshape(c, outShape);
}
