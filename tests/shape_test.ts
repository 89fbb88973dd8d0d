/**
 * The ops that move values without arithmetic — reshape, transpose, slice, concat,
 * broadcastTo, stopGradient: the shared properties (tests/_properties_layout.ts: bit for
 * bit, each value where an independent index computation puts it) on the test device and
 * a folded dispatch grid; the reference's values and refused arguments.
 */
import assert from "node:assert/strict";
import { concat, reshape, slice, transpose } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { concatProperty, shapeOpsProperty } from "./_properties_layout.ts";
import { folded, gpuTest, ref, runs } from "./_harness.ts";

gpuTest(shapeOpsProperty.name, async (dev) => {
  for (const backend of [dev, folded!]) {
    const numRuns = backend === dev ? shapeOpsProperty.numRuns : 15;
    await assertProperty(shapeOpsProperty, backend, runs(numRuns));
  }
});

gpuTest(
  concatProperty.name,
  (dev) => assertProperty(concatProperty, dev, runs(concatProperty.numRuns)),
);

Deno.test("shape ops: reference values and refused arguments", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using r = reshape(x, [3, -1]);
  assert.deepEqual(r.shape, [3, 2]);
  using t = transpose(x);
  assert.deepEqual([...await t.read()], [1, 4, 2, 5, 3, 6]);
  using s = slice(x, [1, 1], [-1, 2]);
  assert.deepEqual([...await s.read()], [5, 6]);
  using c = concat([x, x], { axis: -1 });
  assert.deepEqual([...await c.read()], [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  assert.throws(
    () => reshape(x, [4, -1]),
    /reshape: expected a shape of 6 elements for \[2, 3\], got \[4, -1\]/,
  );
  assert.throws(() => reshape(x, [-1, -1]), /reshape: expected at most one −1/);
  assert.throws(() => transpose(x, [0, 0]), /transpose: expected perm to be a permutation of 0…1/);
  assert.throws(
    () => slice(x, [0, 3], [1, 1]),
    /slice: expected begin\[1\] to be an integer in \[0, 2\], got 3/,
  );
  assert.throws(
    () => slice(x, [0, 1], [1, 3]),
    /slice: expected size\[1\] to be an integer in \[1, 2\], got 3/,
  );
  assert.throws(
    () => concat([x, t]),
    /concat: expected shapes that agree except along axis 0, got \[2, 3\] and \[3, 2\]/,
  );
  assert.throws(
    () => concat([x], { axis: 2 }),
    /concat: expected axis to be an integer in \[-2, 1\], got 2/,
  );
});
