/**
 * @file Batched `matmul` (NumPy's `matmul`: leading dimensions broadcast, 1-d operands
 * promoted): the shared property on the test device, on a folded dispatch grid and with
 * each variant pinned; a case checked against NumPy's own output; the fold of an a-only
 * batch into m; the errors; and under `jit`, the product and a small attention block
 * counted in dispatches.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  gpu,
  jit,
  matmul,
  type MatmulOptions,
  relu,
  scale,
  softmax,
  type Tensor,
} from "../mod.ts";
import { MATMUL_VARIANTS } from "../kernels/matmul.ts";
import { assertProperty } from "./_properties.ts";
import { batchedMatmulProperty } from "./_properties_batched.ts";
import {
  assertBitwise,
  assertWithin,
  dot,
  expUlps,
  folded,
  gamma,
  gpuTest,
  ref,
  runs,
  size,
  U,
  values,
} from "./_harness.ts";

gpuTest(
  batchedMatmulProperty.name,
  (dev) => assertProperty(batchedMatmulProperty, dev, runs(batchedMatmulProperty.numRuns)),
);

gpuTest(
  "matmul batched: a folded multi-dimensional dispatch agrees with the reference",
  () => assertProperty(batchedMatmulProperty, folded!, runs(15)),
);

for (const variant of MATMUL_VARIANTS.keys()) {
  gpuTest(`matmul batched: variant ${variant} agrees with the reference`, async (dev) => {
    // Pinned on the test device, with plain and with folded dispatch grids (the batch
    // index comes from the folded workgroup index).
    for (const maxWorkgroupsPerDimension of [undefined, 7]) {
      const backend = await gpu({
        device: dev.device,
        matmulVariant: variant,
        maxWorkgroupsPerDimension,
      });
      const property = fc.asyncProperty(batchedMatmulProperty.cases, (c) => {
        const batch = c.batch.reduce((x, y) => x * y, 1);
        // The product the kernel runs: an a-only batch is folded into m.
        const folds = c.batchB.every((d) => d === 1) && !c.transposeA && !c.vectorA;
        const { m, k, n, transposeA, transposeB } = c;
        const params = folds
          ? { m: m * batch, k, n, transposeA, transposeB }
          : { m, k, n, transposeA, transposeB, batch, batchStrideA: m * k, batchStrideB: k * n };
        // splitK needs a workgroup per output: more than 7³ do not fit the folded grid.
        fc.pre(MATMUL_VARIANTS.get(variant)!.supports(backend.runtime, params));
        return batchedMatmulProperty.check(backend, c);
      });
      await fc.assert(property, runs(maxWorkgroupsPerDimension ? 6 : 12));
      backend.destroy();
    }
  });
}

Deno.test("matmul batched: NumPy's np.matmul on a broadcast batch and on 1-d operands", async () => {
  // a [2, 1, 2, 2], b [3, 2, 2] → [2, 3, 2, 2]; printed by NumPy 2 for
  // np.matmul(np.arange(8.).reshape(2, 1, 2, 2), np.arange(12.).reshape(3, 2, 2) - 5).
  using a = ref.tensor(Array.from({ length: 8 }, (_, i) => i), [2, 1, 2, 2]);
  using b = ref.tensor(Array.from({ length: 12 }, (_, i) => i - 5), [3, 2, 2]);
  using c = matmul(a, b);
  assert.deepEqual(c.shape, [2, 3, 2, 2]);
  assert.deepEqual(
    [...await c.read()],
    [-3, -2, -19, -14, 1, 2, 1, 6, 5, 6, 21, 26, -35, -26, -51, -38, 1, 10, 1, 14, 37, 46, 53, 66],
  );
  // np.matmul(np.arange(2.), np.arange(12.).reshape(3, 2, 2) - 5): shape (3, 2)
  using v = ref.tensor([0, 1]);
  using vb = matmul(v, b);
  assert.deepEqual(vb.shape, [3, 2]);
  assert.deepEqual([...await vb.read()], [-3, -2, 1, 2, 5, 6]);
  // np.matmul(np.arange(12.).reshape(3, 2, 2) - 5, np.arange(2.)): shape (3, 2)
  using bv = matmul(b, v);
  assert.deepEqual(bv.shape, [3, 2]);
  assert.deepEqual([...await bv.read()], [-4, -2, 0, 2, 4, 6]);
  using dotted = matmul(v, v);
  assert.deepEqual(dotted.shape, []);
  assert.deepEqual([...await dotted.read()], [1]);
});

gpuTest("matmul batched: an a-only batch folded into m is one product", async (dev) => {
  // [6, 5, 7]·[7, 4] runs as [30, 7]·[7, 4]: the same sums, so the same bound (values
  // in [−1, 1]: Σ|ab| ≤ 7).
  const a = values(6 * 5 * 7, "unit", 1), b = values(7 * 4, "unit", 2);
  using ga = dev.tensor(a, [6, 5, 7]);
  using gb = dev.tensor(b, [7, 4]);
  using gc = matmul(ga, gb);
  using rc = matmul(ref.tensor(a, [30, 7]), ref.tensor(b, [7, 4]));
  assert.deepEqual(gc.shape, [6, 5, 4]);
  assertWithin(await gc.read(), await rc.read(), () => dot(7, 7) + 7 * U, "folded matmul");
});

Deno.test("matmul batched: errors name the op, what was expected and what was given", () => {
  using a = ref.tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  using b = ref.tensor(new Float32Array(3 * 4 * 5), [3, 4, 5]);
  using s = ref.tensor([1], []);
  using v = ref.tensor([1, 2, 3, 4]);
  assert.throws(
    () => matmul(a, b),
    new RangeError(
      "matmul: expected the batch dimensions (all but the last two) to broadcast as NumPy's, " +
        "got a [2, 3, 4] and b [3, 4, 5]",
    ),
  );
  assert.throws(
    () => matmul(s, a),
    new RangeError("matmul: expected a to have at least 1 dimensions, got shape []"),
  );
  assert.throws(
    () => matmul(a, v, { transposeB: true }),
    new RangeError(
      "matmul: expected b to have at least 2 dimensions (transposeB), got shape [4]",
    ),
  );
  assert.throws(() => matmul(a, a), /matmul: expected the inner dimensions to match/);
});

/** softmax(q·kᵀ/√d)·v over a batch: attention's core, as a model writes it. */
function attention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const scores = scale(matmul(q, k, { transposeB: true }), 1 / Math.sqrt(q.shape[2]));
  return matmul(softmax(scores), v);
}

/**
 * |GPU − reference| for {@linkcode attention} of values in [−1, 1]: a score is a dot
 * product of d terms (Σ|q·k| ≤ d) scaled by fl(1/√d), so its error is ε ≤ γ(d)·√d + 2u√d
 * (|score| ≤ √d); shifting scores by ≤ ε moves each softmax weight p by a factor within
 * e^{±2ε}, and softmax's own rounding adds a relative ρ ≤ 2α + γ(s) + 5u, α the exp's
 * error at |z| ≤ 2√d (expUlps, 1 ULP ≤ 2u relative) and 5u the division's 2.5 ULP. The
 * output Σ p·v (|v| ≤ 1, Σp = 1) is off by R = e^{2ε} − 1 + ρ from the weights and
 * γ(s)·(1 + R) from its own sum. The reference rounds each op once: ε′ = 2u√d, ρ′ = 4u.
 */
function attentionBound(backend: { readonly name: string }, s: number, d: number): number {
  const root = Math.sqrt(d);
  const alpha = 2 * U * expUlps(2 * root, backend);
  const R = Math.expm1(2 * (gamma(d) * root + 2 * U * root)) + 2 * alpha + gamma(s) + 5 * U;
  const reference = Math.expm1(4 * U * root) + 4 * U + U;
  return R + gamma(s) * (1 + R) + reference;
}

gpuTest("matmul batched under jit: attention gives the eager result", async (dev) => {
  const [b, s, d] = [3, 5, 8];
  const data = [0, 1, 2].map((i) => values(b * s * d, "unit", 10 + i));
  const onDev = data.map((x) => dev.tensor(x, [b, s, d]));
  const onRef = data.map((x) => ref.tensor(x, [b, s, d]));
  const step = jit(attention);
  using got = step(onDev[0], onDev[1], onDev[2]);
  using want = attention(onRef[0], onRef[1], onRef[2]);
  assert.deepEqual(got.shape, [b, s, d]);
  assertWithin(await got.read(), await want.read(), () => attentionBound(dev, s, d), "attention");
  onDev.forEach((t) => t.dispose());
  onRef.forEach((t) => t.dispose());
});

gpuTest("matmul batched under jit: a small attention block is at most 3 kernels", async (dev) => {
  // q, k, v [2, 16, 8]: the two products' batches and the softmax between them, counted
  // in dispatches after the call that compiles. By default ("auto") a program this small
  // is one program kernel. As fused kernels (a variant pinned that dispatches once per
  // product; a texture-fed one packs its operands first) it is five: the first product
  // with its scaling, softmax's max, its sum of exponentials and its division (stored:
  // a matmul's operand is a view or a stored value), and the second product.
  const [b, s, d] = [2, 16, 8];
  const data = [0, 1, 2].map((i) => values(b * s * d, "unit", 20 + i));
  const check = async (backend: typeof dev, kernels: "auto" | "fused", expected: number) => {
    const inputs = data.map((x) => backend.tensor(x, [b, s, d]));
    const step = jit(attention, { kernels });
    step(inputs[0], inputs[1], inputs[2]).dispose();
    const before = backend.stats().dispatches;
    using got = step(inputs[0], inputs[1], inputs[2]);
    assert.equal(backend.stats().dispatches - before, expected, `kernels: ${kernels}`);
    const [rq, rk, rv] = data.map((x) => ref.tensor(x, [b, s, d]));
    using want = attention(rq, rk, rv);
    assertWithin(await got.read(), await want.read(), () => attentionBound(backend, s, d), kernels);
    [...inputs, rq, rk, rv].forEach((t) => t.dispose());
  };
  await check(dev, "auto", 1);
  const pinned = await gpu({ device: dev.device, matmulVariant: "registers4x4" });
  await check(pinned, "fused", 5);
  pinned.destroy();
});

gpuTest(
  "matmul batched under jit: each variant's hooked kernel with an epilogue, exactly",
  async (dev) => {
    // Integers: every product and sum exact, so every variant and path agrees bit for bit.
    // Both operands batched (b transposed), and a transposed a beside a broadcast b (not
    // folded: a's matrices are not its rows), each with a bias-and-relu epilogue.
    const layer = (flags: MatmulOptions) => (a: Tensor, b: Tensor, bias: Tensor) =>
      relu(add(matmul(a, b, flags), bias));
    const cases: [MatmulOptions, number[], number[]][] = [
      [{ transposeB: true }, [3, 20, 30], [3, 10, 30]],
      [{ transposeA: true }, [3, 30, 20], [30, 10]],
    ];
    for (const variant of MATMUL_VARIANTS.keys()) {
      const backend = await gpu({ device: dev.device, matmulVariant: variant });
      for (const [flags, aShape, bShape] of cases) {
        const make = (be: typeof ref | typeof backend) =>
          [
            be.tensor(values(size(aShape), "integers", 41), aShape),
            be.tensor(values(size(bShape), "integers", 42), bShape),
            be.tensor(values(10, "integers", 43), [1, 10]),
          ] as const;
        const [a, b, bias] = make(backend);
        using got = jit(layer(flags), { kernels: "fused" })(a, b, bias);
        const [ra, rb, rbias] = make(ref);
        using want = layer(flags)(ra, rb, rbias);
        assertBitwise(await got.read(), await want.read(), `${variant} ${JSON.stringify(flags)}`);
        [a, b, bias, ra, rb, rbias].forEach((t) => t.dispose());
      }
      backend.destroy();
    }
  },
);
