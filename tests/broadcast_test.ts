/**
 * NumPy broadcasting in full, for every binary op and `where`: the forward properties
 * (tests/_properties_broadcast.ts: NumPy's shape, the reference equal to float64 rounded
 * once, the GPU bit for bit or within WGSL's accuracy) on the test device and a folded
 * dispatch grid, and here the gradients over the same random shapes.
 *
 * The gradients of `sum(c·op(a, b))` are the closed forms summed over each operand's
 * broadcast axes, in float64: on both backends within γ(R + k + 2)·Σ|terms|, where R is
 * the generated sum's rounding chain (`reductionRoundings`), k the roundings (in u; a
 * GPU division counts 5) of one term as the vector-Jacobian product computes it, and 2
 * for the reference's and the projection's rounding. The gradient of `where` goes, exactly,
 * to the picked operand.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, mul, sum, type Tensor, valueAndGrad, where } from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { assertProperty } from "./_properties.ts";
import {
  BINARY,
  type BinaryCase,
  binaryCases,
  BROADCAST_PROPERTIES,
  numpyShape,
  operandIndex,
  operands,
  whereCases,
  whereInputs,
  whereProperty,
} from "./_properties_broadcast.ts";
import {
  assertBitwise,
  assertWithin,
  coordinates,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  ref,
  runs,
  size,
  values,
} from "./_harness.ts";

/** ∂f/∂a and ∂f/∂b in float64, and k: roundings (in u) of one gradient term. */
interface Gradient {
  readonly grad: (a: number, b: number) => [number, number];
  readonly k: readonly [number, number];
}

const GRADIENTS: Record<string, Gradient> = {
  add: { grad: () => [1, 1], k: [0, 0] },
  sub: { grad: () => [1, -1], k: [0, 0] },
  mul: { grad: (a, b) => [b, a], k: [1, 1] },
  // g/y: a division (5u on the GPU); −g·x/(y·y): two products and a division.
  div: { grad: (a, b) => [1 / b, -a / (b * b)], k: [5, 7] },
  maximum: { grad: (a, b) => (a > b ? [1, 0] : a < b ? [0, 1] : [0.5, 0.5]), k: [1, 1] },
  minimum: { grad: (a, b) => (a < b ? [1, 0] : a > b ? [0, 1] : [0.5, 0.5]), k: [1, 1] },
  greater: { grad: () => [0, 0], k: [0, 0] },
  less: { grad: () => [0, 0], k: [0, 0] },
  equal: { grad: () => [0, 0], k: [0, 0] },
};

/** Gradients of sum(c·op(a, b)) against the closed form summed over broadcast axes. */
async function checkGrad(backend: Backend, name: string, bc: BinaryCase) {
  const { shapes, profile: kind, seed: s } = bc;
  const op = BINARY[name].op, spec = GRADIENTS[name];
  const [a, b] = operands(name, bc);
  const out = numpyShape(...shapes);
  const c = values(size(out), "unit", s + 2);
  using gc = backend.tensor(c, out);
  const inputs = [backend.tensor(a, shapes[0]), backend.tensor(b, shapes[1])] as const;
  const { value, grads } = valueAndGrad((x: Tensor, y: Tensor) => sum(mul(gc, op(x, y))))(
    ...inputs,
  );
  const got = await Promise.all(grads.map((g) => g.read()));
  [value, ...grads, ...inputs].forEach((t) => t.dispose());
  for (const k of [0, 1] as const) {
    const shape = shapes[k];
    const exact = new Float64Array(size(shape)), scale = new Float64Array(size(shape));
    for (let i = 0; i < size(out); i++) {
      const co = coordinates(i, out);
      const [ia, ib] = [operandIndex(co, shapes[0]), operandIndex(co, shapes[1])];
      const term = c[i] * spec.grad(a[ia], b[ib])[k];
      const j = k === 0 ? ia : ib;
      exact[j] += term;
      scale[j] += Math.abs(term);
    }
    const length = size(out) / size(shape);
    const R = length === 1 ? 0 : reductionRoundings(length, size(shape));
    const roundings = R + spec.k[k] + 2;
    assertWithin(
      got[k],
      exact,
      (j) => gamma(roundings) * scale[j] + length * MIN_NORMAL,
      `∂/∂${"ab"[k]} of sum(c·${name}) [${shapes[0]}] with [${
        shapes[1]
      }] ${kind} seed=${s} on ${backend.kind}`,
    );
  }
}

for (const [i, name] of Object.keys(BINARY).entries()) {
  const property = BROADCAST_PROPERTIES[i];
  gpuTest(property.name, async (dev) => {
    for (const backend of [dev, folded!]) {
      await assertProperty(property, backend, runs(backend === dev ? property.numRuns : 10));
    }
  });
  if (GRADIENTS[name]) {
    // The closed forms hold for finite values: the gradients of special values are the
    // README's table and tests/special_values_test.ts's.
    const finite = binaryCases.filter((c) => c.profile !== "special");
    const gradients = (backend: Backend) =>
      fc.assert(fc.asyncProperty(finite, (c) => checkGrad(backend, name, c)), runs(25));
    Deno.test(`${name}: gradients sum over the broadcast axes (reference)`, () => gradients(ref));
    gpuTest(`${name}: gradients sum over the broadcast axes (GPU)`, (dev) => gradients(dev));
  }
}

gpuTest(
  whereProperty.name,
  (dev) => assertProperty(whereProperty, dev, runs(whereProperty.numRuns)),
);

/** The gradient of sum(where(cond, a, b)) goes to the picked operand. */
gpuTest("where: gradients go to the picked operand", async (dev) => {
  await fc.assert(
    fc.asyncProperty(whereCases, async (c) => {
      const [sc, sa, sb] = c.shapes;
      const { cond, a, b, out } = whereInputs(c);
      for (const backend of [dev, ref]) {
        const [tc, ta, tb] = [
          backend.tensor(cond, sc),
          backend.tensor(a, sa),
          backend.tensor(b, sb),
        ];
        // d/da sum(where(c, a, b)) counts, per element of a, the outputs that picked it.
        const { value, grads: [da, db] } = valueAndGrad((x: Tensor, y: Tensor) =>
          sum(where(tc, x, y))
        )(ta, tb);
        const counts = [new Float32Array(size(sa)), new Float32Array(size(sb))];
        for (let i = 0; i < size(out); i++) {
          const co = coordinates(i, out);
          if (cond[operandIndex(co, sc)] !== 0) counts[0][operandIndex(co, sa)]++;
          else counts[1][operandIndex(co, sb)]++;
        }
        assertBitwise(await da.read(), counts[0], "∂/∂a of sum(where)");
        assertBitwise(await db.read(), counts[1], "∂/∂b of sum(where)");
        [value, da, db, tc, ta, tb].forEach((t) => t.dispose());
      }
    }),
    runs(30),
  );
});

Deno.test("broadcasting: shapes that do not broadcast are refused, naming the op", () => {
  using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using b = ref.tensor([1, 2], [2]);
  for (const [name, spec] of Object.entries(BINARY)) {
    assert.throws(
      () => spec.op(a, b),
      new RegExp(
        `^RangeError: ${name}: expected shapes that broadcast .* got \\[2, 3\\] and \\[2\\]`,
      ),
    );
  }
  assert.throws(() => where(a, a, b), /where: expected shapes that broadcast/);
});
