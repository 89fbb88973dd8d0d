import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, gpu, matmul } from "../mod.ts";
import { MATMUL_VARIANTS, matmulTuning, matmulVariantFor } from "../kernels/matmul.ts";
import {
  assertBitwise,
  assertEqualValues,
  assertWithin,
  dim,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  profile,
  ref,
  runs,
  seed,
  U,
  values,
} from "./_harness.ts";

const shape = fc.record({
  m: dim(80),
  k: dim(300),
  n: dim(80),
  transposeA: fc.boolean(),
  transposeB: fc.boolean(),
  profile,
  seed,
});
type Case = typeof shape extends fc.Arbitrary<infer T> ? T : never;

function operands(c: Case) {
  const a = values(c.m * c.k, c.profile, c.seed);
  const b = values(c.k * c.n, c.profile, c.seed + 1);
  const aShape = c.transposeA ? [c.k, c.m] : [c.m, c.k];
  const bShape = c.transposeB ? [c.n, c.k] : [c.k, c.n];
  return { a, b, aShape, bShape };
}

/** Σ|a·b| per output, in float64: the scale of each dot product's error bound. */
function absProducts(c: Case, a: Float32Array, b: Float32Array): Float64Array {
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

async function checkAgainstReference(backend: Backend, c: Case) {
  const { a, b, aShape, bShape } = operands(c);
  const flags = { transposeA: c.transposeA, transposeB: c.transposeB };
  using ga = backend.tensor(a, aShape);
  using gb = backend.tensor(b, bShape);
  using gc = matmul(ga, gb, flags);
  assert.deepEqual(gc.shape, [c.m, c.n]);
  using ra = ref.tensor(a, aShape);
  using rb = ref.tensor(b, bShape);
  using rc = matmul(ra, rb, flags);
  const scale = absProducts(c, a, b);
  // Sequential sum over k: |gpu − exact| ≤ γ(k)·Σ|ab|; the reference is exact rounded
  // once (+ u·Σ|ab|); a flushed subnormal product is off by < 2⁻¹²⁶ each.
  const bound = (i: number) => (gamma(c.k) + U) * scale[i] + c.k * MIN_NORMAL;
  assertWithin(await gc.read(), await rc.read(), bound, `matmul ${JSON.stringify(c)}`);
}

gpuTest("matmul: GPU agrees with the reference within γ(k)·Σ|ab|", async (dev) => {
  await fc.assert(fc.asyncProperty(shape, (c) => checkAgainstReference(dev, c)), runs(120));
});

gpuTest("matmul: folded multi-dimensional dispatch agrees with the reference", async () => {
  await fc.assert(fc.asyncProperty(shape, (c) => checkAgainstReference(folded!, c)), runs(30));
});

for (const variant of MATMUL_VARIANTS.keys()) {
  gpuTest(`matmul: variant ${variant} agrees with the reference within γ(k)·Σ|ab|`, async (dev) => {
    // Pinned on the test device, with plain and with folded dispatch grids.
    for (const maxWorkgroupsPerDimension of [undefined, 7]) {
      const backend = await gpu({
        device: dev.device,
        matmulVariant: variant,
        maxWorkgroupsPerDimension,
      });
      const property = fc.asyncProperty(shape, (c) => {
        // splitK needs a workgroup per output: more than 7³ do not fit the folded grid.
        fc.pre(MATMUL_VARIANTS.get(variant)!.supports(backend.runtime, c));
        return checkAgainstReference(backend, c);
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
    await checkAgainstReference(backend, { ...c, profile: "unit", seed: 3 });
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
