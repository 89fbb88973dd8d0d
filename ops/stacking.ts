/**
 * @file Copies of tensors side by side: `stack` (tensors of one shape along a new axis:
 * each gains a dimension of size 1, then they are concatenated) and `tile` (one tensor
 * repeated along each axis, NumPy's `tile`). Both are views (`kernels/term.ts`): `stack`
 * is `concat`'s chain of padded reads, `tile` a broadcast of `x` with a dimension of 1
 * before each of its own; eagerly copy kernels, under `jit` no kernel of their own.
 * Exact on every backend. Their gradients are the opposite views: `stack`'s slices the
 * gradient (through `concat`), `tile`'s sums it over the tiles.
 */
import { broadcastView, reshapeTerm } from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import {
  checkArity,
  checkInteger,
  checkOneType,
  checkOptions,
  checkResultSize,
  checkTensors,
} from "./_validate.ts";
import { ALL_TYPES, DTYPES } from "./dtype.ts";
import { sumToShape } from "./broadcast.ts";
import { concat } from "./layout.ts";
import { scope } from "./scope.ts";
import { expandDims, reshape } from "./shape.ts";
import { describe, describeShape, formatShape, type Tensor } from "./tensor.ts";

/**
 * Joins tensors of one shape along a new axis (NumPy's `stack`).
 *
 * @param tensors Tensors of one backend and one shape (rank r).
 * @param options `axis`, where the new dimension goes in the result: an integer in
 *   [−r − 1, r] (default 0; negative counts from the end of the result).
 * @returns A new tensor of rank r + 1 whose `axis` has one entry per tensor.
 * @example
 * ```ts
 * import { cpu, stack } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using pairs = stack([ref.tensor([1, 2]), ref.tensor([3, 4])], { axis: 1 });
 * console.log(pairs.shape, await pairs.read()); // [2, 2] Float32Array [1, 3, 2, 4]
 * ```
 */
export function stack(tensors: readonly Tensor[], options?: { readonly axis?: number }): Tensor {
  checkArity("stack", arguments, 2);
  const op = "stack";
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${op}: expected a non-empty array of tensors, got ${describe(tensors)}`);
  }
  // Array.from, not map: a hole in a sparse array is checked as `undefined`.
  const inputs = checkOneType(
    op,
    checkTensors(
      op,
      Object.fromEntries(Array.from(tensors, (t, i) => [`tensors[${i}]`, t])),
      ALL_TYPES,
    ),
  );
  const shape = inputs[0].shape;
  const rank = shape.length;
  inputs.forEach((t, k) => {
    if (t.shape.length !== rank || t.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(
        `${op}: expected tensors of one shape, got ${formatShape(shape)} and ${
          formatShape(t.shape)
        } (tensors[${k}])`,
      );
    }
  });
  const o = checkOptions(op, options, false, ["axis"]);
  const axis = o.axis === undefined
    ? 0
    : checkInteger(op, "axis", o.axis, { min: -rank - 1, max: rank });
  const a = axis < 0 ? axis + rank + 1 : axis;
  checkResultSize(op, inputs[0].backend, [inputs.length, ...shape]);
  return scope(() => concat(inputs.map((t) => expandDims(t, a)), { axis: a }));
}

/** `x` as `[1, d0, 1, d1, …]` broadcast to `[r0, d0, r1, d1, …]`, read row-major. */
interface TileParams {
  readonly spaced: readonly number[];
  readonly tiled: readonly number[];
}

const tileOp: OpDefinition<TileParams> = {
  name: "tile",
  takes: ALL_TYPES,
  reference([x], { spaced }, shapes) {
    // x's dimensions, with the leading 1s that reps longer than its rank add.
    const from = spaced.filter((_, i) => i % 2 === 1);
    const to = shapes.output;
    const out = new DTYPES[shapes.outputType].array(to.reduce((a, b) => a * b, 1));
    const coordinate = new Array<number>(to.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let source = 0;
      for (let d = 0; d < to.length; d++) source = source * from[d] + (coordinate[d] % from[d]);
      out[i] = x[source];
      for (let d = to.length - 1; d >= 0 && ++coordinate[d] === to[d]; d--) coordinate[d] = 0;
    }
    return out;
  },
  form: ({ spaced, tiled }, shapes) => ({
    kind: "term",
    build: ([x]) => reshapeTerm(broadcastView(reshapeTerm(x, spaced), tiled), shapes.output),
  }),
  // Each element of x was read once per tile: its gradient sums the tiles.
  vjp: (g, [x], { spaced, tiled }) => [
    scope(() => reshape(sumToShape(reshape(g, tiled), spaced), x.shape)),
  ],
};

/**
 * `x` repeated `reps[d]` times along each axis (NumPy's `tile`): when `reps` is longer
 * than `x`'s rank, `x` gains leading dimensions of size 1; when shorter, `reps` gains
 * leading 1s.
 *
 * @param x A tensor.
 * @param reps Repetitions per axis, integers ≥ 1 (a number is `[reps]`).
 * @returns A new tensor of rank max(r, reps.length), each dimension `dᵢ·repsᵢ`.
 * @example
 * ```ts
 * import { cpu, tile } from "@deno-gpu/kernels";
 * using t = tile(cpu().tensor([1, 2], [1, 2]), [2, 2]);
 * console.log(t.shape, await t.read()); // [2, 4] Float32Array [1, 2, 1, 2, 1, 2, 1, 2]
 * ```
 */
export function tile(x: Tensor, reps: number | readonly number[]): Tensor {
  checkArity("tile", arguments, 2);
  const op = "tile";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const list = typeof reps === "number" ? [reps] : reps;
  if (!Array.isArray(list)) {
    throw new TypeError(
      `${op}: expected reps to be an integer or an array of integers, got ${describeShape(reps)}`,
    );
  }
  const counts = Array.from(list, (r, i) => checkInteger(op, `reps[${i}]`, r, { min: 1 }));
  const rank = Math.max(input.shape.length, counts.length);
  const dims = [...new Array(rank - input.shape.length).fill(1), ...input.shape];
  const times = [...new Array(rank - counts.length).fill(1), ...counts];
  const shape = dims.map((d, i) => d * times[i]);
  checkResultSize(op, input.backend, shape);
  const spaced = dims.flatMap((d) => [1, d]);
  const tiled = dims.flatMap((d, i) => [times[i], d]);
  return runOp(tileOp, [input], { spaced, tiled }, shape);
}
