/**
 * @file Comparisons and selection with NumPy broadcasting, on every element type:
 * `greater`, `less`, `equal`, `notEqual`, `greaterEqual`, `lessEqual` give bool — true
 * where the comparison holds (a NaN makes every one false but `notEqual`, as NumPy's),
 * the operands promoted together first; `where(cond, a, b)` picks `a` where `cond` is
 * true (a bool, or any type's truth: nonzero, NaN included), `a` and `b` promoted. All exact. Comparisons pass no
 * gradient (they are piecewise constant); `where` passes `g` to the operand it picked.
 */
import { call, cast, input, literal } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp, piecewiseConstantOp } from "./_elementwise.ts";
import { checkArity } from "./_validate.ts";
import { ALL_TYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

const [a, b, c] = [input(0), input(1), input(2)];

type Comparison = "greater" | "less" | "equal" | "notEqual" | "greaterEqual" | "lessEqual";
const comparison = (name: Comparison) => piecewiseConstantOp(name, call(name, a, b), ALL_TYPES);

const greaterOp = comparison("greater");
const lessOp = comparison("less");
const equalOp = comparison("equal");
const notEqualOp = comparison("notEqual");
const greaterEqualOp = comparison("greaterEqual");
const lessEqualOp = comparison("lessEqual");

/** `g` where `cond` picked this operand, 0 elsewhere: inputs (cond, g); `taken` says which. */
function pickedGradOp(taken: boolean) {
  return elementwiseOp<void>({
    name: "where",
    takes: ALL_TYPES,
    expression: () => taken ? call("where", a, b, literal(0)) : call("where", a, literal(0), b),
  });
}

const pickedA = pickedGradOp(true);
const pickedB = pickedGradOp(false);

const whereOp = elementwiseOp<void>({
  name: "where",
  takes: ALL_TYPES,
  expression: () => call("where", a, b, c),
  vjp: (g, [cond], _params, needed) => [
    null,
    needed[1] ? applyElementwise(pickedA, { cond, g }, undefined) : null,
    needed[2] ? applyElementwise(pickedB, { cond, g }, undefined) : null,
  ],
});

/**
 * Whether `a > b` (NaN compares false), as bool, broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, greater } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = greater(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [0, 0, 1]
 * ```
 */
export function greater(a: Tensor, b: Tensor): Tensor {
  checkArity("greater", arguments, 2);
  return applyElementwise(greaterOp, { a, b }, undefined);
}

/**
 * 1 where `a < b`, else 0, broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, less } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = less(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [1, 0, 0]
 * ```
 */
export function less(a: Tensor, b: Tensor): Tensor {
  checkArity("less", arguments, 2);
  return applyElementwise(lessOp, { a, b }, undefined);
}

/**
 * 1 where `a == b`, else 0, broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, equal } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = equal(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [0, 1, 0]
 * ```
 */
export function equal(a: Tensor, b: Tensor): Tensor {
  checkArity("equal", arguments, 2);
  return applyElementwise(equalOp, { a, b }, undefined);
}

/**
 * 1 where `a != b`, else 0 (NaN is unequal to everything, itself included, as NumPy's
 * `not_equal`), broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, notEqual } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = notEqual(ref.tensor([1, 2, NaN]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [1, 0, 1]
 * ```
 */
export function notEqual(a: Tensor, b: Tensor): Tensor {
  checkArity("notEqual", arguments, 2);
  return applyElementwise(notEqualOp, { a, b }, undefined);
}

/**
 * 1 where `a >= b`, else 0 (NaN compares false), broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, greaterEqual } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = greaterEqual(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [0, 1, 1]
 * ```
 */
export function greaterEqual(a: Tensor, b: Tensor): Tensor {
  checkArity("greaterEqual", arguments, 2);
  return applyElementwise(greaterEqualOp, { a, b }, undefined);
}

/**
 * 1 where `a <= b`, else 0 (NaN compares false), broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, lessEqual } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = lessEqual(ref.tensor([1, 2, 3]), ref.tensor([2], []));
 * console.log(m.dtype, await m.read()); // "bool" Uint8Array [1, 1, 0]
 * ```
 */
export function lessEqual(a: Tensor, b: Tensor): Tensor {
  checkArity("lessEqual", arguments, 2);
  return applyElementwise(lessEqualOp, { a, b }, undefined);
}

/**
 * `a` where `cond` is true, else `b`; all three broadcast together. `cond` is a bool
 * tensor, or any type read by truth (nonzero, NaN included, as in NumPy); `a` and `b`
 * are promoted together.
 *
 * @param cond The condition, e.g. a mask from {@linkcode greater}.
 * @param a Values where the condition holds.
 * @param b Values elsewhere.
 * @returns A new tensor of the broadcast shape and `a`'s and `b`'s promoted type.
 * @example
 * ```ts
 * import { cpu, greater, where } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([-1, 2, -3]);
 * using zero = ref.tensor([0], []);
 * using positive = where(greater(x, zero), x, zero);
 * console.log(await positive.read()); // Float32Array [0, 2, 0]
 * ```
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkArity("where", arguments, 3);
  return applyElementwise(whereOp, { cond, a, b }, undefined);
}

/** 1 where the value is ±0, else 0 (NaN included): a float mask, which sums count. */
const isZeroOp = elementwiseOp<void>({
  name: "isZero",
  expression: () => cast("float32", call("equal", input(0), literal(0))),
});

/**
 * 1 where `x` is ±0, else 0 (NaN included): the zero masks of `prod`'s and `cumprod`'s
 * gradients. Internal: `x` is a checked tensor.
 */
export function isZero(x: Tensor): Tensor {
  return applyElementwise(isZeroOp, { x }, undefined);
}
