/**
 * @file The GPU-versus-reference property of each op, written once: the cases (shapes,
 * value profiles, scalars) and the check that an op's result on a backend is within the
 * error bound of the algorithm actually implemented. Deno's tests run them on both driver
 * stacks; bundled, the browser test runs them on Chromium's WebGPU (Dawn). No Deno API.
 *
 * This file holds the mechanism ({@linkcode OpProperty}, {@linkcode assertProperty}) and
 * the properties of the first five ops; the other families have a `_properties_*.ts` file
 * each, and `_all_properties.ts` lists them all.
 */
import fc from "fast-check";
import {
  type Backend,
  corr2d,
  cpu,
  type CpuBackend,
  dropout,
  type DType,
  type GpuBackend,
  l2Penalty,
  matmul,
  randomKey,
  sgdStep,
} from "../mod.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import { MATMUL_VARIANTS } from "../kernels/matmul.ts";
import {
  assertBitwiseOrFlushed,
  assertShape,
  assertWithin,
  dim,
  dot,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  U,
  values,
} from "./_numerics.ts";
import { checkProperty, type Property } from "../testing/property.ts";

/**
 * An op's property: random cases, and a check of one case on a backend (a
 * {@linkcode Property} of `@deno-gpu/kernels/testing`, whose runner runs it).
 */
export interface OpProperty<C> extends Property<C> {
  /**
   * Cases one run checks: Deno's tests run this many on their device, the browser test
   * a multiple of it. It reflects a case's cost, so that every property gets a like share.
   */
  readonly numRuns: number;
  /** Runs the op on `backend` and on the reference; throws when they disagree. */
  check(backend: Backend, c: C): Promise<void>;
  /**
   * Why the cases draw no special values, where they draw none (their inputs are not
   * values: shapes, fill values checked finite at the boundary, random keys). Absent,
   * {@linkcode assertProperty} requires every kind to be drawn in a run.
   */
  readonly noSpecialValues?: string;
  /**
   * An element type the property needs on the backend (float16: the adapter's
   * shader-f16). Where the backend lacks it, runners report the property as skipped
   * with {@linkcode NO_SHADER_F16}'s words, never as passed.
   */
  readonly needs?: DType;
}

/** How a runner names a float16 property it skipped on an adapter without shader-f16. */
export const NO_SHADER_F16 = "skipped: this adapter has no shader-f16";

/** The CPU reference every property compares with. */
export const ref: CpuBackend = cpu();

/** A matmul case: sizes, transposes and values. */
export interface MatmulCase {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  profile: Profile;
  seed: number;
}

/** Σ|a·b| per output, in float64: the scale of each dot product's error bound. */
function absProducts(c: MatmulCase, a: Float32Array, b: Float32Array): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let s = 0;
      for (let p = 0; p < c.k; p++) {
        const av = a[c.transposeA ? p * c.m + i : i * c.k + p];
        const bv = b[c.transposeB ? j * c.k + p : p * c.n + j];
        s += Math.abs(av * bv);
      }
      out[i * c.n + j] = s;
    }
  }
  return out;
}

/**
 * Sides that are multiples of 4 and of 64, where kernels take their aligned paths (vec4
 * loads and stores, operands copied into textures), up to `max`.
 */
function alignedDim(max: number): fc.Arbitrary<number> {
  return fc.constantFrom(...[4, 8, 64, 128, 192, 256].filter((d) => d <= max));
}

/** matmul within γ(k)·Σ|ab| of the reference. */
export const matmulProperty: OpProperty<MatmulCase> = {
  name: "matmul: GPU agrees with the reference within γ(k)·Σ|ab|",
  numRuns: 120,
  cases: fc.record({
    // Skinny too: many rows, as a convolution lowered to a product (LeNet's 12544×25×6).
    // And narrow: 16 or fewer columns or rows (the narrow variant's shapes).
    m: fc.oneof(dim(80), alignedDim(128), fc.integer({ min: 1000, max: 1600 }), dim(16)),
    k: fc.oneof(dim(300), alignedDim(256)),
    n: fc.oneof(dim(80), alignedDim(128), dim(16)),
    transposeA: fc.boolean(),
    transposeB: fc.boolean(),
    profile,
    seed,
  }),
  async check(backend, c) {
    const a = values(c.m * c.k, c.profile, c.seed);
    const b = values(c.k * c.n, c.profile, c.seed + 1);
    const aShape = c.transposeA ? [c.k, c.m] : [c.m, c.k];
    const bShape = c.transposeB ? [c.n, c.k] : [c.k, c.n];
    const flags = { transposeA: c.transposeA, transposeB: c.transposeB };
    using ga = backend.tensor(a, aShape);
    using gb = backend.tensor(b, bShape);
    using gc = matmul(ga, gb, flags);
    assertShape(gc.shape, [c.m, c.n], "matmul");
    using ra = ref.tensor(a, aShape);
    using rb = ref.tensor(b, bShape);
    using rc = matmul(ra, rb, flags);
    // A GPU that flushes subnormals multiplies an infinite value by 0 where the reference
    // multiplies it by a subnormal: the reference of flushed operands is its exact result.
    using rf = matmul(
      ref.tensor(a.map(flushSubnormal), aShape),
      ref.tensor(b.map(flushSubnormal), bShape),
      flags,
    );
    const scale = absProducts(c, a, b);
    // Sequential sum over k: |gpu − exact| ≤ γ(k)·Σ|ab|, and < 2⁻¹²⁶ more for each flushed
    // subnormal product (bounds.dot); the reference is exact rounded once (+ u·Σ|ab|).
    const bound = (i: number) => dot(c.k, scale[i]) + U * scale[i];
    const what = `matmul ${JSON.stringify(c)}`;
    assertWithin(await gc.read(), await rc.read(), bound, what, await rf.read());
  },
};

/**
 * matmulProperty on `backend`, whose variant is pinned to `variant`: the cases that variant
 * can run there (narrow takes a side of at most 16; splitK a workgroup per output, which a
 * folded grid may not hold), named after the variant.
 */
export function pinnedMatmulProperty(
  backend: GpuBackend,
  variant: string,
): OpProperty<MatmulCase> {
  const pinned = MATMUL_VARIANTS.get(variant);
  if (!pinned) throw new RangeError(`pinnedMatmulProperty: no matmul variant ${variant}`);
  return {
    ...matmulProperty,
    name: matmulProperty.name.replace("matmul:", `matmul (${variant}):`),
    cases: matmulProperty.cases.filter((c) => pinned.supports(backend.runtime, c)),
  };
}

/** An l2Penalty case: a length and values. */
export interface L2PenaltyCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** l2Penalty within the tree reduction's bound. */
export const l2PenaltyProperty: OpProperty<L2PenaltyCase> = {
  name: "l2Penalty: GPU agrees with the reference within γ(1 + 12·passes)·Σx²/2",
  numRuns: 80,
  cases: fc.record({
    n: fc.oneof(dim(5000), fc.integer({ min: 1025, max: 300_000 })),
    profile,
    seed,
  }),
  async check(backend, { n, profile, seed }) {
    const x = values(n, profile, seed);
    using gx = backend.tensor(x);
    using gp = l2Penalty(gx);
    assertShape(gp.shape, [], "l2Penalty");
    using rx = ref.tensor(x);
    using rp = l2Penalty(rx);
    const exact = x.reduce((sum, v) => sum + v * v, 0) / 2;
    // The tree: its longest chain of roundings grows with log n, not n; +1 for the squares.
    const bound = (gamma(1 + treeSumRoundings(n)) + U) * exact + n * MIN_NORMAL;
    assertWithin(await gp.read(), await rp.read(), () => bound, `l2Penalty n=${n} ${profile}`);
  },
};

/** An sgdStep case: a length, values and the step's scalars. */
export interface SgdStepCase {
  n: number;
  profile: Profile;
  seed: number;
  lr: number;
  weightDecay: number;
  batchSize: number;
}

/** The scalars of an SGD step, extremes included. */
export const sgdScalars: fc.Arbitrary<{ lr: number; weightDecay: number; batchSize: number }> = fc
  .record({
    lr: fc.oneof(fc.constant(0.005), fc.double({ min: -2, max: 2, noNaN: true })),
    weightDecay: fc.oneof(
      fc.constantFrom(0, 15, -2),
      fc.double({ min: -20, max: 20, noNaN: true }),
    ),
    batchSize: fc.integer({ min: 1, max: 1000 }),
  });

/** sgdStep within six float32 roundings. */
export const sgdStepProperty: OpProperty<SgdStepCase> = {
  name: "sgdStep: GPU agrees with the reference within six roundings",
  numRuns: 100,
  cases: fc.tuple(fc.record({ n: dim(5000), profile, seed }), sgdScalars)
    .map(([shape, scalars]) => ({ ...shape, ...scalars })),
  async check(backend, { n, profile, seed, ...o }) {
    const p = values(n, profile, seed), g = values(n, profile, seed + 1);
    using gp = backend.tensor(p);
    using gg = backend.tensor(g);
    using out = sgdStep(gp, gg, o);
    using rp = ref.tensor(p);
    using rg = ref.tensor(g);
    using expected = sgdStep(rp, rg, o);
    // Six float32 roundings (three scalars, two products, the sum, the difference) on
    // terms no larger than these; the reference rounds once.
    const bound = (i: number) =>
      gamma(6) *
        (Math.abs(p[i]) +
          Math.abs(o.lr) * (Math.abs(g[i]) / o.batchSize + Math.abs(o.weightDecay * p[i]))) +
      U * Math.abs(p[i]) + 4 * MIN_NORMAL;
    // A GPU that flushes subnormals flushes the scalars too (a subnormal lr is 0 there).
    const f = flushSubnormal, [lr, wd] = [f(Math.fround(o.lr)), f(Math.fround(o.weightDecay))];
    const step = Math.fround(1 / o.batchSize);
    const flushed = p.map((v, i) =>
      f(v) - lr * (f(g[i]) * step + (o.weightDecay === 0 ? 0 : wd * f(v)))
    );
    const what = `sgdStep n=${n} ${JSON.stringify(o)}`;
    assertWithin(await out.read(), await expected.read(), bound, what, flushed);
  },
};

/** A dropout case: a length, values, a seed for both values and key, and p. */
export interface DropoutCase {
  n: number;
  profile: Profile;
  seed: number;
  p: number;
}

/** dropout bit-identical to the reference. */
export const dropoutProperty: OpProperty<DropoutCase> = {
  name: "dropout: GPU output is bit-identical to the reference",
  numRuns: 100,
  cases: fc.record({
    n: dim(20000),
    profile,
    seed,
    p: fc.oneof(fc.constantFrom(0, 0.2, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  }),
  async check(backend, { n, profile, seed, p }) {
    const x = values(n, profile, seed);
    using gx = backend.tensor(x);
    using out = dropout(gx, p, randomKey(seed));
    using rx = ref.tensor(x);
    using expected = dropout(rx, p, randomKey(seed));
    using flushed = dropout(ref.tensor(x.map(flushSubnormal)), p, randomKey(seed));
    const what = `dropout n=${n} p=${p} seed=${seed}`;
    assertBitwiseOrFlushed(await out.read(), await expected.read(), await flushed.read(), what);
  },
};

/** A corr2d case: image and kernel sizes, and values. */
export interface Corr2dCase {
  h: number;
  w: number;
  kh: number;
  kw: number;
  profile: Profile;
  seed: number;
}

/**
 * Asserts a corr2d result is within γ(kh·kw)·Σ|x·k| (plus the reference's one rounding)
 * of the reference, element by element.
 */
export async function assertCorr2dWithin(
  actual: ArrayLike<number>,
  x: Float32Array,
  xShape: readonly [number, number],
  k: Float32Array,
  kShape: readonly [number, number],
  what: string,
): Promise<void> {
  const [, w] = xShape, [kh, kw] = kShape;
  const ow = w - kw + 1;
  using rx = ref.tensor(x, xShape);
  using rk = ref.tensor(k, kShape);
  using expected = corr2d(rx, rk);
  // The reference of flushed operands: what a GPU that flushes subnormals computes exactly.
  using flushed = corr2d(
    ref.tensor(x.map(flushSubnormal), xShape),
    ref.tensor(k.map(flushSubnormal), kShape),
  );
  const terms = kh * kw;
  const bound = (idx: number) => {
    const y = Math.floor(idx / ow), xo = idx % ow;
    let scale = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) scale += Math.abs(x[(y + i) * w + xo + j] * k[i * kw + j]);
    }
    return (gamma(terms) + U) * scale + terms * MIN_NORMAL;
  };
  assertWithin(actual, await expected.read(), bound, what, await flushed.read());
}

/** corr2d within γ(kh·kw)·Σ|x·k|. */
export const corr2dProperty: OpProperty<Corr2dCase> = {
  name: "corr2d: GPU agrees with the reference within γ(kh·kw)·Σ|x·k|",
  numRuns: 100,
  // An image and a kernel no larger than it, kernels past the 16×16 block included.
  cases: fc.tuple(dim(90), dim(90)).chain(([h, w]) =>
    fc.record({
      h: fc.constant(h),
      w: fc.constant(w),
      kh: fc.oneof(
        fc.constant(1),
        fc.integer({ min: 1, max: Math.min(h, 5) }),
        fc.integer({ min: 1, max: h }),
      ),
      kw: fc.oneof(
        fc.constant(2),
        fc.integer({ min: 1, max: Math.min(w, 5) }),
        fc.integer({ min: 1, max: w }),
      ),
      profile,
      seed,
    })
  ).filter((c) => c.kw <= c.w),
  async check(backend, c) {
    const x = values(c.h * c.w, c.profile, c.seed);
    const k = values(c.kh * c.kw, c.profile, c.seed + 1);
    using gx = backend.tensor(x, [c.h, c.w]);
    using gk = backend.tensor(k, [c.kh, c.kw]);
    using out = corr2d(gx, gk);
    assertShape(out.shape, [c.h - c.kh + 1, c.w - c.kw + 1], "corr2d");
    await assertCorr2dWithin(
      await out.read(),
      x,
      [c.h, c.w],
      k,
      [c.kh, c.kw],
      `corr2d ${JSON.stringify(c)}`,
    );
  },
};

/**
 * Runs `property` on `backend` for `numRuns` random cases (fast-check: a failure shrinks
 * to a minimal case and the error names it and the seed), then, for a full run (at least
 * the property's `numRuns` cases; a shorter rerun on another device is extra coverage),
 * asserts that the cases drew every kind of special value (NaN, ±Inf, ±0, ±subnormal), so
 * that a generator that stops drawing them fails.
 */
export async function assertProperty<C>(
  property: OpProperty<C>,
  backend: Backend,
  parameters: fc.Parameters<[C]>,
): Promise<void> {
  const numRuns = parameters.numRuns ?? property.numRuns;
  await checkProperty(property, backend, {
    numRuns,
    seed: parameters.seed,
    path: parameters.path,
    everySpecialKind: property.noSpecialValues === undefined && numRuns >= property.numRuns,
  });
}
