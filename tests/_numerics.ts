/**
 * @file The numerical half of the test harness: value generators, error bounds and exact
 * comparisons. It uses no Deno API, so the same checks run in Deno and, bundled, in the
 * browser (tests/browser/properties.ts).
 */
import fc from "fast-check";

/** fast-check settings: a fixed run count, and the seed printed on failure. */
export function runs<T = unknown>(numRuns: number): fc.Parameters<T> {
  return { numRuns, verbose: 1 };
}

/**
 * Value profiles that stress different parts of float32 arithmetic; `special` mixes the
 * {@linkcode SPECIAL_KINDS} into unit values (README, "Special values").
 */
export const PROFILES = [
  "unit",
  "zeros",
  "integers",
  "mixed",
  "large",
  "tiny",
  "special",
] as const;

/** One of {@linkcode PROFILES}. */
export type Profile = typeof PROFILES[number];

/** An arbitrary profile other than `special`: finite, normal values and zeros. */
export const ordinaryProfile: fc.Arbitrary<Profile> = fc.constantFrom(
  ...PROFILES.filter((p) => p !== "special"),
);

/**
 * An arbitrary profile, `special` one case in three: a special tensor of 7 values or
 * more holds every kind (see {@linkcode values}), so a property of 20 cases meets them all
 * in all but about (2/3)²⁰ ≈ 0.03% of runs, of 30 cases in all but 5·10⁻⁶ (counted by
 * {@linkcode specialCounts} and asserted by the properties' runner).
 */
export const profile: fc.Arbitrary<Profile> = fc.oneof(
  { arbitrary: ordinaryProfile, weight: 2 },
  { arbitrary: fc.constant("special" as const), weight: 1 },
);

/** The kinds of special value, each with a float32 of it. */
export const SPECIAL_KINDS = {
  "NaN": NaN,
  "+Inf": Infinity,
  "-Inf": -Infinity,
  "+0": 0,
  "-0": -0,
  "+subnormal": Math.fround(1e-40),
  "-subnormal": Math.fround(-1e-40),
} as const;

/** One of {@linkcode SPECIAL_KINDS}. */
export type SpecialKind = keyof typeof SPECIAL_KINDS;

/** The kind of special value `v` is, or null for a normal nonzero finite number. */
export function specialKind(v: number): SpecialKind | null {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "+0";
  if (Math.abs(v) < MIN_NORMAL) return v > 0 ? "+subnormal" : "-subnormal";
  return null;
}

/**
 * How many values of each special kind the `special` profile of {@linkcode values} has
 * drawn since the counts were last cleared (the runner of properties clears them before a
 * property and asserts after it that every kind was drawn).
 */
export const specialCounts: Map<SpecialKind, number> = new Map();

/** The special kinds not drawn since {@linkcode specialCounts} was cleared. */
export function undrawnSpecialKinds(): SpecialKind[] {
  return (Object.keys(SPECIAL_KINDS) as SpecialKind[]).filter((k) => !specialCounts.get(k));
}

/** An arbitrary seed for {@linkcode values}. */
export const seed: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * A dimension: 1, primes around the tile sizes (4, 8, 16, 32, 256, 1024), or any size
 * up to `max`.
 */
export function dim(max: number): fc.Arbitrary<number> {
  const special = [1, 2, 3, 5, 7, 13, 17, 31, 33, 37, 61, 67, 127, 257, 1031]
    .filter((d) => d <= max);
  return fc.oneof(fc.constantFrom(...special), fc.integer({ min: 1, max }));
}

/**
 * `n` deterministic values of a profile from a seed (a small xorshift generator, so
 * fast-check shrinks the seed, profile and shape rather than thousands of floats).
 * Only the `special` profile draws subnormals (GPUs may flush those to zero), NaN and
 * ±Inf: each value is special with a probability of 1/2, 1/8 or 1/64 (chosen by the seed,
 * so a long reduction sometimes meets few), at least min(1/2, 4/n) (so a short tensor
 * meets some), the kind uniform among {@linkcode SPECIAL_KINDS}; and a tensor of n ≥ 7
 * holds each kind at least once, kind j somewhere in the j-th seventh of it.
 */
export function values(n: number, kind: Profile, seed: number): Float32Array {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const out = new Float32Array(n);
  const kinds = Object.values(SPECIAL_KINDS);
  const specialRate = kind === "special"
    ? Math.max([1 / 2, 1 / 8, 1 / 64][Math.floor(next() * 3)], Math.min(1 / 2, 4 / n))
    : 0;
  for (let i = 0; i < n; i++) {
    const sign = next() < 0.5 ? -1 : 1;
    const r = next();
    switch (kind) {
      case "unit":
        out[i] = sign * r;
        break;
      case "zeros":
        out[i] = r < 0.6 ? 0 : sign * next();
        break;
      case "integers":
        out[i] = sign * Math.floor(r * 17);
        break;
      case "mixed":
        out[i] = sign * (1 + r) * 10 ** Math.floor(next() * 17 - 8);
        break;
      case "large":
        out[i] = sign * (1 + r) * 10 ** (10 + Math.floor(next() * 5));
        break;
      case "tiny":
        out[i] = sign * (1 + r) * 10 ** (-15 + Math.floor(next() * 5));
        break;
      case "special":
        out[i] = next() < specialRate ? kinds[Math.floor(next() * kinds.length)] : sign * r;
        break;
    }
  }
  if (kind === "special") {
    if (n >= kinds.length) {
      kinds.forEach((v, j) => out[Math.floor(((j + next()) * n) / kinds.length)] = v);
    }
    for (const v of out) {
      const k = specialKind(v);
      if (k) specialCounts.set(k, (specialCounts.get(k) ?? 0) + 1);
    }
  }
  return out;
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
 * Whether `actual` is what a flushing GPU may give where the flushed computation gives
 * `flushed`: that value (NaN for NaN), or a zero of either sign for a zero or subnormal
 * (WGSL lets it flush a result, and SwiftShader's flushed −1e-40 is +0).
 */
export function isFlushedValue(actual: number, flushed: number): boolean {
  return sameValue(actual, flushed) || (actual === 0 && Math.abs(flushed) < MIN_NORMAL);
}

/**
 * C's `powf` (NumPy's pow in float32) in float64: JavaScript's `Math.pow` except that 1 to
 * any power and −1 to ±Inf are 1.
 */
export function powC(a: number, b: number): number {
  return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b);
}

/** Unit roundoff of float32. */
export const U = 2 ** -24;

/** γ(n) = n·u/(1 − n·u): the forward error factor of n rounded operations. */
export function gamma(n: number): number {
  return (n * U) / (1 - n * U);
}

/** Smallest normal float32: a flushed subnormal intermediate is off by less than this. */
export const MIN_NORMAL = 2 ** -126;

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

/** Whether two numbers are the same value: NaN is NaN, and +0 equals −0. */
function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Asserts |actual[i] − expected[i]| ≤ bound[i] for every i, with a message that names
 * the first element that is off, its values, and its bound. Where the reference is NaN
 * or ±Inf, or an exact value beyond float32's range (which rounds to ±Inf), the result
 * must be exactly that (NaN in the same position): no bound is meaningful there. With
 * `flushed` (the result computed with subnormal inputs and results flushed to zero, as
 * WGSL lets a GPU do), an element may instead be exactly `flushed[i]`.
 */
export function assertWithin(
  actual: Float32Array,
  expected: ArrayLike<number>,
  bound: (i: number) => number,
  what: string,
  flushed?: ArrayLike<number>,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (flushed && isFlushedValue(actual[i], flushed[i])) continue;
    const rounded = Math.fround(expected[i]);
    if (!Number.isFinite(rounded)) {
      if (sameValue(actual[i], rounded)) continue;
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, reference exactly ${rounded}`,
      );
    }
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= bound(i))) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, reference ${expected[i]}, ` +
          `error ${error} exceeds the bound ${bound(i)}`,
      );
    }
  }
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

/** Asserts two float32 arrays are bit-identical, except that any NaN matches any NaN. */
export function assertBitwise(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== b.length) {
    throw new Error(`${what}: expected ${b.length} values, got ${a.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}

/** A float32 with subnormals flushed to zero (sign kept), as GPUs may treat them. */
export function flushSubnormal(v: number): number {
  return Math.abs(v) < MIN_NORMAL ? v * 0 : v;
}

/**
 * Asserts each element is bit-identical to `expected`, or to `flushed`: what a GPU that
 * flushes subnormal inputs and results to zero computes (NVIDIA's does; llvmpipe's
 * does not; SwiftShader's does, to +0), or to a zero where `flushed` is zero or subnormal.
 * WGSL allows both. A NaN matches any NaN (its payload is not specified).
 */
export function assertBitwiseOrFlushed(
  actual: Float32Array,
  expected: Float32Array,
  flushed: Float32Array,
  what: string,
): void {
  if (actual.length !== expected.length || flushed.length !== expected.length) {
    throw new Error(
      `${what}: expected ${expected.length} values (and as many flushed), got ${actual.length} ` +
        `(and ${flushed.length} flushed)`,
    );
  }
  const bits = (a: Float32Array, i: number) => new Uint32Array(a.buffer, a.byteOffset, a.length)[i];
  for (let i = 0; i < expected.length; i++) {
    const nan = Number.isNaN(actual[i]) && Number.isNaN(expected[i]);
    if (!nan && bits(actual, i) !== bits(expected, i) && !isFlushedValue(actual[i], flushed[i])) {
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
  actual: Float32Array,
  expected: Float32Array,
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
