/**
 * The ops that move values without arithmetic — reshape, transpose, slice, concat,
 * broadcastTo, stopGradient, and expandDims, squeeze, stack, tile, reverse(x, axes), pad:
 * the shared properties (tests/_properties_layout.ts: bit for
 * bit, each value where an independent index computation puts it) on the test device and
 * a folded dispatch grid; the reference's values and refused arguments.
 */
import assert from "node:assert/strict";
import {
  concat,
  expandDims,
  jit,
  neg,
  pad,
  reshape,
  reverse,
  slice,
  squeeze,
  stack,
  type Tensor,
  tile,
  transpose,
} from "../mod.ts";
import { assertBitwise, values } from "./_numerics.ts";
import { assertProperty } from "./_properties.ts";
import {
  concatProperty,
  secondWaveLayoutProperty,
  shapeOpsProperty,
} from "./_properties_layout.ts";
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

gpuTest(
  secondWaveLayoutProperty.name,
  (dev) => assertProperty(secondWaveLayoutProperty, dev, runs(secondWaveLayoutProperty.numRuns)),
);

// The expected values are NumPy 2.4's (np.expand_dims, np.squeeze, np.stack, np.tile,
// np.flip, np.pad) for x = np.arange(1., 7).reshape(2, 3).
Deno.test("expandDims, squeeze, stack, tile, reverse, pad: NumPy's values and refused arguments", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using e = expandDims(x, -1);
  assert.deepEqual(e.shape, [2, 3, 1]);
  using e0 = expandDims(ref.tensor([5], []), 0);
  assert.deepEqual(e0.shape, [1]);
  using q = squeeze(ref.tensor([1, 2, 3], [1, 3, 1]), [0, -1]);
  assert.deepEqual(q.shape, [3]);
  using q1 = squeeze(ref.tensor([7], [1, 1]));
  assert.deepEqual(q1.shape, []);
  using st = stack([x, x], { axis: -1 });
  assert.deepEqual(st.shape, [2, 3, 2]);
  assert.deepEqual([...await st.read()], [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
  using t = tile(x, [2, 1, 2]);
  assert.deepEqual(t.shape, [2, 2, 6]);
  assert.deepEqual(
    [...await t.read()],
    [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6].concat(
      [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6],
    ),
  );
  using t1 = tile(x, 2);
  assert.deepEqual(t1.shape, [2, 6]);
  using r = reverse(x, [0]);
  assert.deepEqual([...await r.read()], [4, 5, 6, 1, 2, 3]);
  using r0 = reverse(x);
  assert.deepEqual([...await r0.read()], [6, 5, 4, 3, 2, 1]);
  using pc = pad(x, [[1, 0], [0, 2]], { value: 7 });
  assert.deepEqual([...await pc.read()], [7, 7, 7, 7, 7, 1, 2, 3, 7, 7, 4, 5, 6, 7, 7]);
  using pr = pad(x, [[1, 1], [2, 2]], { mode: "reflect" });
  assert.deepEqual(
    [...await pr.read()],
    [6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1],
  );
  using pe = pad(x, [[1, 2], [2, 1]], { mode: "edge" });
  assert.deepEqual(
    [...await pe.read()],
    [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6],
  );
  assert.throws(
    () => expandDims(x, 3),
    /expandDims: expected axis to be an integer in \[-3, 2\], got 3/,
  );
  assert.throws(
    () => squeeze(x, 1),
    /squeeze: expected axes of size 1, got axis 1 of size 3 in shape \[2, 3\]/,
  );
  assert.throws(
    () => stack([x, e]),
    /stack: expected tensors of one shape, got \[2, 3\] and \[2, 3, 1\] \(tensors\[1\]\)/,
  );
  assert.throws(
    () => stack([x], { axis: 3 }),
    /stack: expected axis to be an integer in \[-3, 2\], got 3/,
  );
  assert.throws(() => tile(x, [2, 0]), /tile: expected reps\[1\] to be an integer ≥ 1, got 0/);
  assert.throws(() => reverse(x, [1, -1]), /reverse: expected distinct axes/);
  assert.throws(
    () => pad(x, [[1, 1]]),
    /pad: expected widths to be 2 pairs \[before, after\] for shape \[2, 3\]/,
  );
  assert.throws(
    () => pad(x, [[0, 0], [3, 0]], { mode: "reflect" }),
    /pad: expected widths\[1\]\[0\] below the axis's size 3 in mode "reflect", got 3/,
  );
  assert.throws(
    () => pad(x, [[0, 0], [0, 0]], { mode: "wrap" as "edge" }),
    /pad: expected mode to be "constant", "reflect" or "edge"/,
  );
  assert.throws(
    () => pad(x, [[0, 0], [0, 0]], { mode: "edge", value: 1 }),
    /pad: expected no value in mode "edge"/,
  );
});

gpuTest(
  "jit: expandDims, squeeze, stack, tile, reverse(x, axes) and pad are read by their consumer's kernel",
  async (dev) => {
    // Each composition is views under one elementwise consumer: one fused kernel, bit for
    // bit the eager ops' result (a new fill value replays the program: it is a runtime word).
    const cases: [string, (t: Tensor, v: number) => Tensor][] = [
      ["expandDims, squeeze", (t) => neg(squeeze(expandDims(t, 0)))],
      ["stack, tile, reverse", (t) => neg(tile(stack([t, reverse(t, 1)], { axis: 1 }), [2, 1, 2]))],
      ["pad constant", (t, v) => neg(pad(t, [[1, 1], [2, 0]], { value: v }))],
      [
        "pad reflect, edge",
        (t) =>
          neg(
            pad(pad(t, [[2, 1], [1, 3]], { mode: "reflect" }), [[1, 0], [0, 2]], { mode: "edge" }),
          ),
      ],
    ];
    using x = dev.tensor(values(4 * 5, "special", 3), [4, 5]);
    for (const [name, f] of cases) {
      const compiled = jit(f, { kernels: "fused" });
      compiled(x, 1).dispose(); // compiles
      for (const v of [2.5, -0]) {
        const before = dev.stats().dispatches;
        using got = compiled(x, v);
        const dispatches = dev.stats().dispatches - before;
        using eager = f(x, v);
        assert.equal(dispatches, 1, `${name}: kernels`);
        assertBitwise(await got.read(), await eager.read(), `${name} (value ${v})`);
      }
      compiled.dispose();
    }
  },
);
