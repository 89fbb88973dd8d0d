/**
 * takeRows, pad2d and reverse: the shared property (tests/_properties_layout.ts) on the
 * test device and a folded dispatch grid; the reference's values and refused arguments.
 */
import assert from "node:assert/strict";
import { pad2d, takeRows } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { matrixLayoutProperty } from "./_properties_layout.ts";
import { folded, gpuTest, ref, runs } from "./_harness.ts";

gpuTest(matrixLayoutProperty.name, async (dev) => {
  for (const backend of [dev, folded!]) {
    const numRuns = backend === dev ? matrixLayoutProperty.numRuns : 10;
    await assertProperty(matrixLayoutProperty, backend, runs(numRuns));
  }
});

Deno.test("layout ops: reference values and bad arguments", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  using rows = takeRows(x, [2, 2, 0]);
  assert.deepEqual([...await rows.read()], [5, 6, 5, 6, 1, 2]);
  using padded = pad2d(ref.tensor([7], [1, 1]), 1, 1);
  assert.deepEqual([...await padded.read()], [0, 0, 0, 0, 7, 0, 0, 0, 0]);
  assert.throws(
    () => takeRows(x, [3]),
    /takeRows: expected row indices in \[0, 3\), got 3 at position 0/,
  );
  assert.throws(() => takeRows(x, []), /takeRows: expected a non-empty array of row indices/);
  assert.throws(() => pad2d(x, -1, 0), /pad2d: expected ph to be an integer ≥ 0, got -1/);
});
