/**
 * @file `layerNorm`: layer normalisation (Ba, Kiros and Hinton; d2l §8.5.3) over one or
 * more axes of each example, Keras's `LayerNormalization(axis)` and PyTorch's
 * `layer_norm` with the normalised shape x.shape at those axes: each slice is
 * normalised with its own mean and biased variance, then scaled by γ and shifted by β,
 * which hold one value per element of the slice. The same in training and evaluation.
 * Written with the library's ops (`ops/_normalize.ts`), so its gradient comes from
 * theirs and `jit` fuses it.
 */
import { normalizeOver } from "./_normalize.ts";
import { checkArity, checkAxes, checkNumber, checkOptions, checkTensors } from "./_validate.ts";
import { scope } from "./scope.ts";
import { reshape } from "./shape.ts";
import { formatShape, type Tensor } from "./tensor.ts";

/** `layerNorm`'s options. */
export interface LayerNormOptions {
  /** The normalised axes: an integer or a list, negative from the end; −1 by default. */
  readonly axis?: number | readonly number[];
  /** Added to the variance before its square root, ≥ 0; 1e-5 by default. */
  readonly eps?: number;
}

/**
 * Layer normalisation: y = γ·((x − μ)/√(σ² + ε)) + β with μ and σ² the mean and biased
 * variance of each slice of `x` along `axis`.
 *
 * @param x A tensor.
 * @param gamma The scale, of x's shape at the normalised axes (in order).
 * @param beta The shift, of the same shape.
 * @param options `axis` (−1) and `eps` (1e-5).
 * @returns A new tensor of x's shape.
 * @example
 * ```ts
 * import { cpu, layerNorm } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using x = ref.tensor([1, 3, 10, 30], [2, 2]);
 * using y = layerNorm(x, ref.tensor([1, 2]), ref.tensor([0, 1]), { eps: 0 });
 * console.log(await y.read()); // Float32Array [-1, 3, -1, 3]
 * ```
 */
export function layerNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  options?: LayerNormOptions,
): Tensor {
  const op = "layerNorm";
  checkArity(op, arguments, 4);
  const [input, g, b] = checkTensors(op, { x, gamma, beta });
  const o = checkOptions(op, options, false, ["axis", "eps"]);
  const axes = checkAxes(op, o.axis === undefined ? -1 : o.axis, input.shape.length);
  const eps = o.eps === undefined ? 1e-5 : checkNumber(op, "eps", o.eps, { min: 0 });
  const normalized = axes.map((a) => input.shape[a]);
  for (const [name, t] of [["gamma", g], ["beta", b]] as const) {
    if (t.shape.length !== axes.length || t.shape.some((d, i) => d !== normalized[i])) {
      throw new RangeError(
        `${op}: expected ${name} to have shape ${
          formatShape(normalized)
        } (x's shape at the normalised axes), got ${formatShape(t.shape)}`,
      );
    }
  }
  const kept = input.shape.map((d, a) => (axes.includes(a) ? d : 1));
  return scope(() => normalizeOver(op, input, axes, eps, reshape(g, kept), reshape(b, kept)).y);
}
