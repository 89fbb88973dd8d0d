import assert from "node:assert/strict";
import { scope, sgdStep, type Tensor } from "../mod.ts";
import { gpuTest, ref } from "./_harness.ts";

gpuTest(
  "memory: 10,000 sgdStep in scopes leave the live-buffer count where it started",
  async (dev) => {
    const before = dev.memory();
    let w: Tensor = dev.tensor(new Float32Array(200).fill(1));
    const g = dev.tensor(new Float32Array(200).fill(0.5));
    const afterSetup = dev.memory();
    let warm = afterSetup;
    for (let step = 0; step < 5000; step++) {
      // Two steps per scope: the intermediate is disposed by the scope.
      const next = scope(() => sgdStep(sgdStep(w, g, { lr: 0.001 }), g, { lr: 0.001 }));
      w.dispose();
      w = next;
      if (step === 500) {
        await dev.sync();
        warm = dev.memory();
      }
    }
    const values = await w.read();
    assert.ok(Math.abs(values[0] - (1 - 10000 * 0.0005)) < 1e-3, `w[0] = ${values[0]}`);
    const after = dev.memory();
    assert.equal(after.liveTensors, afterSetup.liveTensors);
    assert.equal(after.liveBuffers, afterSetup.liveBuffers);
    assert.equal(after.liveBytes, afterSetup.liveBytes);
    // The pool holds what one batch of dispatches needs, and stops growing after it.
    assert.ok(
      after.pooledBuffers <= warm.pooledBuffers + 1,
      `the pool grew from ${warm.pooledBuffers} buffers at step 1,000 to ${after.pooledBuffers}`,
    );
    w.dispose();
    g.dispose();
    assert.equal(dev.memory().liveBuffers, before.liveBuffers);
    assert.equal(dev.memory().liveTensors, before.liveTensors);
  },
);

Deno.test("scope: disposes intermediates, keeps what the block returns", async () => {
  const start = ref.liveTensors;
  const g = ref.tensor([1, 1]);
  const kept = scope(() => {
    const a = ref.tensor([1, 2]);
    const b = sgdStep(a, g, { lr: 1 });
    return { b, list: [sgdStep(b, g, { lr: 1 })] };
  });
  assert.equal(ref.liveTensors, start + 3);
  assert.deepEqual([...await kept.b.read()], [0, 1]);
  assert.deepEqual([...await kept.list[0].read()], [-1, 0]);
  kept.b.dispose();
  kept.list[0].dispose();
  g.dispose();
  assert.equal(ref.liveTensors, start);
});

Deno.test("scope: nested scopes hand returned tensors to the outer scope", () => {
  const start = ref.liveTensors;
  const outer = scope(() => {
    const inner = scope(() => ref.tensor([1]));
    ref.tensor([2]); // disposed by the outer scope
    return inner.size;
  });
  assert.equal(outer, 1);
  assert.equal(ref.liveTensors, start);
});

Deno.test("scope: a throwing block disposes what it made; async blocks are refused", () => {
  const start = ref.liveTensors;
  assert.throws(() =>
    scope(() => {
      ref.tensor([1]);
      throw new Error("boom");
    }), /boom/);
  assert.equal(ref.liveTensors, start);
  assert.throws(() => scope((async () => {}) as never), /scope: expected a synchronous function/);
});

Deno.test("tensor: using disposes at the end of the block", () => {
  const start = ref.liveTensors;
  {
    using _t = ref.tensor([1, 2, 3]);
    assert.equal(ref.liveTensors, start + 1);
  }
  assert.equal(ref.liveTensors, start);
});
