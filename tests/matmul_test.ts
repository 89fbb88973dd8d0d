import fc from "fast-check";
import assert from "node:assert/strict";
import { gpu, GpuBackend, matmul } from "../mod.ts";
import { GpuRuntime, type GpuTensor } from "../runtime.ts";
import { configureMatmul, MATMUL_VARIANTS } from "../kernels/matmul.ts";
import { assertProperty, matmulProperty, pinnedMatmulProperty } from "./_properties.ts";
import {
  assertBitwise,
  assertEqualValues,
  assertWithin,
  dev,
  dim,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  ordinaryProfile,
  profile,
  ref,
  runs,
  seed,
  U,
  values,
} from "./_harness.ts";

gpuTest(
  matmulProperty.name,
  (dev) => assertProperty(matmulProperty, dev, runs(matmulProperty.numRuns)),
);

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
      const pinned = pinnedMatmulProperty(backend, variant);
      const property = fc.asyncProperty(pinned.cases, (c) => pinned.check(backend, c));
      await fc.assert(property, runs(maxWorkgroupsPerDimension ? 10 : 25));
      backend.destroy();
    }
  });
}

Deno.test({
  name: "matmul: the tiled variants with a GPU's slab depths agree with the reference " +
    "(on Vulkan; Mesa's GL compiles these workgroup arrays in ~10 s each)",
  ignore: dev === null || Deno.env.get("DENO_WEBGPU_BACKEND") === "gl",
  sanitizeOps: false,
  async fn() {
    // As on a discrete GPU: slabs 16 deep where the device's workgroup storage allows
    // (the test device has llvmpipe's 32 KiB), 8 within WebGPU's default 16 KiB.
    const gpuInfo = { vendor: "nvidia", architecture: "hopper", description: "NVIDIA H200" };
    const adapter = (await navigator.gpu.requestAdapter())!;
    const small = await adapter.requestDevice();
    try {
      for (const device of [dev!.device, small]) {
        for (const name of ["tiled4x4", "tiled8x8"]) {
          const runtime = new GpuRuntime(device);
          await configureMatmul(runtime, {
            variant: MATMUL_VARIANTS.get(name),
            tuning: "off",
            adapter: gpuInfo as GPUAdapterInfo,
          });
          const backend = new GpuBackend(runtime, `${name} as on a GPU`);
          await assertProperty(matmulProperty, backend, runs(15));
          backend.destroy();
        }
      }
    } finally {
      small.destroy();
    }
  },
});

gpuTest("matmul: gpu({ matmulVariant }) refuses an unknown variant, naming the known", async () => {
  await assert.rejects(
    gpu({ matmulVariant: "fastest" }),
    (e: unknown) =>
      e instanceof RangeError && /matmulVariant to be one of registers4x4, .*got "fastest"/
        .test(e.message),
  );
});

gpuTest(
  "matmul: hooked variants read through custom loadA/loadB and store through storeC",
  async (dev) => {
    // A fused program's shape: op(A) is rows of a bigger matrix picked by an index list,
    // and the epilogue stores 2·acc + 1. The hooks also flag any call out of range.
    // Every variant, the texture-fed ones included (their packing reads through the hooks).
    const hooked = [...MATMUL_VARIANTS.values()];
    const wgsl = /* wgsl */ `
@group(0) @binding(1) var<storage, read> full: array<f32>;
@group(0) @binding(2) var<storage, read> picked: array<f32>;
@group(0) @binding(3) var<storage, read> bm: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> outOfRange: array<f32>;
fn loadA(r: u32, p: u32) -> f32 {
  if (r >= params.m || p >= params.k) { outOfRange[0] = 1.0; }
  return full[u32(picked[r]) * params.k + p];
}
fn loadB(p: u32, col: u32) -> f32 {
  if (p >= params.k || col >= params.n) { outOfRange[1] = 1.0; }
  return bm[p * params.n + col];
}
fn storeC(row: u32, col: u32, v: f32) {
  if (row >= params.m || col >= params.n) { outOfRange[2] = 1.0; }
  out[row * params.n + col] = 2.0 * v + 1.0;
}`;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...hooked),
        dim(150),
        dim(70),
        dim(150),
        profile,
        seed,
        async (variant, m, k, n, kind, s) => {
          const fullRows = m + 5;
          const full = values(fullRows * k, kind, s);
          const picked = Float32Array.from({ length: m }, (_, i) => (i * 7 + s) % fullRows);
          const b = values(k * n, kind, s + 1);
          using gFull = dev.tensor(full, [fullRows, k]);
          using gPicked = dev.tensor(picked, [m]);
          using gb = dev.tensor(b, [k, n]);
          using out = dev.tensor(new Float32Array(m * n), [m, n]);
          using flags = dev.tensor(new Float32Array(3), [3]);
          const params = { m, k, n, transposeA: false, transposeB: false };
          fc.pre(variant.supports(dev.runtime, params));
          variant.encodeHooked(dev.runtime, params, {
            wgsl,
            buffers: [gFull, gPicked, gb, out, flags].map((t) => (t as GpuTensor).array),
            key: "test/gather-rows/2x+1",
          });
          assert.deepEqual([...await flags.read()], [0, 0, 0], "loads and stores in range");
          const expected = new Float32Array(m * n);
          const scale = new Float64Array(m * n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let sum = 0, abs = 0;
              for (let p = 0; p < k; p++) {
                const product = full[picked[i] * k + p] * b[p * n + j];
                sum += product;
                abs += Math.abs(product);
              }
              expected[i * n + j] = 2 * sum + 1;
              scale[i * n + j] = abs;
            }
          }
          // 2·(a sum within γ(k)·Σ|ab|) + 1 rounded once; the reference rounded once.
          const bound = (i: number) =>
            2 * gamma(k) * scale[i] + 2 * U * (Math.abs(expected[i]) + 1) + k * MIN_NORMAL;
          assertWithin(await out.read(), expected, bound, `${variant.name} ${m}×${k}×${n}`);
        },
      ),
      runs(40),
    );
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

// Finite values only: with NaN or ±Inf in A, A·I meets NaN·0 and Inf·0 (NaN, as in NumPy).
gpuTest("matmul: A·I = A and I·A = A exactly", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(70), dim(70), ordinaryProfile, seed, async (m, k, kind, s) => {
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
