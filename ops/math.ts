/**
 * @file Elementwise functions of one tensor: `abs`, `exp`, `log`, `sqrt`, `square`,
 * `relu`, `sigmoid`, `tanh`, and `scale` by a number — each one expression
 * (`ops/_elementwise.ts`), with its derivative as one fused expression of its own so
 * that a backward step is one kernel too. Accuracy on the GPU is WGSL's: `abs`,
 * `square`, `relu` and `scale` are exact or one rounding; `exp` is within 3 + 2|x| ulp,
 * `log` within 3 ulp outside [0.5, 2] and 2⁻²¹ absolute inside, `sqrt` within about
 * 4.5 ulp (`1/inverseSqrt`); `sigmoid` and `tanh` are built from `exp` and one division
 * by a number in [1, 2] (see `kernels/expression.ts`), so they never overflow.
 */
import { call, type Expr, input, literal, scalar } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import { checkArity, checkNumber } from "./_validate.ts";
import type { Tensor } from "./tensor.ts";

const [g, x] = [input(0), input(1)];

/** A unary op whose gradient is `g·derivative(x)`, one expression over inputs (g, x). */
function unary(name: string, f: Expr, derivative: Expr) {
  const gradOp = elementwiseOp<void>({ name, expression: () => call("mul", g, derivative) });
  return elementwiseOp<void>({
    name,
    expression: () => f,
    vjp: (grad, [value]) => [applyElementwise(gradOp, { g: grad, x: value }, undefined)],
  });
}

// In each derivative, input(1) is x.
const absOp = unary(
  "abs",
  call("abs", input(0)),
  call("sub", call("greater", x, literal(0)), call("less", x, literal(0))),
);
const expOp = unary("exp", call("exp", input(0)), call("exp", x));
const logOp = unary("log", call("log", input(0)), call("div", literal(1), x));
const sqrtOp = unary(
  "sqrt",
  call("sqrt", input(0)),
  call("div", literal(0.5), call("sqrt", x)),
);
const squareOp = unary("square", call("mul", input(0), input(0)), call("mul", literal(2), x));
const reluOp = unary("relu", call("relu", input(0)), call("greater", x, literal(0)));
const sigmoidOp = unary(
  "sigmoid",
  call("sigmoid", input(0)),
  call("mul", call("sigmoid", x), call("sub", literal(1), call("sigmoid", x))),
);
const tanhOp = unary(
  "tanh",
  call("tanh", input(0)),
  call("sub", literal(1), call("mul", call("tanh", x), call("tanh", x))),
);

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
