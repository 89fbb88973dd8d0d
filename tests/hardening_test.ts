/**
 * Lifetimes, out-of-memory, concurrency and determinism: what a caller
 * can do to the library besides passing bad arguments (fuzz_test.ts) or losing the
 * device (runtime_test.ts).
 * Every wait here is bounded, so a hang fails the test instead of blocking the run.
 */
import assert from "node:assert/strict";
import {
  gpu,
  GpuError,
  l2Penalty,
  matmul,
  randomKey,
  randomNormal,
  scale,
  sgdStep,
  sum,
  type Tensor,
} from "../mod.ts";
import { makeStudyData, runStudy, STUDY_DEFAULTS } from "../demos/decay_study.ts";
import { faultyDevice } from "./_faults.ts";
import { assertBitwise, gpuTest, values, within } from "./_harness.ts";

gpuTest(
  "lifetimes: a read in flight when its tensor is disposed resolves with its values",
  async (dev) => {
    const x = dev.tensor([1, 2, 3, 4]);
    const pending = x.read();
    x.dispose();
    x.dispose(); // harmless
    // The freed buffer is reused at once and overwritten: the read must not see it.
    using y = dev.tensor([9, 9, 9, 9]);
    using z = scale(y, 2);
    assert.deepEqual([...await within(pending, 5000, "read")], [1, 2, 3, 4]);
    assert.deepEqual([...await z.read()], [18, 18, 18, 18]);
    await assert.rejects(
      x.read(),
      (e: unknown) => e instanceof TypeError && /^read: .*disposed/.test((e as Error).message),
    );
    assert.throws(
      () => scale(x, 2),
      /^TypeError: scale: expected x to be a live tensor, got a disposed one/,
    );
  },
);

gpuTest(
  "out of memory: a failed allocation is a clear error, and the backend stays usable",
  async (dev) => {
    // A real OOM needs more memory than this shared machine should give up, so the device
    // reports one for the next buffer it makes: the runtime's error-scope path is the real one.
    const faulty = faultyDevice(dev.device);
    const backend = await gpu({ device: faulty.device });
    using x = backend.tensor([1, 2, 3]);
    await backend.sync();
    faulty.failNextBuffer();
    // A size class no buffer in the pool has, so a new buffer is made.
    const big = randomNormal(backend, [1 << 20], randomKey(1));
    await assert.rejects(within(big.read(), 5000, "read"), (e: unknown) => {
      assert.ok(e instanceof GpuError);
      assert.match((e as Error).message, /^randomNormal: out of GPU memory: simulated/);
      return true;
    });
    big.dispose(); // its buffer is destroyed, never pooled
    using y = scale(x, 2);
    assert.deepEqual([...await y.read()], [2, 4, 6]);
    // The same size class again: a pooled failed buffer would fail this read.
    using again = randomNormal(backend, [1 << 20], randomKey(1));
    const sample = await within(again.read(), 5000, "read again");
    assert.ok(sample.every(Number.isFinite) && sample.some((v) => v !== 0));
    backend.destroy();
  },
);

gpuTest("memory: results larger than the largest buffer are refused, stating the limit", (dev) => {
  const limit = dev.maxElements;
  // A column whose outer product with itself has more elements than the limit (which is
  // 2²⁵ on llvmpipe, 2²⁹ on an H200).
  const n = Math.ceil(Math.sqrt(limit + 1));
  using tall = dev.tensor(new Float32Array(n), [n, 1]);
  const before = dev.runtime.workCount;
  assert.throws(
    () => matmul(tall, tall, { transposeB: true }),
    new RegExp(`^RangeError: matmul: expected a tensor of at most ${limit} elements`),
  );
  assert.throws(() => randomNormal(dev, [limit + 1], randomKey(0)), /randomNormal: .*at most/);
  assert.equal(dev.runtime.workCount, before);
});

gpuTest(
  "concurrency: hundreds of ops with reads awaited out of order from many tasks",
  async (dev) => {
    const count = 300;
    const inputs = Array.from(
      { length: count },
      (_, i) => dev.tensor([i, i + 1, i + 2, i + 3], [2, 2]),
    );
    const tasks = inputs.map(async (x, i) => {
      // Tasks interleave: each yields a different number of times before its ops.
      for (let k = 0; k < i % 7; k++) {
        await Promise.resolve();
      }
      using y = matmul(x, x);
      using z = scale(y, 0.5);
      const [a, b] = await Promise.all([z.read(), z.read()]); // overlapping reads of one tensor
      assertBitwise(a, b, `task ${i}`);
      const [p, q, r, s] = [i, i + 1, i + 2, i + 3];
      assert.deepEqual(
        [...a],
        [p * p + q * r, p * q + q * s, r * p + s * r, r * q + s * s].map((v) => v / 2),
      );
      return i;
    });
    // Awaited in reverse order of creation.
    for (let i = count - 1; i >= 0; i--) {
      assert.equal(
        await within(tasks[i], 20000, `task ${i}`),
        i,
      );
    }
    inputs.forEach((t) => t.dispose());
  },
);

/** The same computation on two fresh backends gives bit-identical results. */
gpuTest("determinism: reductions and matmul are bit-identical on fresh backends", async () => {
  const x = values(300_007, "mixed", 3), m = values(257 * 129, "unit", 4);
  const run = async () => {
    const backend = await gpu();
    using t = backend.tensor(x);
    using a = backend.tensor(m, [257, 129]);
    using s = sum(t);
    using p = l2Penalty(t);
    using c = matmul(a, a, { transposeB: true });
    const out = [await s.read(), await p.read(), await c.read()];
    backend.destroy();
    return out;
  };
  const [first, second] = [await run(), await run()];
  first.forEach((v, i) => assertBitwise(second[i], v, ["sum", "l2Penalty", "matmul"][i]));
});

gpuTest("determinism: the decay study is bit-reproducible from its seed", async (dev) => {
  const settings = { ...STUDY_DEFAULTS, epochs: 6, evaluateEvery: 3, seed: 5 };
  const once = async () => {
    const data = makeStudyData(dev, settings);
    const runs = [];
    for (
      const spec of [{ variant: "scratch", lambda: 3 }, { variant: "concise", lambda: 2 }] as const
    ) {
      const { seconds: _, ...result } = await runStudy(data, spec, settings);
      runs.push(result);
    }
    data.dispose();
    return runs;
  };
  const [a, b] = [await once(), await once()];
  // Equal numbers as JSON would write them, bit for bit (deepEqual compares with Object.is).
  assert.deepEqual(b, a);
  assert.ok(a[0].train.length === 2 && a[0].w.length === settings.numInputs);
  const other = makeStudyData(dev, { ...settings, seed: 6 });
  const { w } = await runStudy(other, { variant: "scratch", lambda: 3 }, settings);
  other.dispose();
  assert.notDeepEqual(w, a[0].w, "another seed gives other weights");
});

gpuTest("sgdStep: a long chain on one tensor stays correct", async (dev) => {
  let w: Tensor = dev.tensor([1, 2]);
  using g = dev.tensor([1, 1]);
  for (let i = 0; i < 200; i++) {
    const next = sgdStep(w, g, { lr: 0.25 });
    w.dispose();
    w = next;
  }
  assert.deepEqual([...await w.read()], [-49, -48]);
  w.dispose();
});
