/**
 * The reductions: the shared properties (tests/_properties_reduce.ts) on the test device
 * and a folded dispatch grid, and known values and refused arguments on the reference.
 */
import assert from "node:assert/strict";
import { argmax, broadcastTo, max, mean, sum, sumToShape } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { axesProperty, broadcastSumProperty, sumMeanProperty } from "./_properties_reduce.ts";
import { folded, gpuTest, ref, runs } from "./_harness.ts";

gpuTest(sumMeanProperty.name, async (dev) => {
  await assertProperty(sumMeanProperty, dev, runs(sumMeanProperty.numRuns));
  await assertProperty(sumMeanProperty, folded!, runs(15));
});

gpuTest(
  broadcastSumProperty.name,
  (dev) => assertProperty(broadcastSumProperty, dev, runs(broadcastSumProperty.numRuns)),
);

Deno.test("broadcast ops: reference values and refused shapes", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  using total = sumToShape(x, [1]);
  assert.deepEqual([...await total.read()], [21]);
  assert.throws(
    () => broadcastTo(x, [2, 3]),
    /broadcastTo: expected a shape that \[3, 2\] broadcasts to, got \[2, 3\]/,
  );
  assert.throws(
    () => sumToShape(x, [3]),
    /sumToShape: expected a shape that broadcasts to \[3, 2\], got \[3\]/,
  );
});

gpuTest(axesProperty.name, async (dev) => {
  await assertProperty(axesProperty, dev, runs(axesProperty.numRuns));
  // A row longer than 32 takes a workgroup per output, and the folded grid holds 7³ = 343
  // workgroups (a real device's holds 65,535³): on it, the cases with at most that many
  // outputs (a longer row, split in chunks, has few outputs). The device above runs all.
  const capacity = folded!.runtime.maxWorkgroupsPerDimension ** 3;
  const fitting = axesProperty.cases.filter(({ shape, axes }) =>
    shape.reduce((n, d, axis) => (axes.includes(axis) ? n : n * d), 1) <= capacity
  );
  await assertProperty({ ...axesProperty, cases: fitting }, folded!, runs(15));
});

Deno.test("reductions over axes: known values and refused axes", async () => {
  using x = ref.tensor([1, 5, 3, 9, 4, 9], [2, 3]);
  using rows = sum(x, { axis: -1, keepDims: true });
  assert.deepEqual([rows.shape, [...await rows.read()]], [[2, 1], [9, 22]]);
  using cols = max(x, { axis: [0] });
  assert.deepEqual([...await cols.read()], [9, 5, 9]);
  using first = argmax(x, { axis: 1 });
  assert.deepEqual([...await first.read()], [1, 0]);
  assert.throws(() => sum(x, { axis: 2 }), /sum: expected axes to be integers in \[-2, 2\)/);
  assert.throws(() => sum(x, { axis: [0, -2] }), /sum: expected distinct axes, got \[0, -2\]/);
  assert.throws(() => mean(x, { keepDims: 1 } as never), /mean: expected keepDims to be a boolean/);
  assert.throws(() => argmax(x, {} as never), /argmax: expected axis to be an integer, got none/);
  assert.throws(() => max(x, { axes: 0 } as never), /max: expected options among axis, keepDims/);
});
