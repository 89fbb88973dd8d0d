/**
 * @file The property of softmax, logSoftmax, logSumExp and crossEntropy against float64,
 * within the bound of the computation the library performs (ops/softmax.ts) on the
 * backend it runs on: the maximum m (exact), z = fl(x − m) (off by u|x − m|), e = exp(z)
 * (WGSL: 3 + 2|z| ULP, plus the llvmpipe allowance; the reference rounds once), S = Σe
 * (the sum's rounding chain R: `reductionRoundings`, or the tree's for a full sum), then
 * p = e/S (a division: 2.5 ULP on the GPU) or z − log S (log: 2⁻²¹ absolute for S in
 * [0.5, 2], else 3 ULP). With αᵢ the bound on êᵢ's error and σ = Σα + γ(R)·(S + Σα) the
 * bound on Ŝ's, |p̂ᵢ − pᵢ| ≤ (αᵢ + pᵢσ)/(S − σ) + δ(…) and |log Ŝ − log S| ≤ σ/(S − σ).
 */
import fc from "fast-check";
import { type Backend, crossEntropy, logSoftmax, logSumExp, softmax } from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertWithin,
  expUlps,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  size,
  U,
  ulp,
  values,
} from "./_numerics.ts";
import type { OpProperty } from "./_properties.ts";

/** The roundings a backend's ops make, as the bounds need them. */
interface Accuracy {
  /** exp's error in ULPs at z. */
  exp(z: number): number;
  /** A division's error in ULPs. */
  readonly div: number;
  /** log's error at Ŝ, whose log is about `l` (|l| plus its error). */
  log(s: number, l: number): number;
  /** The sum's rounding chain over `count` values, `outputs` of them (`all`: every axis). */
  sum(count: number, outputs: number, all: boolean): number;
}

/** WGSL's accuracy (exp's with the allowance measured on `backend`'s adapter, if any). */
const gpuAccuracy = (backend: Backend): Accuracy => ({
  exp: (z) => expUlps(z, backend),
  div: 2.5,
  log: (s, l) => (s >= 0.5 && s <= 2 ? 2 ** -21 : 3 * ulp(l)),
  sum: (count, outputs, all) => all ? treeSumRoundings(count) : reductionRoundings(count, outputs),
});
/** The reference: every op rounds its float64 result once (half an ULP ≤ u relative). */
const REFERENCE: Accuracy = {
  exp: () => 0.5,
  div: 0.5,
  log: (_s, l) => U * Math.abs(l),
  sum: () => 1,
};

/** Groups of flat indices reduced together along `axis` of `shape`. */
function slices(shape: readonly number[], axis: number): number[][] {
  const inner = size(shape.slice(axis + 1)), n = shape[axis];
  const groups: number[][] = [];
  for (let outer = 0; outer < size(shape.slice(0, axis)); outer++) {
    for (let j = 0; j < inner; j++) {
      groups.push(Array.from({ length: n }, (_, k) => (outer * n + k) * inner + j));
    }
  }
  return groups;
}

/** Exact values and bounds of softmax, logSoftmax and logSumExp along one axis. */
function expected(x: Float32Array, shape: readonly number[], axis: number, acc: Accuracy) {
  const p = new Float64Array(x.length), pBound = new Float64Array(x.length);
  const ls = new Float64Array(x.length), lsBound = new Float64Array(x.length);
  const groups = slices(shape, axis);
  const lse = new Float64Array(groups.length), lseBound = new Float64Array(groups.length);
  const all = shape.every((d, a) => d === 1 || a === axis);
  const R = acc.sum(shape[axis], groups.length, all);
  groups.forEach((group, o) => {
    const m = Math.max(...group.map((i) => x[i]));
    if (!Number.isFinite(m)) {
      // A NaN, a +Inf or a row of −Inf: softmax and logSoftmax are NaN (x − m meets NaN or
      // Inf − Inf); logSumExp, shifted by 0 there (JAX), is NaN, +Inf or −Inf.
      group.forEach((i) => [p[i], ls[i]] = [NaN, NaN]);
      lse[o] = m;
      return;
    }
    const z = group.map((i) => x[i] - m);
    const e = z.map(Math.exp);
    // êᵢ's error: fl(x − m) moves z by ≤ u|z|; exp's own ULPs; a flushed subnormal. A −Inf
    // logit's exp is exactly 0.
    const alpha = z.map((zi, k) =>
      zi === -Infinity ? 0 : (Math.exp(zi + U * Math.abs(zi)) - e[k]) +
        acc.exp(zi) * ulp(e[k]) + (e[k] < 2 * MIN_NORMAL ? MIN_NORMAL : 0)
    );
    const S = e.reduce((a, b) => a + b, 0), A = alpha.reduce((a, b) => a + b, 0);
    const sigma = A + gamma(R) * (S + A);
    const L = Math.log(S), lambda = sigma / (S - sigma);
    const logError = lambda + acc.log(S, Math.abs(L) + lambda);
    lse[o] = m + L;
    lseBound[o] = logError + U * (Math.abs(m + L) + logError);
    group.forEach((i, k) => {
      p[i] = e[k] / S;
      const quotient = (alpha[k] + p[i] * sigma) / (S - sigma);
      pBound[i] = quotient + acc.div * ulp(p[i] + quotient) +
        (p[i] < 2 * MIN_NORMAL ? MIN_NORMAL : 0);
      ls[i] = z[k] - L;
      const zError = U * Math.abs(z[k]);
      lsBound[i] = zError + logError + U * (Math.abs(ls[i]) + zError + logError);
    });
  });
  return { p, pBound, ls, lsBound, lse, lseBound };
}

/** Logits: a shape of rank 2 or 3, an axis (taken modulo the rank), a scale, values. */
export interface LogitCase {
  shape: number[];
  axis: number;
  scale: number;
  profile: Profile;
  seed: number;
}

/** Logits: profile values, times a scale up to 10⁴. */
const logitCases: fc.Arbitrary<LogitCase> = fc.record({
  shape: fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 300 })),
    fc.tuple(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 40 }),
    ),
  ),
  axis: fc.nat(),
  scale: fc.constantFrom(1, 10, 100, 1e4),
  profile,
  seed,
});

/**
 * softmax, logSoftmax, logSumExp and crossEntropy within the bound of float64 for the
 * backend's accuracy: WGSL's on a GPU, one rounding per op on the reference.
 */
export const softmaxProperty: OpProperty<LogitCase> = {
  name: "softmax, logSoftmax, logSumExp, crossEntropy: GPU within the bound of float64",
  cases: logitCases,
  numRuns: 60,
  async check(backend: Backend, c) {
    const onGpu = backend.kind === "webgpu";
    const acc = onGpu ? gpuAccuracy(backend) : REFERENCE;
    const shape = c.shape;
    const axis = c.axis % shape.length;
    const x = values(size(shape), c.profile, c.seed).map((v) => Math.fround(v * c.scale));
    const e = expected(x, shape, axis, acc);
    using t = backend.tensor(x, shape);
    const negative = axis - shape.length;
    using p = softmax(t, { axis: negative });
    using ls = logSoftmax(t, { axis });
    using lse = logSumExp(t, { axis: negative });
    const what =
      `[${shape}] axis ${axis} ×${c.scale} ${c.profile} seed=${c.seed} on ${backend.kind}`;
    assertWithin(await p.read(), e.p, (i) => e.pBound[i], `softmax ${what}`);
    assertWithin(await ls.read(), e.ls, (i) => e.lsBound[i], `logSoftmax ${what}`);
    assertWithin(await lse.read(), e.lse, (i) => e.lseBound[i], `logSumExp ${what}`);
    if (shape.length === 2) {
      // crossEntropy: −mean over rows of logSoftmax at the label (the pick adds exact zeros).
      const [n, classes] = shape;
      const rows = expected(x, shape, 1, acc);
      const labels = Array.from({ length: n }, (_, i) => (c.seed + 7 * i) % classes);
      using y = backend.tensor(labels);
      using loss = crossEntropy(t, y);
      const picked = labels.map((l, i) => rows.ls[i * classes + l]);
      const pickedBound = labels.map((l, i) => rows.lsBound[i * classes + l]);
      const R = onGpu ? treeSumRoundings(n) + 2 : 2;
      const bound = pickedBound.reduce((a, b) => a + b, 0) / n +
        gamma(R) * picked.reduce((a, b) => a + Math.abs(b), 0) / n + n * MIN_NORMAL;
      assertWithin(
        await loss.read(),
        [-picked.reduce((a, b) => a + b, 0) / n],
        () => bound,
        `crossEntropy ${what}`,
      );
    }
  },
};
