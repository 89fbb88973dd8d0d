import fc from "fast-check";
import assert from "node:assert/strict";
import { gpu, matmul } from "../mod.ts";
import { MATMUL_VARIANTS, matmulTuning, matmulVariantFor } from "../kernels/matmul.ts";
import { assertProperty, matmulProperty } from "./_properties.ts";
import {
  assertBitwise,
  assertEqualValues,
  dim,
  folded,
  gpuTest,
  profile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

gpuTest(matmulProperty.name, (dev) => assertProperty(matmulProperty, dev, runs(120)));

gpuTest(
  "matmul: folded multi-dimensional dispatch agrees with the reference",
  () => assertProperty(matmulProperty, folded!, runs(30)),
);

for (const variant of MATMUL_VARIANTS.keys()) {
  gpuTest(`matmul: variant ${variant} agrees with the reference within γ(k)·Σ|ab|`, async (dev) => {
    // Pinned on the test device, with plain and with folded dispatch grids.
    for (const maxWorkgroupsPerDimension of [undefined, 7]) {
      const backend = await gpu({
        device: dev.device,
        matmulVariant: variant,
        maxWorkgroupsPerDimension,
      });
      const property = fc.asyncProperty(matmulProperty.cases, (c) => {
        // splitK needs a workgroup per output: more than 7³ do not fit the folded grid.
        fc.pre(MATMUL_VARIANTS.get(variant)!.supports(backend.runtime, c));
        return matmulProperty.check(backend, c);
      });
      await fc.assert(property, runs(maxWorkgroupsPerDimension ? 10 : 25));
      backend.destroy();
    }
  });
}

gpuTest("matmul: gpu({ matmulVariant }) refuses an unknown variant, naming the known", async () => {
  await assert.rejects(
    gpu({ matmulVariant: "fastest" }),
    (e: unknown) =>
      e instanceof RangeError && /matmulVariant to be one of registers4x4, .*got "fastest"/
        .test(e.message),
  );
});

gpuTest(
  "matmul: a large shape class is autotuned once, then uses its fastest variant",
  async (dev) => {
    const backend = await gpu({ device: dev.device });
    const c = { m: 300, k: 512, n: 512, transposeA: false, transposeB: true };
    const before = matmulVariantFor(backend.runtime, c);
    await matmulTuning(backend.runtime);
    const tuned = matmulVariantFor(backend.runtime, c);
    assert.ok(tuned.supports(backend.runtime, c));
    // The same class (sides rounded up to powers of two) reuses the choice.
    assert.equal(matmulVariantFor(backend.runtime, { ...c, m: 400, k: 500, n: 480 }), tuned);
    assert.equal(before.name, "registers4x4");
    await matmulProperty.check(backend, { ...c, profile: "unit", seed: 3 });
    backend.destroy();
  },
);

gpuTest("matmul: more than 65,535 tiles (m = 2,097,153, k = n = 1)", async (dev) => {
  const m = 32 * 65536 + 1;
  const a = values(m, "unit", 5);
  using ga = dev.tensor(a, [m, 1]);
  using gb = dev.tensor([3], [1, 1]);
  using gc = matmul(ga, gb);
  const expected = a.map((v) => v * 3);
  assertEqualValues(await gc.read(), expected, "matmul past the workgroup limit");
});

gpuTest("matmul: A·I = A and I·A = A exactly", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(70), dim(70), profile, seed, async (m, k, kind, s) => {
      const a = values(m * k, kind, s);
      const eye = (n: number) =>
        Float32Array.from({ length: n * n }, (_, i) => i % (n + 1) ? 0 : 1);
      using ga = dev.tensor(a, [m, k]);
      using right = dev.tensor(eye(k), [k, k]);
      using left = dev.tensor(eye(m), [m, m]);
      using ai = matmul(ga, right);
      using ia = matmul(left, ga);
      assertEqualValues(await ai.read(), a, "A·I");
      assertEqualValues(await ia.read(), a, "I·A");
    }),
    runs(40),
  );
});

gpuTest("matmul: (AB)ᵀ = BᵀAᵀ through the transpose flags, bit for bit", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(60), dim(100), dim(60), profile, seed, async (m, k, n, kind, s) => {
      using a = dev.tensor(values(m * k, kind, s), [m, k]);
      using b = dev.tensor(values(k * n, kind, s + 1), [k, n]);
      using ab = matmul(a, b);
      using btat = matmul(b, a, { transposeA: true, transposeB: true });
      assert.deepEqual(btat.shape, [n, m]);
      const c = await ab.read();
      const transposed = Float32Array.from({ length: m * n }, (_, idx) => {
        const j = Math.floor(idx / m), i = idx % m;
        return c[i * n + j];
      });
      assertBitwise(await btat.read(), transposed, "BᵀAᵀ");
    }),
    runs(40),
  );
});

gpuTest("matmul: linear in A under exact scaling, matmul(2A, B) = 2·matmul(A, B)", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(50), dim(100), dim(50), seed, async (m, k, n, s) => {
      const a = values(m * k, "mixed", s);
      using ga = dev.tensor(a, [m, k]);
      using ga2 = dev.tensor(a.map((v) => 2 * v), [m, k]);
      using gb = dev.tensor(values(k * n, "mixed", s + 1), [k, n]);
      using c = matmul(ga, gb);
      using c2 = matmul(ga2, gb);
      assertEqualValues(await c2.read(), (await c.read()).map((v) => 2 * v), "matmul(2A, B)");
    }),
    runs(30),
  );
});

Deno.test("matmul: reference computes a known product", async () => {
  using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using b = ref.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
  using c = matmul(a, b);
  assert.deepEqual([...await c.read()], [58, 64, 139, 154]);
});
