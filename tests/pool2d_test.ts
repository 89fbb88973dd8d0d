/**
 * maxPool2d and avgPool2d: the shared properties (tests/_properties_pool.ts, where the
 * bounds are derived) on the test device and the reference, values NumPy computed, the
 * tie and NaN rules of the gradient, jit's fused forms, and the errors at the boundary.
 */
import assert from "node:assert/strict";
import {
  avgPool2d,
  type Backend,
  jit,
  maxPool2d,
  mul,
  sigmoid,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { poolGradProperty, poolProperty } from "./_properties_pool.ts";
import { assertWithin, dev, folded, gamma, gpuTest, readFloat32, ref, runs } from "./_harness.ts";

for (const property of [poolProperty, poolGradProperty]) {
  Deno.test(`${property.name} (reference only)`, () =>
    assertProperty({ ...property, check: (_b, c) => property.check(ref, c) }, ref, runs(20)));
  gpuTest(property.name, (dev) => assertProperty(property, dev, runs(property.numRuns)));
}

gpuTest(
  "maxPool2d, avgPool2d and their gradient kernels on a folded grid agree with the loops",
  () => assertProperty(poolGradProperty, folded!, runs(15)),
);

/** Every backend the test runs on: the reference, and the GPU when there is one. */
const backends: Backend[] = dev ? [ref, dev] : [ref];

// numpy 2.4: x = np.arange(1., 21.).reshape(1, 1, 4, 5); x[0, 0, 1, 2] = -7
// p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
// sliding_window_view(p, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(axis=(-2, -1))
// and with constant_values=0, .mean(axis=(-2, -1)) (count_include_pad).
Deno.test("maxPool2d, avgPool2d: kernel 3, stride 2, padding 1 as NumPy's windows give", async () => {
  const x = Array.from({ length: 20 }, (_, i) => i + 1);
  x[7] = -7;
  for (const b of backends) {
    using t = b.tensor(x, [1, 1, 4, 5]);
    using m = maxPool2d(t, { kernel: 3, stride: 2, padding: 1 });
    using a = avgPool2d(t, { kernel: 3, stride: 2, padding: 1 });
    assert.deepEqual(m.shape, [1, 1, 2, 3]);
    assert.deepEqual([...await m.read()], [7, 9, 10, 17, 19, 20], b.kind);
    const expected = [16 / 9, 18 / 9, 28 / 9, 69 / 9, 102 / 9, 87 / 9];
    assertWithin(await a.read(), expected, (i) => gamma(11) * expected[i], `avgPool2d ${b.kind}`);
  }
});

Deno.test("maxPool2d: a NaN in a window gives NaN; −Inf padding never wins", async () => {
  for (const b of backends) {
    using t = b.tensor([NaN, 1, -Infinity, -Infinity], [1, 1, 2, 2]);
    using m = maxPool2d(t, { kernel: [1, 2], stride: 1, padding: [0, 1] });
    // Windows over [−Inf, NaN, 1, −Inf] and [−Inf, −Inf, −Inf, −Inf] padded at both ends.
    assert.deepEqual([...await m.read()], [NaN, NaN, 1, -Infinity, -Infinity, -Infinity]);
  }
});

Deno.test("maxPool2d's gradient: the first maximum takes ties; the first NaN takes a NaN's", async () => {
  for (const b of backends) {
    // Two 2×2 windows: [5, 5; 1, 5] (ties) and [NaN, 2; NaN, 9].
    using t = b.tensor([5, 5, NaN, 2, 1, 5, NaN, 9], [1, 1, 2, 4]);
    const { value, grads: [dx] } = valueAndGrad((v: Tensor) =>
      sum(mul(maxPool2d(v, { kernel: 2 }), b.tensor([10, 20], [1, 1, 1, 2])))
    )(t);
    assert.deepEqual([...await dx.read()], [10, 0, 20, 0, 0, 0, 0, 0], b.kind);
    value.dispose();
    dx.dispose();
  }
});

Deno.test("maxPool2d, avgPool2d: overlapping windows add their gradients", async () => {
  for (const b of backends) {
    using t = b.tensor([1, 3, 2], [1, 1, 1, 3]);
    const options = { kernel: [1, 2] as [number, number], stride: 1 };
    const [dmax, davg] = [maxPool2d, avgPool2d].map((pool) => {
      const { value, grads: [dx] } = valueAndGrad((v: Tensor) =>
        sum(mul(pool(v, options), b.tensor([1, 10], [1, 1, 1, 2])))
      )(t);
      value.dispose();
      return dx;
    });
    assert.deepEqual([...await dmax.read()], [0, 11, 0], `max ${b.kind}`); // 3 wins both
    assert.deepEqual([...await davg.read()], [0.5, 5.5, 5], `avg ${b.kind}`);
    dmax.dispose();
    davg.dispose();
  }
});

gpuTest(
  "maxPool2d, avgPool2d under jit: fused with their neighbours, as the eager ops",
  async (dev) => {
    const x = Array.from({ length: 2 * 3 * 7 * 6 }, (_, i) => Math.sin(i) * 3);
    const f = (t: Tensor) =>
      maxPool2d(avgPool2d(sigmoid(t), { kernel: 2, stride: 1, padding: 1 }), {
        kernel: [3, 2],
        stride: [2, 3],
      });
    // The value and the gradient: the backward kernels run inside the compiled program.
    const step = (t: Tensor) => {
      const { value, grads: [dx] } = valueAndGrad((v: Tensor) => sum(mul(f(v), f(v))))(t);
      return { y: f(t), value, dx };
    };
    using t = dev.tensor(x, [2, 3, 7, 6]);
    const eager = step(t);
    const y = await readFloat32(eager.y);
    const squares = y.reduce((a, v) => a + v * v, 0);
    for (const kernels of ["auto", "fused", "ops"] as const) {
      const got = jit(step, { kernels })(t);
      // The same elementwise ops and windows in the same order round the same way.
      for (const name of ["y", "dx"] as const) {
        assert.deepEqual(got[name].shape, eager[name].shape);
        assert.deepEqual(
          [...await got[name].read()],
          [...await eager[name].read()],
          `${name} ${kernels}`,
        );
      }
      // The loss's sum may add in another tree: γ(n + 1)·Σy² (each square rounds once).
      const bound = gamma(y.length + 1) * squares;
      assertWithin(await got.value.read(), await eager.value.read(), () => bound, kernels);
      Object.values(got).forEach((e) => e.dispose());
    }
    Object.values(eager).forEach((e) => e.dispose());
  },
);

Deno.test("maxPool2d, avgPool2d: errors name the op and what was expected", () => {
  using x = ref.zeros([1, 2, 4, 4]);
  using image = ref.zeros([2, 4, 4]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => maxPool2d(image, { kernel: 2 }),
      /maxPool2d: expected x to be \[N, C, H, W\] \(4 dimensions\), got shape \[2, 4, 4\]/,
    ],
    [
      () => avgPool2d(x, { kernel: 2, stride: 0 }),
      /avgPool2d: expected stride to be an integer ≥ 1, got 0/,
    ],
    [
      () => maxPool2d(x, { kernel: 5 }),
      /maxPool2d: expected a kernel no larger than the padded image, got kernel \[5, 5\] for image \[4, 4\] padded to \[4, 4\]/,
    ],
    [
      () => avgPool2d(x, { kernel: 2, padding: 2 }),
      /avgPool2d: expected padding at most half the kernel, got padding \[2, 2\] for kernel \[2, 2\]/,
    ],
    [
      () => maxPool2d(x, { kernel: [2, 2, 2] as unknown as number }),
      /maxPool2d: expected kernel to be an integer or a pair of integers, got an array of length 3/,
    ],
    [
      () => maxPool2d(x, { kernel: [2, 1.5] }),
      /maxPool2d: expected kernel\[1\] to be an integer ≥ 1, got 1.5/,
    ],
    [
      () => maxPool2d(x, {} as { kernel: number }),
      /maxPool2d: expected kernel to be an integer or a pair of integers, got undefined/,
    ],
    [
      () => avgPool2d(x, { kernel: 2, dilation: 2 } as { kernel: number }),
      /avgPool2d: expected options among kernel, stride, padding, got an unknown option "dilation"/,
    ],
    [
      () => maxPool2d(x, undefined as unknown as { kernel: number }),
      /maxPool2d: expected an options object, got undefined/,
    ],
  ];
  for (const [call, message] of cases) {
    assert.throws(
      call,
      (e: Error) => (e instanceof RangeError || e instanceof TypeError) && message.test(e.message),
    );
  }
});
