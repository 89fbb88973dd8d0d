/**
 * gather and scatterAdd: the shared properties (tests/_properties_indexing.ts) on the
 * test device and a folded dispatch grid; NumPy's values for fixed cases; refused
 * arguments; and under `jit`, an embedding lookup folded into the matmul that reads it.
 */
import assert from "node:assert/strict";
import {
  arange,
  type Backend,
  gather,
  jit,
  matmul,
  oneHot,
  relu,
  scatterAdd,
  takeAlongAxis,
  type Tensor,
} from "../mod.ts";
import { assertProperty, type OpProperty } from "./_properties.ts";
import {
  arangeProperty,
  gatherProperty,
  oneHotProperty,
  scatterAddProperty,
  takeAlongAxisProperty,
} from "./_properties_indexing.ts";
import { assertBitwise, folded, gpuTest, ref, runs, values } from "./_harness.ts";

// The folded grid (7 workgroups per dimension) checks the gathers' copy kernels.
for (
  const property of [
    gatherProperty,
    takeAlongAxisProperty,
    oneHotProperty,
    arangeProperty,
  ] as OpProperty<unknown>[]
) {
  gpuTest(property.name, async (dev) => {
    for (const backend of [dev, folded!]) {
      await assertProperty(property, backend, runs(backend === dev ? property.numRuns : 10));
    }
  });
}
gpuTest(
  scatterAddProperty.name,
  (dev) => assertProperty(scatterAddProperty, dev, runs(scatterAddProperty.numRuns)),
);

Deno.test("gather, takeAlongAxis, scatterAdd, oneHot, arange: NumPy's and PyTorch's values, bad arguments", async () => {
  using x = ref.tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
  using idx = ref.tensor([2, -1, 0, 1], [2, 2]);
  // np.take(np.arange(24).reshape(2, 3, 4), [[2, -1], [0, 1]], axis=1)[1, 0] → [20…23, 20…23]
  using taken = gather(x, idx, { axis: 1 });
  assert.deepEqual(taken.shape, [2, 2, 2, 4]);
  assert.deepEqual([...(await taken.read()).slice(16, 24)], [20, 21, 22, 23, 20, 21, 22, 23]);
  using scalarIndex = gather(x, ref.tensor([-1], []), { axis: -1 });
  assert.deepEqual(scalarIndex.shape, [2, 3]);
  assert.deepEqual([...await scalarIndex.read()], [3, 7, 11, 15, 19, 23]);
  // y = np.zeros(4); np.add.at(y, [3, 0, 3, -1], [1, 2, 4, 8]) → [2, 0, 0, 13]
  using z = ref.tensor([0, 0, 0, 0]);
  using added = scatterAdd(z, [3, 0, 3, -1], ref.tensor([1, 2, 4, 8]));
  assert.deepEqual([...await added.read()], [2, 0, 0, 13]);
  // Special values: NaN and ±Inf accumulate as in np.add.at; an element nothing hits stays −0.
  using specials = scatterAdd(
    ref.tensor([-0, 1, 2, -0]),
    [1, 1, 2],
    ref.tensor([Infinity, -Infinity, NaN]),
  );
  const s = await specials.read();
  assert.ok(Object.is(s[0], -0) && Number.isNaN(s[1]) && Number.isNaN(s[2]) && Object.is(s[3], -0));

  assert.throws(() => gather(x, [3], { axis: 1 }), /gather: expected indices in \[-3, 3\), got 3/);
  assert.throws(() => gather(x, [0.5]), /gather: expected indices in \[-2, 2\), got 0.5/);
  assert.throws(() => gather(x, ref.tensor([0, 2]), { axis: 0 }).read(), /gather: .* got 2/);
  assert.throws(() => gather(x, [], { axis: 0 }), TypeError);
  assert.throws(
    () => gather(x, [0], { axis: 3 }),
    /gather: expected axis to be an integer in \[-3, 2\]/,
  );
  assert.throws(() => gather(x, [0], { axes: 1 } as never), /unknown option "axes"/);
  assert.throws(
    () => gather(ref.tensor([1], []), [0]),
    /gather: expected x to have at least one dimension/,
  );
  // np.take_along_axis(np.array([[10, 30, 20], [60, 50, 40]]), [[1], [0]], axis=-1) → [[30], [60]]
  using pairs = ref.tensor([10, 30, 20, 60, 50, 40], [2, 3]);
  using along = takeAlongAxis(pairs, ref.tensor([1, 0], [2, 1]));
  assert.deepEqual([...await along.read()], [30, 60]);
  assert.throws(
    () => takeAlongAxis(pairs, ref.tensor([0, 1])),
    /takeAlongAxis: expected indices of x's rank 2, got shape \[2\]/,
  );
  assert.throws(
    () => takeAlongAxis(pairs, ref.tensor([0, 1, 0, 1, 0, 1], [3, 2]), { axis: 1 }),
    /takeAlongAxis: expected indices that broadcast with x \[2, 3\] outside axis 1, got shape \[3, 2\]/,
  );
  assert.throws(
    () => takeAlongAxis(pairs, ref.tensor([3, 0], [2, 1])).read(),
    /takeAlongAxis: expected indices in \[-3, 3\), got 3/,
  );
  // torch.nn.functional.one_hot(torch.tensor([[2], [0]]), 3) → [[[0, 0, 1]], [[1, 0, 0]]]
  using hot = oneHot(ref.tensor([2, 0], [2, 1]), 3);
  assert.deepEqual(hot.shape, [2, 1, 3]);
  assert.deepEqual([...await hot.read()], [0, 0, 1, 1, 0, 0]);
  assert.throws(
    () => oneHot(ref.tensor([-1]), 3).read(),
    /oneHot: expected indices in \[0, 3\), got -1/,
  );
  assert.throws(
    () => oneHot(ref.tensor([0]), 0),
    /oneHot: expected depth to be an integer in \[1, 16777216\], got 0/,
  );
  assert.throws(() => oneHot([0] as never, 2), /oneHot: expected indices to be a tensor/);
  // np.arange(5, 0, -2) → [5, 3, 1]; np.arange(2) → [0, 1]; np.arange(1, 1) is empty: refused.
  using down = arange(ref, 5, 0, -2);
  assert.deepEqual([...await down.read()], [5, 3, 1]);
  assert.throws(() => arange(ref, 1, 1), /arange: expected at least one value from 1 to 1 by 1/);
  assert.throws(() => arange(ref, 0, 1, 0), /arange: expected a step other than 0/);
  assert.throws(() => arange(ref, NaN), /arange: expected start to be a finite number/);
  assert.throws(() => arange(ref, 0, 2 ** 40), /arange: expected a tensor of at most/);
  assert.throws(
    () => scatterAdd(x, [0], ref.tensor([1, 2])),
    /scatterAdd: expected updates of shape \[1, 3, 4\]/,
  );
  assert.throws(
    () => scatterAdd(z, [4], ref.tensor([1])),
    /scatterAdd: expected indices in \[-4, 4\)/,
  );
});

gpuTest(
  "gather under jit: an embedding lookup folds into the matmul that reads it",
  async (dev) => {
    // relu(table[ids] · w): the gather is read by the matmul's operand loads, relu is its
    // epilogue: as many kernels as relu(rows · w) on stored rows, one as a program kernel.
    const lookup = (table: Tensor, ids: Tensor, w: Tensor) => relu(matmul(gather(table, ids), w));
    const stored = (rows: Tensor, w: Tensor) => relu(matmul(rows, w));
    const ids = [3, 49, 0, 3, 17, -2];
    // int32 ids, as indices are (float32 ones would add their conversion's kernel).
    const make = (b: Backend) => [
      b.tensor(values(50 * 8, "integers", 1), [50, 8]),
      b.tensor(Int32Array.from(ids)),
      b.tensor(values(8 * 5, "integers", 2), [8, 5]),
    ];
    const [table, index, w] = make(dev);
    const rows = gather(table, index);
    const count = (
      f: (...args: Tensor[]) => Tensor,
      args: Tensor[],
      kernels: "fused" | "program",
    ) => {
      const compiled = jit(f, { kernels });
      compiled(...args).dispose();
      const before = dev.stats().dispatches;
      const out = compiled(...args);
      const dispatches = dev.stats().dispatches - before;
      compiled.dispose();
      return { out, dispatches };
    };
    const inputs = make(ref);
    using want = lookup(inputs[0], inputs[1], inputs[2]);
    for (const kernels of ["fused", "program"] as const) {
      const folded = count(lookup, [table, index, w], kernels);
      const plain = count(stored, [rows, w], kernels);
      assert.equal(folded.dispatches, plain.dispatches, `${kernels}: the gather adds no kernel`);
      if (kernels === "program") assert.equal(folded.dispatches, 1);
      assertBitwise(await folded.out.read(), await want.read(), `${kernels}: integers, exact`);
      folded.out.dispose();
      plain.out.dispose();
    }
    // Along axis 1 with 2-D indices, feeding an elementwise op: one kernel.
    const columns = (x: Tensor, i: Tensor) => relu(gather(x, i, { axis: 1 }));
    const pairs = dev.tensor([1, 0, 4, -1], [2, 2]);
    const fused = count(columns, [w, pairs], "fused");
    assert.equal(fused.dispatches, 1);
    using eager = columns(w, pairs);
    assertBitwise(await fused.out.read(), await eager.read(), "jitted gather along axis 1");
    fused.out.dispose();
    [table, index, w, rows, pairs, ...inputs].forEach((t) => t.dispose());
  },
);
