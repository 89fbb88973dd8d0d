/**
 * @file Sorting along one axis: `sort`, `argsort` and `topK`. Stable, in NumPy's order:
 * ascending with NaN last (`np.sort`, `np.argsort(kind="stable")`), −0 and +0 equal (ties
 * keep their order). Descending follows JAX (`jnp.argsort(descending=True)`,
 * `jax.lax.top_k`): largest first, NaN first (the reverse of the ascending order), ties
 * still in their original order. On the GPU, the kernels of `kernels/sort.ts` (a rank
 * sort for short lines, an LSD radix sort for long ones); a hand-written kernel, so under
 * `jit` a sort is a kernel of its own. `sort`'s gradient routes the cotangent back to
 * where each value came from (a permutation by the argsort); `argsort`'s indices carry no
 * gradient, as JAX's integer indices do not.
 */
import { encodePermute, encodeSort, MAX_SORTED, type SortOutput } from "../kernels/sort.ts";
import { indexValue } from "../kernels/index_values.ts";
import type { DType } from "./dtype.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import {
  checkArity,
  checkAxes,
  checkFlag,
  checkInteger,
  checkOptions,
  checkTensors,
} from "./_validate.ts";
import { slice } from "./layout.ts";
import { linesOf } from "./scan.ts";
import { describe, formatShape, type Tensor } from "./tensor.ts";

/**
 * The types the sorts take: float32, whose bits the kernels turn into ordered keys
 * (`kernels/sort.ts`); other types are a `TypeError` naming the op.
 */
const SORTED_TYPES: readonly DType[] = ["float32"];

/** The sorted axis (non-negative) and the order. */
interface SortOpParams {
  readonly axis: number;
  readonly descending: boolean;
}

/** Options of {@linkcode sort} and {@linkcode argsort}. */
export interface SortOptions {
  /** The axis sorted (negative counts from the end). Default −1, the last. */
  readonly axis?: number;
  /** Largest first, NaN first (JAX's descending order). Default false. */
  readonly descending?: boolean;
}

/** The result of {@linkcode topK}: the k largest values and where they were. */
export interface TopK {
  /** The k largest values along the last axis, largest first (NaN first). */
  readonly values: Tensor;
  /** Their positions along the last axis (int32). */
  readonly indices: Tensor;
}

/**
 * The order of a sort, in float64 and independent of the kernel's keys: −1 when `a`
 * comes before `b`. NaN after every number ascending, before descending; −0 equals +0.
 */
function compareFor(descending: boolean): (a: number, b: number) => number {
  return (a, b) => {
    const nanA = Number.isNaN(a), nanB = Number.isNaN(b);
    if (nanA || nanB) return (Number(nanA) - Number(nanB)) * (descending ? -1 : 1);
    const ascending = a < b ? -1 : a > b ? 1 : 0;
    return descending ? -ascending : ascending;
  };
}

/**
 * The reference of a sort: each line's positions in a stable order (JavaScript's
 * `Array.prototype.sort` is stable), then each place's value or position.
 */
function sortReference(
  x: ArrayLike<number>,
  shape: readonly number[],
  { axis, descending }: SortOpParams,
  output: SortOutput,
): Float32Array | Int32Array {
  const { n, inner, lines } = linesOf(shape, axis);
  const out = output === "values" ? new Float32Array(x.length) : new Int32Array(x.length);
  const compare = compareFor(descending);
  for (let line = 0; line < lines; line++) {
    const at = (k: number) => Math.floor(line / inner) * n * inner + (line % inner) + k * inner;
    const order = Array.from({ length: n }, (_, k) => k).sort((a, b) =>
      compare(x[at(a)], x[at(b)])
    );
    order.forEach((k, place) => {
      out[at(place)] = output === "values" ? x[at(k)] : indexValue(k);
    });
  }
  return out;
}

/** A sort op writing `output`, with its reference and kernel. */
function sortOp(
  output: SortOutput,
  vjp: OpDefinition<SortOpParams>["vjp"],
): OpDefinition<SortOpParams> {
  const name = output === "values" ? "sort" : "argsort";
  return {
    name,
    takes: SORTED_TYPES,
    returns: () => (output === "values" ? "float32" : "int32"),
    reference: ([x], params, shapes) => sortReference(x, shapes.inputs[0], params, output),
    kernel(runtime, [x], out, params, shapes) {
      const lines = linesOf(shapes.inputs[0], params.axis);
      encodeSort(runtime, name, x, out, { ...lines, descending: params.descending, output });
    },
    vjp,
  };
}

/** Parameters of a permutation along an axis: scatter to the indices, or gather from them. */
interface PermuteParams {
  readonly axis: number;
  readonly scatter: boolean;
}

/**
 * Inputs (v, indices): a permutation of v's lines by argsort's indices (see
 * `encodePermute`); scattering is the transpose of gathering, so each is the other's
 * vjp. Private: `sort`'s gradient.
 */
const permuteOp: OpDefinition<PermuteParams> = {
  name: "sort",
  takes: ["float32", "int32"],
  returns: () => "float32",
  reference([v, indices], { axis, scatter }, shapes) {
    const { n, inner } = linesOf(shapes.inputs[0], axis);
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const other = i + (indices[i] - Math.floor(i / inner) % n) * inner;
      if (scatter) out[other] = v[i];
      else out[i] = v[other];
    }
    return out;
  },
  kernel(runtime, [v, indices], out, { axis, scatter }, shapes) {
    encodePermute(runtime, "sort", v, indices, out, {
      ...linesOf(shapes.inputs[0], axis),
      scatter,
    });
  },
  vjp: (g, [, indices], params) => [
    runOp(permuteOp, [g, indices], { ...params, scatter: !params.scatter }, g.shape),
    null,
  ],
};

const argsortOp: OpDefinition<SortOpParams> = sortOp("indices", () => [null]);

const sortValuesOp: OpDefinition<SortOpParams> = sortOp("values", (g, [x], params) => {
  using indices = runOp(argsortOp, [x], params, x.shape);
  return [runOp(permuteOp, [g, indices], { axis: params.axis, scatter: true }, g.shape)];
});

/** Validates a sort's input and options. */
function sortArgs(op: string, x: unknown, options: unknown): [Tensor, SortOpParams] {
  const [input] = checkTensors(op, { x }, SORTED_TYPES);
  const o = checkOptions(op, options, false, ["axis", "descending"]);
  if (o.axis !== undefined && typeof o.axis !== "number") {
    throw new TypeError(`${op}: expected axis to be an integer, got ${describe(o.axis)}`);
  }
  const [axis] = checkAxes(op, o.axis ?? -1, input.shape.length);
  checkLength(op, input, axis);
  return [input, { axis, descending: checkFlag(op, "descending", o.descending) }];
}

/** Checks that an axis is no longer than the sort kernels take (2²⁴ values, `MAX_SORTED`). */
function checkLength(op: string, x: Tensor, axis: number): void {
  if (x.shape[axis] > MAX_SORTED) {
    throw new RangeError(
      `${op}: expected an axis of at most 2^24 values (the longest line the radix sort is tested to), got ${
        formatShape(x.shape)
      } along axis ${axis}`,
    );
  }
}

/**
 * The values of `x` sorted along `axis`: NumPy's `sort` (stable; NaN last; −0 and +0 equal,
 * kept in their order), or with `descending` largest first and NaN first (JAX's order).
 * Values are moved, never computed: the result is bit for bit values of `x`, on every
 * backend. Its gradient routes each value's cotangent back to the position it came from.
 *
 * @param x A tensor of at least one dimension.
 * @param options `axis` (default −1; negative counts from the end), `descending`.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, sort } from "@deno-gpu/kernels";
 * using x = cpu().tensor([3, NaN, -1, 2, 0, -0], [2, 3]);
 * using up = sort(x);
 * using down = sort(x, { axis: 1, descending: true });
 * console.log(await up.read()); // Float32Array [-1, 3, NaN, 0, -0, 2]
 * console.log(await down.read()); // Float32Array [NaN, 3, -1, 2, 0, -0]
 * ```
 */
export function sort(x: Tensor, options?: SortOptions): Tensor {
  checkArity("sort", arguments, 2);
  const [input, params] = sortArgs("sort", x, options);
  return runOp(sortValuesOp, [input], params, input.shape);
}

/**
 * The positions that sort `x` along `axis`: NumPy's `argsort(kind="stable")` (ties in
 * their order, NaN last), or with `descending` JAX's `argsort(descending=True)` (largest
 * first, NaN first, ties still in their order). The indices are int32, as `argmax`'s; no gradient flows through them (JAX's indices are integers).
 *
 * @param x A tensor of at least one dimension, at most 2²⁴ values along `axis`.
 * @param options `axis` (default −1; negative counts from the end), `descending`.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { argsort, cpu } from "@deno-gpu/kernels";
 * using i = argsort(cpu().tensor([3, NaN, -1, 3]));
 * using j = argsort(cpu().tensor([3, NaN, -1, 3]), { descending: true });
 * console.log(await i.read()); // Int32Array [2, 0, 3, 1]
 * console.log(await j.read()); // Int32Array [1, 0, 3, 2]
 * ```
 */
export function argsort(x: Tensor, options?: SortOptions): Tensor {
  checkArity("argsort", arguments, 2);
  const [input, params] = sortArgs("argsort", x, options);
  return runOp(argsortOp, [input], params, input.shape);
}

/**
 * The `k` largest values along the last axis and their positions, largest first:
 * `jax.lax.top_k` (NaN counts as largest; of equal values the earlier comes first). A
 * descending sort then a slice of the first `k` (for values and indices), so its cost is
 * a sort's whatever `k`; the values' gradient goes back to their positions, the indices
 * carry none.
 *
 * @param x A tensor of at least one dimension.
 * @param k How many, an integer in [1, the last axis' length].
 * @returns `{ values, indices }`, new tensors of `x`'s shape with `k` as the last axis.
 * @example
 * ```ts
 * import { cpu, topK } from "@deno-gpu/kernels";
 * const { values, indices } = topK(cpu().tensor([1, 9, 4, 9, 2, 7], [2, 3]), 2);
 * console.log(await values.read()); // Float32Array [9, 4, 9, 7]
 * console.log(await indices.read()); // Int32Array [1, 2, 0, 2]
 * values.dispose();
 * indices.dispose();
 * ```
 */
export function topK(x: Tensor, k: number): TopK {
  checkArity("topK", arguments, 2);
  const op = "topK";
  const [input] = checkTensors(op, { x }, SORTED_TYPES);
  const [axis] = checkAxes(op, -1, input.shape.length);
  checkLength(op, input, axis);
  const n = input.shape[axis];
  checkInteger(op, "k", k, { min: 1, max: n });
  const params = { axis, descending: true };
  const first = (t: Tensor) => {
    if (k === n) return t;
    using whole = t;
    return slice(whole, input.shape.map(() => 0), [...input.shape.slice(0, -1), k]);
  };
  const values = first(runOp(sortValuesOp, [input], params, input.shape));
  try {
    return { values, indices: first(runOp(argsortOp, [input], params, input.shape)) };
  } catch (error) {
    values.dispose();
    throw error;
  }
}
