/**
 * @file The numerical half of the test harness: fast-check settings, reference helpers
 * and exact comparisons, and (re-exported from their home in the `testing/` folder
 * behind `@deno-gpu/kernels/testing`, so the library's tests and its users share one copy)
 * the value generators, error bounds and the comparison within a bound. It uses no Deno
 * API, so the same checks run in Deno and, bundled, in the browser
 * (tests/browser/properties.ts).
 */
import type fc from "fast-check";
import { assertWithin, isFlushedValue } from "../testing/compare.ts";
import { flushSubnormal, specialKind } from "../testing/values.ts";
import { expUlps, gamma, MIN_NORMAL, U, ulp } from "../testing/bounds.ts";
import type { Tensor } from "../mod.ts";

export { assertWithin, isFlushedValue } from "../testing/compare.ts";
export {
  dim,
  flushSubnormal,
  ordinaryProfile,
  type Profile,
  profile,
  PROFILES,
  seed,
  SPECIAL_KINDS,
  specialCounts,
  type SpecialKind,
  specialKind,
  undrawnSpecialKinds,
  values,
} from "../testing/values.ts";
export {
  type Allowance,
  allowanceOn,
  divBound,
  dot,
  EXP_ALLOWANCE,
  expUlps,
  gamma,
  MIN_NORMAL,
  powBound,
  treeSum,
  U,
  ulp,
} from "../testing/bounds.ts";

/** fast-check settings: a fixed run count, and the seed printed on failure. */
export function runs<T = unknown>(numRuns: number): fc.Parameters<T> {
  return { numRuns, verbose: 1 };
}

/**
 * `domain` applied to the values that are not special (NaN, ±Inf, ±0, subnormals): those
 * stay as drawn, so every input meets them.
 */
export function keepingSpecials(
  domain: (x: Float32Array) => Float32Array,
): (x: Float32Array) => Float32Array {
  return (x) => {
    const mapped = domain(x);
    return mapped.map((v, i) => (specialKind(x[i]) ? x[i] : v));
  };
}

/**
 * A function of float32 inputs with its subnormal inputs flushed to zero, rounded to
 * float32: what a GPU that flushes computes (the comparisons accept its result flushed too).
 */
export function flushing(f: (...args: number[]) => number): (...args: number[]) => number {
  return (...args) => Math.fround(f(...args.map(flushSubnormal)));
}

/**
 * C's `powf` (NumPy's pow in float32) in float64: JavaScript's `Math.pow` except that 1 to
 * any power and −1 to ±Inf are 1.
 */
export function powC(a: number, b: number): number {
  return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b);
}

/** What a bound needs to know of a backend: its adapter's description. */
export type Adapter = { readonly name: string };

/**
 * exp's bound on `backend` at input x, exact value r: WGSL's 3 + 2|x| ULP (+ EXP_ALLOWANCE
 * on llvmpipe and SwiftShader), and MIN_NORMAL where the result is subnormal (flushable).
 */
export function expBound(x: number, r: number, backend: Adapter): number {
  return expUlps(x, backend) * ulp(r) + (r < MIN_NORMAL ? MIN_NORMAL : 0);
}

/**
 * sigmoid's bound on `backend` at input x, exact value r. The kernel computes 1/(1 + e)
 * (x ≥ 0) or e/(1 + e) (x < 0) with e = exp(−|x|), η its exact value: e is within
 * δ = expBound(−|x|, η) of η, absolute; both quotients have |f′| = 1/(1 + e)², so f(e) is
 * within d = δ/(1 + η − δ)² of σ (to first order σ(1 − σ)·(3 + 2|x|)ε). The addition (u)
 * and the division (5u of the quotient) move it by 6u/(1 − u) ≤ 7u of |f(e)| ≤ r + d; a
 * subnormal quotient, flushed, by < 2·MIN_NORMAL. Valid at every finite x.
 */
export function sigmoidBound(x: number, r: number, backend: Adapter): number {
  const eta = Math.exp(-Math.abs(x)), delta = expBound(-Math.abs(x), eta, backend);
  const d = delta / (1 + eta - delta) ** 2;
  return d + 7 * U * (r + d) + 2 * MIN_NORMAL;
}

/**
 * log1p's bound on the GPU at x, exact value r (kernels/special_math_wgsl.ts):
 * - |x| < 2⁻²⁴: the kernel returns x, r's correctly rounded value: half an ULP of r.
 * - x in [−0.5, 1.5): 2s·P(z), s = x/(2 + x), z = s². 2 + x rounds (u) and the division
 *   is within 2.5 ULP (5u of the quotient), so ŝ = s(1 + θ), |θ| ≤ 6.01u; 2·atanh s has
 *   relative condition s·g′/g ≤ 1/(1 − s²) ≤ 1.23 (|s| ≤ 3/7): 7.4u. P − 1 ≤ 0.07
 *   (z ≤ 0.184): z's rounding, the nine coefficients' roundings and Horner's inner
 *   products and sums move P by ≤ 3·0.07u/(1 − 0.184), its last sum by u: ≤ 1.3u; the
 *   series' tail z¹⁰/21/(1 − z) < 2.2·10⁻⁹ = 0.04u; the product 2ŝ·P̂, u. In all 9.8u,
 *   relative: 10u·|r|.
 * - elsewhere log(ũ), ũ = fl(1 + x): exact below −0.5 (Sterbenz), else within u·(1 + x),
 *   which moves the log by ≤ u (1.01u, second order included); ũ is outside [0.5, 2],
 *   where WGSL's log is within 3 ULP ≤ 3·2u·|log ũ| ≤ 6u(|r| + 1.01u).
 * A subnormal x is the first case (or flushed to a zero, which the comparison accepts).
 */
export function log1pBound(x: number, r: number): number {
  if (Math.abs(x) < 2 ** -24) return ulp(r) / 2;
  if (x >= -0.5 && x < 1.5) return 10 * U * Math.abs(r);
  return 6 * U * (Math.abs(r) + 1.01 * U) + 1.01 * U;
}

/**
 * expm1's bound on `backend` at x, exact value r (kernels/special_math_wgsl.ts):
 * - |x| < 2⁻²⁴: x itself, half an ULP of r.
 * - |x| ≤ 0.5: x·P, P = 1 + x·q, q = 1/2! + x/3! + … + x⁷/9!, P in [0.787, 1.298] and
 *   |x·q| ≤ 0.3. Horner's q̂ is within 3.5u of q, relative (a product and a sum per level,
 *   each level's terms below a fifth of the one above, and the coefficients rounded): x·q̂
 *   off by ≤ 1.05u, its rounding ≤ 0.3u, the last sum's u·|P|: P̂ within
 *   u + 1.35u/0.787 ≤ 2.72u of P, relative; the series' tail |x|⁹/10!/(1 − |x|) is below
 *   0.02u of r; the product x·P̂, u: 3.74u, rounded up to 4.1u·|r|.
 * - elsewhere fl(ê − 1), ê = exp(x) within δ = expBound(x, eˣ): δ + u·(|r| + δ).
 */
export function expm1Bound(x: number, r: number, backend: Adapter): number {
  if (Math.abs(x) < 2 ** -24) return ulp(r) / 2;
  if (Math.abs(x) <= 0.5) return 4.1 * U * Math.abs(r);
  const delta = expBound(x, Math.exp(x), backend);
  return delta + U * (Math.abs(r) + delta);
}

/**
 * sin's and cos's bound on the GPU at x (kernels/special_math_wgsl.ts): the builtin's
 * 2⁻¹¹ absolute (WGSL, on [−π, π]; the reduced argument can pass π by the reduction's
 * error, a few u, where we take it to hold too), plus the reduction's error, which both
 * functions (1-Lipschitz) pass on. r = ((x − k·c₁) − k·c₂) − k·c₃, k = round(x/2π):
 * below |x| = 2¹⁸, |k| < 2¹⁶ and k·c₁, k·c₂ (8 significant bits each) and x − k·c₁
 * (Sterbenz) are exact; subtracting k·c₂ is exact where |k·c₂| ≥ 2(π + 0.2) (Sterbenz) and
 * else rounds a result of ≤ 4 by ≤ 4u; k·c₃ rounds by ≤ 2¹⁶·2.6·10⁻⁶·u = 0.17u, the last
 * subtraction by ≤ 4u, and 2π − (c₁ + c₂ + c₃) ≈ 2·10⁻¹⁴ times |k| adds 0.03u: 8.2u.
 * Above 2¹⁸, k·c₁ rounds by u·|x| and the rest by ≤ 0.01u·|x| more: 1.1u·|x| + 12u
 * (meaningless — above 2 — once |x| > 3·10⁷, as any float32 sin is there). Below 2⁻¹²
 * the kernel returns x (sin) or 1 (cos), correctly rounded.
 */
export function trigBound(x: number): number {
  return 2 ** -11 + (Math.abs(x) < 2 ** 18 ? 8.2 * U : 1.1 * U * Math.abs(x) + 12 * U);
}

/**
 * softplus's bound on `backend` at x, exact value r: the kernel computes
 * max(x, 0) + log1p(ê), ê = exp(−|x|) within δ = expBound(−|x|, e) of e (absolute,
 * a subnormal e flushable); log1p moves by ≤ δ/(1 + e − δ) from it, and is itself within
 * log1pBound at ê (the larger of its two branches near 2⁻²⁴: 10u·L + ulp(L), L the log1p of
 * the worst ê); the final sum rounds by u of a result ≤ |r| + d; a subnormal log1p,
 * flushed, by MIN_NORMAL.
 */
export function softplusBound(x: number, r: number, backend: Adapter): number {
  const e = Math.exp(-Math.abs(x)), delta = expBound(-Math.abs(x), e, backend);
  const worst = Math.log1p(e + delta);
  const d = delta / (1 + e - delta) + 10 * U * worst + ulp(worst) + MIN_NORMAL;
  return d + U * (Math.abs(r) + d);
}

/** The float32 constants of gelu(x) = x·σ(C·(x + K·x³)) (ops/activations.ts). */
export const GELU_CONSTANTS: { readonly C: number; readonly K: number } = {
  C: Math.fround(2 * Math.sqrt(2 / Math.PI)),
  K: Math.fround(0.044715),
};

/**
 * gelu's bound on `backend` at x, exact value r = x·σ(z), z = C·(x + K·x³): the kernel's
 * ẑ takes five correctly rounded operations on terms of one sign (no cancellation), so
 * |ẑ − z| ≤ Δz = γ(5)·|z|, and σ, monotone, moves by at most Δσ, the larger of
 * |σ(z ± Δz) − σ(z)|; the sigmoid is itself within sigmoidBound at ẑ (taken where it is
 * largest, at the |ẑ| nearest 0, and at value σ + Δσ); the product x·σ̂ rounds by u of
 * its value; a subnormal product, flushed, by MIN_NORMAL.
 */
export function geluBound(x: number, r: number, backend: Adapter): number {
  const { C, K } = GELU_CONSTANTS;
  const sigma = (t: number) => 1 / (1 + Math.exp(-t));
  const z = C * (x + K * x * x * x), dz = gamma(5) * Math.abs(z);
  const dSigma = Math.max(Math.abs(sigma(z + dz) - sigma(z)), Math.abs(sigma(z - dz) - sigma(z)));
  const near = Math.sign(z) * Math.max(Math.abs(z) - dz, 0);
  const s = dSigma + sigmoidBound(near, sigma(z) + dSigma, backend);
  return Math.abs(x) * s + U * (Math.abs(r) + Math.abs(x) * s) + MIN_NORMAL;
}

/**
 * Asserts two arrays of float32 values are bit-identical, except that any NaN matches
 * any NaN: `Object.is` tells every float32 bit pattern but NaN's apart (−0 from +0).
 */
export function assertBitwise(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i]) && !bothNaN(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}

function bothNaN(a: number, b: number): boolean {
  return Number.isNaN(a) && Number.isNaN(b);
}

/**
 * Asserts each element is bit-identical to `expected`, or to `flushed`: what a GPU that
 * flushes subnormal inputs and results to zero computes (NVIDIA's does; llvmpipe's
 * does not; SwiftShader's does, to +0), or to a zero where `flushed` is zero or subnormal.
 * WGSL allows both. A NaN matches any NaN (its payload is not specified).
 */
export function assertBitwiseOrFlushed(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  flushed: ArrayLike<number>,
  what: string,
): void {
  if (actual.length !== expected.length || flushed.length !== expected.length) {
    throw new Error(
      `${what}: expected ${expected.length} values (and as many flushed), got ${actual.length} ` +
        `(and ${flushed.length} flushed)`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const same = Object.is(actual[i], expected[i]) || bothNaN(actual[i], expected[i]);
    if (!same && !isFlushedValue(actual[i], flushed[i])) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]} (or ${
          flushed[i]
        } with subnormals flushed)`,
      );
    }
  }
}

/** Asserts two float32 arrays are equal element by element (+0 equals −0; NaN equals NaN). */
export function assertEqualValues(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
): void {
  assertWithin(actual, expected, () => 0, what);
}

/** Asserts a tensor's shape, naming what was computed. */
export function assertShape(actual: readonly number[], expected: readonly number[], what: string) {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: expected shape [${expected}], got [${actual}]`);
  }
}

/** The number of elements of a shape. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major coordinates of flat index i in `shape`. */
export function coordinates(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

/**
 * The values of a tensor the test computed in float32, asserting that they are: `read()`
 * returns the array of the tensor's type, so this checks the type as well.
 */
export function readFloat32(t: Tensor): Promise<Float32Array> {
  return readAs(t, Float32Array, "float32");
}

/** The values of a tensor of int32 (indices), asserting that they are, as `readFloat32`. */
export function readInt32(t: Tensor): Promise<Int32Array> {
  return readAs(t, Int32Array, "int32");
}

/** `t.read()`, asserting that it gives an instance of `type` (the array of `name`). */
async function readAs<A>(
  t: Tensor,
  type: abstract new (...args: never[]) => A,
  name: string,
): Promise<A> {
  const values = await t.read();
  if (!(values instanceof type)) {
    throw new Error(`expected ${name} values, got ${t.dtype} (${values.constructor.name})`);
  }
  return values;
}

/** Unit roundoff of float16 (11 significant bits): a float16 result's own rounding. */
export const U16 = 2 ** -11;

/** The smallest positive float16 (a subnormal): the grid's spacing below 2⁻¹⁴. */
export const F16_MIN_SUBNORMAL = 2 ** -24;

/** The smallest normal float16: WGSL lets a GPU flush a float16 result below it to zero. */
export const F16_MIN_NORMAL = 2 ** -14;

/**
 * The bound on |gpu − reference| for a float16 result. The kernel computes in float32,
 * within `bound32` of the exact value x (its float32 bound: the same as the op's on
 * float32, the float16 inputs being exact in float32), and converts once to float16; the
 * reference computes x in float64 and rounds it to float16 (through float32 for the ops
 * whose reference returns a Float32Array, which adds u·|x|).
 *
 * - GPU: |c − x| ≤ bound32; WGSL does not fix the conversion's rounding mode (either
 *   neighbour of c may come back), so |g − c| ≤ one spacing of the float16 grid:
 *   2u₁₆|c| for a normal result, 2⁻²⁴ among the subnormals.
 * - Reference: |r − x| ≤ u₁₆(1 + u)|x| + u|x| + 2⁻²⁵ (to nearest, via float32).
 *
 * So |g − r| ≤ 2u₁₆(|x| + bound32) + bound32 + (u₁₆(1 + u) + u)|x| + 1.5·2⁻²⁴, with
 * |x| ≤ (|r| + 2⁻²⁵)/(1 − 2u₁₆) from the reference's own rounding (generous).
 *
 * @param reference The reference's float16 value (finite).
 * @param bound32 The float32 computation's bound at this element.
 * @returns The largest |gpu − reference| the scheme allows.
 */
export function float16Bound(reference: number, bound32: number): number {
  const x = (Math.abs(reference) + F16_MIN_SUBNORMAL / 2) / (1 - 2 * U16);
  return 2 * U16 * (x + bound32) + bound32 + (U16 * (1 + U) + U) * x +
    1.5 * F16_MIN_SUBNORMAL;
}

/** The largest finite float16. */
const F16_MAX = 65504;

/**
 * Asserts each element of a float16 result within {@linkcode float16Bound} of the float16
 * reference, given the float32 computation's bound at the element. NaN must meet NaN.
 * WGSL's conversion of a value between the largest float16 (65504) and 2¹⁶ may give
 * either 65504 or ±Inf, and beyond 2¹⁶ gives ±Inf: so against a finite value ±Inf counts
 * as ±2¹⁶ (65504 against Inf is 32 apart, inside the bound there; Inf against anything
 * below 65504 by more than the bound fails), and two infinities must be the same. A
 * result a flushing GPU set to zero is accepted where the reference is below the
 * smallest normal float16.
 */
export function assertWithinFloat16(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound32: (i: number) => number,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  const finite = (v: number) => (Number.isFinite(v) ? v : Math.sign(v) * 2 ** 16);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(a) || Number.isNaN(e) || (!Number.isFinite(a) && !Number.isFinite(e))) {
      if (a === e || bothNaN(a, e)) continue;
      throw new Error(`${what}: element ${i} is ${a}, reference exactly ${e}`);
    }
    if (a === 0 && Math.abs(e) < F16_MIN_NORMAL) continue;
    const error = Math.abs(finite(a) - finite(e));
    const bound = float16Bound(Math.min(Math.abs(finite(e)), 2 ** 16), bound32(i));
    if (!(error <= bound) || (Math.abs(e) === Infinity && Math.abs(a) < F16_MAX)) {
      throw new Error(
        `${what}: element ${i} is ${a}, reference ${e}, error ${error} exceeds the bound ${bound}`,
      );
    }
  }
}
