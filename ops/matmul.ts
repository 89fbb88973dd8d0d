/**
 * @file `matmul`: C = op(A)·op(B) for 2-D tensors, with transposes as flags so that
 * gradients (Xᵀr) need no transposed copy.
 */
import { encodeMatmul, type MatmulParams } from "../kernels/matmul.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkFlag, checkOptions, checkRank, checkTensors } from "./_validate.ts";
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

const matmulOp: OpDefinition<MatmulParams> = {
  name: "matmul",
  reference([a, b], { m, k, n, transposeA, transposeB }) {
    const c = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          sum += a[transposeA ? p * m + i : i * k + p] * b[transposeB ? j * k + p : p * n + j];
        }
        c[i * n + j] = sum;
      }
    }
    return c;
  },
  kernel: encodeMatmul,
  // Under jit, a matmul anchors a kernel that reads its operands through their views
  // (a gathered minibatch, a transpose) and writes through its epilogue.
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
    return [needed[0] ? da() : null, needed[1] ? db() : null];
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
  checkRank(op, "a", left, 2);
  checkRank(op, "b", right, 2);
  const o = checkOptions(op, options, false, ["transposeA", "transposeB"]);
  const transposeA = checkFlag(op, "transposeA", o.transposeA);
  const transposeB = checkFlag(op, "transposeB", o.transposeB);
  const [m, k] = transposeA ? [left.shape[1], left.shape[0]] : left.shape;
  const [kb, n] = transposeB ? [right.shape[1], right.shape[0]] : right.shape;
  if (k !== kb) {
    throw new RangeError(
      `${op}: expected the inner dimensions to match, got a ${formatShape(left.shape)}${
        transposeA ? "ᵀ" : ""
      } (k = ${k}) and b ${formatShape(right.shape)}${transposeB ? "ᵀ" : ""} (k = ${kb})`,
    );
  }
  return runOp(matmulOp, [left, right], { m, k, n, transposeA, transposeB }, [m, n]);
}
