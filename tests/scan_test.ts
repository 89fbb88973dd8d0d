/**
 * The scans: the shared properties (tests/_properties_scan.ts) on the test device and a
 * folded dispatch grid; a line of six levels of chunks against float64; bit-identical
 * results run to run; under `jit`; known values (NumPy's, TensorFlow's for exclusive and
 * reverse) and refused arguments on the reference.
 */
import assert from "node:assert/strict";
import { cumprod, cumsum, jit, scale, type Tensor } from "../mod.ts";
import { scanRoundings } from "../kernels/scan.ts";
import { assertProperty } from "./_properties.ts";
import { cumprodProperty, cumsumProperty } from "./_properties_scan.ts";
import {
  assertBitwise,
  assertWithin,
  folded,
  gamma,
  gpuTest,
  ref,
  runs,
  values,
} from "./_harness.ts";

for (const property of [cumsumProperty, cumprodProperty]) {
  gpuTest(property.name, async (dev) => {
    await assertProperty(property, dev, runs(property.numRuns));
    // The folded grid holds 7³ = 343 workgroups of 64 threads, a thread a chunk of 16.
    const fitting = property.cases.filter(({ shape, axis }) =>
      shape.reduce((n, d) => n * d, 1) / shape[axis] * Math.ceil(shape[axis] / 16) <= 343 * 64
    );
    await assertProperty({ ...property, cases: fitting }, folded!, runs(10));
  });
}

gpuTest("cumsum of a line of 1.2·10⁶ values (six levels of chunks), run twice", async (dev) => {
  const n = 1_200_000;
  const x = values(n, "unit", 7);
  using gx = dev.tensor(x);
  using first = cumsum(gx, { axis: 0, reverse: true });
  using second = cumsum(gx, { axis: 0, reverse: true });
  const got = await first.read();
  // The library promises bit-identical results run to run: no atomics, a fixed order.
  assertBitwise(await second.read(), got, "cumsum run twice");
  const sums = new Float64Array(n), scale = new Float64Array(n);
  let s = 0, a = 0;
  for (let i = n - 1; i >= 0; i--) {
    s += x[i];
    a += Math.abs(x[i]);
    [sums[i], scale[i]] = [s, a];
  }
  // Six levels of chunks of 16 (75,000, 4,688, 293, 19 and 2 totals): 16 + 5 · 31.
  assert.equal(scanRoundings(n), 171);
  assertWithin(got, sums, (i) => gamma(scanRoundings(n)) * scale[i], "cumsum of 1.2·10⁶");
});

gpuTest(
  "jit: a scan between elementwise ops gives the eager and the reference values",
  async (dev) => {
    const f = (x: Tensor) => scale(cumsum(scale(x, 2), { axis: -1, exclusive: true }), 0.5);
    const compiled = jit(f);
    using x = dev.tensor(values(3 * 2000, "integers", 3), [3, 2000]);
    using got = compiled(x);
    using eager = f(x);
    // Whole numbers below 2²⁴: every sum is exact, in any order.
    assertBitwise(await got.read(), await eager.read(), "cumsum under jit");
    using expected = f(ref.tensor(values(3 * 2000, "integers", 3), [3, 2000]));
    assertBitwise(await got.read(), await expected.read(), "cumsum under jit vs the reference");
    compiled.dispose();
  },
);

Deno.test("cumsum, cumprod: known values and refused arguments", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const read = async (t: Tensor) => {
    using owned = t;
    return [...await owned.read()];
  };
  // numpy.cumsum(x, axis=0), axis=1; TensorFlow's exclusive and reverse.
  assert.deepEqual(await read(cumsum(x, { axis: 0 })), [1, 2, 3, 5, 7, 9]);
  assert.deepEqual(await read(cumsum(x, { axis: -1 })), [1, 3, 6, 4, 9, 15]);
  assert.deepEqual(await read(cumsum(x, { axis: 1, exclusive: true })), [0, 1, 3, 0, 4, 9]);
  assert.deepEqual(await read(cumsum(x, { axis: 1, reverse: true })), [6, 5, 3, 15, 11, 6]);
  assert.deepEqual(
    await read(cumsum(x, { axis: 1, exclusive: true, reverse: true })),
    [5, 3, 0, 11, 6, 0],
  );
  assert.deepEqual(await read(cumprod(x, { axis: 1 })), [1, 2, 6, 4, 20, 120]);
  assert.deepEqual(await read(cumprod(x, { axis: 0, exclusive: true })), [1, 1, 1, 1, 2, 3]);
  using special = ref.tensor([-0, -0, NaN, 1, Infinity, -Infinity]);
  assert.deepEqual(await read(cumsum(special, { axis: 0 })), [-0, -0, NaN, NaN, NaN, NaN]);
  assert.throws(() => cumsum(x, {} as never), /cumsum: expected axis to be an integer, got none/);
  assert.throws(() => cumsum(x, { axis: 2 }), /cumsum: expected axes to be integers in \[-2, 2\)/);
  assert.throws(
    () => cumprod(x, { axis: 0, exclusive: 1 } as never),
    /cumprod: expected exclusive to be a boolean, got number/,
  );
  assert.throws(
    () => cumprod(x, { axis: 0, backwards: true } as never),
    /cumprod: expected options among axis, exclusive, reverse/,
  );
  assert.throws(() => cumsum(ref.tensor([1], []), { axis: 0 }), /cumsum: expected axes/);
});
