import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, sgdStep } from "../mod.ts";
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

const scalars = fc.record({
  lr: fc.oneof(fc.constant(0.005), fc.double({ min: -2, max: 2, noNaN: true })),
  weightDecay: fc.oneof(fc.constantFrom(0, 15, -2), fc.double({ min: -20, max: 20, noNaN: true })),
  batchSize: fc.integer({ min: 1, max: 1000 }),
});

async function checkAgainstReference(
  backend: Backend,
  n: number,
  kind: Parameters<typeof values>[1],
  s: number,
  o: { lr: number; weightDecay: number; batchSize: number },
) {
  const p = values(n, kind, s), g = values(n, kind, s + 1);
  using gp = backend.tensor(p);
  using gg = backend.tensor(g);
  using out = sgdStep(gp, gg, o);
  using expected = sgdStep(ref.tensor(p), ref.tensor(g), o);
  // Six float32 roundings (three scalars, two products, the sum, the difference) on
  // terms no larger than these; the reference rounds once.
  const bound = (i: number) =>
    gamma(6) *
      (Math.abs(p[i]) +
        Math.abs(o.lr) * (Math.abs(g[i]) / o.batchSize + Math.abs(o.weightDecay * p[i]))) +
    U * Math.abs(p[i]) + 4 * MIN_NORMAL;
  assertWithin(
    await out.read(),
    await expected.read(),
    bound,
    `sgdStep n=${n} ${JSON.stringify(o)}`,
  );
}

gpuTest("sgdStep: GPU agrees with the reference within six roundings", async (dev) => {
  await fc.assert(
    fc.asyncProperty(
      dim(5000),
      profile,
      seed,
      scalars,
      (n, kind, s, o) => checkAgainstReference(dev, n, kind, s, o),
    ),
    runs(100),
  );
});

gpuTest("sgdStep: folded dispatch agrees with the reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      dim(5000),
      profile,
      seed,
      scalars,
      (n, kind, s, o) => checkAgainstReference(folded!, n, kind, s, o),
    ),
    runs(25),
  );
});

gpuTest(
  "sgdStep: 16,777,221 elements, a large length that is no multiple of a block",
  async (dev) => {
    await checkAgainstReference(dev, 65536 * 256 + 5, "unit", 3, {
      lr: 0.1,
      weightDecay: 2,
      batchSize: 5,
    });
  },
);

gpuTest("sgdStep: lr = 0 is the identity", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(3000), profile, seed, scalars, async (n, kind, s, o) => {
      const p = values(n, kind, s);
      using gp = dev.tensor(p);
      using gg = dev.tensor(values(n, kind, s + 1));
      using out = sgdStep(gp, gg, { ...o, lr: 0 });
      assertEqualValues(await out.read(), p, "sgdStep with lr = 0");
    }),
    runs(30),
  );
});

Deno.test("sgdStep: reference applies the study's update", async () => {
  using out = sgdStep(ref.tensor([1, -2]), ref.tensor([4, 4]), {
    lr: 0.5,
    batchSize: 2,
    weightDecay: 1,
  });
  // 1 − 0.5·(2 + 1) = −0.5; −2 − 0.5·(2 − 2) = −2
  assert.deepEqual([...await out.read()], [-0.5, -2]);
});
