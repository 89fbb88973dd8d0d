/**
 * Faults under the compiled path, tested as the eager ones are (hardening_test.ts,
 * runtime_test.ts): a device lost during a replay, a WebGPU validation error inside a
 * generated kernel, and an out-of-memory while a program's memory is planned each come
 * back as a GpuError naming jit and the op; nothing hangs (every wait is bounded); and
 * once the program is disposed, no buffer is left behind. A program whose storage failed
 * is compiled again by the next call, and one whose kernels cannot be made is not kept.
 */
import assert from "node:assert/strict";
import {
  add,
  exp,
  gpu,
  GpuError,
  type GpuMemoryStats,
  jit,
  matmul,
  relu,
  sum,
  type Tensor,
} from "../mod.ts";
import { type FaultyDevice, faultyDevice } from "./_faults.ts";
import { gpuTest, within } from "./_harness.ts";

/**
 * As fused kernels, two: the matmul with the add and relu as its epilogue (its result a
 * planned intermediate), then the reduction; by default, small as it is, one program
 * kernel. For `a` and `b` below it gives [4, 8].
 */
const f = (a: Tensor, b: Tensor) => sum(relu(add(matmul(a, b), b)), { axis: 1 });
const A = [1, 2, 3, 4], B = [1, -1, 1, -1];

/** What tensors and their buffers hold (the pool may differ: failed buffers are not pooled). */
function live({ liveBuffers, liveBytes, liveTensors }: GpuMemoryStats & { liveTensors: number }) {
  return { liveBuffers, liveBytes, liveTensors };
}

/** Asserts that `pending` rejects, within 5 s, with a GpuError whose message matches. */
async function rejectsWith(pending: Promise<unknown>, pattern: RegExp, what: string) {
  await assert.rejects(within(pending, 5000, what), (e: unknown) => {
    assert.ok(e instanceof GpuError, `${what}: ${e}`);
    assert.match((e as Error).message, pattern, `${what}: ${(e as Error).message}`);
    return true;
  });
}

/** A backend on a device of its own that fails on demand; uncaptured errors are collected. */
async function faultyBackend() {
  const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const uncaptured: string[] = [];
  device.addEventListener("uncapturederror", (e) => {
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message);
  });
  const faulty: FaultyDevice = faultyDevice(device);
  const backend = await gpu({ device: faulty.device });
  const close = () => {
    backend.destroy();
    device.destroy();
  };
  return { backend, faulty, uncaptured, close };
}

gpuTest(
  "jit faults: a device lost during a replay: reads reject, later calls throw naming jit and the op",
  async () => {
    const own = await gpu();
    const a = own.tensor(A, [2, 2]), b = own.tensor(B, [2, 2]);
    const before = own.memory();
    // Control flow on a number: n ≤ 0 records another graph, so that call compiles.
    const step = jit((x: Tensor, y: Tensor, n: number) => (n > 0 ? f(x, y) : relu(x)));
    const first = step(a, b, 1);
    assert.deepEqual([...await within(first.read(), 5000, "first read")], [4, 8]);
    const replayed = step(a, b, 1); // encoded, not yet submitted
    own.device.destroy();
    const unaware = step(a, b, 1); // encoded before the loss is known
    await rejectsWith(replayed.read(), /^read: the WebGPU device was lost/, "replayed");
    await rejectsWith(unaware.read(), /^read: the WebGPU device was lost/, "unaware");
    // Once the loss is known, a replay and a compilation each throw at once.
    assert.throws(() => step(a, b, 1), /^GpuError: jit: sum: the WebGPU device was lost/);
    assert.throws(() => step(a, b, -1), /^GpuError: jit: relu: the WebGPU device was lost/);
    assert.equal(step.traces, 1);
    for (const t of [first, replayed, unaware]) t.dispose();
    step.dispose();
    assert.deepEqual(live(own.memory()), live(before));
    a.dispose();
    b.dispose();
    own.destroy();
  },
);

gpuTest(
  "jit faults: a WebGPU validation error in a generated kernel is a GpuError naming jit and the op",
  async () => {
    const { backend, faulty, uncaptured, close } = await faultyBackend();
    const a = backend.tensor(A, [2, 2]), b = backend.tensor(B, [2, 2]);
    await backend.sync();
    const before = backend.memory();
    // A fused kernel, then a program kernel: named by its phases' ops, phase by phase.
    const cases = [
      { kernels: "fused", label: "jit: sum" },
      { kernels: "auto", label: "jit: matmul+add+relu, sum" },
    ] as const;
    for (const { kernels, label } of cases) {
      faulty.breakPipelines(new RegExp(`^${label.replaceAll("+", "\\+")}$`));
      const step = jit(f, { kernels });
      const out = step(a, b);
      await rejectsWith(
        out.read(),
        new RegExp(
          `^${label.replaceAll("+", "\\+")}: WebGPU validation error: .*this is not WGSL`,
          "s",
        ),
        `${kernels}: read`,
      );
      // Replayed, the broken kernel fails again, and its error names it too.
      const again = step(a, b);
      await rejectsWith(again.read(), /WebGPU validation error/, `${kernels}: read again`);
      // The backend's other work is unaffected.
      const c = matmul(a, b);
      assert.deepEqual([...await within(c.read(), 5000, "eager read")], [3, -3, 7, -7]);
      for (const t of [out, again, c]) t.dispose();
      step.dispose();
    }
    await within(backend.sync(), 5000, "sync");
    assert.deepEqual(live(backend.memory()), live(before));
    assert.deepEqual(uncaptured, [], "every error was caught by a scope and named");
    a.dispose();
    b.dispose();
    close();
  },
);

gpuTest(
  "jit faults: a validation error in an op's own kernel under jit names jit too",
  async () => {
    const { backend, faulty, uncaptured, close } = await faultyBackend();
    const a = backend.tensor(A, [2, 2]);
    // Only the pipeline a program makes is broken: it is labelled `jit: matmul`.
    faulty.breakPipelines(/^jit: matmul$/);
    const square = jit((x: Tensor) => matmul(x, x));
    const out = square(a);
    await rejectsWith(out.read(), /^jit: matmul: WebGPU validation error/, "read");
    out.dispose();
    square.dispose();
    a.dispose();
    assert.deepEqual(uncaptured, []);
    close();
  },
);

gpuTest(
  "jit faults: out of memory while a program is planned is a GpuError naming jit and the op",
  async () => {
    const { backend, faulty, uncaptured, close } = await faultyBackend();
    const a = backend.tensor(A, [2, 2]), b = backend.tensor(B, [2, 2]);
    await backend.sync();
    const before = backend.memory();
    const step = jit(f, { kernels: "fused" });
    // The pool is empty: the first buffer made is the matmul kernel's planned result.
    faulty.failNextBuffer();
    const out = step(a, b);
    await rejectsWith(
      out.read(),
      /^jit: matmul\+add\+relu: out of GPU memory: simulated/,
      "read",
    );
    // The program lost its storage: the next call compiles it again, and computes.
    const again = step(a, b);
    assert.deepEqual([...await within(again.read(), 5000, "read again")], [4, 8]);
    assert.equal(step.traces, 2);
    for (const t of [out, again]) t.dispose();
    step.dispose();
    await within(backend.sync(), 5000, "sync");
    assert.deepEqual(live(backend.memory()), live(before));
    assert.deepEqual(uncaptured, []);
    a.dispose();
    b.dispose();
    close();
  },
);

gpuTest("jit faults: a program whose kernels cannot be made is freed, not kept", async () => {
  // One workgroup per dispatch at most: the row sums of a [64, 64] tensor need more, so
  // encoding the program's first kernel fails after its memory was planned.
  const own = await gpu({ maxWorkgroupsPerDimension: 1 });
  const x = own.tensor(new Float32Array(64 * 64), [64, 64]);
  const before = own.memory();
  // As fused kernels (a program kernel is one workgroup: it would fit).
  const step = jit((t: Tensor) => sum(sum(exp(t), { axis: 1 })), { kernels: "fused" });
  for (const attempt of ["first", "second"]) {
    assert.throws(() => step(x), /^RangeError: gpu: expected at most 1 workgroups/, attempt);
    assert.deepEqual(live(own.memory()), live(before), `${attempt}: a buffer was kept`);
  }
  assert.equal(step.traces, 0);
  step.dispose();
  x.dispose();
  own.destroy();
});
