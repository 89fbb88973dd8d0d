/**
 * @file Elementwise functions of one tensor: `abs`, `exp`, `log`, `sqrt`, `square`,
 * `relu`, `sigmoid`, `tanh`, `scale` by a number, and `log1p`, `expm1`, `rsqrt`, `sin`,
 * `cos` — each one expression
 * (`ops/_elementwise.ts`), with its derivative as one fused expression of its own so
 * that a backward step is one kernel too. Accuracy on the GPU is WGSL's: `abs`,
 * `square`, `relu` and `scale` are exact or one rounding; `exp` is within 3 + 2|x| ulp,
 * `log` within 3 ulp outside [0.5, 2] and 2⁻²¹ absolute inside, `sqrt` within about
 * 4.5 ulp (`1/inverseSqrt`); `sigmoid` and `tanh` are built from `exp` and one division
 * by a number in [1, 2] (see `kernels/expression.ts`), so they never overflow. `log1p`,
 * `expm1`, `rsqrt`, `sin` and `cos` are written in `kernels/special_math_wgsl.ts` with
 * their accuracy (bounds derived in `tests/_numerics.ts`).
 */
import { call, cast, input, literal, scalar } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp, unaryOp } from "./_elementwise.ts";
import { checkArity, checkNumber } from "./_validate.ts";
import { NUMBER_TYPES } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";

const x = input(1);
// In each derivative, input(1) is x.
const absOp = unaryOp(
  "abs",
  call("abs", input(0)),
  call(
    "sub",
    cast("float32", call("greater", x, literal(0))),
    cast("float32", call("less", x, literal(0))),
  ),
  NUMBER_TYPES,
);
const expOp = unaryOp("exp", call("exp", input(0)), call("exp", x));
const logOp = unaryOp("log", call("log", input(0)), call("div", literal(1), x));
const sqrtOp = unaryOp(
  "sqrt",
  call("sqrt", input(0)),
  call("div", literal(0.5), call("sqrt", x)),
);
const squareOp = unaryOp("square", call("mul", input(0), input(0)), call("mul", literal(2), x));
const reluOp = unaryOp("relu", call("relu", input(0)), call("greater", x, literal(0)));
const sigmoidOp = unaryOp(
  "sigmoid",
  call("sigmoid", input(0)),
  call("mul", call("sigmoid", x), call("sub", literal(1), call("sigmoid", x))),
);
const tanhOp = unaryOp(
  "tanh",
  call("tanh", input(0)),
  call("sub", literal(1), call("mul", call("tanh", x), call("tanh", x))),
);

const log1pOp = unaryOp(
  "log1p",
  call("log1p", input(0)),
  call("div", literal(1), call("add", literal(1), x)),
);
const expm1Op = unaryOp("expm1", call("expm1", input(0)), call("exp", x));
// d/dx x^(−1/2) = −½·rsqrt(x)/x.
const rsqrtOp = unaryOp(
  "rsqrt",
  call("rsqrt", input(0)),
  call("div", call("mul", literal(-0.5), call("rsqrt", x)), x),
);
const sinOp = unaryOp("sin", call("sin", input(0)), call("cos", x));
const cosOp = unaryOp("cos", call("cos", input(0)), call("neg", call("sin", x)));

const scaleOp = elementwiseOp<{ c: number }>({
  name: "scale",
  expression: ({ c }) => call("mul", input(0), scalar(c)),
  vjp: (grad, _inputs, { c }) => [scale(grad, c)],
});

/**
 * Elementwise |x|; its gradient at 0 is 0.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { abs, cpu } from "@deno-gpu/kernels";
 * using a = abs(cpu().tensor([-1.5, 2]));
 * console.log(await a.read()); // Float32Array [1.5, 2]
 * ```
 */
export function abs(x: Tensor): Tensor {
  checkArity("abs", arguments, 1);
  return applyElementwise(absOp, { x }, undefined);
}

/**
 * Elementwise eˣ (WGSL: within 3 + 2|x| ulp; the software adapters llvmpipe and
 * SwiftShader reach 0.35 ulp more near 0).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, exp } from "@deno-gpu/kernels";
 * using e = exp(cpu().tensor([0, 1]));
 * console.log(await e.read()); // Float32Array [1, 2.7182817]
 * ```
 */
export function exp(x: Tensor): Tensor {
  checkArity("exp", arguments, 1);
  return applyElementwise(expOp, { x }, undefined);
}

/**
 * Elementwise natural logarithm (WGSL: within 3 ulp outside [0.5, 2], 2⁻²¹ absolute
 * inside; SwiftShader, Chromium's WebGPU without a GPU, reaches 4.06 ulp just below 0.5);
 * NaN below 0 and −∞ at 0 in the reference, unspecified on the GPU there.
 *
 * @param x A tensor of positive values.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, log } from "@deno-gpu/kernels";
 * using l = log(cpu().tensor([1, Math.E]));
 * console.log(await l.read()); // Float32Array [0, 1]
 * ```
 */
export function log(x: Tensor): Tensor {
  checkArity("log", arguments, 1);
  return applyElementwise(logOp, { x }, undefined);
}

/**
 * Elementwise square root.
 *
 * @param x A tensor of values ≥ 0.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, sqrt } from "@deno-gpu/kernels";
 * using r = sqrt(cpu().tensor([4, 9]));
 * console.log(await r.read()); // Float32Array [2, 3]
 * ```
 */
export function sqrt(x: Tensor): Tensor {
  checkArity("sqrt", arguments, 1);
  return applyElementwise(sqrtOp, { x }, undefined);
}

/**
 * Squares every element (one correctly rounded multiply).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, square } from "@deno-gpu/kernels";
 * using sq = square(cpu().tensor([-3, 2]));
 * console.log(await sq.read()); // Float32Array [9, 4]
 * ```
 */
export function square(x: Tensor): Tensor {
  checkArity("square", arguments, 1);
  return applyElementwise(squareOp, { x }, undefined);
}

/**
 * Elementwise max(x, 0) (exact) as NumPy's `maximum(x, 0)`: relu(NaN) is NaN and
 * relu(−0) is +0. Its gradient at 0 is 0 (one side of the kink, as PyTorch and JAX take).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, relu } from "@deno-gpu/kernels";
 * using r = relu(cpu().tensor([-1, 0, 2]));
 * console.log(await r.read()); // Float32Array [0, 0, 2]
 * ```
 */
export function relu(x: Tensor): Tensor {
  checkArity("relu", arguments, 1);
  return applyElementwise(reluOp, { x }, undefined);
}

/**
 * Elementwise logistic function 1/(1 + e⁻ˣ), computed without overflow for any x.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape, values in [0, 1].
 * @example
 * ```ts
 * import { cpu, sigmoid } from "@deno-gpu/kernels";
 * using s = sigmoid(cpu().tensor([0, 1e4, -1e4]));
 * console.log(await s.read()); // Float32Array [0.5, 1, 0]
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  checkArity("sigmoid", arguments, 1);
  return applyElementwise(sigmoidOp, { x }, undefined);
}

/**
 * Elementwise hyperbolic tangent, computed without overflow for any x.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape, values in [−1, 1].
 * @example
 * ```ts
 * import { cpu, tanh } from "@deno-gpu/kernels";
 * using t = tanh(cpu().tensor([0, 1e4, -1e4]));
 * console.log(await t.read()); // Float32Array [0, 1, -1]
 * ```
 */
export function tanh(x: Tensor): Tensor {
  checkArity("tanh", arguments, 1);
  return applyElementwise(tanhOp, { x }, undefined);
}

/**
 * Multiplies every element by a number, rounded to float32 first. The number is a
 * runtime value: under `jit`, a new `c` reuses the compiled program.
 *
 * @param x A tensor.
 * @param c A finite number.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, scale } from "@deno-gpu/kernels";
 * using half = scale(cpu().tensor([2, 4]), 0.5);
 * console.log(await half.read()); // Float32Array [1, 2]
 * ```
 */
export function scale(x: Tensor, c: number): Tensor {
  checkArity("scale", arguments, 2);
  const factor = checkNumber("scale", "c", c);
  return applyElementwise(scaleOp, { x }, { c: factor });
}

/**
 * Elementwise log(1 + x), accurate near 0 where `log(1 + x)` is not: within 10u relative
 * on [−0.5, 1.5) (a series in s = x/(2 + x)), WGSL's `log` accuracy elsewhere; NumPy's
 * edges: −Inf at −1, NaN below, ±0 and subnormals kept.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, log1p } from "@deno-gpu/kernels";
 * using l = log1p(cpu().tensor([0, 1e-10, -1]));
 * console.log(await l.read()); // Float32Array [0, 1e-10, -Infinity]
 * ```
 */
export function log1p(x: Tensor): Tensor {
  checkArity("log1p", arguments, 1);
  return applyElementwise(log1pOp, { x }, undefined);
}

/**
 * Elementwise eˣ − 1, accurate near 0 where `exp(x) − 1` is not: within 4.1u relative on
 * [−0.5, 0.5] (a Taylor polynomial), exp's accuracy (times at most 2.54) elsewhere; −1 at
 * −Inf, ±0 and subnormals kept (NumPy's `expm1`).
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, expm1 } from "@deno-gpu/kernels";
 * using e = expm1(cpu().tensor([0, 1e-10, -Infinity]));
 * console.log(await e.read()); // Float32Array [0, 1e-10, -1]
 * ```
 */
export function expm1(x: Tensor): Tensor {
  checkArity("expm1", arguments, 1);
  return applyElementwise(expm1Op, { x }, undefined);
}

/**
 * Elementwise 1/√x (WGSL's `inverseSqrt`, 2 ULP), with the edges of `1 / np.sqrt(x)`:
 * Inf at +0, −Inf at −0, 0 at +Inf, NaN below 0.
 *
 * @param x A tensor of values ≥ 0.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, rsqrt } from "@deno-gpu/kernels";
 * using r = rsqrt(cpu().tensor([4, 0.25]));
 * console.log(await r.read()); // Float32Array [0.5, 2]
 * ```
 */
export function rsqrt(x: Tensor): Tensor {
  checkArity("rsqrt", arguments, 1);
  return applyElementwise(rsqrtOp, { x }, undefined);
}

/**
 * Elementwise sine (radians): within 2⁻¹¹ + 8.2u absolute on the GPU below |x| = 2¹⁸
 * (WGSL's 2⁻¹¹ after a reduction by 2π in three parts), 1.1u·|x| more beyond; NaN at
 * ±Inf, ±0 and subnormals kept.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, sin } from "@deno-gpu/kernels";
 * using s = sin(cpu().tensor([0, Math.PI / 2]));
 * console.log(await s.read()); // Float32Array [0, 1]
 * ```
 */
export function sin(x: Tensor): Tensor {
  checkArity("sin", arguments, 1);
  return applyElementwise(sinOp, { x }, undefined);
}

/**
 * Elementwise cosine (radians), to the accuracy of {@linkcode sin}; 1 at ±0, NaN at ±Inf.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cos, cpu } from "@deno-gpu/kernels";
 * using c = cos(cpu().tensor([0, Math.PI]));
 * console.log(await c.read()); // Float32Array [1, -1]
 * ```
 */
export function cos(x: Tensor): Tensor {
  checkArity("cos", arguments, 1);
  return applyElementwise(cosOp, { x }, undefined);
}
