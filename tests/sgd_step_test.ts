import fc from "fast-check";
import assert from "node:assert/strict";
import { sgdStep } from "../mod.ts";
import { assertProperty, sgdScalars, sgdStepProperty } from "./_properties.ts";
import {
  assertEqualValues,
  dim,
  folded,
  gpuTest,
  ordinaryProfile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

gpuTest(
  sgdStepProperty.name,
  (dev) => assertProperty(sgdStepProperty, dev, runs(sgdStepProperty.numRuns)),
);

gpuTest(
  "sgdStep: folded dispatch agrees with the reference",
  () => assertProperty(sgdStepProperty, folded!, runs(25)),
);

gpuTest(
  "sgdStep: 16,777,221 elements, a large length that is no multiple of a block",
  async (dev) => {
    await sgdStepProperty.check(dev, {
      n: 65536 * 256 + 5,
      profile: "unit",
      seed: 3,
      lr: 0.1,
      weightDecay: 2,
      batchSize: 5,
    });
  },
);

// Finite values only: 0·Inf in the step is NaN, as in NumPy.
gpuTest("sgdStep: lr = 0 is the identity", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(3000), ordinaryProfile, seed, sgdScalars, async (n, kind, s, o) => {
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
