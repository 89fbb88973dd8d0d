/**
 * @file Losses: the study's, per example — `squaredLoss` (with the ½, the from-scratch
 * version) and `mseLoss` (without, PyTorch's `MSELoss(reduction='none')`) —, the
 * classifier's `crossEntropy` (PyTorch's default: the mean over the batch of
 * −log softmax at the label, from stable log-softmax), and `evaluateLoss`, the mean of a
 * per-example loss over a whole dataset, kept on the device.
 */
import {
  checkArity,
  checkRank,
  checkSameShape,
  checkTensors,
  checkType,
} from "../ops/_validate.ts";
import { ALL_TYPES, FLOAT_TYPES } from "../ops/dtype.ts";
import { checkIndexType } from "../ops/indices.ts";
import { neg, sub } from "../ops/arithmetic.ts";
import { equal, where } from "../ops/compare.ts";
import { CpuTensor } from "../ops/cpu_backend.ts";
import { fill, iota } from "../ops/creation.ts";
import { scale, square } from "../ops/math.ts";
import { mean, sum } from "../ops/reduce.ts";
import { scope } from "../ops/scope.ts";
import { reshape } from "../ops/shape.ts";
import { logSoftmax } from "../ops/softmax.ts";
import { describe, formatShape, type Tensor } from "../ops/tensor.ts";
import { checkDataset, type Dataset } from "./data.ts";

function residual(op: string, yHat: Tensor, y: Tensor): Tensor {
  const [prediction, target] = checkTensors(op, { yHat, y });
  checkSameShape(op, ["yHat", "y"], prediction, target);
  return sub(prediction, target);
}

/**
 * `(ŷ − y)²/2` per example.
 *
 * @param yHat Predictions.
 * @param y Targets, of the same shape.
 * @returns A tensor of that shape.
 * @example
 * ```ts
 * import { cpu, squaredLoss } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using l = squaredLoss(ref.tensor([1, 3]), ref.tensor([0, 1]));
 * console.log(await l.read()); // Float32Array [0.5, 2]
 * ```
 */
export function squaredLoss(yHat: Tensor, y: Tensor): Tensor {
  checkArity("squaredLoss", arguments, 2);
  return scale(square(residual("squaredLoss", yHat, y)), 0.5);
}

/**
 * `(ŷ − y)²` per example.
 *
 * @param yHat Predictions.
 * @param y Targets, of the same shape.
 * @returns A tensor of that shape.
 * @example
 * ```ts
 * import { cpu, mseLoss } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using l = mseLoss(ref.tensor([1, 3]), ref.tensor([0, 1]));
 * console.log(await l.read()); // Float32Array [1, 4]
 * ```
 */
export function mseLoss(yHat: Tensor, y: Tensor): Tensor {
  checkArity("mseLoss", arguments, 2);
  return square(residual("mseLoss", yHat, y));
}

/**
 * Softmax cross-entropy, PyTorch's default: the mean over the `n` examples of
 * `−log softmax(logits)[i, labels[i]]`, computed from a stable log-softmax (logits of
 * ±10⁴ give a finite loss). The label's log-probability is picked, not multiplied by a
 * one-hot mask, so a −Inf logit of another class costs nothing (PyTorch's gather); a row
 * holding +Inf or NaN gives NaN. Its gradient with respect to the logits is
 * `(softmax − one-hot)/n`. Labels are class ids in [0, c): int32, or float32 whole numbers;
 * they are checked on the CPU backend, while on the GPU a label outside the range
 * contributes nothing to the loss.
 *
 * @param logits Scores `[n, c]`.
 * @param labels Class ids `[n]`, on the same backend.
 * @returns A scalar tensor.
 * @example
 * ```ts
 * import { cpu, crossEntropy } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using loss = crossEntropy(ref.tensor([0, 0, 1e4, -1e4], [2, 2]), ref.tensor([1, 0]));
 * console.log(await loss.read()); // Float32Array [0.34657359]: (ln 2 + 0)/2
 * ```
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  checkArity("crossEntropy", arguments, 2);
  const op = "crossEntropy";
  const [scores, classes] = checkTensors(op, { logits, labels }, ALL_TYPES);
  checkType(op, "logits", scores, FLOAT_TYPES);
  checkIndexType(op, "labels", classes);
  checkRank(op, "logits", scores, 2);
  const [n, c] = scores.shape;
  if (classes.shape.length !== 1 || classes.shape[0] !== n) {
    throw new RangeError(
      `${op}: expected labels of shape [${n}] for logits ${formatShape(scores.shape)}, got ${
        formatShape(classes.shape)
      }`,
    );
  }
  if (classes instanceof CpuTensor) {
    classes.data.forEach((label, i) => {
      if (!Number.isInteger(label) || label < 0 || label >= c) {
        throw new RangeError(`${op}: expected labels in [0, ${c}), got ${label} at position ${i}`);
      }
    });
  }
  return scope(() => {
    const oneHot = equal(reshape(classes, [n, 1]), iota(scores.backend, c));
    // Picked by `where`, not a product with the one-hot mask: another class's −Inf
    // log-probability must not meet 0·Inf = NaN (PyTorch gathers the label's).
    const picked = sum(where(oneHot, logSoftmax(scores), fill(op, scores.backend, [], 0)), {
      axis: -1,
    });
    return neg(mean(picked));
  });
}

/**
 * The mean per-example loss of a model over a dataset, as a scalar tensor on the
 * dataset's backend (read it when needed; nothing waits here).
 *
 * @param net The model: features to predictions.
 * @param data The dataset.
 * @param loss A per-example loss such as {@linkcode squaredLoss}.
 * @returns A scalar tensor.
 * @example
 * ```ts
 * import { cpu, evaluateLoss, squaredLoss } from "@deno-gpu/kernels";
 * const ref = cpu();
 * const data = { X: ref.tensor([1, 2], [2, 1]), y: ref.tensor([1, 1], [2, 1]) };
 * using l = evaluateLoss((X) => X, data, squaredLoss);
 * console.log(await l.read()); // Float32Array [0.25]
 * ```
 */
export function evaluateLoss(
  net: (X: Tensor) => Tensor,
  data: Dataset,
  loss: (yHat: Tensor, y: Tensor) => Tensor,
): Tensor {
  checkArity("evaluateLoss", arguments, 3);
  const op = "evaluateLoss";
  for (const [name, f] of [["net", net], ["loss", loss]] as const) {
    if (typeof f !== "function") {
      throw new TypeError(`${op}: expected ${name} to be a function, got ${describe(f)}`);
    }
  }
  const { X, y } = checkDataset(op, data);
  // The predictions and per-example losses are intermediates: freed here.
  return scope(() => mean(loss(net(X), y)));
}
