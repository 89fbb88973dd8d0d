/**
 * @file Indexing along an axis: `gather` (NumPy's `take`), `takeAlongAxis` (its
 * `take_along_axis`) and their transpose `scatterAdd` (NumPy's `add.at`), each the
 * other's gradient; and `oneHot`, indices spread along a new axis.
 *
 * `gather` is a view (`kernels/term.ts`'s gather view, the one `takeRows` uses on axis
 * 0): eagerly one copy kernel, under `jit` no kernel of its own — its consumer reads `x`
 * at the gathered index (an embedding lookup is folded into the matmul that uses it).
 *
 * `scatterAdd` is the hand-written kernel of `kernels/scatter_add.ts`: each output
 * element starts from x and adds the updates whose index hits it in index order —
 * NumPy's `add.at` order, so no atomics, bit-identical runs and NumPy's float32 values.
 * Its gradients: the identity for x, a gather for the updates.
 */
import { encodeScatterAdd } from "../kernels/scatter_add.ts";
import { call, cast, input, position } from "../kernels/expression.ts";
import { DTYPES } from "../kernels/dtype.ts";
import {
  broadcastView,
  gatherAlongView,
  gatherView,
  mapTerm,
  reshapeTerm,
} from "../kernels/term.ts";
import { ALL_TYPES, type DType } from "./dtype.ts";
import { checkIndexList, checkIndexType, int32Indices } from "./indices.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { activeTape } from "./_tape.ts";
import {
  checkArity,
  checkInteger,
  checkOptions,
  checkResultSize,
  checkTensors,
} from "./_validate.ts";
import { broadcastTo } from "./broadcast.ts";
import { fill } from "./creation.ts";
import { scope } from "./scope.ts";
import { formatShape, isTensor, type Tensor } from "./tensor.ts";

/**
 * The axis indexed, and how the indices are read: `take`'s (one index per position along
 * the axis, any shape) or, `along`, `take_along_axis`'s (one per element, of the
 * gathered shape).
 */
interface IndexParams {
  readonly axis: number;
  readonly along: boolean;
}

/** `shape` seen as `[outer, n, inner]` around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return [product(shape.slice(0, axis)), shape[axis], product(shape.slice(axis + 1))];
}

/** `x.shape` with `axis` replaced by the indices' shape: what `gather` returns. */
function gatheredShape(shape: readonly number[], axis: number, indices: readonly number[]) {
  return [...shape.slice(0, axis), ...indices, ...shape.slice(axis + 1)];
}

/**
 * Calls `visit(from, to)` for every element a gather copies, from `x`'s flat index to
 * the result's: the reference of both ops and both ways of reading indices.
 */
function forEachGathered(
  op: string,
  indices: ArrayLike<number>,
  { axis, along }: IndexParams,
  xShape: readonly number[],
  outShape: readonly number[],
  visit: (from: number, to: number) => void,
): void {
  const [outer, n, inner] = around(xShape, axis);
  const rows = checkIndexList(op, "indices", indices, n, { fromEnd: true });
  const count = along ? outShape[axis] : rows.length;
  for (let a = 0, to = 0; a < outer; a++) {
    for (let j = 0; j < count; j++) {
      for (let k = 0; k < inner; k++, to++) {
        visit((a * n + rows[along ? to : j]) * inner + k, to);
      }
    }
  }
}

/** Gathers of x (any type) at int32 indices (`ops/indices.ts`); the result has x's type. */
const gatherOp: OpDefinition<IndexParams> = {
  name: "gather",
  takes: ALL_TYPES,
  returns: ([x]) => x,
  reference([x, indices], params, shapes) {
    const out = new DTYPES[shapes.outputType].array(shapes.output.reduce((a, b) => a * b, 1));
    forEachGathered(
      gatherOpOf(params).name,
      indices,
      params,
      shapes.inputs[0],
      shapes.output,
      (from, to) => {
        out[to] = x[from];
      },
    );
    return out;
  },
  form: ({ axis, along }) => ({
    kind: "term",
    build: ([x, indices]) =>
      along ? gatherAlongView(x, indices, axis) : gatherView(x, indices, axis),
  }),
  // The transpose of a gather sums the gradient's rows into the positions they came from.
  vjp: (g, [x, indices], params, needed) => [
    needed[0] ? scatterAddOf(fill("gather", x.backend, x.shape, 0), indices, g, params) : null,
    null,
  ],
};

/** `takeAlongAxis`: the gather that reads one index per element, named in its errors. */
const takeAlongAxisOp: OpDefinition<IndexParams> = { ...gatherOp, name: "takeAlongAxis" };

/** The gather op of `params`' way of reading indices. */
function gatherOpOf({ along }: IndexParams): OpDefinition<IndexParams> {
  return along ? takeAlongAxisOp : gatherOp;
}

/**
 * The types `scatterAdd` adds: float32, as its kernel (`kernels/scatter_add.ts`) reads
 * and writes; others are a `TypeError` naming the op.
 */
const SCATTERED_TYPES: readonly DType[] = ["float32"];

/** x and updates of `SCATTERED_TYPES`, int32 indices (checked by `scatterAdd`). */
const scatterAddOp: OpDefinition<IndexParams> = {
  name: "scatterAdd",
  takes: [...SCATTERED_TYPES, "int32"],
  returns: ([x]) => x,
  reference([x, indices, updates], params, shapes) {
    // In float64 from x, each update in index order (NumPy's order: the same ±0).
    const sums = Float64Array.from(x);
    forEachGathered("scatterAdd", indices, params, shapes.output, shapes.inputs[2], (to, from) => {
      sums[to] += updates[from];
    });
    return Float32Array.from(sums);
  },
  kernel(runtime, inputs, output, { axis, along }, shapes) {
    const [outer, n, inner] = around(shapes.inputs[0], axis);
    const count = along ? shapes.inputs[2][axis] : shapes.inputs[1].reduce((a, b) => a * b, 1);
    encodeScatterAdd(runtime, inputs, output, { outer, n, inner, count, along });
  },
  vjp: (g, [_x, indices, updates], params, needed) => [
    needed[0] ? g : null,
    null,
    needed[2] ? runOp(gatherOpOf(params), [g, indices], params, updates.shape) : null,
  ],
};

/** `scatterAdd` once validated: for the gathers' gradients too. */
function scatterAddOf(x: Tensor, indices: Tensor, updates: Tensor, params: IndexParams): Tensor {
  return runOp(scatterAddOp, [x, indices, updates], params, x.shape);
}

/** The options of the indexing ops. */
export interface IndexingOptions {
  /** The axis indexed (default 0; negative counts from the end). */
  readonly axis?: number;
}

/** Checks `x` and the axis option (absent: `fallback`): `x` has at least one dimension. */
function checkAxisOf(op: string, x: Tensor, options: unknown, fallback = 0): number {
  const rank = x.shape.length;
  if (rank < 1) {
    throw new RangeError(`${op}: expected x to have at least one dimension, got a scalar`);
  }
  const o = checkOptions(op, options, false, ["axis"]);
  const axis = o.axis === undefined
    ? fallback
    : checkInteger(op, "axis", o.axis, { min: -rank, max: rank - 1 });
  return axis < 0 ? axis + rank : axis;
}

/**
 * The indices argument checked: a tensor on x's backend of an index type
 * (`ops/indices.ts`), or a list's values checked on the host (uploaded only once every
 * argument is checked).
 */
function checkIndexArgument(
  op: string,
  x: Tensor,
  indices: unknown,
  n: number,
): Tensor | Int32Array {
  if (!isTensor(indices)) return checkIndexList(op, "indices", indices, n, { fromEnd: true });
  const [, given] = checkTensors(op, { x, indices }, ALL_TYPES);
  checkIndexType(op, "indices", given);
  return given;
}

/** The shape of checked indices: a list's is 1-D. */
function indexShape(indices: Tensor | Int32Array): readonly number[] {
  return isTensor(indices) ? indices.shape : [indices.length];
}

/**
 * Runs `apply` with the indices as an int32 tensor on x's backend; a list uploaded, or
 * float32 indices converted, is freed afterwards, unless a gradient taken later of one of
 * `differentiable` needs it (then the differentiating scope frees it).
 */
function withIndices(
  op: string,
  x: Tensor,
  indices: Tensor | Int32Array,
  differentiable: readonly Tensor[],
  apply: (indices: Tensor) => Tensor,
): Tensor {
  const tensor = isTensor(indices)
    ? int32Indices(op, "indices", indices)
    : x.backend.tensor(indices);
  if (tensor === indices) return apply(tensor);
  try {
    return apply(tensor);
  } finally {
    const tape = activeTape();
    if (!differentiable.some((t) => tape?.tracked.has(t))) tensor.dispose();
  }
}

/**
 * The elements of `x` at `indices` along `axis` (NumPy's `take(x, indices, axis)`):
 * output `[...x.shape[:axis], ...indices.shape, ...x.shape[axis+1:]]`. On axis 0 with
 * 1-D indices this is `takeRows`. Indices on the host (a list, or a tensor of the CPU
 * backend) outside [−n, n) are a `RangeError`; on the GPU such an index reads an
 * unspecified element (never memory outside `x`: WebGPU bounds every access).
 * Under `jit` the gather is folded into the indexing of whatever reads it.
 *
 * @param x A tensor of at least one dimension.
 * @param indices Whole numbers in [−n, n), n = `x.shape[axis]` (negative counts from
 *   the end): a tensor of any shape on x's backend, or an array (1-D).
 * @param options {@linkcode IndexingOptions}: `axis` (default 0).
 * @returns A new tensor; exact copies of `x`'s values.
 * @example
 * ```ts
 * import { cpu, gather } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using columns = gather(x, [2, -3], { axis: 1 });
 * using rows = gather(x, ref.tensor([1, 1, 0, 1], [2, 2]));
 * console.log(await columns.read(), rows.shape); // Float32Array [3, 1, 6, 4] [2, 2, 3]
 * ```
 */
export function gather(
  x: Tensor,
  indices: Tensor | ArrayLike<number>,
  options?: IndexingOptions,
): Tensor {
  checkArity("gather", arguments, 3);
  const op = "gather";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const axis = checkAxisOf(op, input, options);
  const checked = checkIndexArgument(op, input, indices, input.shape[axis]);
  const shape = gatheredShape(input.shape, axis, indexShape(checked));
  checkResultSize(op, input.backend, shape);
  return withIndices(
    op,
    input,
    checked,
    [input],
    (index) => runOp(gatherOp, [input, index], { axis, along: false }, shape),
  );
}

/**
 * The elements of `x` at `indices` along `axis`, one index per element (NumPy's
 * `take_along_axis`): `indices` has x's rank; along `axis` it says which element of x
 * each result element takes, and in the other dimensions it broadcasts with `x` as
 * NumPy broadcasts (each pair equal, or one of them 1). The usual partner of `argsort`
 * and `topK`'s indices. Index checks: as for {@linkcode gather}.
 *
 * @param x A tensor of at least one dimension.
 * @param indices Whole numbers in [−n, n), n = `x.shape[axis]`: a tensor of x's rank on
 *   x's backend (an array for a 1-D x).
 * @param options {@linkcode IndexingOptions}: `axis` (here default −1, the last).
 * @returns A new tensor: the broadcast shape, `indices.shape[axis]` along `axis`; exact
 *   copies of `x`'s values.
 * @example
 * ```ts
 * import { cpu, takeAlongAxis } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([10, 30, 20, 60, 50, 40], [2, 3]);
 * using largest = takeAlongAxis(x, ref.tensor([1, 0], [2, 1]));
 * console.log(largest.shape, await largest.read()); // [2, 1] Float32Array [30, 60]
 * ```
 */
export function takeAlongAxis(
  x: Tensor,
  indices: Tensor | ArrayLike<number>,
  options?: IndexingOptions,
): Tensor {
  checkArity("takeAlongAxis", arguments, 3);
  const op = "takeAlongAxis";
  const [input] = checkTensors(op, { x }, ALL_TYPES);
  const rank = input.shape.length;
  const axis = checkAxisOf(op, input, options, -1);
  const checked = checkIndexArgument(op, input, indices, input.shape[axis]);
  const given = indexShape(checked);
  if (given.length !== rank) {
    throw new RangeError(
      `${op}: expected indices of x's rank ${rank}, got shape ${formatShape(given)}`,
    );
  }
  const shape = input.shape.map((d, i) => {
    if (i === axis) return given[i];
    if (d !== given[i] && d !== 1 && given[i] !== 1) {
      throw new RangeError(
        `${op}: expected indices that broadcast with x ${
          formatShape(input.shape)
        } outside axis ${axis}, got shape ${formatShape(given)}`,
      );
    }
    return Math.max(d, given[i]);
  });
  checkResultSize(op, input.backend, shape);
  const widen = (t: Tensor, to: readonly number[]) =>
    t.shape.every((d, i) => d === to[i]) ? t : broadcastTo(t, to);
  return withIndices(op, input, checked, [input], (index) =>
    scope(() =>
      runOp(
        takeAlongAxisOp,
        [
          widen(input, shape.map((d, i) => (i === axis ? input.shape[axis] : d))),
          widen(index, shape),
        ],
        { axis, along: true },
        shape,
      )
    ));
}

/** int32 class ids to float32 rows. */
const oneHotOp: OpDefinition<{ depth: number }> = {
  name: "oneHot",
  takes: ["int32"],
  returns: () => "float32",
  reference([indices], { depth }) {
    const out = new Float32Array(indices.length * depth);
    checkIndexList("oneHot", "indices", indices, depth).forEach((r, j) => {
      out[j * depth + r] = 1;
    });
    return out;
  },
  // Element (…, c) is indices[…] == c: the indices broadcast along a column of iota.
  form: ({ depth }, shapes) => ({
    kind: "term",
    build: ([indices]) =>
      mapTerm(
        cast("float32", call("equal", input(0), input(1))),
        [
          broadcastView(reshapeTerm(indices, [...shapes.inputs[0], 1]), shapes.output),
          broadcastView(mapTerm(position(), [], [depth]), shapes.output),
        ],
        shapes.output,
      ),
  }),
  // Piecewise constant in the indices: no gradient flows.
  vjp: () => [null],
};

/**
 * One-hot rows (JAX's `nn.one_hot`, PyTorch's `one_hot`, in float32): for each index,
 * a new trailing axis of `depth` elements, 1 at the index and 0 elsewhere. Indices on
 * the host (a list, or a tensor of the CPU backend) outside [0, depth) are a
 * `RangeError`, as PyTorch's; on the GPU such an index gives a row of zeros, as JAX's.
 * Under `jit` it is computed where it is read (a one-hot matmul reads it in its loads).
 *
 * @param indices Class ids, whole numbers in [0, depth): a tensor of any shape.
 * @param depth The number of classes, an integer ≥ 1.
 * @returns A new tensor `[...indices.shape, depth]` of 0 and 1.
 * @example
 * ```ts
 * import { cpu, oneHot } from "@deno-gpu/kernels";
 * using rows = oneHot(cpu().tensor([2, 0]), 3);
 * console.log(rows.shape, await rows.read()); // [2, 3] Float32Array [0, 0, 1, 1, 0, 0]
 * ```
 */
export function oneHot(indices: Tensor, depth: number): Tensor {
  checkArity("oneHot", arguments, 2);
  const op = "oneHot";
  const [given] = checkTensors(op, { indices }, ALL_TYPES);
  // The classes are compared with the kernel's float32 position: exact to 2^24.
  const classes = checkInteger(op, "depth", depth, { min: 1, max: 2 ** 24 });
  const shape = [...given.shape, classes];
  checkResultSize(op, given.backend, shape);
  const index = int32Indices(op, "indices", given);
  try {
    return runOp(oneHotOp, [index], { depth: classes }, shape);
  } finally {
    if (index !== given) index.dispose();
  }
}

/**
 * `x` plus `updates` summed into the positions `gather` would read (NumPy's
 * `np.add.at(x, (…, indices), updates)` on a copy): element `[a, r, k]` of the result is
 * `x[a, r, k]` plus every `updates[a, j, k]` whose index `indices[j]` is r, added in
 * the order of j; repeated indices accumulate. The result is deterministic —
 * bit-identical run to run — and NumPy's float32 one (within γ(h)·(|x| + Σ|updates|) of
 * the exact sum for h hits); an element nothing hits is `x`'s, bit for bit.
 * Out-of-range indices: as for {@linkcode gather}; on the GPU such an index adds nowhere.
 *
 * @param x A tensor of at least one dimension.
 * @param indices As for {@linkcode gather}: a tensor of any shape or an array.
 * @param updates A tensor of the shape `gather(x, indices, { axis })` has.
 * @param options {@linkcode IndexingOptions}: `axis` (default 0).
 * @returns A new tensor of x's shape.
 * @example
 * ```ts
 * import { cpu, scatterAdd } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([0, 0, 0]);
 * using out = scatterAdd(x, [2, 0, 2], ref.tensor([1, 2, 3]));
 * console.log(await out.read()); // Float32Array [2, 0, 4]
 * ```
 */
export function scatterAdd(
  x: Tensor,
  indices: Tensor | ArrayLike<number>,
  updates: Tensor,
  options?: IndexingOptions,
): Tensor {
  checkArity("scatterAdd", arguments, 4);
  const op = "scatterAdd";
  const [input, values] = checkTensors(op, { x, updates }, SCATTERED_TYPES);
  const axis = checkAxisOf(op, input, options);
  const checked = checkIndexArgument(op, input, indices, input.shape[axis]);
  const shape = gatheredShape(input.shape, axis, indexShape(checked));
  if (shape.length !== values.shape.length || shape.some((d, i) => d !== values.shape[i])) {
    throw new RangeError(
      `${op}: expected updates of shape ${formatShape(shape)} (x ${
        formatShape(input.shape)
      } with axis ${axis} replaced by the indices' shape ${
        formatShape(indexShape(checked))
      }), got ${formatShape(values.shape)}`,
    );
  }
  return withIndices(
    op,
    input,
    checked,
    [input, values],
    (index) => scatterAddOf(input, index, values, { axis, along: false }),
  );
}
