/**
 * zeros, ones and full on both backends: the shared property (tests/_properties_creation.ts:
 * every element the value rounded to float32, the shape as given) on the reference, the
 * test device and a folded dispatch grid; bad shapes or values refused with the method's
 * name.
 */
import assert from "node:assert/strict";
import { assertProperty } from "./_properties.ts";
import { creationProperty } from "./_properties_creation.ts";
import { folded, gpuTest, ref, runs } from "./_harness.ts";

Deno.test("zeros, ones, full on the reference", () =>
  assertProperty(creationProperty, ref, runs(30)));

gpuTest("zeros, ones, full on the GPU", async (dev) => {
  for (const backend of [dev, folded!]) {
    await assertProperty(creationProperty, backend, runs(creationProperty.numRuns));
  }
});

Deno.test("zeros, ones, full: bad shapes and values name the method", () => {
  assert.throws(
    () => ref.zeros([2, 0]),
    /zeros: expected shape as an array of integers ≥ 1, got \[2, 0\]/,
  );
  assert.throws(
    () => ref.ones(3 as never),
    /ones: expected shape as an array of integers ≥ 1, got number 3/,
  );
  assert.throws(() => ref.full([2], NaN), /full: expected value to be a finite number, got NaN/);
  assert.throws(
    () => ref.full([2], "1" as never),
    /full: expected value to be a number, got string "1"/,
  );
  assert.throws(() => ref.zeros([2 ** 15, 2 ** 14]), /zeros: .*at most 268435456/);
});
