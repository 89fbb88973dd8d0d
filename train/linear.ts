/**
 * @file Linear models: the study's `linreg(X, w, b) = Xw + b`, and a `Linear` layer
 * shaped like PyTorch's `nn.Linear` (weight `[out, in]`, bias `[out]`). Layers hold no
 * state: they make parameters and apply them, so parameters stay plain tensors that
 * `valueAndGrad` and the optimiser can pass around.
 */
import {
  checkArity,
  checkBackend,
  checkInteger,
  checkNumber,
  checkOptions,
  checkRank,
  checkResultSize,
  checkTensors,
} from "../ops/_validate.ts";
import { add } from "../ops/arithmetic.ts";
import { matmul } from "../ops/matmul.ts";
import { checkKey, type RandomKey, splitKey } from "../ops/random.ts";
import { randomNormal } from "../ops/random_normal.ts";
import { scope } from "../ops/scope.ts";
import { type Backend, formatShape, type Tensor } from "../ops/tensor.ts";

/**
 * Checks a model's operands up front (so an error names the model's function, not an
 * op inside it): `X` is `[n, d]`, `w` is `[d, out]` (or `[out, d]` when `transposed`),
 * `b` has `out` elements.
 */
function checkAffine(
  op: string,
  names: [string, string, string],
  operands: [unknown, unknown, unknown],
  transposed: boolean,
): [Tensor, Tensor, Tensor] {
  const [X, w, b] = checkTensors(op, Object.fromEntries(names.map((n, i) => [n, operands[i]])));
  checkRank(op, names[0], X, 2);
  checkRank(op, names[1], w, 2);
  const [d, out] = transposed ? [w.shape[1], w.shape[0]] : w.shape;
  if (X.shape[1] !== d || b.size !== out || b.shape.length > 1) {
    throw new RangeError(
      `${op}: expected ${names[0]} [n, ${d}], ${names[1]} ${formatShape(w.shape)} and ${
        names[2]
      } of ${out} element(s) as [] or [${out}], got ${formatShape(X.shape)}, ${
        formatShape(w.shape)
      } and ${formatShape(b.shape)}`,
    );
  }
  return [X, w, b];
}

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
  checkArity("linreg", arguments, 3);
  const [x, weight, bias] = checkAffine("linreg", ["X", "w", "b"], [X, w, b], false);
  return scope(() => add(matmul(x, weight), bias));
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
    checkArity("Linear", arguments, 2);
    checkInteger("Linear", "inFeatures", inFeatures, { min: 1 });
    checkInteger("Linear", "outFeatures", outFeatures, { min: 1 });
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
    const op = "Linear.init";
    checkArity(op, arguments, 3);
    checkBackend(op, backend);
    const [weightKey, biasKey] = splitKey(checkKey(op, key));
    checkNumber(op, "std", std, { min: 0 });
    checkResultSize(op, backend, [this.outFeatures, this.inFeatures]);
    return scope(() => ({
      weight: randomNormal(backend, [this.outFeatures, this.inFeatures], weightKey, { std }),
      bias: randomNormal(backend, [this.outFeatures], biasKey, { std }),
    }));
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
    const op = "Linear.apply";
    checkArity(op, arguments, 2);
    const p = checkOptions(op, params, true, ["weight", "bias"]);
    const [x, weight, bias] = checkAffine(
      op,
      ["X", "params.weight", "params.bias"],
      [X, p.weight, p.bias],
      true,
    );
    if (weight.shape[1] !== this.inFeatures || weight.shape[0] !== this.outFeatures) {
      throw new RangeError(
        `${op}: expected params.weight [${this.outFeatures}, ${this.inFeatures}], got ${
          formatShape(weight.shape)
        }`,
      );
    }
    return scope(() => add(matmul(x, weight, { transposeB: true }), bias));
  }
}
