/**
 * Gradients from valueAndGrad, on the GPU and on the reference, against central finite
 * differences of the reference op computed in float64, and against closed forms.
 *
 * Every op here is at most quadratic in each input, so a central difference with a
 * large step (h = 0.5) has no truncation error: what remains is rounding, bounded by the
 * size of the terms involved. Each property checks f(x) = Σ cᵢ·op(x)ᵢ with random c,
 * along a random direction d: ⟨∇f, d⟩ = Σ cᵢ·(op(x + hd)ᵢ − op(x − hd)ᵢ)/2h.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  add,
  type Backend,
  broadcastTo,
  corr2d,
  dropout,
  grad,
  greater,
  l2Penalty,
  matmul,
  mean,
  mul,
  randomKey,
  reverse,
  scale,
  sgdStep,
  square,
  sub,
  sum,
  sumToShape,
  type Tensor,
  valueAndGrad,
} from "../mod.ts";
import { dev, gamma, gpuTest, ref, runs, seed, values } from "./_harness.ts";

const H = 0.5;

interface GradCase {
  /** The op under test, of tensors on one backend. */
  readonly op: (...xs: Tensor[]) => Tensor;
  /** Input shapes. */
  readonly shapes: readonly (readonly number[])[];
  /** Longest sum inside the op or its gradient (for the rounding bound). */
  readonly depth: number;
}

async function checkGradient(backend: Backend, c: GradCase, s: number): Promise<void> {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const xs = c.shapes.map((shape, i) => values(size(shape), "unit", s + i));
  const ds = c.shapes.map((shape, i) => values(size(shape), "unit", s + 100 + i));
  // The projection c, sized like the op's output (found on the reference).
  const outShape = (() => {
    const probe = xs.map((x, i) => ref.tensor(x, c.shapes[i]));
    using out = c.op(...probe);
    probe.forEach((t) => t.dispose());
    return out.shape;
  })();
  const proj = values(size(outShape), "unit", s + 200);
  using projection = backend.tensor(proj, outShape);
  const inputs = xs.map((x, i) => backend.tensor(x, c.shapes[i]));
  const f = (...args: Tensor[]) => sum(mul(c.op(...args), projection));
  const { value, grads } = valueAndGrad(f)(...inputs);
  const g = await Promise.all(grads.map((t) => t.read()));
  for (const t of [value, ...grads, ...inputs]) t.dispose();

  const evaluate = async (sign: number) => {
    const shifted = xs.map((x, i) =>
      ref.tensor(x.map((v, j) => v + sign * H * ds[i][j]), c.shapes[i])
    );
    using out = c.op(...shifted);
    shifted.forEach((t) => t.dispose());
    return await out.read();
  };
  const plus = await evaluate(1);
  const minus = await evaluate(-1);
  let fd = 0, fdScale = 0;
  plus.forEach((p, i) => {
    fd += proj[i] * (p - minus[i]) / (2 * H);
    fdScale += Math.abs(proj[i]) * (Math.abs(p) + Math.abs(minus[i])) / (2 * H);
  });
  let directional = 0, gradScale = 0;
  g.forEach((gi, i) =>
    gi.forEach((v, j) => {
      directional += v * ds[i][j];
      gradScale += Math.abs(v * ds[i][j]);
    })
  );
  // Each reference output and each gradient element carries at most γ(depth + 3) of its
  // terms' size (the op's sums, the projection, the chain's products).
  const bound = gamma(c.depth + 3) * (fdScale + gradScale) * 4 + 1e-30;
  assert.ok(
    Math.abs(fd - directional) <= bound,
    `finite difference ${fd} vs ⟨∇f, d⟩ ${directional}: off by ${
      Math.abs(fd - directional)
    }, bound ${bound}`,
  );
}

const key = randomKey(3);
const cases: Record<string, fc.Arbitrary<GradCase>> = {
  matmul: fc.tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 1, max: 9 }),
    fc.boolean(),
    fc.boolean(),
  )
    .map(([m, k, n, tA, tB]) => ({
      op: (a: Tensor, b: Tensor) => matmul(a, b, { transposeA: tA, transposeB: tB }),
      shapes: [tA ? [k, m] : [m, k], tB ? [n, k] : [k, n]],
      depth: Math.max(k, m, n),
    })),
  l2Penalty: fc.integer({ min: 1, max: 3000 }).map((n) => ({
    op: l2Penalty,
    shapes: [[n]],
    depth: 40,
  })),
  corr2d: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).chain((
    [h, w],
  ) =>
    fc.tuple(fc.integer({ min: 1, max: h }), fc.integer({ min: 1, max: w })).map(([kh, kw]) => ({
      op: corr2d,
      shapes: [[h, w], [kh, kw]],
      depth: h * w,
    }))
  ),
  dropout: fc.tuple(
    fc.integer({ min: 1, max: 2000 }),
    fc.double({ min: 0, max: 0.95, noNaN: true }),
  ).map((
    [n, p],
  ) => ({ op: (x: Tensor) => dropout(x, p, key), shapes: [[n]], depth: 2 })),
  "add, sub, mul with a row and a scalar broadcast": fc.tuple(
    fc.integer({ min: 1, max: 30 }),
    fc.integer({ min: 1, max: 30 }),
  )
    .map(([m, n]) => ({
      op: (a: Tensor, row: Tensor, s: Tensor) => sub(mul(add(a, row), s), mul(a, row)),
      shapes: [[m, n], [n], []],
      depth: m + 4,
    })),
  "scale and square": fc.integer({ min: 1, max: 500 }).map((n) => ({
    op: (x: Tensor) => square(scale(x, -1.5)),
    shapes: [[n]],
    depth: 4,
  })),
  "sum, mean, broadcastTo, sumToShape, reverse": fc.tuple(
    fc.integer({ min: 1, max: 30 }),
    fc.integer({ min: 1, max: 30 }),
  )
    .map(([m, n]) => ({
      op: (x: Tensor) =>
        add(broadcastTo(sumToShape(reverse(x), [n]), [m, n]), add(sum(x), mean(x))),
      shapes: [[m, n]],
      depth: m * n + 4,
    })),
};

for (const [name, arbitrary] of Object.entries(cases)) {
  Deno.test(`grad of ${name} matches float64 finite differences on the reference`, async () => {
    await fc.assert(
      fc.asyncProperty(arbitrary, seed, (c, s) => checkGradient(ref, c, s)),
      runs(25),
    );
  });
  gpuTest(`grad of ${name} on the GPU matches float64 finite differences`, async (gpu) => {
    await fc.assert(
      fc.asyncProperty(arbitrary, seed, (c, s) => checkGradient(gpu, c, s)),
      runs(25),
    );
  });
}

gpuTest("grad of the study's regression loss equals the closed form Xᵀr + B·λ·w", async (gpu) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 200 }),
      seed,
      fc.constantFrom(0, 3, 15),
      async (batch, d, s, lambda) => {
        const [x, w, y] = [
          values(batch * d, "unit", s),
          values(d, "unit", s + 1),
          values(batch, "unit", s + 2),
        ];
        const b = 0.25;
        using gx = gpu.tensor(x, [batch, d]);
        using gw = gpu.tensor(w, [d, 1]);
        using gb = gpu.tensor([b], [1]);
        using gy = gpu.tensor(y, [batch, 1]);
        const loss = (w: Tensor, b: Tensor) => {
          const residual = sub(add(matmul(gx, w), b), gy);
          return sum(add(scale(square(residual), 0.5), scale(l2Penalty(w), lambda)));
        };
        const [dw, db] = grad(loss)(gw, gb);
        const [gotW, gotB] = [await dw.read(), await db.read()];
        dw.dispose();
        db.dispose();
        // Closed form in float64: r = Xw + b − y; ∇w = Xᵀr + B·λ·w; ∇b = Σr.
        const r = Array.from(
          { length: batch },
          (_, i) => x.slice(i * d, (i + 1) * d).reduce((a, v, j) => a + v * w[j], b) - y[i],
        );
        const dwExact = Array.from(
          { length: d },
          (_, j) => r.reduce((a, ri, i) => a + x[i * d + j] * ri, 0) + batch * lambda * w[j],
        );
        const tolerance = (j: number) =>
          gamma(2 * d + 2 * batch + 8) *
          (r.reduce((a, ri, i) => a + Math.abs(x[i * d + j] * ri), 0) +
            batch * Math.abs(lambda * w[j]) +
            batch * d);
        gotW.forEach((v, j) =>
          assert.ok(Math.abs(v - dwExact[j]) <= tolerance(j), `∇w[${j}] ${v} vs ${dwExact[j]}`)
        );
        const dbExact = r.reduce((a, v) => a + v, 0);
        assert.ok(
          Math.abs(gotB[0] - dbExact) <= gamma(2 * d + 2 * batch + 8) * batch * (d + 2),
          `∇b ${gotB[0]} vs ${dbExact}`,
        );
      },
    ),
    runs(30),
  );
});

Deno.test("valueAndGrad: disposes every intermediate, keeps value and gradients", async () => {
  const start = ref.liveTensors;
  using w = ref.tensor([1, 2, 3]);
  using x = ref.tensor([4, 5, 6]);
  const { value, grads } = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(square(a), b)))(w, x);
  assert.equal(ref.liveTensors, start + 2 + 1 + 2);
  assert.deepEqual([...await value.read()], [4 + 20 + 54]);
  assert.deepEqual([...await grads[0].read()], [8, 20, 36]);
  assert.deepEqual([...await grads[1].read()], [1, 4, 9]);
  // An argument the value does not depend on gets zeros; each gradient is its own tensor.
  const [da, db] = grad((a: Tensor, _b: Tensor) => sum(add(a, a)))(w, x);
  assert.deepEqual([...await da.read()], [2, 2, 2]);
  assert.deepEqual([...await db.read()], [0, 0, 0]);
  for (const t of [value, ...grads, da, db]) t.dispose();
  assert.equal(ref.liveTensors, start + 2);
});

Deno.test("valueAndGrad with hasAux: returns the forward pass's other results, not differentiated", async () => {
  const start = ref.liveTensors;
  using w = ref.tensor([1, 2, 3]);
  using x = ref.tensor([4, 5, 6]);
  // aux: the products themselves and their count of those over 10 (both computed once, in f).
  const f = (a: Tensor, b: Tensor) => {
    const products = mul(square(a), b);
    return [sum(products), { products, large: sum(greater(products, ref.tensor([10]))) }] as const;
  };
  const { value, grads, aux } = valueAndGrad(f, { hasAux: true })(w, x);
  assert.deepEqual([...await value.read()], [4 + 20 + 54]);
  // The gradient is the value's alone: aux adds nothing to it.
  assert.deepEqual([...await grads[0].read()], [8, 20, 36]);
  assert.deepEqual([...await grads[1].read()], [1, 4, 9]);
  assert.deepEqual([...await aux.products.read()], [4, 20, 54]);
  assert.deepEqual([...await aux.large.read()], [2]);
  // Everything else made on the way is freed; the caller owns value, grads and aux.
  assert.equal(ref.liveTensors, start + 2 + 1 + 2 + 2);
  for (const t of [value, ...grads, aux.products, aux.large]) t.dispose();
  assert.equal(ref.liveTensors, start + 2);
  assert.throws(
    () => valueAndGrad((a: Tensor) => [sum(a)] as unknown as [Tensor, 0], { hasAux: true })(x),
    /valueAndGrad: expected f to return \[value, aux\] \(hasAux\), got/,
  );
  assert.throws(
    () => valueAndGrad((a: Tensor) => [a, 0] as const, { hasAux: true })(x),
    /valueAndGrad: expected f to return \[value, aux\] with value a live scalar tensor, got shape \[3\]/,
  );
  assert.equal(ref.liveTensors, start + 2);
});

Deno.test("valueAndGrad: clear errors for non-scalars, non-differentiable ops, nesting", () => {
  using x = ref.tensor([1, 2], [1, 2]);
  assert.throws(
    () => grad((a: Tensor) => square(a))(x),
    /grad: expected f to return a live scalar tensor, got shape \[1, 2\]/,
  );
  assert.throws(
    () => grad((a: Tensor) => sum(sgdStep(a, a, { lr: 1 })))(x),
    /sgdStep: is not differentiable/,
  );
  assert.throws(
    () => grad((a: Tensor) => sum(grad((b: Tensor) => sum(b))(a)[0]))(x),
    /nested differentiation is not supported/,
  );
  assert.throws(
    () => (grad((b: Tensor) => sum(b)) as () => Tensor[])(),
    /expected at least one tensor argument/,
  );
  assert.equal(ref.liveTensors >= 1, true);
});

gpuTest("valueAndGrad: GPU memory is back where it started", async (gpu) => {
  using w = gpu.tensor(values(200, "unit", 1), [200, 1]);
  using x = gpu.tensor(values(1000, "unit", 2), [5, 200]);
  const before = gpu.memory();
  for (let i = 0; i < 50; i++) {
    const [dw] = grad((w: Tensor) => add(sum(square(matmul(x, w))), l2Penalty(w)))(w);
    dw.dispose();
  }
  await gpu.sync();
  assert.equal(gpu.memory().liveBuffers, before.liveBuffers);
  assert.equal(gpu.memory().liveTensors, before.liveTensors);
  assert.ok(dev !== null);
});
