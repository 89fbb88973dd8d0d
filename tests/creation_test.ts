/**
 * zeros, ones and full on both backends: every element the value rounded to float32,
 * the shape as given (scalars and shapes past one dispatch included), and bad shapes or
 * values refused with the method's name.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import type { Backend } from "../mod.ts";
import { assertBitwise, dim, folded, gpuTest, ref, runs } from "./_harness.ts";

async function checkCreation(backend: Backend, shape: number[], value: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  for (
    const [made, expected] of [
      [backend.zeros(shape), 0],
      [backend.ones(shape), 1],
      [backend.full(shape, value), Math.fround(value)],
    ] as const
  ) {
    assert.deepEqual(made.shape, shape);
    assert.equal(made.backend, backend);
    assertBitwise(
      await made.read(),
      new Float32Array(n).fill(expected),
      `[${shape}] of ${expected}`,
    );
    made.dispose();
  }
}

const shapes = fc.array(dim(300), { maxLength: 3 }).filter((s) =>
  s.reduce((a, b) => a * b, 1) <= 200_000
);
const fills = fc.oneof(
  fc.constantFrom(0, -0, 0.1, -2.5, 3e38),
  fc.double({ min: -1e30, max: 1e30, noNaN: true }),
);

Deno.test("zeros, ones, full on the reference", async () => {
  await fc.assert(fc.asyncProperty(shapes, fills, (s, v) => checkCreation(ref, s, v)), runs(30));
});

gpuTest("zeros, ones, full on the GPU", async (dev) => {
  for (const backend of [dev, folded!]) {
    await fc.assert(
      fc.asyncProperty(shapes, fills, (s, v) => checkCreation(backend, s, v)),
      runs(20),
    );
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
