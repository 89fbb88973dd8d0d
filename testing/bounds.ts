/**
 * @file The error bounds the library's own property tests hold its kernels to, for
 * anyone's kernels: float32's unit roundoff, γ(n) for n rounded operations, dot products
 * and tree sums, and WGSL's ULP bounds for `exp`, division and `pow` (with the measured
 * allowances of the software adapters). Each bound is derived in its comment; a test
 * compares a GPU result with an exact (float64) reference and fails beyond the bound.
 * Exported as `bounds` by `@deno-gpu/kernels/testing`; tests/_numerics.ts re-exports the
 * same functions, so the library's tests and its users share one copy.
 *
 * @module
 */
import { treeSumRoundings } from "../kernels/reduce.ts";

export { treeSumRoundings };

/** Unit roundoff of float32. */
export const U = 2 ** -24;

/** γ(n) = n·u/(1 − n·u): the forward error factor of n rounded operations. */
export function gamma(n: number): number {
  return (n * U) / (1 - n * U);
}

/** Smallest normal float32: a flushed subnormal intermediate is off by less than this. */
export const MIN_NORMAL = 2 ** -126;

/**
 * A float32 dot product of length k, summed in order (matmul's kernels): its error
 * against the exact value is at most γ(k)·Σ|aᵢbᵢ| (Higham, "Accuracy and Stability of
 * Numerical Algorithms", §3.1), and a GPU that flushes subnormal products is off by less
 * than 2⁻¹²⁶ more for each.
 *
 * @param k The number of products summed.
 * @param absProducts Σ|aᵢbᵢ|, in float64.
 * @returns The largest |computed − exact|.
 */
export function dot(k: number, absProducts: number): number {
  return gamma(k) * absProducts + k * MIN_NORMAL;
}

/**
 * A float32 sum of n terms by the library's reduction tree (`sum`, `mean`, `l2Penalty`):
 * the longest chain of roundings from a term to the sum grows with log n
 * ({@linkcode treeSumRoundings}), so the error is at most γ(that)·Σ|xᵢ|, plus less than
 * 2⁻¹²⁶ a term where subnormals are flushed.
 *
 * @param n The number of terms.
 * @param absSum Σ|xᵢ|, in float64.
 * @returns The largest |computed − exact|.
 */
export function treeSum(n: number, absSum: number): number {
  return gamma(treeSumRoundings(n)) * absSum + n * MIN_NORMAL;
}

/**
 * WGSL's ULP(x) for float32: the smallest distance between two different finite float32
 * a ≤ x ≤ b (at a power of two, the gap below it). WGSL states the accuracy of `exp`,
 * `log`, division and friends in these units, measured at the exact result.
 */
export function ulp(x: number): number {
  const a = Math.abs(x);
  if (a < MIN_NORMAL) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return a === 2 ** e ? 2 ** (e - 24) : 2 ** (e - 23);
}

/**
 * Accuracy an implementation measurably lacks: ULPs beyond WGSL's bound, allowed only on
 * the adapters it was measured on, recognised by their description (a backend's `name`,
 * e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`). Every other adapter, and the CPU reference,
 * is held to WGSL's own bound.
 */
export interface Allowance {
  /** ULPs over WGSL's bound. */
  readonly ulps: number;
  /** Matches the description of the adapters where it was measured. */
  readonly adapter: RegExp;
}

/** The ULPs `allowance` grants on `backend`: its own where the adapter matches, else 0. */
export function allowanceOn(allowance: Allowance, backend: { readonly name: string }): number {
  return allowance.adapter.test(backend.name) ? allowance.ulps : 0;
}

/**
 * The software adapters' exp exceeds WGSL's 3 + 2|x| near 0. llvmpipe (Mesa's software
 * rasteriser, behind both Vulkan and GL here): over 2²² evenly spaced points of
 * [−0.1, 0.1] its worst is 3.456 ULP at x = −0.05604 (WGSL allows 3.112 there), 0.344
 * over; 2²² points of [0.1, 88] and of [−88, −0.1] (normal results) stay within WGSL's
 * bound, as do 2²⁰ of [−0.001, 0.001] (`DENO_WEBGPU_BACKEND=vulkan deno run --allow-env
 * --allow-read scripts/measure_accuracy.ts exp -0.1 0.1 4194304`; the same figures on
 * `gl`). SwiftShader (Chromium's WebGPU without a GPU, "google swiftshader"; the same
 * measurement in the page, on the bundle): 3.334 ULP at x = −0.04766, 0.239 over, and
 * within WGSL's bound on [0.1, 88] and [−88, −0.1]. Bounds built on exp allow these two
 * 0.5 ULP more, and no other adapter.
 */
export const EXP_ALLOWANCE: Allowance = { ulps: 0.5, adapter: /^llvmpipe\b|swiftshader/i };

/**
 * exp's error at x in ULPs of the result on `backend`: WGSL's 3 + 2|x|, plus
 * {@linkcode EXP_ALLOWANCE} on the adapter where it was measured.
 */
export function expUlps(x: number, backend: { readonly name: string }): number {
  return 3 + allowanceOn(EXP_ALLOWANCE, backend) + 2 * Math.abs(x);
}

/**
 * WGSL's bound on a GPU division's error, at the exact quotient q: 2.5 ULP (divisor
 * magnitudes in [2⁻¹²⁶, 2¹²⁶]), and MIN_NORMAL where q is subnormal (flushable).
 */
export function divBound(q: number): number {
  return 2.5 * ulp(q) + (Math.abs(q) < MIN_NORMAL ? MIN_NORMAL : 0);
}

/**
 * The GPU's bound for pow(a, b) = sign·exp2(b·log2|a|) (WGSL's pow inherits
 * exp2(y·log2(x))): log2 is off by εL (3 ULP, or 2⁻²¹ absolute for |a| in [0.5, 2]), the
 * product by u more, so the exponent P = b·log2|a| is off by Δ ≤ |b|·εL + u|P|(1 + u);
 * exp2 turns that into a factor 2^±Δ and adds its own 3 + 2|P̂| ULP (≤ 2⁻²³ relative
 * each). The sign is exact. Meaningful while the result is normal; a subnormal base |a|
 * is taken as 2⁻²⁴ of a normal one (the kernel's scaling), its log2 off by 3 ULP of
 * log2|a| + 24 plus the subtraction's rounding.
 */
export function powBound(a: number, b: number): number {
  const l2 = Math.log2(Math.abs(a)), p = b * l2;
  // A subnormal base is scaled by 2²⁴ first: log2 of that, then 24 subtracted (rounded).
  const errL = Math.abs(a) < MIN_NORMAL
    ? 3 * ulp(l2 + 24) + ulp(l2) / 2
    : Math.abs(a) >= 0.5 && Math.abs(a) <= 2
    ? 2 ** -21
    : 3 * ulp(l2);
  const delta = Math.abs(b) * errL + U * Math.abs(p) * (1 + U);
  const r = Math.abs(Math.pow(a, b));
  return r * (2 ** delta - 1) + (3 + 2 * (Math.abs(p) + delta)) * 2 ** -23 * r * 2 ** delta;
}
