/**
 * add, sub, mul, scale and square on the GPU, and the second wave's exact and rounding
 * ops (mod, the comparisons and logical ops, floor, ceil, round, sign, isNaN, isFinite,
 * clip, leakyRelu, floorDiv, squaredDifference): the shared properties
 * (tests/_properties_elementwise.ts, tests/_properties_second_wave.ts) on the test device,
 * the binary ones on a folded dispatch grid too; the reference's known values and refused shapes; the bitwise comparison
 * scale and square are held to.
 */
import assert from "node:assert/strict";
import { add, scale, sub } from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import { ARITHMETIC_PROPERTIES, scaleSquareProperty } from "./_properties_elementwise.ts";
import {
  clipLeakyReluProperty,
  exactUnaryProperty,
  floorDivProperty,
  squaredDifferenceProperty,
} from "./_properties_second_wave.ts";
import { assertBitwiseOrFlushed, folded, gpuTest, ref, runs } from "./_harness.ts";

for (const property of ARITHMETIC_PROPERTIES) {
  gpuTest(property.name, async (dev) => {
    await assertProperty(property, dev, runs(property.numRuns));
    await assertProperty(property, folded!, runs(10));
  });
}

for (
  const property of [
    exactUnaryProperty,
    clipLeakyReluProperty,
    floorDivProperty,
    squaredDifferenceProperty,
  ] as OpProperty<unknown>[]
) {
  gpuTest(property.name, (dev) => assertProperty(property, dev, runs(property.numRuns)));
}

gpuTest(
  scaleSquareProperty.name,
  (dev) => assertProperty(scaleSquareProperty, dev, runs(scaleSquareProperty.numRuns)),
);

Deno.test("elementwise: references compute known values; bad shapes are refused", async () => {
  using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using row = ref.tensor([10, 20, 30]);
  using r = sub(a, row);
  assert.deepEqual([...await r.read()], [-9, -18, -27, -6, -15, -24]);
  using col = ref.tensor([1, 2], [2, 1]);
  using outer = add(a, col);
  assert.deepEqual([...await outer.read()], [2, 3, 4, 6, 7, 8]);
  using square2 = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => add(a, square2),
    /add: expected shapes that broadcast .* got \[2, 3\] and \[2, 2\]/,
  );
  assert.throws(() => scale(a, NaN), /scale: expected c to be a finite number, got NaN/);
});

Deno.test("assertBitwiseOrFlushed: each element exact or flushed, and as many elements", () => {
  const subnormal = 2 ** -140;
  const expected = Float32Array.of(1, subnormal), flushed = Float32Array.of(1, 0);
  assertBitwiseOrFlushed(Float32Array.of(1, subnormal), expected, flushed, "exact");
  assertBitwiseOrFlushed(Float32Array.of(1, 0), expected, flushed, "flushed");
  // A zero of either sign stands for a flushed subnormal (SwiftShader flushes −1e-40 to +0);
  // any other value is refused.
  assertBitwiseOrFlushed(Float32Array.of(1, -0), expected, flushed, "either zero");
  assert.throws(
    () => assertBitwiseOrFlushed(Float32Array.of(1, 0.5), expected, flushed, "wrong"),
    /wrong: element 1 is 0.5, expected exactly/,
  );
  // Lengths are compared first: a longer result's extra elements were never looked at.
  assert.throws(
    () => assertBitwiseOrFlushed(Float32Array.of(1), expected, flushed, "short"),
    /short: expected 2 values \(and as many flushed\), got 1/,
  );
  assert.throws(
    () => assertBitwiseOrFlushed(Float32Array.of(1, 0, 5), expected, flushed, "long"),
    /long: expected 2 values/,
  );
});
