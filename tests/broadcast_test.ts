/**
 * NumPy broadcasting in full, for every binary op and `where`: random broadcast-compatible
 * shapes (operands of lower rank, dimensions of 1, scalars; `[n, 1] + [n, h]`,
 * `[h] + [n, h]`, `[] + x` among them). The result's shape is NumPy's; the reference
 * equals the op's float64 value at operand indices computed here from coordinates
 * (independently of the library's `sourceIndices`), rounded once; the GPU equals the
 * reference bit for bit where the op is one correctly rounded operation (within 2.5 ULP
 * for div and `powBound` for pow, WGSL's accuracy).
 *
 * The gradients of `sum(c·op(a, b))` are the closed forms summed over each operand's
 * broadcast axes, in float64: on both backends within γ(R + k + 2)·Σ|terms|, where R is
 * the generated sum's rounding chain (`reductionRoundings`), k the roundings (in u; a
 * GPU division counts 5) of one term as the vector-Jacobian product computes it, and 2
 * for the reference's and the projection's rounding.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  add,
  type Backend,
  div,
  equal,
  greater,
  less,
  maximum,
  minimum,
  mul,
  pow,
  sub,
  sum,
  type Tensor,
  valueAndGrad,
  where,
} from "../mod.ts";
import { reductionRoundings } from "../kernels/codegen.ts";
import {
  assertBitwise,
  assertShape,
  assertWithin,
  divBound,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  powBound,
  type Profile,
  profile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

type Shape = readonly number[];
const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/** NumPy's broadcast shape, written out here. */
function numpyShape(...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from(
    { length: rank },
    (_, d) => Math.max(...shapes.map((s) => s[s.length - rank + d] ?? 1)),
  );
}

/** The index into an operand of `shape` that output coordinate c reads. */
function operandIndex(c: readonly number[], shape: Shape): number {
  const lead = c.length - shape.length;
  return shape.reduce((i, d, k) => i * d + (d === 1 ? 0 : c[lead + k]), 0);
}

function coordinates(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

/** An output shape and operands that broadcast to it. */
const dims = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 13), fc.integer({ min: 1, max: 24 }));
const operand = (out: Shape) =>
  fc.tuple(fc.nat(out.length), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })).map((
    [drop, ones],
  ) => out.slice(drop).map((d, k) => (ones[k] ? 1 : d)));
const outShape = fc.array(dims, { maxLength: 4 }).filter((s) => size(s) <= 3000);
const pairs: fc.Arbitrary<[Shape, Shape]> = fc.oneof(
  outShape.chain((out) => fc.tuple(operand(out), operand(out))),
  // The named forms: [n, 1] + [n, h], [h] + [n, h], [] + x.
  fc.tuple(dims, dims).chain(([n, h]) =>
    fc.constantFrom<[Shape, Shape]>([[n, 1], [n, h]], [[h], [n, h]], [[], [n, h]], [[n, h], []])
  ),
);

interface Binary {
  readonly op: (a: Tensor, b: Tensor) => Tensor;
  readonly f: (a: number, b: number) => number;
  /** Values of the operands from profile values (e.g. no zero divisor). */
  readonly domain?: (a: Float32Array, b: Float32Array) => [Float32Array, Float32Array];
  /** |gpu − reference| allowed; absent: bit for bit (by value for max/min: ±0). */
  readonly bound?: (a: number, b: number, r: number) => number;
  /** ∂f/∂a and ∂f/∂b in float64, and k: roundings (in u) of one gradient term. */
  readonly grad?: (a: number, b: number) => [number, number];
  readonly k?: readonly [number, number];
  readonly byValue?: boolean;
}

const BINARY: Record<string, Binary> = {
  add: { op: add, f: (a, b) => a + b, grad: () => [1, 1], k: [0, 0] },
  sub: { op: sub, f: (a, b) => a - b, grad: () => [1, -1], k: [0, 0] },
  mul: { op: mul, f: (a, b) => a * b, grad: (a, b) => [b, a], k: [1, 1] },
  div: {
    op: div,
    f: (a, b) => a / b,
    domain: (a, b) => [a, b.map((v) => (v === 0 ? 1 : v))],
    bound: (_a, _b, r) => divBound(r),
    grad: (a, b) => [1 / b, -a / (b * b)],
    // g/y: a division (5u on the GPU); −g·x/(y·y): two products and a division.
    k: [5, 7],
  },
  maximum: {
    op: maximum,
    f: Math.max,
    grad: (a, b) => (a > b ? [1, 0] : a < b ? [0, 1] : [0.5, 0.5]),
    k: [1, 1],
    byValue: true,
  },
  minimum: {
    op: minimum,
    f: Math.min,
    grad: (a, b) => (a < b ? [1, 0] : a > b ? [0, 1] : [0.5, 0.5]),
    k: [1, 1],
    byValue: true,
  },
  pow: {
    op: pow,
    f: Math.pow,
    // Positive bases in [2⁻⁴, 2⁴], exponents in [−4, 4].
    domain: (a, b) => [
      a.map((v) => Math.fround(2 ** (4 * Math.max(-1, Math.min(1, v))))),
      b.map((v) => Math.fround(4 * Math.max(-1, Math.min(1, v)))),
    ],
    bound: (a, b) => powBound(a, b),
  },
  greater: { op: greater, f: (a, b) => (a > b ? 1 : 0), grad: () => [0, 0], k: [0, 0] },
  less: { op: less, f: (a, b) => (a < b ? 1 : 0), grad: () => [0, 0], k: [0, 0] },
  equal: { op: equal, f: (a, b) => (a === b ? 1 : 0), grad: () => [0, 0], k: [0, 0] },
};

/** Operand values of a case. */
function operands(
  name: string,
  [sa, sb]: [Shape, Shape],
  kind: Profile,
  s: number,
): [Float32Array, Float32Array] {
  const a = values(size(sa), kind, s), b = values(size(sb), kind, s + 1);
  return BINARY[name].domain ? BINARY[name].domain!(a, b) : [a, b];
}

async function checkForward(
  backend: Backend,
  name: string,
  shapes: [Shape, Shape],
  kind: Profile,
  s: number,
) {
  const spec = BINARY[name];
  const [a, b] = operands(name, shapes, kind, s);
  const out = numpyShape(...shapes);
  const what = `${name} [${shapes[0]}] with [${shapes[1]}] ${kind} seed=${s}`;
  using ga = backend.tensor(a, shapes[0]);
  using gb = backend.tensor(b, shapes[1]);
  using got = spec.op(ga, gb);
  using want = spec.op(ref.tensor(a, shapes[0]), ref.tensor(b, shapes[1]));
  assertShape(got.shape, out, what);
  assertShape(want.shape, out, `${what} (reference)`);
  const exact = Array.from({ length: size(out) }, (_, i) => {
    const c = coordinates(i, out);
    return spec.f(a[operandIndex(c, shapes[0])], b[operandIndex(c, shapes[1])]);
  });
  const expected = await want.read();
  assertBitwise(expected, Float32Array.from(exact), `${what} (reference)`);
  const actual = await got.read();
  if (spec.bound) {
    assertWithin(actual, exact, (i) => {
      const c = coordinates(i, out);
      return spec.bound!(a[operandIndex(c, shapes[0])], b[operandIndex(c, shapes[1])], exact[i]);
    }, what);
  } else if (spec.byValue) assertWithin(actual, expected, () => 0, what);
  else assertBitwise(actual, expected, what);
}

/** Gradients of sum(c·op(a, b)) against the closed form summed over broadcast axes. */
async function checkGrad(
  backend: Backend,
  name: string,
  shapes: [Shape, Shape],
  kind: Profile,
  s: number,
) {
  const spec = BINARY[name];
  const [a, b] = operands(name, shapes, kind, s);
  const out = numpyShape(...shapes);
  const c = values(size(out), "unit", s + 2);
  using gc = backend.tensor(c, out);
  const inputs = [backend.tensor(a, shapes[0]), backend.tensor(b, shapes[1])] as const;
  const { value, grads } = valueAndGrad((x: Tensor, y: Tensor) => sum(mul(gc, spec.op(x, y))))(
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
      const term = c[i] * spec.grad!(a[ia], b[ib])[k];
      const j = k === 0 ? ia : ib;
      exact[j] += term;
      scale[j] += Math.abs(term);
    }
    const length = size(out) / size(shape);
    const R = length === 1 ? 0 : reductionRoundings(length, size(shape));
    const roundings = R + spec.k![k] + 2;
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

for (const name of Object.keys(BINARY)) {
  gpuTest(`${name}: NumPy broadcasting in full, GPU vs reference vs float64`, async (dev) => {
    for (const backend of [dev, folded!]) {
      await fc.assert(
        fc.asyncProperty(pairs, profile, seed, (p, k, s) => checkForward(backend, name, p, k, s)),
        runs(backend === dev ? 40 : 10),
      );
    }
  });
  if (BINARY[name].grad) {
    const property = (backend: Backend) =>
      fc.assert(
        fc.asyncProperty(pairs, profile, seed, (p, k, s) => checkGrad(backend, name, p, k, s)),
        runs(25),
      );
    Deno.test(`${name}: gradients sum over the broadcast axes (reference)`, () => property(ref));
    gpuTest(`${name}: gradients sum over the broadcast axes (GPU)`, (dev) => property(dev));
  }
}

/** where(cond, a, b) with three broadcast operands; its gradient goes to the picked operand. */
gpuTest(
  "where: three operands broadcast together; gradients go to the picked operand",
  async (dev) => {
    const triples = outShape.chain((out) => fc.tuple(operand(out), operand(out), operand(out)));
    await fc.assert(
      fc.asyncProperty(triples, seed, async (shapes, s) => {
        const [sc, sa, sb] = shapes;
        const cond = values(size(sc), "zeros", s).map((v) => (v === 0 ? 0 : 1));
        const [a, b] = [values(size(sa), "unit", s + 1), values(size(sb), "unit", s + 2)];
        const out = numpyShape(sc, sa, sb);
        const pick = (i: number) => {
          const co = coordinates(i, out);
          return cond[operandIndex(co, sc)] !== 0
            ? a[operandIndex(co, sa)]
            : b[operandIndex(co, sb)];
        };
        const exact = Float32Array.from({ length: size(out) }, (_, i) => pick(i));
        for (const backend of [dev, ref]) {
          const [tc, ta, tb] = [
            backend.tensor(cond, sc),
            backend.tensor(a, sa),
            backend.tensor(b, sb),
          ];
          using w = where(tc, ta, tb);
          assertShape(w.shape, out, "where");
          assertBitwise(await w.read(), exact, `where [${sc}] [${sa}] [${sb}] on ${backend.kind}`);
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
    assert.ok(dev);
  },
);

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
