/**
 * The WebGPU runtime under the GPU backend, for extending the library rather than using
 * it: writing kernels of one's own that run on the same device, pipelines, buffer pool
 * and shared command encoder as the library's ops (so they batch with them and never
 * wait), and capturing kernels for replay, as `jit` does.
 *
 * - The runtime: {@linkcode GpuRuntime} (`gpu().runtime`), its options
 *   {@linkcode GpuRuntimeOptions}, a dispatch as a kernel describes it
 *   ({@linkcode KernelDispatch}), and a float32 array in a pooled buffer
 *   ({@linkcode DeviceArray}); {@linkcode GpuTensor} wraps one as a tensor.
 * - Capture for replay: {@linkcode CaptureResources}, {@linkcode CaptureAllocators} and
 *   {@linkcode CapturedCommand}.
 * - Timing dispatches: {@linkcode KernelTimer} (set with `GpuRuntime.setTimer`; what
 *   `dev.profile` uses) and the {@linkcode KernelSpan}s it reports.
 * - WGSL helpers: {@linkcode LINEAR_WORKGROUP} (the folded dispatch grid),
 *   {@linkcode packUniforms}, {@linkcode asBlocks}.
 *
 * @example
 * ```ts
 * import { gpu } from "@deno-gpu/kernels";
 * import { GpuTensor, type KernelDispatch } from "@deno-gpu/kernels/runtime";
 * // y = 2·x with a kernel of one's own, on the library's runtime.
 * const dev = await gpu();
 * using x = dev.tensor([1, 2, 3]) as GpuTensor;
 * const y = dev.runtime.allocate("double", 3);
 * const double: KernelDispatch = {
 *   op: "double",
 *   key: "example/double",
 *   wgsl: () => `
 *     @group(0) @binding(0) var<uniform> n: u32;
 *     @group(0) @binding(1) var<storage, read> x: array<f32>;
 *     @group(0) @binding(2) var<storage, read_write> y: array<f32>;
 *     @compute @workgroup_size(64)
 *     fn main(@builtin(global_invocation_id) id: vec3u) {
 *       if (id.x < n) { y[id.x] = 2.0 * x[id.x]; }
 *     }`,
 *   uniforms: new Uint32Array([3, 0, 0, 0]).buffer,
 *   buffers: [x.array, y],
 *   workgroups: 1,
 * };
 * dev.runtime.dispatch(double);
 * using doubled = new GpuTensor(dev, y, [3]);
 * console.log(await doubled.read()); // Float32Array [2, 4, 6]
 * dev.destroy();
 * ```
 *
 * @module
 */
export {
  type DeviceArray,
  GpuRuntime,
  type GpuRuntimeOptions,
  type KernelDispatch,
} from "./kernels/runtime.ts";
export {
  type CaptureAllocators,
  type CapturedCommand,
  CaptureResources,
} from "./kernels/capture.ts";
export type { HostWords } from "./kernels/dtype.ts";
export { type KernelSpan, KernelTimer } from "./kernels/kernel_timer.ts";
export { GpuTensor } from "./ops/gpu_backend.ts";
export { asBlocks, LINEAR_WORKGROUP, packUniforms, type UniformWord } from "./kernels/_shared.ts";
