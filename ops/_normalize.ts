/**
 * @file What `batchNorm` and `layerNorm` share: x normalised over some axes with its
 * own mean and biased variance, then scaled and shifted — γ·((x − μ)/√(σ² + ε)) + β —
 * written with the library's ops (mean, sub, square, add, sqrt, div, mul), so the
 * gradients come from their vjps and `jit` fuses the elementwise steps into the two
 * reductions. The variance is the mean of the squared deviations from the mean already
 * computed (two passes), which cannot go negative as E[x²] − E[x]² can in float32.
 */
import { add, div, mul, sub } from "./arithmetic.ts";
import { fill } from "./creation.ts";
import { sqrt, square } from "./math.ts";
import { mean } from "./reduce.ts";
import type { Tensor } from "./tensor.ts";

/**
 * γ·(d/√(variance + ε)) + β for deviations `d` from a mean: `variance`, `gamma` and
 * `beta` broadcast against `d`; `op` names the caller in errors.
 */
export function scaleShift(
  op: string,
  d: Tensor,
  variance: Tensor,
  eps: number,
  gamma: Tensor,
  beta: Tensor,
): Tensor {
  const deviation = sqrt(add(variance, fill(op, d.backend, [], eps)));
  return add(mul(gamma, div(d, deviation)), beta);
}

/** The batch statistics and the normalised, scaled and shifted result. */
export interface Normalized {
  /** The mean over the axes, kept as 1s. */
  readonly mean: Tensor;
  /** The biased variance (divided by the count) over the axes, kept as 1s. */
  readonly variance: Tensor;
  /** γ·((x − μ)/√(σ² + ε)) + β. */
  readonly y: Tensor;
}

/**
 * `x` normalised over `axes` with its own mean and biased variance, then scaled by
 * `gamma` and shifted by `beta` (both broadcast against `x`). The caller runs it in a
 * scope.
 */
export function normalizeOver(
  op: string,
  x: Tensor,
  axes: readonly number[],
  eps: number,
  gamma: Tensor,
  beta: Tensor,
): Normalized {
  const mu = mean(x, { axis: axes, keepDims: true });
  const d = sub(x, mu);
  const variance = mean(square(d), { axis: axes, keepDims: true });
  return { mean: mu, variance, y: scaleShift(op, d, variance, eps, gamma, beta) };
}
