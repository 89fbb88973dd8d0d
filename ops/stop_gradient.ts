/**
 * @file `stopGradient`: the identity that differentiation sees as a constant, as in JAX's
 * `lax.stop_gradient`. It is what makes `logSumExp` and `softmax` both stable and exactly
 * differentiable: the maximum they subtract cancels analytically, so no gradient need
 * flow through it. Under `jit` it costs nothing (its term is its input).
 */
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkTensors } from "./_validate.ts";
import type { Tensor } from "./tensor.ts";

const stopGradientOp: OpDefinition<void> = {
  name: "stopGradient",
  reference: ([x]) => x.slice(),
  form: () => ({ kind: "term", build: ([x]) => x }),
  vjp: () => [null],
};

/**
 * The values of `x`, through which no gradient flows.
 *
 * @param x A tensor.
 * @returns A new tensor equal to `x`.
 * @example
 * ```ts
 * import { cpu, grad, mul, stopGradient, sum } from "@deno-gpu/kernels";
 * using x = cpu().tensor([3]);
 * // d/dx (x · stop(x)) = stop(x) = 3, not 2x = 6.
 * const [dx] = grad((v) => sum(mul(v, stopGradient(v))))(x);
 * console.log(await dx.read()); // Float32Array [3]
 * dx.dispose();
 * ```
 */
export function stopGradient(x: Tensor): Tensor {
  checkArity("stopGradient", arguments, 1);
  const [input] = checkTensors("stopGradient", { x });
  return runOp(stopGradientOp, [input], undefined, input.shape);
}
