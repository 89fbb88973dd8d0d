/**
 * conv2d on both backends: values against NumPy's evaluation of PyTorch's definition
 * (the sizes and values below were printed by a NumPy script of
 * `torch.nn.functional.conv2d`'s documented formula: zero padding, H′ = ⌊(H + top + bottom
 * − d·(k − 1) − 1)/s⌋ + 1, groups), the shared properties of the convolution and its
 * gradients on the test device (tests/_properties_conv2d.ts, where the bounds are
 * derived), `corr2d` as a single-channel `conv2d`, and the errors at the boundary.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  type Backend,
  conv2d,
  corr2d,
  gpu,
  jit,
  relu,
  reshape,
  square,
  sum,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { type Conv2dVariant, pinConv2dVariant } from "../kernels/conv2d.ts";
import { pinWeightGradientSplit } from "../kernels/conv2d_weight_gradient.ts";
import { assertCorr2dWithin, assertProperty } from "./_properties.ts";
import { conv2dGradientsProperty, conv2dProperty } from "./_properties_conv2d.ts";
import { assertEqualValues, dim, gpuTest, profile, ref, runs, seed, values } from "./_harness.ts";

/** Whole numbers in [−3, 3] and [−2, 2] as the NumPy script made them. */
const numpyX = Float32Array.from({ length: 2 * 4 * 5 * 6 }, (_, i) => ((i + 1) % 7) - 3);
const numpyW = Float32Array.from({ length: 6 * 2 * 3 * 2 }, (_, i) => ((i + 1) % 5) - 2);
const NUMPY_STRIDED = [
  ...[2, 13, 1, -2, 14, -5, 4, -10, -19, 18, -16, 2, 1, -3, 21, -2, 4, 4, 14, -2, 1, 11, 2, -16],
  ...[14, -5, -14, -14, -5, 14, -16, 2, 11, 1, -2, 14, 1, -16, -7, 11, -11, -2, 4, 4, -2, 21],
  ...[-3, 1, 2, -16, 18, -19, -10, 4, 11, -5, -19, -2, -11, 13, -11, -2, 28, -7, -1, 11, -3, 1],
  ...[10, -7, -6, -11],
];
const NUMPY_DEPTHWISE_SAME = [
  ...[1, -3, -2, 1, 5, 1, -3, 0, 1, 5, -1, -2, -3, 1, 5, -2, -3, -2, -1, 2, 1, -3, -2, 1],
  ...[5, -1, -2, -2, 1, 5, -1, -2, -2, -1, 5, -2, -3, -2, -1, 2, -1, -2, -3, 3, 5, -1, -2, -2],
];

/** The NumPy cases on `backend`: exact, since every sum is of small whole numbers. */
async function checkNumpyCases(backend: Backend) {
  using x = backend.tensor(numpyX, [2, 4, 5, 6]);
  using w = backend.tensor(numpyW, [6, 2, 3, 2]);
  // Stride [2, 3] (larger than the kernel's width), per-side padding, dilation, 2 groups.
  using y = conv2d(x, w, {
    stride: [2, 3],
    padding: [[1, 2], [0, 1]],
    dilation: [1, 2],
    groups: 2,
  });
  assert.deepEqual(y.shape, [2, 6, 3, 2]);
  assert.deepEqual([...await y.read()], NUMPY_STRIDED);
  // Depthwise, "same" with an even kernel width and dilation: the odd zero goes right.
  using x2 = backend.tensor(Float32Array.from({ length: 48 }, (_, i) => (i % 5) - 2), [1, 3, 4, 4]);
  using w2 = backend.tensor(Float32Array.from({ length: 18 }, (_, i) => (i % 3) - 1), [3, 1, 3, 2]);
  using same = conv2d(x2, w2, { padding: "same", dilation: [2, 1], groups: 3 });
  assert.deepEqual(same.shape, [1, 3, 4, 4]);
  assert.deepEqual([...await same.read()], NUMPY_DEPTHWISE_SAME);
}

Deno.test("conv2d: reference matches NumPy's evaluation of PyTorch's definition", () =>
  checkNumpyCases(ref));
gpuTest("conv2d: GPU matches NumPy's evaluation of PyTorch's definition", checkNumpyCases);

// Each variant pinned on the test device (a shape takes only one of them otherwise), on
// plain and folded grids.
for (const variant of ["implicit", "im2col", "direct"] as Conv2dVariant[]) {
  for (const property of [conv2dProperty, conv2dGradientsProperty]) {
    gpuTest(`${property.name} (${variant} where it applies)`, async (dev) => {
      for (const maxWorkgroupsPerDimension of [undefined, 7]) {
        const backend = await gpu({ device: dev.device, maxWorkgroupsPerDimension });
        pinConv2dVariant(backend.runtime, variant);
        const numRuns = property.numRuns / (maxWorkgroupsPerDimension ? 4 : 1);
        await assertProperty(property, backend, runs(numRuns));
        backend.destroy();
      }
    });
  }
}

// The weight gradient's sum split into chunks of one image, so that batches of two take
// its second pass (the partials added in order): with all of a kernel row's taps a thread
// (the texel-fed kernel, for one group), and with blocks of 3 columns (the kernel that
// reads buffers, for every group), so that widths of 4 leave a block's edge unstored;
// plain and folded grids.
for (const taps of [8, 3]) {
  gpuTest(`${conv2dGradientsProperty.name} (weight gradient split, ${taps} taps)`, async (dev) => {
    for (const maxWorkgroupsPerDimension of [undefined, 7]) {
      const backend = await gpu({ device: dev.device, maxWorkgroupsPerDimension });
      pinWeightGradientSplit(backend.runtime, { images: 1, taps });
      const numRuns = conv2dGradientsProperty.numRuns / (maxWorkgroupsPerDimension ? 4 : 1);
      await assertProperty(conv2dGradientsProperty, backend, runs(numRuns));
      backend.destroy();
    }
  });
}

/**
 * corr2d(x, k) and conv2d of x as one single-channel image, on `backend`: the same shape,
 * and the same values on the reference (each rounds the exact sum once); on a GPU the two
 * sum the kh·kw products in orders of their own (conv2d's im2col in matmul's), so each is
 * held to corr2d's bound γ(kh·kw)·Σ|x·k| around the reference instead.
 */
async function checkCorr2dIsConv2d(backend: Backend) {
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(dim(40), dim(40)).chain(([h, w]) =>
        fc.tuple(
          fc.constant(h),
          fc.constant(w),
          fc.integer({ min: 1, max: h }),
          fc.integer({ min: 1, max: w }),
        )
      ),
      profile,
      seed,
      async ([h, w, kh, kw], kind, s) => {
        const xv = values(h * w, kind, s), kv = values(kh * kw, kind, s + 1);
        using x = backend.tensor(xv, [h, w]);
        using k = backend.tensor(kv, [kh, kw]);
        using edges = corr2d(x, k);
        using image = reshape(x, [1, 1, h, w]);
        using kernel = reshape(k, [1, 1, kh, kw]);
        using convolved = conv2d(image, kernel);
        assert.deepEqual(convolved.shape, [1, 1, h - kh + 1, w - kw + 1]);
        const what = `${h}×${w} ⊛ ${kh}×${kw} on ${backend.kind}`;
        if (backend === ref) {
          assertEqualValues(await convolved.read(), await edges.read(), what);
        } else {
          for (const t of [edges, convolved]) {
            await assertCorr2dWithin(await t.read(), xv, [h, w], kv, [kh, kw], what);
          }
        }
      },
    ),
    runs(30),
  );
}

Deno.test("conv2d: corr2d(x, k) is conv2d of the [1, 1, H, W] image (reference)", () =>
  checkCorr2dIsConv2d(ref));
gpuTest("conv2d: corr2d(x, k) is conv2d of the [1, 1, H, W] image (GPU)", checkCorr2dIsConv2d);

Deno.test("conv2d: errors name the op and say what was expected", async (t) => {
  using x = ref.tensor(new Float32Array(2 * 4 * 5 * 5), [2, 4, 5, 5]);
  using w = ref.tensor(new Float32Array(6 * 2 * 3 * 3), [6, 2, 3, 3]);
  const throws = (f: () => unknown, type: ErrorConstructor, pattern: RegExp) =>
    assert.throws(
      f,
      (e: Error) => e instanceof type && /^conv2d: /.test(e.message) && pattern.test(e.message),
    );
  await t.step("a 3-D input", () => {
    using x3 = ref.tensor(new Float32Array(4 * 5 * 5), [4, 5, 5]);
    throws(
      () => conv2d(x3, w, { groups: 2 }),
      RangeError,
      /x to have 4 dimensions, got shape \[4, 5, 5\]/,
    );
  });
  await t.step("channels not divisible by groups", () => {
    throws(() => conv2d(x, w, { groups: 3 }), RangeError, /divisible by groups \(3\), got 4 input/);
  });
  await t.step("mismatched channels", () => {
    throws(() => conv2d(x, w), RangeError, /C\/groups = 4 input channels.*got w \[6, 2, 3, 3\]/);
  });
  await t.step("a stride of 0", () => {
    throws(
      () => conv2d(x, w, { groups: 2, stride: 0 }),
      RangeError,
      /stride to be an integer in \[1, 16777216\], got 0/,
    );
    throws(() => conv2d(x, w, { groups: 2, stride: [1, 0] }), RangeError, /stride\[1\] .* got 0/);
  });
  await t.step("a kernel larger than the padded image", () => {
    throws(
      () => conv2d(x, w, { groups: 2, dilation: 3 }),
      RangeError,
      /kernel no larger than the padded image, got a kernel height of 7 \(dilated\) for a padded height of 5/,
    );
    using fits = conv2d(x, w, { groups: 2, dilation: 3, padding: 1 });
    assert.deepEqual(fits.shape, [2, 6, 1, 1]);
  });
  await t.step("'same' with a stride, bad padding, negative sides, unknown options", () => {
    throws(
      () => conv2d(x, w, { groups: 2, padding: "same", stride: 2 }),
      RangeError,
      /stride 1 with padding "same"/,
    );
    throws(
      () => conv2d(x, w, { groups: 2, padding: "full" as "same" }),
      TypeError,
      /"valid" or "same", got string "full"/,
    );
    throws(
      () => conv2d(x, w, { groups: 2, padding: [[1, -1], [0, 0]] }),
      RangeError,
      /padding\[0\]\[1\] .* got -1/,
    );
    throws(() => conv2d(x, w, { groups: 2, pad: 1 } as never), TypeError, /pad/);
    throws(() => conv2d(x, w, { groups: 0 }), RangeError, /groups to be an integer ≥ 1, got 0/);
  });
  await t.step("null options (an absent one takes its default; null is not absent)", () => {
    for (const name of ["stride", "dilation", "padding", "groups"]) {
      throws(
        () => conv2d(x, w, { groups: 2, [name]: null }),
        TypeError,
        new RegExp(`expected ${name} to be .*, got null`),
      );
    }
    using defaults = conv2d(x, w, { groups: 2, stride: undefined, padding: undefined });
    assert.deepEqual(defaults.shape, [2, 6, 3, 3]);
  });
});

gpuTest("conv2d: under jit, a step with both gradients gives the eager values", async (dev) => {
  // A strided, padded 3×3 layer with a relu and a squared loss: the conv and both of its
  // gradients run as the op's own kernels inside the compiled program (their temporaries
  // captured); the elementwise ops and the sum fused around them round as eagerly here.
  const options = { stride: 2, padding: 1 } as const;
  const step = (x: Tensor, w: Tensor) => {
    const { value, grads } = valueAndGrad((a: Tensor, b: Tensor) =>
      sum(square(relu(conv2d(a, b, options))))
    )(x, w);
    return [value, ...grads];
  };
  using x = dev.tensor(values(2 * 3 * 9 * 9, "unit", 1), [2, 3, 9, 9]);
  using w = dev.tensor(values(4 * 3 * 3 * 3, "unit", 2), [4, 3, 3, 3]);
  const compiled = jit(step);
  for (let call = 0; call < 2; call++) {
    const eager = step(x, w), traced = compiled(x, w);
    for (let i = 0; i < eager.length; i++) {
      assertEqualValues(await traced[i].read(), await eager[i].read(), `output ${i}, call ${call}`);
    }
    [...eager, ...traced].forEach((t) => t.dispose());
  }
  compiled.dispose();
});
