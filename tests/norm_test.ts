/**
 * batchNorm and layerNorm: the shared properties (tests/_properties_norm.ts, where the
 * bound is derived) on the test device and the reference, and under `jit` fused and op
 * by op; values NumPy computed; the moving variance's unbiased update (PyTorch's); the
 * gradients' flow (the moving statistics held constant); the errors at the boundary.
 */
import assert from "node:assert/strict";
import {
  type Backend,
  batchNorm,
  jit,
  layerNorm,
  mul,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import {
  batchNormCases,
  batchNormProperty,
  checkBatchNorm,
  checkLayerNorm,
  layerNormCases,
  layerNormProperty,
} from "./_properties_norm.ts";
import { assertWithin, dev, gamma, gpuTest, readFloat32, ref, runs } from "./_harness.ts";

for (const property of [batchNormProperty, layerNormProperty] as OpProperty<unknown>[]) {
  Deno.test(`${property.name} (reference only)`, () =>
    assertProperty({ ...property, check: (_b, c) => property.check(ref, c) }, ref, runs(20)));
  gpuTest(property.name, (dev) => assertProperty(property, dev, runs(property.numRuns)));
}

gpuTest(
  "batchNorm, layerNorm under jit, fused and op by op, within the same bound",
  async (dev) => {
    for (const kernels of ["fused", "ops"] as const) {
      const bn: typeof batchNorm = (x, g, b, m, v, options) =>
        jit((...t: Tensor[]) => batchNorm(t[0], t[1], t[2], t[3], t[4], options), { kernels })(
          x,
          g,
          b,
          m,
          v,
        );
      const ln: typeof layerNorm = (x, g, b, options) =>
        jit((...t: Tensor[]) => layerNorm(t[0], t[1], t[2], options), { kernels })(x, g, b);
      await assertProperty(
        { ...batchNormProperty, cases: batchNormCases, check: (d, c) => checkBatchNorm(d, c, bn) },
        dev,
        runs(8),
      );
      await assertProperty(
        { ...layerNormProperty, cases: layerNormCases, check: (d, c) => checkLayerNorm(d, c, ln) },
        dev,
        runs(8),
      );
    }
  },
);

/** Every backend the test runs on: the reference, and the GPU when there is one. */
const backends: Backend[] = dev ? [ref, dev] : [ref];

// numpy 2.4: x = ((np.arange(24) * 7) % 11 - 5.).reshape(2, 3, 2, 2); per channel over
// axes (0, 2, 3): mu = x.mean(...), var = x.var(...) (biased), y = g·(x − mu)/√(var + 1e-5)
// + b; moving: 0.9·mm + 0.1·mu and 0.9·mv + 0.1·x.var(..., ddof=1) (PyTorch's unbiased).
const X = Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 5);
const [G, B, MM, MV] = [[1, 2, -1], [0, 1, 2], [0.5, -1, 2], [1, 2, 0.5]];
const close = (expected: number[]) => (i: number) => gamma(40) * (1 + Math.abs(expected[i]));

Deno.test("batchNorm: training and evaluation on [N, C, H, W] as NumPy computes them", async () => {
  const y = [
    -1.7386358,
    0.3779643,
    -0.8315215,
    1.2850786,
    1.7782074,
    -0.9887522,
    3.8534271,
    1.0864675,
    2.9370421,
    0.7506105,
    2.0,
    3.2493895,
    0.3779643,
    -0.8315215,
    1.2850786,
    0.0755929,
    -0.9887522,
    3.8534271,
    1.0864675,
    -1.6804921,
    0.7506105,
    2.0,
    3.2493895,
    1.0629579,
  ];
  const evaluated = [
    -5.4999725,
    1.4999925,
    -2.4999875,
    4.4999775,
    3.8284201,
    -1.8284201,
    8.0710501,
    2.41421,
    10.4851965,
    0.5858006,
    6.2425983,
    11.8993959,
    1.4999925,
    -2.4999875,
    4.4999775,
    0.4999975,
    -1.8284201,
    8.0710501,
    2.41421,
    -3.2426301,
    0.5858006,
    6.2425983,
    11.8993959,
    2.0,
  ];
  for (const b of backends) {
    using x = b.tensor(X, [2, 3, 2, 2]);
    const params = [G, B, MM, MV].map((v) => b.tensor(v));
    const [g, beta, mm, mv] = params;
    const train = batchNorm(x, g, beta, mm, mv, { training: true });
    // 7 decimals from NumPy: 5e-8 more than the chain's rounding.
    const near = (e: number[]) => (i: number) => close(e)(i) + 5e-8;
    assertWithin(await train.y.read(), y, near(y), `y ${b.kind}`);
    const [means, vars] = [[0.525, -0.9125, 1.7], [2.15, 2.755357142857143, 1.6214285714285714]];
    assertWithin(await train.movingMean.read(), means, close(means), `movingMean ${b.kind}`);
    assertWithin(await train.movingVar.read(), vars, close(vars), `movingVar ${b.kind}`);
    const evaluation = batchNorm(x, g, beta, mm, mv, { training: false });
    assertWithin(await evaluation.y.read(), evaluated, near(evaluated), `eval y ${b.kind}`);
    assert.deepEqual([...await evaluation.movingMean.read()], MM);
    assert.deepEqual([...await evaluation.movingVar.read()], MV);
    assert.notEqual(evaluation.movingMean, mm, "evaluation returns a copy");
    [...params, ...Object.values(train), ...Object.values(evaluation)].forEach((t) => t.dispose());
  }
});

Deno.test("layerNorm: the last axis of [4, 6] as NumPy computes it", async () => {
  // numpy: x2 = x.reshape(4, 6); (x2 − mean)/√(var + 1e-5)·[1…6] + 0.5 per row.
  const y = [
    -0.8930514,
    1.8930514,
    -0.9925551,
    6.8682352,
    2.4900735,
    -4.2761764,
    1.8619692,
    0.8026598,
    -2.6779282,
    4.7372375,
    -0.2566496,
    -7.6718153,
    0.786299,
    -1.6758724,
    4.4509262,
    0.2709608,
    -6.657475,
    6.3404996,
    0.786299,
    -1.6758724,
    4.4509262,
    0.2709608,
    -6.657475,
    6.3404996,
  ];
  for (const b of backends) {
    using x = b.tensor(X, [4, 6]);
    using g = b.tensor([1, 2, 3, 4, 5, 6]);
    using beta = b.tensor([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    using out = layerNorm(x, g, beta);
    assertWithin(await out.read(), y, (i) => close(y)(i) + 5e-8, `layerNorm ${b.kind}`);
  }
});

Deno.test("batchNorm: gradients reach x, gamma and beta; the moving statistics are constants", async () => {
  for (const b of backends) {
    using x = b.tensor([1, 2, 4, 7], [4, 1]);
    using g = b.tensor([2]);
    using beta = b.tensor([0]);
    using stats = b.tensor([0]);
    using one = b.tensor([1]);
    // A loss of the moving mean alone: it is held constant, so every gradient is 0.
    const moving = valueAndGrad((v: Tensor) =>
      sum(batchNorm(v, g, beta, stats, one, { training: true }).movingMean)
    )(x);
    assert.deepEqual([...await moving.grads[0].read()], [0, 0, 0, 0]);
    // Σ w·y: dβ = Σw, dγ = Σw·x̂; dx sums to 0 (y is invariant to shifting x).
    const w = b.tensor([1, -1, 2, 0.5], [4, 1]);
    const { value, grads: [dx, dg, db] } = valueAndGrad((v: Tensor, s: Tensor, t: Tensor) =>
      sum(mul(batchNorm(v, s, t, stats, one, { training: true, eps: 0 }).y, w))
    )(x, g, beta);
    assertWithin(await db.read(), [2.5], () => 4 * gamma(4), "dβ");
    const xhat = [1, 2, 4, 7].map((v) => (v - 3.5) / Math.sqrt(5.25));
    const dgamma = xhat[0] - xhat[1] + 2 * xhat[2] + 0.5 * xhat[3];
    assertWithin(await dg.read(), [dgamma], () => 64 * gamma(4), "dγ");
    const total = (await readFloat32(dx)).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(total) < 1e-5, `Σdx = ${total}`);
    [moving.value, ...moving.grads, w, value, dx, dg, db].forEach((t) => t.dispose());
  }
});

Deno.test("batchNorm, layerNorm: errors name the op and what was expected", () => {
  using x = ref.zeros([2, 3]);
  using image = ref.zeros([2, 3, 4]);
  using one = ref.zeros([1, 3]);
  using c3 = ref.ones([3]);
  using c2 = ref.ones([2]);
  const train = { training: true };
  const cases: [() => unknown, RegExp][] = [
    [
      () => batchNorm(image, c3, c3, c3, c3, train),
      /batchNorm: expected x to be \[N, C\] or \[N, C, H, W\], got shape \[2, 3, 4\]/,
    ],
    [
      () => batchNorm(x, c2, c3, c3, c3, train),
      /batchNorm: expected gamma to have shape \[3\] \(x's channels\), got \[2\]/,
    ],
    [
      () => batchNorm(x, c3, c3, c3, c2, train),
      /batchNorm: expected movingVar to have shape \[3\] \(x's channels\), got \[2\]/,
    ],
    [
      () => batchNorm(x, c3, c3, c3, c3, { training: true, eps: NaN }),
      /batchNorm: expected eps to be a finite number ≥ 0, got NaN/,
    ],
    [
      () => batchNorm(x, c3, c3, c3, c3, { training: true, momentum: 2 }),
      /batchNorm: expected momentum to be a number in \[0, 1\], got 2/,
    ],
    [
      () => batchNorm(x, c3, c3, c3, c3, {} as typeof train),
      /batchNorm: expected the option training to be a boolean, got undefined/,
    ],
    [
      () => batchNorm(one, c3, c3, c3, c3, train),
      /batchNorm: expected more than one value per channel in training, got x of shape \[1, 3\]/,
    ],
    [
      () => layerNorm(x, c2, c3),
      /layerNorm: expected gamma to have shape \[3\] \(x's shape at the normalised axes\), got \[2\]/,
    ],
    [
      () => layerNorm(x, c3, c3, { axis: 2 }),
      /layerNorm: expected axes to be integers in \[-2, 2\) for a tensor of 2 dimensions, got 2/,
    ],
    [
      () => layerNorm(x, c3, c3, { eps: -1 }),
      /layerNorm: expected eps to be a finite number ≥ 0, got -1/,
    ],
  ];
  for (const [call, message] of cases) {
    assert.throws(
      call,
      (e: Error) => (e instanceof RangeError || e instanceof TypeError) && message.test(e.message),
    );
  }
});
