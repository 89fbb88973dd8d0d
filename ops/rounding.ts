/**
 * @file Rounding to whole numbers and the sign, elementwise, as NumPy: `floor`, `ceil`,
 * `round` (half to even, NumPy's `round`/`rint`), `sign` (NaN for NaN, +0 for either
 * zero). All exact on every backend; NaN and ±Inf pass, a zero keeps its sign. Each is
 * piecewise constant, so no gradient flows through it (zero, as JAX and PyTorch give).
 */
import { call, input } from "../kernels/expression.ts";
import { applyElementwise, piecewiseConstantOp } from "./_elementwise.ts";
import { checkArity } from "./_validate.ts";
import { NUMBER_TYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

// On int32 and uint32 the value itself (sign: −1, 0 or 1), as NumPy's.
const floorOp = piecewiseConstantOp("floor", call("floor", input(0)), NUMBER_TYPES);
const ceilOp = piecewiseConstantOp("ceil", call("ceil", input(0)), NUMBER_TYPES);
const roundOp = piecewiseConstantOp("round", call("round", input(0)), NUMBER_TYPES);
const signOp = piecewiseConstantOp("sign", call("sign", input(0)), NUMBER_TYPES);

/**
 * Elementwise largest whole number ≤ x (exact; floor(−0.5) is −1, floor(−0) is −0).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, floor } from "@deno-gpu/kernels";
 * using f = floor(cpu().tensor([1.5, -1.5, 2]));
 * console.log(await f.read()); // Float32Array [1, -2, 2]
 * ```
 */
export function floor(x: Tensor): Tensor {
  checkArity("floor", arguments, 1);
  return applyElementwise(floorOp, { x }, undefined);
}

/**
 * Elementwise smallest whole number ≥ x (exact; ceil(−0.5) is −0, as NumPy's).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { ceil, cpu } from "@deno-gpu/kernels";
 * using c = ceil(cpu().tensor([1.5, -1.5, 2]));
 * console.log(await c.read()); // Float32Array [2, -1, 2]
 * ```
 */
export function ceil(x: Tensor): Tensor {
  checkArity("ceil", arguments, 1);
  return applyElementwise(ceilOp, { x }, undefined);
}

/**
 * Elementwise nearest whole number, a tie to the even one (NumPy's `round`, not
 * JavaScript's `Math.round`): round(0.5) is 0, round(1.5) and round(2.5) are 2,
 * round(−0.5) is −0. Exact.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, round } from "@deno-gpu/kernels";
 * using r = round(cpu().tensor([0.5, 1.5, 2.5, -2.5, 2.6]));
 * console.log(await r.read()); // Float32Array [0, 2, 2, -2, 3]
 * ```
 */
export function round(x: Tensor): Tensor {
  checkArity("round", arguments, 1);
  return applyElementwise(roundOp, { x }, undefined);
}

/**
 * Elementwise sign: −1, 0 or 1 (NumPy's `sign`: NaN for NaN, +0 for −0, ±1 for a
 * subnormal).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, sign } from "@deno-gpu/kernels";
 * using s = sign(cpu().tensor([-3, 0, 0.25]));
 * console.log(await s.read()); // Float32Array [-1, 0, 1]
 * ```
 */
export function sign(x: Tensor): Tensor {
  checkArity("sign", arguments, 1);
  return applyElementwise(signOp, { x }, undefined);
}
