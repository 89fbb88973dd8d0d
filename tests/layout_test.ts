import fc from "fast-check";
import assert from "node:assert/strict";
import { pad2d, reverse, takeRows } from "../mod.ts";
import {
  assertBitwise,
  dim,
  folded,
  gpuTest,
  profile,
  ref,
  runs,
  seed,
  values,
} from "./_harness.ts";

gpuTest("takeRows, pad2d, reverse: GPU copies exactly what the reference copies", async (dev) => {
  for (const backend of [dev, folded!]) {
    await fc.assert(
      fc.asyncProperty(
        dim(200),
        dim(50),
        fc.nat(4),
        fc.nat(4),
        profile,
        seed,
        async (h, w, ph, pw, kind, s) => {
          const x = values(h * w, kind, s);
          const rows = Array.from({ length: 1 + (s % 40) }, (_, i) => (s + 7 * i) % h);
          using gx = backend.tensor(x, [h, w]);
          using rx = ref.tensor(x, [h, w]);
          using gt = takeRows(gx, rows);
          using rt = takeRows(rx, rows);
          assertBitwise(await gt.read(), await rt.read(), "takeRows");
          using gp = pad2d(gx, ph, pw);
          using rp = pad2d(rx, ph, pw);
          assert.deepEqual(gp.shape, [h + 2 * ph, w + 2 * pw]);
          assertBitwise(await gp.read(), await rp.read(), "pad2d");
          using gr = reverse(gx);
          using rr = reverse(rx);
          assertBitwise(await gr.read(), await rr.read(), "reverse");
        },
      ),
      runs(backend === dev ? 40 : 10),
    );
  }
});

Deno.test("layout ops: reference values and bad arguments", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  using rows = takeRows(x, [2, 2, 0]);
  assert.deepEqual([...await rows.read()], [5, 6, 5, 6, 1, 2]);
  using padded = pad2d(ref.tensor([7], [1, 1]), 1, 1);
  assert.deepEqual([...await padded.read()], [0, 0, 0, 0, 7, 0, 0, 0, 0]);
  assert.throws(
    () => takeRows(x, [3]),
    /takeRows: expected row indices in \[0, 3\), got 3 at position 0/,
  );
  assert.throws(() => takeRows(x, []), /takeRows: expected a non-empty array of row indices/);
  assert.throws(() => pad2d(x, -1, 0), /pad2d: expected ph to be an integer ≥ 0, got -1/);
});
