import fc from "fast-check";
import assert from "node:assert/strict";
import { add, type Backend, mul, scale, square, sub, type Tensor } from "../mod.ts";
import {
  assertBitwise,
  assertBitwiseOrFlushed,
  dim,
  flushSubnormal,
  folded,
  gpuTest,
  profile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

/** A shape and one that broadcasts over it: equal, a row, a scalar, or with leading 1s. */
const shapes = fc.tuple(dim(300), dim(40)).chain(([m, n]) =>
  fc.record({
    large: fc.constant([m, n]),
    small: fc.constantFrom([m, n], [n], [1, n], [], [1], [1, 1]),
    swap: fc.boolean(),
    profile,
    seed,
  })
);

const binaries = { add, sub, mul } as const;

async function checkBinary(
  backend: Backend,
  c: typeof shapes extends fc.Arbitrary<infer T> ? T : never,
  name: keyof typeof binaries,
) {
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const a = values(size(c.large), c.profile, c.seed);
  const b = values(size(c.small), c.profile, c.seed + 1);
  const [sa, sb, va, vb] = c.swap ? [c.small, c.large, b, a] : [c.large, c.small, a, b];
  const op = binaries[name];
  using ga = backend.tensor(va, sa);
  using gb = backend.tensor(vb, sb);
  using out = op(ga, gb);
  using expected = op(ref.tensor(va, sa), ref.tensor(vb, sb));
  assert.deepEqual(out.shape, c.large);
  // One correctly rounded operation per element on both sides: bit for bit.
  assertBitwise(await out.read(), await expected.read(), `${name} ${JSON.stringify(c)}`);
}

for (const name of ["add", "sub", "mul"] as const) {
  gpuTest(`${name}: GPU equals the reference bit for bit, with broadcasting`, async (dev) => {
    await fc.assert(fc.asyncProperty(shapes, (c) => checkBinary(dev, c, name)), runs(40));
    await fc.assert(fc.asyncProperty(shapes, (c) => checkBinary(folded!, c, name)), runs(10));
  });
}

gpuTest(
  "scale and square: GPU equals the reference bit for bit, up to flushed subnormals",
  async (dev) => {
    await fc.assert(
      fc.asyncProperty(
        dim(5000),
        profile,
        seed,
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        async (n, kind, s, c) => {
          const x = values(n, kind, s);
          const run = (t: Tensor) => [scale(t, c), square(t)];
          using gx = dev.tensor(x);
          const [gs, gq] = run(gx);
          const [rs, rq] = run(ref.tensor(x));
          // c may be subnormal in float32 (fast-check finds such doubles): a GPU may then
          // use 0, and it may flush subnormal results.
          const factor = flushSubnormal(Math.fround(c));
          const flushedScale = x.map((v) => flushSubnormal(Math.fround(v * factor)));
          const flushedSquare = x.map((v) => flushSubnormal(Math.fround(v * v)));
          assertBitwiseOrFlushed(await gs.read(), await rs.read(), flushedScale, `scale by ${c}`);
          assertBitwiseOrFlushed(await gq.read(), await rq.read(), flushedSquare, "square");
          for (const t of [gs, gq, rs, rq]) t.dispose();
        },
      ),
      runs(40),
    );
  },
);

Deno.test("elementwise: references compute known values; bad shapes are refused", async () => {
  using a = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  using row = ref.tensor([10, 20, 30]);
  using r = sub(a, row);
  assert.deepEqual([...await r.read()], [-9, -18, -27, -6, -15, -24]);
  using col = ref.tensor([1, 2], [2, 1]);
  using outer = add(a, col);
  assert.deepEqual([...await outer.read()], [2, 3, 4, 6, 7, 8]);
  using square2 = ref.tensor([1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => add(a, square2),
    /add: expected shapes that broadcast .* got \[2, 3\] and \[2, 2\]/,
  );
  assert.throws(() => scale(a, NaN), /scale: expected c to be a finite number, got NaN/);
});
