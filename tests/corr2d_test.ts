import fc from "fast-check";
import assert from "node:assert/strict";
import { corr2d, gpu } from "../mod.ts";
import { CORR2D_VARIANTS, type Corr2dVariant, pinCorr2dVariant } from "../kernels/corr2d.ts";
import { assertProperty, corr2dProperty } from "./_properties.ts";
import {
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

gpuTest(
  corr2dProperty.name,
  (dev) => assertProperty(corr2dProperty, dev, runs(corr2dProperty.numRuns)),
);

gpuTest(
  "corr2d: folded dispatch agrees with the reference",
  () => assertProperty(corr2dProperty, folded!, runs(25)),
);

for (const variant of Object.keys(CORR2D_VARIANTS) as Corr2dVariant[]) {
  gpuTest(
    `corr2d: the ${variant} kernel agrees with the reference, plain and folded grids`,
    async (dev) => {
      // Pinned on the test device: each adapter runs only one of them otherwise.
      for (const maxWorkgroupsPerDimension of [undefined, 7]) {
        const backend = await gpu({ device: dev.device, maxWorkgroupsPerDimension });
        pinCorr2dVariant(backend.runtime, variant);
        await assertProperty(corr2dProperty, backend, runs(maxWorkgroupsPerDimension ? 10 : 30));
        backend.destroy();
      }
    },
  );
}

gpuTest("corr2d: more than 65,535 tiles of 128 columns (a 1 × 8,388,609 image)", async (dev) => {
  const w = 128 * 65536 + 1;
  const x = values(w, "unit", 9);
  using gx = dev.tensor(x, [1, w]);
  using gk = dev.tensor([1, -1], [1, 2]);
  using out = corr2d(gx, gk);
  const expected = Float32Array.from({ length: w - 1 }, (_, i) => x[i] - x[i + 1]);
  assertEqualValues(await out.read(), expected, "corr2d past the workgroup limit");
});

gpuTest("corr2d: a 1×1 kernel is a scaling, exactly", async (dev) => {
  await fc.assert(
    fc.asyncProperty(
      dim(100),
      dim(100),
      profile,
      seed,
      fc.double({ min: -4, max: 4, noNaN: true }),
      async (h, w, kind, s, c) => {
        const x = values(h * w, kind, s);
        using gx = dev.tensor(x, [h, w]);
        using gk = dev.tensor([c], [1, 1]);
        using out = corr2d(gx, gk);
        const k = Math.fround(c);
        assertEqualValues(await out.read(), x.map((v) => Math.fround(v * k)), "corr2d with [[c]]");
      },
    ),
    runs(30),
  );
});

Deno.test("corr2d: reference finds vertical and horizontal edges", async () => {
  // A 2×2 bright square in a 4×4 dark image.
  const image = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
  using x = ref.tensor(image, [4, 4]);
  using vertical = corr2d(x, ref.tensor([1, -1], [1, 2]));
  using horizontal = corr2d(x, ref.tensor([1, -1], [2, 1]));
  assert.deepEqual([...await vertical.read()], [0, 0, 0, -1, 0, 1, -1, 0, 1, 0, 0, 0]);
  assert.deepEqual([...await horizontal.read()], [0, -1, -1, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
});
