/**
 * @file Indexing along an axis: `gather` (NumPy's `take`) and its transpose `scatterAdd`
 * (NumPy's `add.at`), each the other's gradient.
 *
 * `gather` is a view (`kernels/term.ts`'s gather view, the one `takeRows` uses on axis
 * 0): eagerly one copy kernel, under `jit` no kernel of its own — its consumer reads `x`
 * at the gathered index (an embedding lookup is folded into the matmul that uses it).
 *
 * `scatterAdd` is a reduction with a prologue (`kernels/forms.ts`): output element
 * `[a, r, k]` sums, over the indices j in order, `updates[a, j, k]` where `indices[j]`
 * is r, and 0 elsewhere. So each output loops over every index in a fixed order, on the
 * reduction kernel's fixed tree: no atomics, no sort, and the result is bit-identical
 * run to run, on every adapter (a float atomic add would sum in arrival order). The
 * price is `count` comparisons per output element — the same work as the one-hot
 * matmul `takeRows`'s gradient runs, without the matmul. Under `jit` the reduction
 * fuses as any other: its prologue and epilogue inline what feeds and follows it.
 */
import { call, input, literal, position, scalar } from "../kernels/expression.ts";
import { gatherView, mapTerm, reshapeTerm, stridedView, type Term } from "../kernels/term.ts";
import { checkIndices } from "./_indices.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { activeTape } from "./_tape.ts";
import {
  checkArity,
  checkInteger,
  checkOptions,
  checkResultSize,
  checkTensors,
} from "./_validate.ts";
import { fill } from "./creation.ts";
import { describe, formatShape, isTensor, type Tensor } from "./tensor.ts";

/** The axis taken along; the indices' own shape is known from the inputs. */
interface AxisParams {
  readonly axis: number;
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

const gatherOp: OpDefinition<AxisParams> = {
  name: "gather",
  reference([x, indices], { axis }, shapes) {
    const [outer, n, inner] = around(shapes.inputs[0], axis);
    const rows = checkIndices("gather", indices, n);
    const out = new Float32Array(outer * rows.length * inner);
    for (let a = 0; a < outer; a++) {
      rows.forEach((r, j) => {
        const from = (a * n + r) * inner;
        out.set(x.subarray(from, from + inner), (a * rows.length + j) * inner);
      });
    }
    return out;
  },
  form: ({ axis }) => ({ kind: "term", build: ([x, indices]) => gatherView(x, indices, axis) }),
  // The transpose of a gather sums the gradient's rows into the positions they came from.
  vjp: (g, [x, indices], { axis }, needed) => [
    needed[0] ? scatterAddOf(fill("gather", x.backend, x.shape, 0), indices, g, axis) : null,
    null,
  ],
};

const scatterAddOp: OpDefinition<AxisParams> = {
  name: "scatterAdd",
  reference([x, indices, updates], { axis }, shapes) {
    const [outer, n, inner] = around(shapes.inputs[0], axis);
    const rows = checkIndices("scatterAdd", indices, n);
    const sums = new Float64Array(x.length);
    for (let a = 0; a < outer; a++) {
      rows.forEach((r, j) => {
        for (let k = 0; k < inner; k++) {
          sums[(a * n + r) * inner + k] += updates[(a * rows.length + j) * inner + k];
        }
      });
    }
    // Where the updates sum to zero (or nothing hits) x stays as it is, −0 included.
    return Float32Array.from(x, (v, i) => (sums[i] === 0 ? v : v + sums[i]));
  },
  form: ({ axis }, shapes) => {
    const [outer, n, inner] = around(shapes.inputs[0], axis);
    const count = shapes.inputs[1].reduce((a, b) => a * b, 1);
    // The summed values, [outer, n, inner, count]: updates[a, j, k] where indices[j] = r.
    const spread = [outer, n, inner, count];
    return {
      kind: "reduce",
      reducer: "sum",
      axes: [3],
      prologue(_x: Term, indices: Term, updates: Term) {
        const index = stridedView(indices, spread, [0, 0, 0, 1], 0);
        const row = stridedView(mapTerm(position(), [], [n]), spread, [0, 1, 0, 0], 0);
        const update = stridedView(updates, spread, [count * inner, 0, 1, inner], 0);
        // A negative index counts from the end of the axis; n travels as a word.
        const fromStart = call(
          "where",
          call("less", input(0), literal(0)),
          call("add", input(0), scalar(n)),
          input(0),
        );
        const hit = call("equal", fromStart, input(1));
        return mapTerm(call("where", hit, input(2), literal(0)), [index, row, update], spread);
      },
      // x where nothing (or a sum of zeros) hit: keeps x's −0, which x + 0 would not.
      epilogue(result: Term, x: Term) {
        const kept = call("equal", input(0), literal(0));
        return mapTerm(
          call("where", kept, input(1), call("add", input(1), input(0))),
          [result, reshapeTerm(x, result.shape)],
          result.shape,
        );
      },
    };
  },
  staticKey: ({ axis }) => `${axis}`,
  vjp: (g, [_x, indices], { axis }, needed) => [
    needed[0] ? g : null,
    null,
    needed[2] ? runOp(gatherOp, [g, indices], { axis }, gathered(g, indices, axis)) : null,
  ],
};

/** The shape `gather` gives for `x` and `indices` along `axis`. */
function gathered(x: Tensor, indices: Tensor, axis: number): number[] {
  return gatheredShape(x.shape, axis, indices.shape);
}

/** `scatterAdd` once validated: for `gather`'s gradient too. */
function scatterAddOf(x: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
  return runOp(scatterAddOp, [x, indices, updates], { axis }, x.shape);
}

/** The options of the indexing ops. */
export interface IndexingOptions {
  /** The axis indexed (default 0; negative counts from the end). */
  readonly axis?: number;
}

/** Checks `x` and the axis option: `x` has at least one dimension. */
function checkAxisOf(op: string, x: Tensor, options: unknown): number {
  const rank = x.shape.length;
  if (rank < 1) {
    throw new RangeError(`${op}: expected x to have at least one dimension, got a scalar`);
  }
  const o = checkOptions(op, options, false, ["axis"]);
  if (o.axis === undefined) return 0;
  const axis = checkInteger(op, "axis", o.axis, { min: -rank, max: rank - 1 });
  return axis < 0 ? axis + rank : axis;
}

/**
 * The indices argument checked: a tensor on x's backend as given, or a list's values
 * checked on the host (uploaded only once every argument is checked).
 */
function checkIndexArgument(
  op: string,
  x: Tensor,
  indices: unknown,
  n: number,
): Tensor | Float32Array {
  if (isTensor(indices)) return checkTensors(op, { x, indices })[1];
  const list = indices as ArrayLike<unknown>;
  if (
    list === null || typeof list !== "object" || !Number.isInteger(list.length) ||
    list.length < 1 || list.length > 2 ** 31
  ) {
    throw new TypeError(
      `${op}: expected indices to be a tensor or a non-empty array of integers, got ${
        describe(indices)
      }`,
    );
  }
  return checkIndices(op, list, n);
}

/** The shape of checked indices: a list's is 1-D. */
function indexShape(indices: Tensor | Float32Array): readonly number[] {
  return isTensor(indices) ? indices.shape : [indices.length];
}

/**
 * Runs `apply` with the indices as a tensor on x's backend; a list is uploaded and freed
 * afterwards, unless a gradient taken later of one of `differentiable` needs it (then
 * the differentiating scope frees it).
 */
function withIndices(
  x: Tensor,
  indices: Tensor | Float32Array,
  differentiable: readonly Tensor[],
  apply: (indices: Tensor) => Tensor,
): Tensor {
  if (isTensor(indices)) return apply(indices);
  const tensor = x.backend.tensor(indices);
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
  const [input] = checkTensors(op, { x });
  const axis = checkAxisOf(op, input, options);
  const checked = checkIndexArgument(op, input, indices, input.shape[axis]);
  const shape = gatheredShape(input.shape, axis, indexShape(checked));
  checkResultSize(op, input.backend, shape);
  return withIndices(
    input,
    checked,
    [input],
    (index) => runOp(gatherOp, [input, index], { axis }, shape),
  );
}

/**
 * `x` plus `updates` summed into the positions `gather` would read (NumPy's
 * `np.add.at(x, (…, indices), updates)` on a copy): element `[a, r, k]` of the result is
 * `x[a, r, k]` plus every `updates[a, j, k]` whose index `indices[j]` is r; repeated
 * indices accumulate. The sum is deterministic — bit-identical run to run — and within
 * γ(h)·(|x| + Σ|updates|) of the exact one for h hits; where the hits sum to zero (or
 * nothing hits) the result is `x` itself, so a −0 in `x` stays −0 (NumPy's `x + 0` would
 * give +0: the one difference). Out-of-range indices: as for {@linkcode gather}; on the
 * GPU such an index adds nowhere.
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
  const [input, values] = checkTensors(op, { x, updates });
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
    input,
    checked,
    [input, values],
    (index) => scatterAddOf(input, index, values, axis),
  );
}
