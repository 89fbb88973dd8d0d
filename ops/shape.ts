/**
 * @file Ops that rearrange values without arithmetic: `reshape` and `transpose`, and the
 * reshapes that add or drop dimensions of size 1, `expandDims` and `squeeze`. On the
 * GPU each is a view (`kernels/term.ts`): eagerly one copy kernel, and under `jit` no
 * kernel at all — the consumer reads through the rewritten index. Exact on every backend.
 */
import { reshapeTerm, transposeView } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkAxes, checkInteger, checkTensors } from "./_validate.ts";
import { ALL_TYPES, DTYPES } from "./dtype.ts";
import { checkShape } from "./broadcast.ts";
import { describe, describeShape, formatShape, type Tensor } from "./tensor.ts";

const reshapeOp: OpDefinition<void> = {
  name: "reshape",
  takes: ALL_TYPES,
  reference: ([x]) => x.slice(),
  form: (_params, shapes) => ({ kind: "term", build: ([x]) => reshapeTerm(x, shapes.output) }),
  vjp: (g, [x]) => [reshape(g, x.shape)],
};

/**
 * The same values, row-major, under another shape of the same size. One dimension may be
 * −1: it is inferred.
 *
 * @param x A tensor.
 * @param shape The new shape: integers ≥ 1, or one −1.
 * @returns A new tensor of `shape`.
 * @example
 * ```ts
 * import { cpu, reshape } from "@deno-gpu/kernels";
 * using m = reshape(cpu().tensor([1, 2, 3, 4, 5, 6]), [2, -1]);
 * console.log(m.shape, await m.read()); // [2, 3] Float32Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkArity("reshape", arguments, 2);
  const op = "reshape";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: expected shape as an array of integers, got ${describe(shape)}`);
  }
  const inferred = Array.from(shape).filter((d) => d === -1).length;
  const known = Array.from(shape).map((d) => (d === -1 ? 1 : d));
  if (inferred > 1) {
    throw new RangeError(`${op}: expected at most one −1 in shape, got ${describeShape(shape)}`);
  }
  checkShape(op, known);
  const rest = known.reduce((a, b) => a * b, 1);
  const target = inferred && input.size % rest === 0
    ? Array.from(shape).map((d) => (d === -1 ? input.size / rest : d))
    : known;
  if (target.reduce((a, b) => a * b, 1) !== input.size) {
    throw new RangeError(
      `${op}: expected a shape of ${input.size} elements for ${formatShape(input.shape)}, got ${
        describeShape(shape)
      }`,
    );
  }
  return runOp(reshapeOp, [input], undefined, target);
}

const transposeOp: OpDefinition<{ perm: readonly number[] }> = {
  name: "transpose",
  takes: ALL_TYPES,
  reference([x], { perm }, shapes) {
    const from = shapes.inputs[0];
    const strides = from.map((_, d) => from.slice(d + 1).reduce((a, b) => a * b, 1));
    const to = shapes.output;
    const out = new DTYPES[shapes.outputType].array(x.length);
    const coordinate = new Array<number>(to.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let source = 0;
      for (let d = 0; d < to.length; d++) source += coordinate[d] * strides[perm[d]];
      out[i] = x[source];
      for (let d = to.length - 1; d >= 0 && ++coordinate[d] === to[d]; d--) coordinate[d] = 0;
    }
    return out;
  },
  form: ({ perm }) => ({ kind: "term", build: ([x]) => transposeView(x, perm) }),
  staticKey: ({ perm }) => perm.join(","),
  vjp: (g, _inputs, { perm }) => {
    const inverse = perm.map((_, d) => perm.indexOf(d));
    return [transpose(g, inverse)];
  },
};

/**
 * Permutes the dimensions: output dimension d is input dimension `perm[d]` (NumPy's
 * `transpose`).
 *
 * @param x A tensor.
 * @param perm A permutation of `0 … rank − 1` (default: reversed, so a matrix is transposed).
 * @returns A new tensor of the permuted shape.
 * @example
 * ```ts
 * import { cpu, transpose } from "@deno-gpu/kernels";
 * using t = transpose(cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]));
 * console.log(t.shape, await t.read()); // [3, 2] Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  checkArity("transpose", arguments, 2);
  const op = "transpose";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const rank = input.shape.length;
  const order = perm === undefined ? input.shape.map((_, d) => rank - 1 - d) : perm;
  const valid = Array.isArray(order) && order.length === rank &&
    Array.from(order).every((p) => Number.isInteger(p) && p >= 0 && p < rank) &&
    new Set(order).size === rank;
  if (!valid) {
    throw new RangeError(
      `${op}: expected perm to be a permutation of 0…${rank - 1} for shape ${
        formatShape(input.shape)
      }, got ${describeShape(perm)}`,
    );
  }
  return runOp(
    transposeOp,
    [input],
    { perm: [...order] },
    order.map((p) => input.shape[p]),
  );
}

/**
 * `x` with a new dimension of size 1 at `axis` (NumPy's `expand_dims`): the same values,
 * reshaped.
 *
 * @param x A tensor of rank r.
 * @param axis Where the new dimension goes in the result, an integer in [−r − 1, r]
 *   (negative counts from the end of the result, as NumPy's).
 * @returns A new tensor of rank r + 1.
 * @example
 * ```ts
 * import { cpu, expandDims } from "@deno-gpu/kernels";
 * using column = expandDims(cpu().tensor([1, 2, 3]), -1);
 * console.log(column.shape); // [3, 1]
 * ```
 */
export function expandDims(x: Tensor, axis: number): Tensor {
  checkArity("expandDims", arguments, 2);
  const op = "expandDims";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const rank = input.shape.length;
  const a = checkInteger(op, "axis", axis, { min: -rank - 1, max: rank });
  const at = a < 0 ? a + rank + 1 : a;
  return reshape(input, [...input.shape.slice(0, at), 1, ...input.shape.slice(at)]);
}

/**
 * `x` without dimensions of size 1 (NumPy's `squeeze`): the given ones, or every one.
 *
 * @param x A tensor.
 * @param axis An axis or a list of distinct axes, each of size 1 (negative counts from the
 *   end); absent: every dimension of size 1.
 * @returns A new tensor of the remaining dimensions (a scalar when none remain).
 * @example
 * ```ts
 * import { cpu, squeeze } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3], [1, 3, 1]);
 * using row = squeeze(x, 0);
 * using all = squeeze(x);
 * console.log(row.shape, all.shape); // [3, 1] [3]
 * ```
 */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkArity("squeeze", arguments, 2);
  const op = "squeeze";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const axes = axis === undefined
    ? input.shape.flatMap((d, i) => (d === 1 ? [i] : []))
    : checkAxes(op, axis, input.shape.length);
  const wide = axes.find((a) => input.shape[a] !== 1);
  if (wide !== undefined) {
    throw new RangeError(
      `${op}: expected axes of size 1, got axis ${wide} of size ${input.shape[wide]} in shape ${
        formatShape(input.shape)
      }`,
    );
  }
  return reshape(input, input.shape.filter((_, i) => !axes.includes(i)));
}
