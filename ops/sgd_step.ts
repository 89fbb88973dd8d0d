/**
 * @file `sgdStep`: one step of minibatch SGD with L2 weight decay, the update the
 * study's `sgd` and PyTorch's `SGD(weight_decay=…)` perform, as one expression
 * `p − lr·(g·(1/batchSize) + weightDecay·p)`: one kernel eagerly, and under `jit` the
 * epilogue of whatever computed the gradient. The reciprocal of the batch size is
 * rounded to float32 once (no division on the GPU, where WGSL allows 2.5 ulp); the three
 * numbers are runtime values, so a new learning rate reuses a compiled program.
 */
import { call, input, scalar } from "../kernels/expression.ts";
import { elementwiseOp } from "./_elementwise.ts";
import { runOp } from "./_op.ts";
import {
  checkArity,
  checkInteger,
  checkNumber,
  checkOptions,
  checkSameShape,
  checkTensors,
} from "./_validate.ts";
import type { Tensor } from "./tensor.ts";

/**
 * Options of {@linkcode sgdStep}.
 *
 * @example
 * ```ts
 * import { cpu, sgdStep, type SgdStepOptions } from "@deno-gpu/kernels";
 * const options: SgdStepOptions = { lr: 0.5, weightDecay: 0.5, batchSize: 4 };
 * using p = cpu().tensor([1, 2]);
 * using g = cpu().tensor([4, 8]);
 * using next = sgdStep(p, g, options);
 * console.log(await next.read()); // Float32Array [0.25, 0.5]
 * ```
 */
export interface SgdStepOptions {
  /** Learning rate: a finite number. */
  readonly lr: number;
  /** L2 weight decay coefficient, finite; negative values push weights away from zero. */
  readonly weightDecay?: number;
  /** The gradient is divided by this (the gradient of a sum over a batch); an integer ≥ 1. */
  readonly batchSize?: number;
}

/** Scalars of one SGD step. */
interface SgdStepParams {
  readonly lr: number;
  readonly weightDecay: number;
  readonly batchSize: number;
}

const [p, g] = [input(0), input(1)];

// Without weight decay the update has no decay term (PyTorch's SGD skips it), so an
// infinite parameter stays infinite instead of meeting 0·Inf = NaN.
const sgdStepOp = elementwiseOp<SgdStepParams>({
  name: "sgdStep",
  expression: ({ lr, weightDecay, batchSize }) => {
    const step = call("mul", g, scalar(1 / batchSize));
    const decayed = weightDecay === 0
      ? step
      : call("add", step, call("mul", scalar(weightDecay), p));
    return call("sub", p, call("mul", scalar(lr), decayed));
  },
});

/**
 * One SGD step with weight decay: `p − lr·(g/batchSize + weightDecay·p)`; with
 * `weightDecay` 0 the decay term is absent (as in PyTorch's SGD), so an infinite
 * parameter stays infinite rather than meeting 0·Inf = NaN.
 *
 * @param p The parameters.
 * @param g The gradient, of `p`'s shape and backend.
 * @param options `lr`, and optionally `weightDecay` (default 0) and `batchSize` (default 1).
 * @returns The new parameters; `p` and `g` are unchanged.
 * @example
 * ```ts
 * import { cpu, sgdStep } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using p = ref.tensor([1, -2]);
 * using g = ref.tensor([4, 4]);
 * using next = sgdStep(p, g, { lr: 0.5, batchSize: 2, weightDecay: 1 });
 * console.log(await next.read()); // Float32Array [-0.5, -2]
 * ```
 */
export function sgdStep(p: Tensor, g: Tensor, options: SgdStepOptions): Tensor {
  checkArity("sgdStep", arguments, 3);
  const op = "sgdStep";
  const [params, grad] = checkTensors(op, { p, g });
  checkSameShape(op, ["p", "g"], params, grad);
  const o = checkOptions(op, options, true, ["lr", "weightDecay", "batchSize"]);
  const lr = checkNumber(op, "lr", o.lr);
  const weightDecay = o.weightDecay === undefined
    ? 0
    : checkNumber(op, "weightDecay", o.weightDecay);
  const batchSize = o.batchSize === undefined
    ? 1
    : checkInteger(op, "batchSize", o.batchSize, { min: 1 });
  return runOp(sgdStepOp, [params, grad], { lr, weightDecay, batchSize }, params.shape);
}
