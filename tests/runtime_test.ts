import assert from "node:assert/strict";
import { gpu, GpuError, type GpuTensor, matmul } from "../mod.ts";
import {
  type CapturedCommand,
  CaptureResources,
  type DeviceArray,
  GpuRuntime,
  type KernelDispatch,
} from "../runtime.ts";
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

/** A kernel `y = factor·x` over 4 values, compiled as a pipeline of its own per factor. */
function scaling(factor: number, x: DeviceArray, y: DeviceArray): KernelDispatch {
  return {
    op: "probe",
    key: `probe/scale-by-${factor}`,
    wgsl: () => `
      @group(0) @binding(0) var<uniform> n: u32;
      @group(0) @binding(1) var<storage, read> x: array<f32>;
      @group(0) @binding(2) var<storage, read_write> y: array<f32>;
      @compute @workgroup_size(4)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x < n) { y[id.x] = ${factor}.0 * x[id.x]; }
      }`,
    uniforms: new Uint32Array([4, 0, 0, 0]).buffer,
    buffers: [x, y],
    workgroups: 1,
  };
}

gpuTest(
  "runtime: the pipeline cache stays at its bound; an evicted pipeline still runs where it is held",
  async (dev) => {
    const capacity = 4;
    const runtime = new GpuRuntime(dev.device, { pipelineCacheSize: capacity });
    const x = runtime.upload("probe", new Float32Array([1, 2, 3, 4]));
    const y = runtime.allocate("probe", 4);
    try {
      // A compiled program holds a pipeline and a bind group made against it.
      const held = runtime.pipeline(scaling(1, x, y));
      const uniforms = runtime.allocateUniforms("probe", 256);
      runtime.stage("probe", [{
        target: uniforms,
        offset: 0,
        data: new Uint8Array(new Uint32Array([4, 0, 0, 0]).buffer),
      }]);
      const group = runtime.bindGroup("probe", held, { buffer: uniforms, size: 16 }, [x, y]);
      const kernels = 3 * capacity;
      for (let factor = 2; factor <= kernels; factor++) runtime.dispatch(scaling(factor, x, y));
      assert.deepEqual([...await runtime.read("probe", y)], [1, 2, 3, 4].map((v) => kernels * v));
      assert.equal(runtime.stats().pipelines, kernels);
      assert.equal(runtime.stats().cachedPipelines, capacity);
      assert.equal(runtime.pipelineCount, capacity);
      // The first kernel's pipeline was evicted: the held one still runs with its group…
      runtime.encodePrepared("probe", held, group, 1);
      assert.deepEqual([...await runtime.read("probe", y)], [1, 2, 3, 4]);
      // …and a dispatch of that kernel compiles it again, evicting another.
      runtime.dispatch(scaling(1, x, y));
      await runtime.sync();
      assert.equal(runtime.stats().pipelines, kernels + 1);
      assert.equal(runtime.stats().cachedPipelines, capacity);
      runtime.releaseUniforms(uniforms);
    } finally {
      runtime.release(x);
      runtime.release(y);
      runtime.destroy();
    }
  },
);

gpuTest(
  "runtime: a capture records what kernels issue instead of running it; captures nest",
  async (dev) => {
    const runtime = new GpuRuntime(dev.device);
    const x = runtime.upload("probe", new Float32Array([1, 2, 3, 4]));
    const y = runtime.allocate("probe", 4);
    const outer = new CaptureResources();
    const inner = new CaptureResources();
    try {
      const live = runtime.memory().liveBuffers;
      let innerCommands: CapturedCommand[] = [];
      const commands = runtime.capture(outer, () => {
        const temporary = runtime.allocate("probe", 4);
        runtime.dispatch(scaling(2, x, temporary));
        innerCommands = runtime.capture(inner, () => runtime.dispatch(scaling(3, x, y)));
        runtime.copy("probe", temporary, y);
        runtime.release(temporary);
      });
      assert.deepEqual(commands.map((c) => c.kind), ["dispatch", "copy"]);
      assert.deepEqual(innerCommands.map((c) => c.kind), ["dispatch"]);
      // The temporary is the capture's own storage, taken from the pool for real.
      assert.equal(outer.buffers, 1);
      assert.equal(runtime.memory().liveBuffers, live + 1);
      // Nothing was encoded: y still holds the zeros it was made with.
      assert.equal(runtime.stats().dispatches, 0);
      assert.deepEqual([...await runtime.read("probe", y)], [0, 0, 0, 0]);
    } finally {
      outer.dispose();
      inner.dispose();
      runtime.release(x);
      runtime.release(y);
      runtime.destroy();
    }
  },
);

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
