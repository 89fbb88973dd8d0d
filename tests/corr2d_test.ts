import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, corr2d } from "../mod.ts";
import {
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

/** An image and a kernel no larger than it, kernels past the 16×16 block included. */
const sizes = fc.tuple(dim(90), dim(90)).chain(([h, w]) =>
  fc.record({
    h: fc.constant(h),
    w: fc.constant(w),
    kh: fc.oneof(
      fc.constant(1),
      fc.integer({ min: 1, max: Math.min(h, 5) }),
      fc.integer({ min: 1, max: h }),
    ),
    kw: fc.oneof(
      fc.constant(2),
      fc.integer({ min: 1, max: Math.min(w, 5) }),
      fc.integer({ min: 1, max: w }),
    ),
    profile,
    seed,
  })
).filter((c) => c.kw <= c.w);

type Case = typeof sizes extends fc.Arbitrary<infer T> ? T : never;

async function checkAgainstReference(backend: Backend, c: Case) {
  const x = values(c.h * c.w, c.profile, c.seed);
  const k = values(c.kh * c.kw, c.profile, c.seed + 1);
  using gx = backend.tensor(x, [c.h, c.w]);
  using gk = backend.tensor(k, [c.kh, c.kw]);
  using out = corr2d(gx, gk);
  const oh = c.h - c.kh + 1, ow = c.w - c.kw + 1;
  assert.deepEqual(out.shape, [oh, ow]);
  using expected = corr2d(ref.tensor(x, [c.h, c.w]), ref.tensor(k, [c.kh, c.kw]));
  const terms = c.kh * c.kw;
  const bound = (idx: number) => {
    const y = Math.floor(idx / ow), xo = idx % ow;
    let scale = 0;
    for (let i = 0; i < c.kh; i++) {
      for (let j = 0; j < c.kw; j++) scale += Math.abs(x[(y + i) * c.w + xo + j] * k[i * c.kw + j]);
    }
    return (gamma(terms) + U) * scale + terms * MIN_NORMAL;
  };
  assertWithin(await out.read(), await expected.read(), bound, `corr2d ${JSON.stringify(c)}`);
}

gpuTest("corr2d: GPU agrees with the reference within γ(kh·kw)·Σ|x·k|", async (dev) => {
  await fc.assert(fc.asyncProperty(sizes, (c) => checkAgainstReference(dev, c)), runs(100));
});

gpuTest("corr2d: folded dispatch agrees with the reference", async () => {
  await fc.assert(fc.asyncProperty(sizes, (c) => checkAgainstReference(folded!, c)), runs(25));
});

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
