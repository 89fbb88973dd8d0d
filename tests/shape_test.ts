/**
 * The ops that move values without arithmetic — reshape, transpose, slice, concat,
 * broadcastTo, stopGradient — on tensors of rank 0 to 4: the GPU copies bit for bit what
 * the reference copies, and the reference puts each value where an independent index
 * computation (written here, from coordinates) says it goes.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  type Backend,
  broadcastTo,
  concat,
  reshape,
  slice,
  stopGradient,
  type Tensor,
  transpose,
} from "../mod.ts";
import {
  assertBitwise,
  assertShape,
  folded,
  gpuTest,
  profile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Row-major coordinates of flat index i. */
function coordinates(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

/** Flat index of coordinates c. */
const flat = (c: readonly number[], shape: readonly number[]) =>
  c.reduce((i, x, d) => i * shape[d] + x, 0);

/** A shape of rank 0…4 with dimensions 1, primes and others, at most ~4000 elements. */
const shapes = fc.array(
  fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 13), fc.integer({ min: 1, max: 40 })),
  {
    maxLength: 4,
  },
).filter((s) => size(s) <= 4000);

/** Runs `op` on `backend` and on the reference; asserts bit-identical results, returns the reference's. */
async function same(
  backend: Backend,
  x: Float32Array,
  shape: readonly number[],
  op: (t: Tensor) => Tensor,
  what: string,
): Promise<{ values: Float32Array; shape: readonly number[] }> {
  using g = backend.tensor(x, shape);
  using out = op(g);
  using r = op(ref.tensor(x, shape));
  assertShape(out.shape, r.shape, what);
  const expected = await r.read();
  assertBitwise(await out.read(), expected, what);
  return { values: expected, shape: r.shape };
}

gpuTest(
  "reshape, transpose, slice, broadcastTo, stopGradient: GPU copies exactly what the reference places",
  async (dev) => {
    for (const backend of [dev, folded!]) {
      await fc.assert(
        fc.asyncProperty(shapes, profile, seed, fc.nat(), async (shape, kind, s, pick) => {
          const x = values(size(shape), kind, s);
          const what = (op: string) => `${op} of [${shape}] seed=${s}`;
          // reshape: the same row-major values under a shape of equal size.
          const target = [...shape].reverse();
          const r = await same(backend, x, shape, (t) => reshape(t, target), what("reshape"));
          assertBitwise(r.values, x, what("reshape (reference)"));
          // transpose by a permutation drawn from `pick`.
          const perm = shape.map((_, d) => d).sort((a, b) =>
            ((a * 7 + pick) % 5) - ((b * 7 + pick) % 5)
          );
          const t = await same(
            backend,
            x,
            shape,
            (v) => transpose(v, perm),
            what(`transpose [${perm}]`),
          );
          t.values.forEach((v, i) => {
            const c = coordinates(i, t.shape);
            const source = new Array<number>(shape.length);
            perm.forEach((p, d) => source[p] = c[d]);
            assert.ok(Object.is(v, x[flat(source, shape)]), `${what("transpose")} element ${i}`);
          });
          // slice: a block from a drawn start.
          const begin = shape.map((d, i) => (pick >> i) % d);
          const extent = shape.map((d, i) => 1 + ((pick >> (i + 3)) % (d - begin[i])));
          const sl = await same(
            backend,
            x,
            shape,
            (v) => slice(v, begin, extent),
            what(`slice ${begin}+${extent}`),
          );
          sl.values.forEach((v, i) => {
            const c = coordinates(i, extent).map((x, d) => x + begin[d]);
            assert.ok(Object.is(v, x[flat(c, shape)]), `${what("slice")} element ${i}`);
          });
          // broadcastTo: a leading dimension and every 1 stretched to 3.
          const wide = [2, ...shape.map((d) => (d === 1 ? 3 : d))];
          const b = await same(backend, x, shape, (v) => broadcastTo(v, wide), what("broadcastTo"));
          b.values.forEach((v, i) => {
            const c = coordinates(i, wide).slice(1).map((x, d) => (shape[d] === 1 ? 0 : x));
            assert.ok(Object.is(v, x[flat(c, shape)]), `${what("broadcastTo")} element ${i}`);
          });
          const sg = await same(backend, x, shape, stopGradient, what("stopGradient"));
          assertBitwise(sg.values, x, what("stopGradient (reference)"));
        }),
        runs(backend === dev ? 60 : 15),
      );
    }
  },
);

gpuTest(
  "concat along any axis, of 1 to 45 tensors: GPU equals the reference, blocks in order",
  async (dev) => {
    await fc.assert(
      fc.asyncProperty(
        shapes.filter((s) => s.length > 0),
        fc.nat(),
        fc.integer({ min: 1, max: 45 }),
        seed,
        async (shape, pick, count, s) => {
          const axis = pick % shape.length;
          const parts = Array.from({ length: count }, (_, k) => {
            const partShape = shape.map((d, i) => (i === axis ? 1 + ((pick + 3 * k) % 4) : d));
            return { shape: partShape, values: values(size(partShape), "integers", s + k) };
          });
          const run = (backend: Backend) => {
            const tensors = parts.map((p) => backend.tensor(p.values, p.shape));
            const out = concat(tensors, { axis: axis - shape.length }); // a negative axis
            tensors.forEach((t) => t.dispose());
            return out;
          };
          using got = run(dev);
          using want = run(ref);
          const what = `concat of ${count} along ${axis} of [${shape}]`;
          assertShape(got.shape, want.shape, what);
          const expected = await want.read();
          assertBitwise(await got.read(), expected, what);
          // Independently: output coordinate c along the axis falls into part k at offset c − start.
          expected.forEach((v, i) => {
            const c = coordinates(i, want.shape);
            let k = 0, start = 0;
            while (c[axis] >= start + parts[k].shape[axis]) start += parts[k++].shape[axis];
            c[axis] -= start;
            assert.equal(v, parts[k].values[flat(c, parts[k].shape)], `${what} element ${i}`);
          });
        },
      ),
      runs(40),
    );
  },
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
