/**
 * @file `sgdStep`: one step of minibatch SGD with L2 weight decay, the update the
 * study's `sgd` and PyTorch's `SGD(weight_decay=…)` perform, fused into one kernel.
 */
import { encodeSgdStep, type SgdStepParams } from "../kernels/sgd_step.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkNumber, checkOptions, checkSameShape, checkTensors } from "./_validate.ts";
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
  /** The gradient is divided by this (the gradient of a sum over a batch); ≥ 1. */
  readonly batchSize?: number;
}

const sgdStepOp: OpDefinition<SgdStepParams> = {
  name: "sgdStep",
  reference([p, g], { lr, weightDecay, batchSize }) {
    return p.map((w, i) => w - lr * (g[i] / batchSize + weightDecay * w));
  },
  kernel: encodeSgdStep,
};

/**
 * One SGD step with weight decay: `p − lr·(g/batchSize + weightDecay·p)`.
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
  const op = "sgdStep";
  const [params, grad] = checkTensors(op, { p, g });
  checkSameShape(op, ["p", "g"], params, grad);
  const o = checkOptions(op, options, true);
  const lr = checkNumber(op, "lr", o.lr);
  const weightDecay = o.weightDecay === undefined
    ? 0
    : checkNumber(op, "weightDecay", o.weightDecay);
  const batchSize = o.batchSize === undefined
    ? 1
    : checkNumber(op, "batchSize", o.batchSize, { min: 1 });
  return runOp(sgdStepOp, [params, grad], { lr, weightDecay, batchSize }, params.shape);
}
