/**
 * The sorts: the shared properties (tests/_properties_sort.ts) on the test device and a
 * folded dispatch grid; 2²⁰ values (radix chunks over many workgroups) against the
 * reference, bit-identical run to run; under `jit`; gradients that do not flow through
 * indices; known values (NumPy's, JAX's for descending and top_k) and refused arguments.
 */
import assert from "node:assert/strict";
import { argsort, grad, jit, mul, scale, sort, sum, type Tensor, topK } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { sortProperty, topKProperty } from "./_properties_sort.ts";
import { assertBitwise, folded, gpuTest, ref, runs, values } from "./_harness.ts";

for (const property of [sortProperty, topKProperty]) {
  gpuTest(property.name, async (dev) => {
    await assertProperty(property, dev, runs(property.numRuns));
    await assertProperty(property, folded!, runs(5));
  });
}

gpuTest("sort, argsort of 2²⁰ values: the reference's bits, run twice", async (dev) => {
  const n = 2 ** 20;
  // Whole numbers in [−2¹⁶, 2¹⁶): many ties, so stability decides the indices.
  const x = values(n, "unit", 11).map((v) => Math.floor(v * 2 ** 16));
  x[5] = NaN;
  x[n - 3] = -0;
  using gx = dev.tensor(x);
  using rx = ref.tensor(x);
  for (const descending of [false, true]) {
    using first = argsort(gx, { descending });
    using second = argsort(gx, { descending });
    using expected = argsort(rx, { descending });
    const got = await first.read();
    assertBitwise(await second.read(), got, "argsort run twice");
    assertBitwise(got, await expected.read(), `argsort of 2^20, descending ${descending}`);
    using sorted = sort(gx, { descending });
    using expectedValues = sort(rx, { descending });
    assertBitwise(await sorted.read(), await expectedValues.read(), "sort of 2^20");
  }
});

gpuTest("jit: a sort between elementwise ops gives the eager values", async (dev) => {
  const f = (x: Tensor) => scale(sort(scale(x, 2), { axis: 0, descending: true }), 0.5);
  const compiled = jit(f);
  const x = values(300 * 3, "special", 5);
  using gx = dev.tensor(x, [300, 3]);
  using got = compiled(gx);
  using eager = f(gx);
  assertBitwise(await got.read(), await eager.read(), "sort under jit");
  using expected = f(ref.tensor(x, [300, 3]));
  assertBitwise(await got.read(), await expected.read(), "sort under jit vs the reference");
  compiled.dispose();
});

Deno.test("sort, topK: the gradient goes back to each value's position; argsort's is none", async () => {
  using x = ref.tensor([3, 1, 2, 5, 4, 0], [2, 3]);
  using weights = ref.tensor([10, 20, 30, 40, 50, 60], [2, 3]);
  const read = async (ts: Tensor[]) => {
    using owned = ts[0];
    return [...await owned.read()];
  };
  // d/dx Σ w·sort(x): w at the place each value went to.
  assert.deepEqual(await read(grad((v) => sum(mul(sort(v), weights)))(x)), [
    30,
    10,
    20,
    60,
    50,
    40,
  ]);
  // topK(x, 2).values: [3, 2], [5, 4]; the rest gets 0.
  using w2 = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.deepEqual(await read(grad((v) => sum(mul(topK(v, 2).values, w2)))(x)), [1, 0, 2, 3, 4, 0]);
  // x · argsort(x): the indices are constants (JAX's are integers), so the gradient is them.
  assert.deepEqual(await read(grad((v) => sum(mul(v, argsort(v))))(x)), [1, 2, 0, 2, 1, 0]);
});

Deno.test("sort, argsort, topK: known values and refused arguments", async () => {
  const read = async (t: Tensor) => {
    using owned = t;
    return [...await owned.read()];
  };
  using x = ref.tensor([3, NaN, -1, 2, -0, 3, -Infinity, Infinity, 0, 1], [2, 5]);
  // numpy.sort(x), numpy.argsort(x, kind="stable"), and along axis 0.
  assert.deepEqual(await read(sort(x)), [-1, -0, 2, 3, NaN, -Infinity, 0, 1, 3, Infinity]);
  assert.deepEqual(await read(argsort(x)), [2, 4, 3, 0, 1, 1, 3, 4, 0, 2]);
  assert.deepEqual(await read(argsort(x, { axis: 0 })), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  // −0 and +0 are equal for order, so a stable sort keeps them as they came.
  using zeros = ref.tensor([0, -0, 1, -0, 0]);
  assert.deepEqual((await read(sort(zeros))).map((v) => Object.is(v, -0)), [
    false,
    true,
    true,
    false,
    false,
  ]);
  // jnp.argsort(x, descending=True) (stable) and jax.lax.top_k: NaN first, ties in order.
  assert.deepEqual(await read(argsort(x, { descending: true })), [1, 0, 3, 4, 2, 2, 0, 4, 3, 1]);
  const top = topK(x, 3);
  assert.deepEqual(await read(top.values), [NaN, 3, 2, Infinity, 3, 1]);
  assert.deepEqual(await read(top.indices), [1, 0, 3, 2, 0, 4]);
  assert.throws(() => sort(x, { axis: 2 }), /sort: expected axes to be integers in \[-2, 2\)/);
  assert.throws(
    () => argsort(x, { descending: 1 } as never),
    /argsort: expected descending to be a boolean, got number 1/,
  );
  assert.throws(
    () => sort(x, { kind: "stable" } as never),
    /sort: expected options among axis, descending/,
  );
  assert.throws(() => sort(ref.tensor([1], [])), /sort: expected axes to be integers in \[0, 0\)/);
  assert.throws(() => topK(x, 6), /topK: expected k to be an integer in \[1, 5\], got 6/);
  assert.throws(() => topK(x, 1.5), /topK: expected k to be an integer in \[1, 5\], got 1.5/);
  assert.throws(() => topK(x, "2" as never), /topK: expected k to be an integer, got/);
  // @ts-expect-error: a third argument is refused, not ignored.
  assert.throws(() => sort(x, {}, 1), /sort: expected at most 2 arguments, got 3/);
});
