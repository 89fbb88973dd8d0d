import assert from "node:assert/strict";
import { gpu, GpuError, type GpuTensor, matmul } from "../mod.ts";
import { gpuTest, within } from "./_harness.ts";

gpuTest(
  "runtime: a WebGPU validation error comes back as an exception naming the op",
  async (dev) => {
    using x = dev.tensor([1, 2, 3]);
    dev.runtime.dispatch({
      op: "probe",
      key: "probe/invalid",
      wgsl: () => "this is not WGSL",
      uniforms: new ArrayBuffer(16),
      buffers: [(x as GpuTensor).array],
      workgroups: 1,
    });
    await assert.rejects(x.read(), (e: unknown) => {
      assert.ok(e instanceof GpuError);
      assert.match((e as Error).message, /^probe: WebGPU validation error/);
      return true;
    });
    // The backend stays usable.
    using y = dev.tensor([1, 2, 3, 4], [2, 2]);
    using z = matmul(y, y);
    assert.deepEqual([...await z.read()], [7, 10, 15, 22]);
  },
);

gpuTest("runtime: pipelines are compiled once per kernel variant", async (dev) => {
  using a = dev.tensor([1, 2, 3, 4], [2, 2]);
  const before = dev.runtime.pipelineCount;
  for (let i = 0; i < 5; i++) matmul(a, a).dispose();
  matmul(a, a, { transposeA: true }).dispose();
  await dev.sync();
  assert.ok(dev.runtime.pipelineCount - before <= 2);
});

gpuTest(
  "runtime: gpu({ device }) adopts a device the caller owns, and leaves it alive",
  async (dev) => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    const adopted = await gpu({ device });
    assert.equal(adopted.device, device);
    using a = adopted.tensor([1, 2, 3, 4], [2, 2]);
    using c = matmul(a, a);
    assert.deepEqual([...await c.read()], [7, 10, 15, 22]);
    adopted.destroy();
    // The caller's device still works.
    const buffer = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_DST });
    buffer.destroy();
    device.destroy();
    assert.notEqual(adopted.device, dev.device);
  },
);

gpuTest(
  "device loss: pending reads and syncs reject naming the loss, later calls throw, gpu() works",
  async () => {
    const own = await gpu();
    const a = own.tensor([1, 2, 3, 4], [2, 2]);
    const submitted = matmul(a, a);
    const first = submitted.read(); // submitted before the loss
    const unsubmitted = matmul(submitted, a); // encoded, not yet submitted
    own.device.destroy();
    const afterDestroy = unsubmitted.read(); // started after destroy(), before `lost` settles
    const synced = own.sync();
    for (
      const [name, p] of [["first", first], ["after destroy", afterDestroy], [
        "sync",
        synced,
      ]] as const
    ) {
      await assert.rejects(within<unknown>(p, 5000, name), (e: unknown) => {
        assert.ok(e instanceof GpuError, `${name}: ${e}`);
        assert.match((e as Error).message, /device was lost/, name);
        return true;
      });
    }
    assert.throws(() => matmul(a, a), /^GpuError: matmul: the WebGPU device was lost/);
    assert.throws(() => own.tensor([1]), /tensor: the WebGPU device was lost/);
    await assert.rejects(within(a.read(), 5000, "read after loss"), /device was lost/);
    for (const t of [a, submitted, unsubmitted]) t.dispose(); // harmless after the loss
    own.destroy();
    const fresh = await gpu();
    using b = fresh.tensor([1, 2, 3, 4], [2, 2]);
    using c = matmul(b, b);
    assert.deepEqual([...await within(c.read(), 5000, "fresh read")], [7, 10, 15, 22]);
    fresh.destroy();
  },
);
