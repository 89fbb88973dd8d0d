/**
 * @file Logical ops and value tests, elementwise with NumPy broadcasting: `logicalAnd`,
 * `logicalOr`, `logicalXor`, `logicalNot` read a float as NumPy's `bool(x)` does — true
 * where nonzero, NaN included; a bool as itself; an integer as nonzero — and `isNaN`,
 * `isFinite` test each value (an integer is finite); all take every type and give bool,
 * exactly. No gradient flows through them.
 */
import { call, type FunctionName, input } from "../kernels/expression.ts";
import { applyElementwise, piecewiseConstantOp } from "./_elementwise.ts";
import { checkArity } from "./_validate.ts";
import { ALL_TYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

const [a, b] = [input(0), input(1)];
const binary = (name: FunctionName) => piecewiseConstantOp(name, call(name, a, b), ALL_TYPES);
const unary = (name: FunctionName) => piecewiseConstantOp(name, call(name, a), ALL_TYPES);

const logicalAndOp = binary("logicalAnd");
const logicalOrOp = binary("logicalOr");
const logicalXorOp = binary("logicalXor");
const logicalNotOp = unary("logicalNot");
const isNaNOp = unary("isNaN");
const isFiniteOp = unary("isFinite");

/**
 * 1 where both `a` and `b` are true (nonzero or NaN), else 0, broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, logicalAnd } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = logicalAnd(ref.tensor([0, 2, NaN, 1]), ref.tensor([1, -1, 1, 0]));
 * console.log(await m.read()); // Uint8Array [0, 1, 1, 0]
 * ```
 */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  checkArity("logicalAnd", arguments, 2);
  return applyElementwise(logicalAndOp, { a, b }, undefined);
}

/**
 * 1 where `a` or `b` is true (nonzero or NaN), else 0, broadcasting as `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, logicalOr } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = logicalOr(ref.tensor([0, 0, NaN]), ref.tensor([0, -0.5, 0]));
 * console.log(await m.read()); // Uint8Array [0, 1, 1]
 * ```
 */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  checkArity("logicalOr", arguments, 2);
  return applyElementwise(logicalOrOp, { a, b }, undefined);
}

/**
 * 1 where exactly one of `a` and `b` is true (nonzero or NaN), else 0, broadcasting as
 * `add`.
 *
 * @param a A tensor.
 * @param b A tensor whose shape broadcasts with `a`'s.
 * @returns A new bool tensor of the broadcast shape.
 * @example
 * ```ts
 * import { cpu, logicalXor } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using m = logicalXor(ref.tensor([0, 3, 3, 0]), ref.tensor([0, 0, 1, 1]));
 * console.log(await m.read()); // Uint8Array [0, 1, 0, 1]
 * ```
 */
export function logicalXor(a: Tensor, b: Tensor): Tensor {
  checkArity("logicalXor", arguments, 2);
  return applyElementwise(logicalXorOp, { a, b }, undefined);
}

/**
 * 1 where `x` is ±0, else 0 (NaN is true, so its negation is 0).
 *
 * @param x A tensor.
 * @returns A new bool tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, logicalNot } from "@deno-gpu/kernels";
 * using m = logicalNot(cpu().tensor([0, -0, 2, NaN]));
 * console.log(await m.read()); // Uint8Array [1, 1, 0, 0]
 * ```
 */
export function logicalNot(x: Tensor): Tensor {
  checkArity("logicalNot", arguments, 1);
  return applyElementwise(logicalNotOp, { x }, undefined);
}

/**
 * 1 where `x` is NaN, else 0 (tested by its bits on the GPU).
 *
 * @param x A tensor.
 * @returns A new bool tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, isNaN } from "@deno-gpu/kernels";
 * using m = isNaN(cpu().tensor([NaN, Infinity, 1]));
 * console.log(await m.read()); // Uint8Array [1, 0, 0]
 * ```
 */
export function isNaN(x: Tensor): Tensor {
  checkArity("isNaN", arguments, 1);
  return applyElementwise(isNaNOp, { x }, undefined);
}

/**
 * 1 where `x` is neither NaN nor ±Inf, else 0.
 *
 * @param x A tensor.
 * @returns A new bool tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, isFinite } from "@deno-gpu/kernels";
 * using m = isFinite(cpu().tensor([NaN, -Infinity, 1e-40, 3]));
 * console.log(await m.read()); // Uint8Array [0, 0, 1, 1]
 * ```
 */
export function isFinite(x: Tensor): Tensor {
  checkArity("isFinite", arguments, 1);
  return applyElementwise(isFiniteOp, { x }, undefined);
}
