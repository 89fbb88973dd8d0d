/**
 * @file Linear models: the study's `linreg(X, w, b) = Xw + b`, and a `Linear` layer
 * shaped like PyTorch's `nn.Linear` (weight `[out, in]`, bias `[out]`). Layers hold no
 * state: they make parameters and apply them, so parameters stay plain tensors that
 * `valueAndGrad` and the optimiser can pass around.
 */
import { add } from "../ops/elementwise.ts";
import { matmul } from "../ops/matmul.ts";
import { type RandomKey, splitKey } from "../ops/random.ts";
import { randomNormal } from "../ops/random_normal.ts";
import type { Backend, Tensor } from "../ops/tensor.ts";

/**
 * Linear regression: `Xw + b`.
 *
 * @param X Features `[n, d]`.
 * @param w Weights `[d, 1]`.
 * @param b Bias, a scalar or `[1]`.
 * @returns Predictions `[n, 1]`.
 * @example
 * ```ts
 * import { cpu, linreg } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using yHat = linreg(ref.tensor([1, 2, 3, 4], [2, 2]), ref.tensor([1, 1], [2, 1]), ref.tensor([0.5]));
 * console.log(await yHat.read()); // Float32Array [3.5, 7.5]
 * ```
 */
export function linreg(X: Tensor, w: Tensor, b: Tensor): Tensor {
  return add(matmul(X, w), b);
}

/** The parameters of a {@linkcode Linear} layer. */
export interface LinearParams {
  /** `[out, in]`, as PyTorch stores it. */
  readonly weight: Tensor;
  /** `[out]`. */
  readonly bias: Tensor;
  /** Index signature, so the record can be passed where named tensors are expected. */
  readonly [name: string]: Tensor;
}

/** A fully connected layer `y = X·Wᵀ + b`, like PyTorch's `nn.Linear`. */
export class Linear {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;

  /**
   * A layer from `inFeatures` inputs to `outFeatures` outputs.
   *
   * @param inFeatures Input features, an integer ≥ 1.
   * @param outFeatures Output features, an integer ≥ 1.
   */
  constructor(inFeatures: number, outFeatures: number) {
    for (const [name, v] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`Linear: expected ${name} to be an integer ≥ 1, got ${v}`);
      }
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
  }

  /**
   * New parameters with weight and bias both drawn from N(0, std²), as the study's
   * concise version re-initialises them.
   *
   * @param backend Where to make them.
   * @param key The key to draw from.
   * @param std Standard deviation (default 1).
   * @returns `{ weight, bias }`.
   */
  init(backend: Backend, key: RandomKey, std = 1): LinearParams {
    const [weightKey, biasKey] = splitKey(key);
    return {
      weight: randomNormal(backend, [this.outFeatures, this.inFeatures], weightKey, { std }),
      bias: randomNormal(backend, [this.outFeatures], biasKey, { std }),
    };
  }

  /**
   * Applies the layer.
   *
   * @param params Its parameters.
   * @param X Inputs `[n, inFeatures]`.
   * @returns Outputs `[n, outFeatures]`.
   * @example
   * ```ts
   * import { cpu, Linear, randomKey } from "@deno-gpu/kernels";
   * const layer = new Linear(3, 1);
   * const params = layer.init(cpu(), randomKey(0));
   * using y = layer.apply(params, cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]));
   * console.log(y.shape); // [2, 1]
   * ```
   */
  apply(params: LinearParams, X: Tensor): Tensor {
    return add(matmul(X, params.weight, { transposeB: true }), params.bias);
  }
}
