/**
 * @file `batchNorm`: batch normalisation of [N, C] activations (per feature) and of
 * [N, C, H, W] images (per channel, over N, H and W), d2l's definition (§8.5) with
 * PyTorch's momentum convention. Training normalises with the batch's mean and biased
 * variance and returns the moving statistics updated as
 * moving = (1 − momentum)·moving + momentum·batch; evaluation normalises with the
 * moving statistics and returns copies of them.
 *
 * The moving variance takes the batch's UNBIASED variance (σ²·m/(m − 1), m values per
 * channel), as PyTorch's `BatchNorm2d` does (d2l's own code takes the biased one): it
 * estimates the population's variance that evaluation divides by, and a model trained
 * here then evaluates as one trained with PyTorch. The two differ by m/(m − 1) — 1.0002
 * for LeNet's second layer at batch 256 — and training with one value per channel (m = 1,
 * where that is undefined) is an error, as in PyTorch. The moving statistics are held
 * constant for differentiation, as PyTorch updates them without autograd.
 *
 * Written with the library's ops (`ops/_normalize.ts`): the gradient is the full one,
 * through the batch's mean and variance, and `jit` fuses it into a few kernels.
 */
import { normalizeOver, scaleShift } from "./_normalize.ts";
import { checkArity, checkNumber, checkOptions, checkTensors } from "./_validate.ts";
import { add, sub } from "./arithmetic.ts";
import { scale } from "./math.ts";
import { scope } from "./scope.ts";
import { reshape } from "./shape.ts";
import { stopGradient } from "./stop_gradient.ts";
import { describe, formatShape, type Tensor } from "./tensor.ts";

/** `batchNorm`'s options. */
export interface BatchNormOptions {
  /** Normalise with the batch's statistics and update the moving ones (else use them). */
  readonly training: boolean;
  /** The weight of the batch in the moving statistics, in [0, 1]; 0.1 by default. */
  readonly momentum?: number;
  /** Added to the variance before its square root, ≥ 0; 1e-5 by default. */
  readonly eps?: number;
}

/** `batchNorm`'s result: the output and the moving statistics to use next. */
export interface BatchNormResult {
  /** γ·((x − μ)/√(σ² + ε)) + β, of x's shape. */
  readonly y: Tensor;
  /** The moving mean, [C]: updated in training, a copy in evaluation. */
  readonly movingMean: Tensor;
  /** The moving variance, [C]: updated in training, a copy in evaluation. */
  readonly movingVar: Tensor;
}

/**
 * Batch normalisation (Ioffe and Szegedy; d2l §8.5) of `x` [N, C] or [N, C, H, W] per
 * channel C. Training: y = γ·((x − μ)/√(σ² + ε)) + β with the batch's mean μ and biased
 * variance σ² over N (and H, W); the moving statistics become
 * (1 − momentum)·moving + momentum·batch, with the batch's unbiased variance σ²·m/(m − 1)
 * for the moving variance as PyTorch (m values per channel). Evaluation: the same with
 * the moving statistics in place of the batch's.
 *
 * @param x Activations `[N, C]` or images `[N, C, H, W]`.
 * @param gamma The scale, `[C]`.
 * @param beta The shift, `[C]`.
 * @param movingMean The moving mean, `[C]`.
 * @param movingVar The moving variance, `[C]`.
 * @param options `training` (required), `momentum` (0.1), `eps` (1e-5).
 * @returns `{ y, movingMean, movingVar }`, new tensors.
 * @example
 * ```ts
 * import { batchNorm, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 10, 3, 30], [2, 2]); // two examples of two features
 * const ones = ref.ones([2]), zeros = ref.zeros([2]);
 * const { y, movingMean, movingVar } = batchNorm(x, ones, zeros, zeros, ones, {
 *   training: true,
 *   eps: 0,
 * });
 * console.log(await y.read()); //          Float32Array [-1, -1, 1, 1]
 * console.log(await movingMean.read()); // Float32Array [0.2, 2]: 0.1 × the batch's mean [2, 20]
 * console.log(await movingVar.read()); //  Float32Array [1.1, 20.9]: 0.9 + 0.1 × [2, 200]
 * ```
 */
export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  movingMean: Tensor,
  movingVar: Tensor,
  options: BatchNormOptions,
): BatchNormResult {
  const op = "batchNorm";
  checkArity(op, arguments, 6);
  const [input, ...perChannel] = checkTensors(op, { x, gamma, beta, movingMean, movingVar });
  const rank = input.shape.length;
  if (rank !== 2 && rank !== 4) {
    throw new RangeError(
      `${op}: expected x to be [N, C] or [N, C, H, W], got shape ${formatShape(input.shape)}`,
    );
  }
  const c = input.shape[1];
  const names = ["gamma", "beta", "movingMean", "movingVar"];
  perChannel.forEach((t, i) => {
    if (t.shape.length !== 1 || t.shape[0] !== c) {
      throw new RangeError(
        `${op}: expected ${names[i]} to have shape [${c}] (x's channels), got ${
          formatShape(t.shape)
        }`,
      );
    }
  });
  const o = checkOptions(op, options, true, ["training", "momentum", "eps"]);
  if (typeof o.training !== "boolean") {
    throw new TypeError(
      `${op}: expected the option training to be a boolean, got ${describe(o.training)}`,
    );
  }
  const training = o.training;
  const momentum = o.momentum === undefined
    ? 0.1
    : checkNumber(op, "momentum", o.momentum, { min: 0, max: 1 });
  const eps = o.eps === undefined ? 1e-5 : checkNumber(op, "eps", o.eps, { min: 0 });
  const axes = rank === 2 ? [0] : [0, 2, 3];
  const count = axes.reduce((m, a) => m * input.shape[a], 1);
  if (training && count === 1) {
    throw new RangeError(
      `${op}: expected more than one value per channel in training, got x of shape ${
        formatShape(input.shape)
      }`,
    );
  }
  const channels = rank === 2 ? [1, c] : [1, c, 1, 1];
  const [, , oldMean, oldVar] = perChannel;
  return scope(() => {
    const [g, b, mm, mv] = perChannel.map((t) => reshape(t, channels));
    if (!training) {
      return {
        y: scaleShift(op, sub(input, mm), mv, eps, g, b),
        movingMean: reshape(oldMean, [c]),
        movingVar: reshape(oldVar, [c]),
      };
    }
    const { mean, variance, y } = normalizeOver(op, input, axes, eps, g, b);
    const moving = (old: Tensor, batch: Tensor, weight: number) =>
      add(scale(old, 1 - momentum), scale(reshape(stopGradient(batch), [c]), weight));
    return {
      y,
      movingMean: moving(oldMean, mean, momentum),
      movingVar: moving(oldVar, variance, momentum * count / (count - 1)),
    };
  });
}
