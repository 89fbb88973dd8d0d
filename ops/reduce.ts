/**
 * @file Reductions over axes: `sum`, `mean`, `prod`, `max`, `min`, `argmax`, `argmin`,
 * `any`, `all`. `axis` is an integer or a list (negative counts from the end), none means
 * every axis; `keepDims` keeps the reduced axes as 1s. On the GPU each is a reduction
 * form (`kernels/forms.ts`): the generated kernel — one thread per output for short
 * reductions, a workgroup's tree for long ones — which `jit` extends with the ops before
 * and after it. A float32 sum of everything runs the tuned tree of `kernels/reduce.ts`
 * eagerly. The error of a sum grows with the tree depth, not the length
 * (`reductionRoundings`, `treeSumRoundings`); a product's with the length (every
 * multiplication scales the whole). `any` and `all` are `max` and `min` of the values'
 * truth, a prologue the kernel fuses. Types (`reductionType`): `sum` takes every type,
 * `prod`, `max`, `min` the number types, and integers keep their type (bool sums as
 * int32) with wrapping sums and products and exact extremes; `mean` of integers or bool
 * is float32; `argmax`, `argmin` take the number types and give int32.
 */
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { reductionType } from "../kernels/kernel_plan.ts";
import { call, cast, input, literal, scalar } from "../kernels/expression.ts";
import { encodeForm, type OpForm } from "../kernels/forms.ts";
import { encodeTreeSum } from "../kernels/reduce.ts";
import { mapTerm } from "../kernels/term.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkAxes, checkOptions, checkTensors } from "./_validate.ts";
import {
  ALL_TYPES,
  type DType,
  DTYPES,
  FLOAT_TYPES,
  NUMBER_TYPES,
  type StorageArray,
} from "./dtype.ts";
import { div, mul } from "./arithmetic.ts";
import { broadcastTo } from "./broadcast.ts";
import { astype } from "./astype.ts";
import { equal, isZero } from "./compare.ts";
import { scale } from "./math.ts";
import { reshape } from "./shape.ts";
import type { Tensor } from "./tensor.ts";

export { reductionRoundings };

/** Which axes, and whether they stay as 1s. */
interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

/** Elements per output: the product of the reduced dimensions. */
function countOf(shape: readonly number[], axes: readonly number[]): number {
  return axes.reduce((n, a) => n * shape[a], 1);
}

/**
 * For the reference: the output each input element reduces into (row-major over the
 * kept axes), and the number of outputs. Elements of one output come in row-major order.
 */
function outputOf(shape: readonly number[], axes: readonly number[]): [Int32Array, number] {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(size);
  const coordinate = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    let o = 0;
    for (const d of kept) o = o * shape[d] + coordinate[d];
    out[i] = o;
    for (let d = shape.length - 1; d >= 0 && ++coordinate[d] === shape[d]; d--) coordinate[d] = 0;
  }
  return [out, kept.reduce((n, d) => n * shape[d], 1)];
}

/**
 * The reference's accumulators, one per output, for values of type `dtype` reduced by
 * `reducer`: float64 for floats; for integers the array of the reduced type
 * (`reductionType`: bool sums as int32), whose every store wraps as WGSL's arithmetic does.
 */
function accumulators(
  reducer: "sum" | "prod" | "max" | "min",
  dtype: DType,
  outputs: number,
): Float64Array | Int32Array | Uint32Array {
  const type = reductionType(reducer, dtype);
  return DTYPES[type].float ? new Float64Array(outputs) : new DTYPES[type].array(outputs) as
    | Int32Array
    | Uint32Array;
}

/** Sums per output, for the reference: float64, or wrapping integers. */
function sums(
  x: StorageArray,
  shape: readonly number[],
  axes: readonly number[],
  dtype: DType,
): Float64Array | Int32Array | Uint32Array {
  const [to, outputs] = outputOf(shape, axes);
  const out = accumulators("sum", dtype, outputs);
  x.forEach((v: number, i: number) => out[to[i]] += v);
  return out;
}

/** The result array of a reference: float32 from float64 accumulators, else as they are. */
function stored(out: Float64Array | Int32Array | Uint32Array): StorageArray {
  return out instanceof Float64Array ? Float32Array.from(out) : out;
}

/** A reduction op: reference, form and (for sums of everything) the tuned tree kernel. */
function reduction(
  name: string,
  form: (params: ReduceParams, shape: readonly number[]) => OpForm,
  reference: (
    x: StorageArray,
    shape: readonly number[],
    params: ReduceParams,
    dtype: DType,
  ) => StorageArray,
  vjp: OpDefinition<ReduceParams>["vjp"],
  treeScale?: (count: number) => number,
): OpDefinition<ReduceParams> {
  return {
    name,
    reference: ([x], params, shapes) =>
      reference(x, shapes.inputs[0], params, shapes.inputTypes[0]),
    form: (params, shapes) => form(params, shapes.inputs[0]),
    kernel(runtime, inputs, output, params, shapes) {
      const shape = shapes.inputs[0];
      const all = shape.every((d, a) => d === 1 || params.axes.includes(a));
      // The tuned tree reads and adds f32; integer sums take the generated kernel.
      if (treeScale && all && shapes.inputTypes[0] === "float32") {
        const count = countOf(shape, params.axes);
        encodeTreeSum(runtime, inputs, output, {
          op: name,
          square: false,
          scale: treeScale(count),
        });
      } else encodeForm(runtime, name, form(params, shape), inputs, output, shapes);
    },
    ...(vjp ? { vjp } : {}),
  };
}

/** The shape of `shape` with `axes` as 1s: where a reduced value lines up with its input. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, a) => (axes.includes(a) ? 1 : d));
}

/** `g` (of the reduced shape) repeated over the reduced axes of `x`. */
function spread(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return broadcastTo(reshape(g, keptShape(x.shape, axes)), x.shape);
}

const sumOp: OpDefinition<ReduceParams> = {
  ...reduction(
    "sum",
    ({ axes }) => ({ kind: "reduce", reducer: "sum", axes }),
    (x, shape, { axes }, dtype) => stored(sums(x, shape, axes, dtype)),
    (g, [x], { axes }) => [spread(g, x, axes)],
    () => 1,
  ),
  takes: ALL_TYPES,
  returns: ([t]) => reductionType("sum", t),
};

const meanOp = reduction(
  "mean",
  ({ axes }, shape) => ({
    kind: "reduce",
    reducer: "sum",
    axes,
    epilogue: (r) => mapTerm(call("mul", input(0), scalar(1 / countOf(shape, axes))), [r], r.shape),
  }),
  (x, shape, { axes }, dtype) => {
    const count = countOf(shape, axes);
    return Float32Array.from(sums(x, shape, axes, dtype), (s) => s / count);
  },
  (g, [x], { axes }) => [spread(scale(g, 1 / countOf(x.shape, axes)), x, axes)],
  (count) => 1 / count,
);

/**
 * `max` or `min` of a number type: NaN if any value is NaN (`Math.max`/`Math.min`
 * propagate it, as NumPy does); of integers exact. The gradient goes to the extremal
 * elements, split equally among ties (as JAX does).
 */
function extremumOp(name: "max" | "min", pick: (a: number, b: number) => number) {
  const op: OpDefinition<ReduceParams> = reduction(
    name,
    ({ axes }) => ({ kind: "reduce", reducer: name, axes }),
    (x, shape, { axes }, dtype) => {
      const [to, outputs] = outputOf(shape, axes);
      // Float64 holds every value exactly; each output's first value starts it.
      const out = new Float64Array(outputs);
      const seen = new Uint8Array(outputs);
      x.forEach((v: number, i: number) => {
        const o = to[i];
        out[o] = seen[o] ? pick(out[o], v) : v;
        seen[o] = 1;
      });
      const result = new (DTYPES[dtype].float ? Float32Array : DTYPES[dtype].array)(outputs);
      result.set(out);
      return result;
    },
    (g, [x], params) => {
      const kept = keptShape(x.shape, params.axes);
      const extremum = runOp(op, [x], { axes: params.axes, keepDims: true }, kept);
      const winners = astype(equal(x, extremum), x.dtype); // a float mask: sums count ties
      const ties = sum(winners, { axis: params.axes, keepDims: true });
      return [mul(winners, div(reshape(g, kept), ties))];
    },
  );
  return { ...op, takes: NUMBER_TYPES };
}

const maxOp = extremumOp("max", Math.max);
const minOp = extremumOp("min", Math.min);

/**
 * `argmax` or `argmin` of a number type: the position, within its output's values in
 * row-major order, of the first value that `beats` every earlier one, or of the first NaN
 * (NumPy). Integers compare exactly (their position is kept in their own type).
 */
function argOp(name: "argmax" | "argmin", beats: (v: number, best: number) => boolean) {
  const op = reduction(
    name,
    // The reducer keeps a float's position as a float (exact below 2²⁴), an integer's in
    // its type; stored as int32.
    ({ axes }) => ({
      kind: "reduce",
      reducer: name,
      axes,
      epilogue: (result) => mapTerm(cast("int32", input(0)), [result], result.shape),
    }),
    (x, shape, { axes }) => {
      const [to, outputs] = outputOf(shape, axes);
      const best = new Float64Array(outputs);
      const index = new Int32Array(outputs).fill(-1);
      const seen = new Int32Array(outputs);
      x.forEach((v: number, i: number) => {
        const o = to[i], position = seen[o]++;
        const better = index[o] < 0 || (!isNaN(best[o]) && (beats(v, best[o]) || isNaN(v)));
        if (better) [best[o], index[o]] = [v, position];
      });
      return index;
    },
    () => [null],
  );
  return { ...op, takes: NUMBER_TYPES, returns: () => "int32" as const };
}

const argmaxOp = argOp("argmax", (v, best) => v > best);
const argminOp = argOp("argmin", (v, best) => v < best);

/** The values with each zero replaced by 1: their product is that of the nonzero ones. */
const nonzeroOp = elementwiseOp<void>({
  name: "prod",
  expression: () => call("where", call("equal", input(0), literal(0)), literal(1), input(0)),
});

/**
 * g times the product of the other values, over inputs (g, x, p, nonzero product, zero
 * count), the reduced ones lined up with x: p/x where no value is zero; with one zero,
 * the nonzero product at the zero and 0 elsewhere; with more, 0 (JAX's values, got
 * without dividing by zero).
 */
const prodGradOp = elementwiseOp<void>({
  name: "prod",
  expression: () => {
    const [g, x, p, nonzero, zeros] = [0, 1, 2, 3, 4].map(input);
    const atZero = call("where", call("equal", zeros, literal(1)), nonzero, literal(0));
    const others = call("where", call("equal", x, literal(0)), atZero, call("div", p, x));
    return call("mul", g, others);
  },
});

const prodOp: OpDefinition<ReduceParams> = {
  ...reduction(
    "prod",
    ({ axes }) => ({ kind: "reduce", reducer: "prod", axes }),
    (x, shape, { axes }, dtype) => {
      const [to, outputs] = outputOf(shape, axes);
      const out = accumulators("prod", dtype, outputs).fill(1);
      // Integers: the product's low 32 bits (Math.imul), as WGSL's wrapping multiplication.
      const times = out instanceof Float64Array ? (a: number, b: number) => a * b : Math.imul;
      x.forEach((v: number, i: number) => out[to[i]] = times(out[to[i]], v));
      return stored(out);
    },
    (g, [x], { axes }) => {
      const kept = keptShape(x.shape, axes);
      const reduced = (t: Tensor, op: OpDefinition<ReduceParams>) =>
        runOp(op, [t], { axes, keepDims: true }, kept);
      const nonzero = reduced(applyElementwise(nonzeroOp, { x }, undefined), prodOp);
      const zeros = reduced(isZero(x), sumOp);
      const p = reduced(x, prodOp);
      return [
        applyElementwise(prodGradOp, { g: reshape(g, kept), x, p, nonzero, zeros }, undefined),
      ];
    },
  ),
  takes: NUMBER_TYPES,
};

/**
 * `any` or `all` of any type: the max or min of the values' truth (1 where nonzero, NaN
 * included, as NumPy's `bool(x)`), reduced as float 0 or 1 and stored as bool. Not
 * differentiable.
 */
function truthOp(name: "any" | "all", reducer: "max" | "min", identity: 0 | 1) {
  const op = reduction(
    name,
    ({ axes }) => ({
      kind: "reduce",
      reducer,
      axes,
      prologue: (t) => mapTerm(call("where", input(0), literal(1), literal(0)), [t], t.shape),
      epilogue: (result) => mapTerm(cast("bool", input(0)), [result], result.shape),
    }),
    (x, shape, { axes }) => {
      const [to, outputs] = outputOf(shape, axes);
      const out = new Uint8Array(outputs).fill(identity);
      x.forEach((v: number, i: number) => {
        if ((v !== 0) !== (identity === 1)) out[to[i]] = 1 - identity;
      });
      return out;
    },
    () => [null],
  );
  return { ...op, takes: ALL_TYPES, returns: () => "bool" as const };
}

const anyOp = truthOp("any", "max", 0);
const allOp = truthOp("all", "min", 1);

/** Options of the reductions. */
export interface ReduceOptions {
  /** The axis or axes to reduce (negative counts from the end); default: all. */
  readonly axis?: number | readonly number[];
  /** Keep reduced axes as dimensions of 1 (default false). */
  readonly keepDims?: boolean;
}

/**
 * Validates the input of reduction `def` (of the types it takes, unless `takes` says
 * otherwise) and the options; returns the input, params and output shape.
 */
function reduceArgs(
  def: OpDefinition<ReduceParams>,
  x: unknown,
  options: unknown,
  takes: readonly DType[] = def.takes ?? FLOAT_TYPES,
): [Tensor, ReduceParams, number[]] {
  const op = def.name;
  const [input] = checkTensors(op, { x }, takes);
  const o = checkOptions(op, options, false, ["axis", "keepDims"]);
  const axes = checkAxes(op, o.axis, input.shape.length);
  if (o.keepDims !== undefined && typeof o.keepDims !== "boolean") {
    throw new TypeError(`${op}: expected keepDims to be a boolean, got ${typeof o.keepDims}`);
  }
  const keepDims = o.keepDims === true;
  const shape = keepDims
    ? keptShape(input.shape, axes)
    : input.shape.filter((_, a) => !axes.includes(a));
  return [input, { axes, keepDims }, shape];
}

/**
 * The sum over `axis` (all axes by default), of any type: a float type's sum in that
 * type; int32's and uint32's wrapping in theirs; bool's a count, int32 (NumPy's and JAX's
 * integer sum, without their widening to int64).
 *
 * @param x A tensor.
 * @param options `axis` (a number or a list; negative counts from the end) and `keepDims`.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, sum } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using all = sum(x);
 * using rows = sum(x, { axis: -1 });
 * console.log(await all.read(), await rows.read()); // Float32Array [21] Float32Array [6, 15]
 * ```
 */
export function sum(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("sum", arguments, 2);
  const [input, params, shape] = reduceArgs(sumOp, x, options);
  return runOp(sumOp, [input], params, shape);
}

/**
 * The mean over `axis` (all axes by default): the sum times the float32 reciprocal of
 * the count. Of int32, uint32 or bool values, the mean of their float32 values (as
 * JAX's: float32).
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, mean } from "@deno-gpu/kernels";
 * using m = mean(cpu().tensor([1, 2, 3, 4], [2, 2]), { axis: 0 });
 * console.log(await m.read()); // Float32Array [2, 3]
 * ```
 */
export function mean(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("mean", arguments, 2);
  const [input, params, shape] = reduceArgs(meanOp, x, options, ALL_TYPES); // ints: as float32;
  if (DTYPES[input.dtype].float) return runOp(meanOp, [input], params, shape);
  using values = astype(input, "float32");
  return runOp(meanOp, [values], params, shape);
}

/**
 * The maximum over `axis` (all axes by default), of a number type (int32 and uint32
 * exactly, in their type); NaN if any value is NaN. Its gradient is shared equally by
 * the elements that attain the maximum.
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, max } from "@deno-gpu/kernels";
 * using m = max(cpu().tensor([1, 5, 3, 4], [2, 2]), { axis: 1 });
 * console.log(await m.read()); // Float32Array [5, 4]
 * ```
 */
export function max(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("max", arguments, 2);
  const [input, params, shape] = reduceArgs(maxOp, x, options);
  return runOp(maxOp, [input], params, shape);
}

/**
 * The index of the maximum along one axis (the first on ties, the first NaN if any), as
 * int32, of a number type (integers compared exactly). Not differentiable.
 *
 * @param x A tensor.
 * @param options `axis` (one integer; negative counts from the end) and `keepDims`.
 * @returns A new tensor without that axis (or with it as 1).
 * @example
 * ```ts
 * import { argmax, cpu } from "@deno-gpu/kernels";
 * using i = argmax(cpu().tensor([1, 5, 3, 9, 4, 9], [2, 3]), { axis: 1 });
 * console.log(await i.read()); // Int32Array [1, 0]
 * ```
 */
export function argmax(
  x: Tensor,
  options: { readonly axis: number; readonly keepDims?: boolean },
): Tensor {
  checkArity("argmax", arguments, 2);
  return runArg(argmaxOp, x, options);
}

/**
 * The minimum over `axis` (all axes by default), of a number type (int32 and uint32
 * exactly, in their type); NaN if any value is NaN. Its gradient is shared equally by
 * the elements that attain the minimum.
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, min } from "@deno-gpu/kernels";
 * using m = min(cpu().tensor([1, 5, 3, 4], [2, 2]), { axis: 1 });
 * console.log(await m.read()); // Float32Array [1, 3]
 * ```
 */
export function min(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("min", arguments, 2);
  const [input, params, shape] = reduceArgs(minOp, x, options);
  return runOp(minOp, [input], params, shape);
}

/**
 * The index of the minimum along one axis (the first on ties, the first NaN if any), as
 * int32, of a number type (integers compared exactly). Not differentiable.
 *
 * @param x A tensor.
 * @param options `axis` (one integer; negative counts from the end) and `keepDims`.
 * @returns A new tensor without that axis (or with it as 1).
 * @example
 * ```ts
 * import { argmin, cpu } from "@deno-gpu/kernels";
 * using i = argmin(cpu().tensor([4, 1, 3, 2, 7, 2], [2, 3]), { axis: 1 });
 * console.log(await i.read()); // Int32Array [1, 0]
 * ```
 */
export function argmin(
  x: Tensor,
  options: { readonly axis: number; readonly keepDims?: boolean },
): Tensor {
  checkArity("argmin", arguments, 2);
  return runArg(argminOp, x, options);
}

/** Validates and runs `argmax` or `argmin`: one integer axis is required. */
function runArg(op: OpDefinition<ReduceParams>, x: unknown, options: unknown): Tensor {
  const o = checkOptions(op.name, options, true, ["axis", "keepDims"]);
  if (typeof o.axis !== "number") {
    throw new TypeError(
      `${op.name}: expected axis to be an integer, got ${
        o.axis === undefined ? "none" : typeof o.axis
      }`,
    );
  }
  const [input, params, shape] = reduceArgs(op, x, options);
  return runOp(op, [input], params, shape);
}

/**
 * The product over `axis` (all axes by default), multiplied in float32 by the reduction
 * tree of {@linkcode sum}: every one of the n − 1 multiplications rounds, whatever their
 * order, so the result is within γ(n − 1) of the exact product, relatively, while no
 * partial product overflows or falls below the normal range. NaN if any value is NaN or
 * an infinity meets a zero (NumPy). Of int32 or uint32, the product wraps in the type
 * (exactly: the low 32 bits). Its gradient is the product of the other values,
 * zeros included (as JAX's).
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { cpu, prod } from "@deno-gpu/kernels";
 * using p = prod(cpu().tensor([1, 2, 3, 4, 0, 6], [2, 3]), { axis: 1 });
 * console.log(await p.read()); // Float32Array [6, 0]
 * ```
 */
export function prod(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("prod", arguments, 2);
  const [input, params, shape] = reduceArgs(prodOp, x, options);
  return runOp(prodOp, [input], params, shape);
}

/**
 * Whether any value over `axis` (all axes by default) is nonzero — NaN counts, as in
 * NumPy — as bool, for any element type. Not differentiable.
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new bool tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { any, cpu } from "@deno-gpu/kernels";
 * using a = any(cpu().tensor([0, 0, 0, -2], [2, 2]), { axis: 1 });
 * console.log(await a.read()); // Uint8Array [0, 1]
 * ```
 */
export function any(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("any", arguments, 2);
  const [input, params, shape] = reduceArgs(anyOp, x, options);
  return runOp(anyOp, [input], params, shape);
}

/**
 * Whether every value over `axis` (all axes by default) is nonzero — NaN counts, as in
 * NumPy — as bool, for any element type. Not differentiable.
 *
 * @param x A tensor.
 * @param options `axis` and `keepDims`, as for {@linkcode sum}.
 * @returns A new bool tensor without the reduced axes (or with them as 1s).
 * @example
 * ```ts
 * import { all, cpu } from "@deno-gpu/kernels";
 * using a = all(cpu().tensor([1, NaN, 0, 3], [2, 2]), { axis: 1 });
 * console.log(await a.read()); // Uint8Array [1, 0]
 * ```
 */
export function all(x: Tensor, options?: ReduceOptions): Tensor {
  checkArity("all", arguments, 2);
  const [input, params, shape] = reduceArgs(allOp, x, options);
  return runOp(allOp, [input], params, shape);
}
