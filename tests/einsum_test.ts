/**
 * @file `einsum`: the shared property (random specs against NumPy's definition) on the
 * test device; the specs against NumPy's own output; the errors; and a spec
 * under `jit` against the eager reference.
 */
import assert from "node:assert/strict";
import { einsum, jit, type Tensor } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { einsumProperty } from "./_properties_einsum.ts";
import { assertWithin, dot, gpuTest, ref, runs, values } from "./_harness.ts";

gpuTest(
  einsumProperty.name,
  (dev) => assertProperty(einsumProperty, dev, runs(einsumProperty.numRuns)),
);

Deno.test("einsum: the reference gives NumPy's np.einsum", async () => {
  // Each expected list printed by NumPy 2 for np.einsum(spec, *operands) on the same
  // arange values.
  const arange = (shape: number[]) =>
    ref.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i), shape);
  const cases: [string, number[][], number[], number[]][] = [
    ["bij,bjk->bik", [[2, 2, 3], [2, 3, 2]], [2, 2, 2], [10, 13, 28, 40, 172, 193, 244, 274]],
    ["ij->ji", [[2, 3]], [3, 2], [0, 3, 1, 4, 2, 5]],
    ["ii->i", [[3, 3]], [3], [0, 4, 8]],
    ["ii", [[3, 3]], [], [12]],
    ["ij->", [[2, 3]], [], [15]],
    ["i,j->ij", [[2], [3]], [2, 3], [0, 0, 0, 0, 1, 2]],
    ["iij->ji", [[2, 2, 2]], [2, 2], [0, 6, 1, 7]],
    ["ij,jk,kl->il", [[2, 2], [2, 2], [2, 2]], [2, 2], [6, 11, 22, 39]],
    ["bhqd,bhkd->bhqk", [[1, 2, 1, 2], [1, 2, 2, 2]], [1, 2, 1, 2], [1, 3, 23, 33]],
  ];
  for (const [spec, shapes, shape, expected] of cases) {
    const xs = shapes.map(arange);
    using c = einsum(spec, ...xs);
    assert.deepEqual(c.shape, shape, spec);
    assert.deepEqual([...await c.read()], expected, spec);
    xs.forEach((x) => x.dispose());
  }
});

Deno.test("einsum: errors name the op, what was expected and what was given", () => {
  using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using v = ref.tensor([1, 2]);
  const cases: [() => unknown, RegExp][] = [
    [() => einsum("ij->ji"), /einsum: expected at least one operand after the spec, got none$/],
    [
      () => einsum(3 as unknown as string, a),
      /einsum: expected a spec string like "ij,jk->ik", got number 3$/,
    ],
    [() => einsum("...ij->ij", a), /einsum: expected labels without an ellipsis/],
    [() => einsum("i1->i", a), /einsum: expected letters for labels/],
    [() => einsum("ij,jk->ik", a), /einsum: expected 2 operands for "ij,jk->ik", got 1$/],
    [
      () => einsum("i->i", a),
      /einsum: expected operand 0 to have 1 dimensions \("i"\), got shape \[2, 3\]$/,
    ],
    [
      () => einsum("ij->k", a),
      /einsum: expected each output label once and in some operand, got "k"/,
    ],
    [() => einsum("ij->ii", a), /einsum: expected each output label once/],
    [() => einsum("ij,j->i", a, v), /einsum: expected label "j" to have one size, got 3 and 2$/],
    [() => einsum("ij", a, a), /einsum: expected at most 2 arguments, got 3$/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  assert.throws(() => einsum("ij,j->i", a, {} as Tensor), TypeError);
});

gpuTest("einsum under jit: attention's scores, as eagerly on the reference", async (dev) => {
  const q = values(2 * 3 * 4 * 5, "unit", 1), k = values(2 * 3 * 6 * 5, "unit", 2);
  const scores = jit((x: Tensor, y: Tensor) => einsum("bhqd,bhkd->bhqk", x, y));
  using got = scores(dev.tensor(q, [2, 3, 4, 5]), dev.tensor(k, [2, 3, 6, 5]));
  using want = einsum("bhqd,bhkd->bhqk", ref.tensor(q, [2, 3, 4, 5]), ref.tensor(k, [2, 3, 6, 5]));
  assert.deepEqual(got.shape, [2, 3, 4, 6]);
  // A dot product of 5 terms of |q·k| ≤ 1 each: γ(5)·5, and the reference's rounding.
  assertWithin(await got.read(), await want.read(), () => 2 * dot(5, 5), "jitted einsum");
});
