/**
 * softmax, logSoftmax, logSumExp and crossEntropy on both backends against float64,
 * within the bound of the computation the library performs (ops/softmax.ts): the
 * maximum m (exact), z = fl(x − m) (off by u|x − m|), e = exp(z) (WGSL: 3 + 2|z| ULP, plus
 * the llvmpipe allowance; the reference rounds once), S = Σe (the sum's rounding chain R:
 * `reductionRoundings`, or the tree's for a full sum), then p = e/S (a division: 2.5 ULP
 * on the GPU) or z − log S (log: 2⁻²¹ absolute for S in [0.5, 2], else 3 ULP). With
 * αᵢ the bound on êᵢ's error and σ = Σα + γ(R)·(S + Σα) the bound on Ŝ's,
 * |p̂ᵢ − pᵢ| ≤ (αᵢ + pᵢσ)/(S − σ) + δ(…) and |log Ŝ − log S| ≤ σ/(S − σ).
 *
 * And the point of the stable form: logits of ±10⁴ give no NaN and no infinity, and the
 * right values and gradients, on both backends.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  type Backend,
  crossEntropy,
  logSoftmax,
  logSumExp,
  softmax,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { reductionRoundings } from "../kernels/codegen.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertWithin,
  expUlps,
  gamma,
  gpuTest,
  MIN_NORMAL,
  profile,
  ref,
  runs,
  seed,
  U,
  ulp,
  values,
} from "./_harness.ts";

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

const GPU: Accuracy = {
  exp: expUlps,
  div: 2.5,
  log: (s, l) => (s >= 0.5 && s <= 2 ? 2 ** -21 : 3 * ulp(l)),
  sum: (count, outputs, all) => all ? treeSumRoundings(count) : reductionRoundings(count, outputs),
};
/** The reference: every op rounds its float64 result once (half an ULP ≤ u relative). */
const REFERENCE: Accuracy = {
  exp: () => 0.5,
  div: 0.5,
  log: (_s, l) => U * Math.abs(l),
  sum: () => 1,
};

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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
    const z = group.map((i) => x[i] - m);
    const e = z.map(Math.exp);
    // êᵢ's error: fl(x − m) moves z by ≤ u|z|; exp's own ULPs; a flushed subnormal.
    const alpha = z.map((zi, k) =>
      (Math.exp(zi + U * Math.abs(zi)) - e[k]) + acc.exp(zi) * ulp(e[k]) +
      (e[k] < 2 * MIN_NORMAL ? MIN_NORMAL : 0)
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

/** Logits: profile values, times a scale up to 10⁴. */
const logitCases = fc.record({
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

async function checkSoftmax(
  backend: Backend,
  acc: Accuracy,
  c: typeof logitCases extends fc.Arbitrary<infer T> ? T : never,
) {
  const shape = c.shape as number[];
  const axis = c.axis % shape.length;
  const x = values(size(shape), c.profile, c.seed).map((v) => Math.fround(v * c.scale));
  const e = expected(x, shape, axis, acc);
  using t = backend.tensor(x, shape);
  const negative = axis - shape.length;
  using p = softmax(t, { axis: negative });
  using ls = logSoftmax(t, { axis });
  using lse = logSumExp(t, { axis: negative });
  const what = `[${shape}] axis ${axis} ×${c.scale} ${c.profile} seed=${c.seed} on ${backend.kind}`;
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
    const R = acc === GPU ? treeSumRoundings(n) + 2 : 2;
    const bound = pickedBound.reduce((a, b) => a + b, 0) / n +
      gamma(R) * picked.reduce((a, b) => a + Math.abs(b), 0) / n + n * MIN_NORMAL;
    assertWithin(
      await loss.read(),
      [-picked.reduce((a, b) => a + b, 0) / n],
      () => bound,
      `crossEntropy ${what}`,
    );
  }
}

Deno.test("softmax, logSoftmax, logSumExp, crossEntropy: reference within the bound of float64", async () => {
  await fc.assert(fc.asyncProperty(logitCases, (c) => checkSoftmax(ref, REFERENCE, c)), runs(40));
});

gpuTest(
  "softmax, logSoftmax, logSumExp, crossEntropy: GPU within the bound of float64",
  async (dev) => {
    await fc.assert(fc.asyncProperty(logitCases, (c) => checkSoftmax(dev, GPU, c)), runs(60));
  },
);

/** Logits of ±10⁴: finite, right values and gradients, on `backend`. */
async function checkExtremes(backend: Backend) {
  const finite = (values: Float32Array, what: string) =>
    assert.ok(values.every(Number.isFinite), `${what} on ${backend.kind}: ${values}`);
  using x = backend.tensor([0, 0, 1e4, -1e4, -1e4, 1e4, 1e4, 1e4], [4, 2]);
  using p = softmax(x);
  const probabilities = await p.read();
  finite(probabilities, "softmax");
  assertWithin(probabilities, [0.5, 0.5, 1, 0, 0, 1, 0.5, 0.5], () => 4 * U, "softmax of ±1e4");
  using ls = logSoftmax(x);
  const logs = await ls.read();
  finite(logs, "logSoftmax");
  const ln2 = Math.log(2);
  // Each within the bound of the computation: z exact here, log S near ln 2 (S = 1 or 2).
  assertWithin(
    logs,
    [-ln2, -ln2, 0, -2e4, -2e4, 0, -ln2, -ln2],
    () => 2 ** -21 + U * 2e4,
    "logSoftmax of ±1e4",
  );
  using lse = logSumExp(x, { axis: 1 });
  const sums = await lse.read();
  finite(sums, "logSumExp");
  assertWithin(
    sums,
    [ln2, 1e4, 1e4, 1e4 + ln2],
    () => 2 ** -21 + U * (1e4 + 1),
    "logSumExp of ±1e4",
  );
  using all = logSumExp(backend.tensor([-1e4, -1e4]));
  assertWithin(await all.read(), [-1e4 + ln2], () => 2 ** -21 + U * 1e4, "logSumExp of −1e4s");
  // crossEntropy: labels [1, 0, 0, 1]: losses ln 2, 2·10⁴, 2·10⁴... as −logSoftmax at the label.
  using labels = backend.tensor([1, 0, 0, 1]);
  const { value, grads: [dx] } = valueAndGrad((logits: Tensor) => crossEntropy(logits, labels))(x);
  const loss = await value.read();
  finite(loss, "crossEntropy");
  assertWithin(
    loss,
    [(ln2 + 0 + 2e4 + ln2) / 4],
    () => 2 ** -21 + 8 * U * 2e4,
    "crossEntropy of ±1e4",
  );
  const gradient = await dx.read();
  finite(gradient, "∂crossEntropy/∂logits");
  // (softmax − one-hot)/n.
  const oneHot = [0, 1, 1, 0, 1, 0, 0, 1];
  assertWithin(
    gradient,
    [0.5, 0.5, 1, 0, 0, 1, 0.5, 0.5].map((v, i) => (v - oneHot[i]) / 4),
    () => 8 * U,
    "∂crossEntropy/∂logits of ±1e4",
  );
  value.dispose();
  dx.dispose();
}

Deno.test("logits of ±1e4: no NaN, no infinity, the right values and gradients (reference)", () =>
  checkExtremes(ref));
gpuTest(
  "logits of ±1e4: no NaN, no infinity, the right values and gradients (GPU)",
  (dev) => checkExtremes(dev),
);

Deno.test("softmax family: refused arguments name the function", () => {
  using x = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => softmax(x, { axis: 2 }),
    /softmax: expected axes to be integers in \[-2, 2\)/,
  );
  assert.throws(() => logSoftmax(x, { axis: 1.5 }), /logSoftmax: expected axes to be integers/);
  assert.throws(
    () => logSumExp(x, { keepdims: true } as never),
    /logSumExp: expected options among axis, keepDims/,
  );
  assert.throws(
    () => crossEntropy(x, ref.tensor([0, 2])),
    /crossEntropy: expected labels in \[0, 2\), got 2 at position 1/,
  );
  assert.throws(
    () => crossEntropy(x, ref.tensor([0])),
    /crossEntropy: expected labels of shape \[2\] for logits \[2, 2\], got \[1\]/,
  );
  assert.throws(
    () => crossEntropy(ref.tensor([1, 2]), ref.tensor([0])),
    /crossEntropy: expected logits to have 2 dimensions/,
  );
});
