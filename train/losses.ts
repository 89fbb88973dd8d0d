/**
 * @file The study's losses, per example: `squaredLoss` (with the ½, the from-scratch
 * version) and `mseLoss` (without, PyTorch's `MSELoss(reduction='none')`); and
 * `evaluateLoss`, their mean over a whole dataset, kept on the device.
 */
import { checkSameShape, checkTensors } from "../ops/_validate.ts";
import { scale, square, sub } from "../ops/elementwise.ts";
import { mean } from "../ops/reduce.ts";
import { scope } from "../ops/scope.ts";
import { describe, type Tensor } from "../ops/tensor.ts";
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
  return square(residual("mseLoss", yHat, y));
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
