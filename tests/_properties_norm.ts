/**
 * @file The normalisations' properties: `batchNorm` (training and evaluation, [N, C] and
 * [N, C, H, W]) and `layerNorm` (any axes) on a backend against float64 computed here by
 * direct loops over each group's elements.
 *
 * Bound. Both are compositions of ops (ops/_normalize.ts): μ = mean(x), d = x − μ,
 * σ² = mean(d²), s = √(σ² + fl(ε)), y = γ·(d/s) + β, and for the moving statistics
 * fl(1 − m)·moving + fl(m′)·batch. The bound is a running error analysis of exactly
 * that chain ({@linkcode Tracked}): every value carries its exact float64 value v and a
 * bound e on the computed value's distance from it, and each op adds its operands'
 * propagated errors to its own rounding — u for +, −, × (relative to the computed
 * magnitude |v| + e), 2.5 ULP ≤ 5u for a GPU's division, sqrt's 4.5 ULP + 10ε²
 * (tests/_properties_elementwise.ts, `sqrtBound`), a mean's (γ(R + 2) + u)·Σ(|v| + e)/m
 * with R the reduction's roundings (`reductionRoundings`, `treeSumRoundings` when it
 * reduces everything; none for a mean of one value, which is exact) — and MIN_NORMAL for a
 * subnormal flushed on the way. d/s needs s > its error, which ε > 0 guarantees here
 * (s ≥ √ε) but for groups whose spread is lost in the mean's rounding: there the bound
 * is infinite, as the computation is ill-conditioned.
 */
import fc from "fast-check";
import { type Backend, batchNorm, layerNorm } from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertShape,
  assertWithin,
  coordinates,
  gamma,
  MIN_NORMAL,
  ordinaryProfile,
  type Profile,
  profile,
  seed,
  size,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A computed value: its exact value and a bound on the computed one's error. */
export interface Tracked {
  readonly v: number;
  readonly e: number;
}

/** An exact input. */
const exact = (v: number): Tracked => ({ v, e: 0 });
/** A float64 constant rounded to float32 once (a scalar of an expression, a fill). */
const rounded = (v: number): Tracked => ({ v, e: U * Math.abs(v) });
/** An op's result with exact value v, propagated error p and `rel` roundings of it. */
const result = (v: number, p: number, rel: number): Tracked => ({
  v,
  e: p + rel * (Math.abs(v) + p) + MIN_NORMAL,
});

const plus = (a: Tracked, b: Tracked): Tracked => result(a.v + b.v, a.e + b.e, U);
const minus = (a: Tracked, b: Tracked): Tracked => result(a.v - b.v, a.e + b.e, U);
/** A product of bounds, where a zero factor (an exact zero) contributes nothing. */
const scaled = (a: number, b: number) => (a === 0 || b === 0 ? 0 : a * b);
const times = (a: Tracked, b: Tracked): Tracked =>
  result(
    a.v * b.v,
    scaled(Math.abs(a.v), b.e) + scaled(Math.abs(b.v), a.e) + scaled(a.e, b.e),
    U,
  );
/** a/b: a GPU's division is off by 2.5 ULP of the quotient, ≤ 5u relative. */
const divided = (a: Tracked, b: Tracked): Tracked => {
  const q = a.v / b.v;
  if (!(Math.abs(b.v) > b.e)) return { v: q, e: Infinity };
  return result(q, (a.e + Math.abs(q) * b.e) / (Math.abs(b.v) - b.e), 5 * U);
};
/** √a: |√â − √a| ≤ e/(√a + √(a − e)), then sqrt's 4.5 ULP + 10ε² (ε = 2u). */
const root = (a: Tracked): Tracked => {
  const r = Math.sqrt(a.v);
  const p = a.e === 0 ? 0 : a.e / (r + Math.sqrt(Math.max(0, a.v - a.e)));
  return result(r, p, 9 * U + 40 * U * U);
};
/** The mean of `xs` by a reduction of R roundings and the scale fl(1/m). */
const averaged = (xs: readonly Tracked[], R: number): Tracked => {
  const m = xs.length;
  const sum = xs.reduce((s, x) => s + x.v, 0);
  const errors = xs.reduce((s, x) => s + x.e, 0);
  // One value: no addition, and fl(1/1) = 1 scales it exactly.
  if (m === 1) return { v: sum, e: errors };
  const magnitude = xs.reduce((s, x) => s + Math.abs(x.v) + x.e, 0);
  return { v: sum / m, e: (errors + (gamma(R + 2) + U) * magnitude) / m + m * MIN_NORMAL };
};

/**
 * The chain of ops/_normalize.ts for one group: each element's y as computed from the
 * mean and variance given (the group's own, or the moving ones), with its error bound.
 */
function normalizedChain(
  x: readonly number[],
  mean: Tracked,
  variance: Tracked,
  eps: number,
  scaleOf: (k: number) => number,
  shiftOf: (k: number) => number,
): { d: Tracked[]; y: Tracked[] } {
  const d = x.map((v) => minus(exact(v), mean));
  const s = root(plus(variance, rounded(eps)));
  const y = d.map((dk, k) => plus(times(exact(scaleOf(k)), divided(dk, s)), exact(shiftOf(k))));
  return { d, y };
}

/** The roundings of a mean over `count` of a tensor reduced to `outputs` values. */
function meanRoundings(count: number, outputs: number): number {
  return outputs === 1 ? treeSumRoundings(count) : reductionRoundings(count, outputs);
}

/**
 * Groups of a tensor of `shape` normalised over `axes`: for each group (row-major over
 * the kept axes), the flat indices of its elements in row-major order.
 */
function groupsOf(shape: readonly number[], axes: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < size(shape); i++) {
    const c = coordinates(i, shape);
    const g = shape.reduce((acc, d, a) => (axes.includes(a) ? acc : acc * d + c[a]), 0);
    groups.set(g, [...(groups.get(g) ?? []), i]);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((g) => groups.get(g)!);
}

/** Float64: the mean and the biased variance of `x`, by two direct loops. */
function moments(x: readonly number[]): { mean: number; variance: number } {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) * (v - mean);
  return { mean, variance: variance / x.length };
}

/** A batchNorm case. */
export interface BatchNormCase {
  shape: number[];
  training: boolean;
  momentum: number;
  eps: number;
  profile: Profile;
  /** The values of gamma, beta and the moving mean: finite (x carries the specials). */
  paramProfile: Profile;
  seed: number;
}

const epsilons = fc.constantFrom(1e-5, 1e-3, 0.5);

/** [N, C] and [N, C, H, W] (m = N·H·W > 1 in training), momentum in [0, 1]. */
export const batchNormCases: fc.Arbitrary<BatchNormCase> = fc.record({
  shape: fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 })),
    fc.tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 7 }),
    ),
  ),
  training: fc.boolean(),
  // Multiples of 1/1000: fl(momentum) is off by u at most (no subnormal rounds to 0).
  momentum: fc.oneof(
    fc.constantFrom(0, 0.1, 1),
    fc.integer({ min: 0, max: 1000 }).map((k) => k / 1000),
  ),
  eps: epsilons,
  profile,
  paramProfile: ordinaryProfile,
  seed,
}).filter((c) => !c.training || size(c.shape) / c.shape[1] > 1);

/**
 * Runs batchNorm (or `run`, which applies it: under `jit`, say) on `backend` and checks
 * it against the direct loops.
 */
export async function checkBatchNorm(
  backend: Backend,
  c: BatchNormCase,
  run: typeof batchNorm = batchNorm,
): Promise<void> {
  const channels = c.shape[1];
  const x = values(size(c.shape), c.profile, c.seed);
  const [g, b, mm] = [1, 2, 3].map((k) => values(channels, c.paramProfile, c.seed + k));
  const mv = values(channels, "unit", c.seed + 4).map((v) => Math.abs(v) + 0.25);
  const what = `batchNorm ${JSON.stringify(c)} on ${backend.kind}`;
  const t = (v: Float32Array, shape: number[]) => backend.tensor(v, shape);
  using tx = t(x, c.shape);
  using tg = t(g, [channels]);
  using tb = t(b, [channels]);
  using tm = t(mm, [channels]);
  using tv = t(mv, [channels]);
  const options = { training: c.training, momentum: c.momentum, eps: c.eps };
  const out = run(tx, tg, tb, tm, tv, options);
  using y = out.y;
  using movingMean = out.movingMean;
  using movingVar = out.movingVar;
  assertShape(y.shape, c.shape, what);
  assertShape(movingMean.shape, [channels], what);
  const axes = c.shape.length === 2 ? [0] : [0, 2, 3];
  const groups = groupsOf(c.shape, axes);
  const m = groups[0].length;
  const expected = new Float64Array(x.length), bound = new Float64Array(x.length);
  const expectedMean = new Float64Array(channels), meanBound = new Float64Array(channels);
  const expectedVar = new Float64Array(channels), varBound = new Float64Array(channels);
  groups.forEach((cells, ch) => {
    const xs = cells.map((i) => x[i]);
    const batch = moments(xs);
    const [mean, variance] = c.training ? [batch.mean, batch.variance] : [mm[ch], mv[ch]];
    const sd = Math.sqrt(variance + c.eps);
    cells.forEach((i) => expected[i] = g[ch] * ((x[i] - mean) / sd) + b[ch]);
    // The chain the ops run: the batch's moments from the ops, or the moving ones exactly.
    const R = meanRoundings(m, channels);
    const mu = c.training ? averaged(xs.map(exact), R) : exact(mm[ch]);
    const centred = xs.map((v) => minus(exact(v), mu));
    const sigma2 = c.training ? averaged(centred.map((d) => times(d, d)), R) : exact(mv[ch]);
    const { y: ys } = normalizedChain(xs, mu, sigma2, c.eps, () => g[ch], () => b[ch]);
    cells.forEach((i, k) => bound[i] = ys[k].e);
    const keep = rounded(1 - c.momentum);
    const moved = (old: number, stat: Tracked, weight: number) =>
      plus(times(exact(old), keep), times(stat, rounded(weight)));
    if (c.training) {
      const unbiased = c.momentum * m / (m - 1);
      expectedMean[ch] = (1 - c.momentum) * mm[ch] + c.momentum * batch.mean;
      expectedVar[ch] = (1 - c.momentum) * mv[ch] + unbiased * batch.variance;
      meanBound[ch] = moved(mm[ch], mu, c.momentum).e;
      varBound[ch] = moved(mv[ch], sigma2, unbiased).e;
    } else {
      // Evaluation returns copies of the moving statistics.
      [expectedMean[ch], expectedVar[ch]] = [mm[ch], mv[ch]];
    }
  });
  assertWithin(await y.read(), expected, (i) => bound[i], `${what}: y`);
  assertWithin(await movingMean.read(), expectedMean, (i) => meanBound[i], `${what}: movingMean`);
  assertWithin(await movingVar.read(), expectedVar, (i) => varBound[i], `${what}: movingVar`);
}

/** batchNorm on the backend and the reference within the chain's running error bound. */
export const batchNormProperty: OpProperty<BatchNormCase> = {
  name: "batchNorm (training, evaluation): GPU and reference vs loops within the chain's bound",
  cases: batchNormCases,
  numRuns: 40,
  async check(backend, c) {
    await checkBatchNorm(backend, c);
    await checkBatchNorm(ref, c);
  },
};

/** A layerNorm case: the shape, the normalised axes (as given), eps, values. */
export interface LayerNormCase {
  shape: number[];
  axes: number[];
  negative: boolean;
  eps: number;
  profile: Profile;
  paramProfile: Profile;
  seed: number;
}

/** Shapes of rank 1…4 (rows up to 300 long) and a non-empty set of axes. */
export const layerNormCases: fc.Arbitrary<LayerNormCase> = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 300 })),
).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axes: fc.subarray(shape.map((_, d) => d), { minLength: 1 }),
    negative: fc.boolean(),
    eps: epsilons,
    profile,
    paramProfile: ordinaryProfile,
    seed,
  })
);

/** Runs layerNorm (or `run`, which applies it) on `backend` and checks it against the loops. */
export async function checkLayerNorm(
  backend: Backend,
  c: LayerNormCase,
  run: typeof layerNorm = layerNorm,
): Promise<void> {
  const x = values(size(c.shape), c.profile, c.seed);
  const normalized = c.axes.map((a) => c.shape[a]);
  const [g, b] = [1, 2].map((k) => values(size(normalized), c.paramProfile, c.seed + k));
  const axis = c.axes.length === 1 && c.negative
    ? c.axes[0] - c.shape.length
    : c.axes.map((a) => (c.negative ? a - c.shape.length : a));
  const what = `layerNorm ${JSON.stringify(c)} on ${backend.kind}`;
  using tx = backend.tensor(x, c.shape);
  using tg = backend.tensor(g, normalized);
  using tb = backend.tensor(b, normalized);
  using y = run(tx, tg, tb, { axis, eps: c.eps });
  assertShape(y.shape, c.shape, what);
  const groups = groupsOf(c.shape, c.axes);
  const m = groups[0].length;
  const expected = new Float64Array(x.length), bound = new Float64Array(x.length);
  // A group's k-th element (row-major over the normalised axes) takes γ[k] and β[k].
  groups.forEach((cells) => {
    const xs = cells.map((i) => x[i]);
    const { mean, variance } = moments(xs);
    const sd = Math.sqrt(variance + c.eps);
    cells.forEach((i, k) => expected[i] = g[k] * ((x[i] - mean) / sd) + b[k]);
    const R = meanRoundings(m, groups.length);
    const mu = averaged(xs.map(exact), R);
    const sigma2 = averaged(xs.map((v) => minus(exact(v), mu)).map((d) => times(d, d)), R);
    const { y: ys } = normalizedChain(xs, mu, sigma2, c.eps, (k) => g[k], (k) => b[k]);
    cells.forEach((i, k) => bound[i] = ys[k].e);
  });
  assertWithin(await y.read(), expected, (i) => bound[i], what);
}

/** layerNorm on the backend and the reference within the chain's running error bound. */
export const layerNormProperty: OpProperty<LayerNormCase> = {
  name: "layerNorm over any axes: GPU and reference vs loops within the chain's bound",
  cases: layerNormCases,
  numRuns: 40,
  async check(backend, c) {
    await checkLayerNorm(backend, c);
    await checkLayerNorm(ref, c);
  },
};
