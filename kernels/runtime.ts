/**
 * @file The WebGPU runtime that every kernel runs on: one façade over the rooms that
 * make many small dispatches cheap and safe, each in a file of its own:
 *
 * - `kernels/device_limits.ts`: what the device allows (largest binding, the folded
 *   dispatch grid, the uniform block's size and spacing);
 * - `kernels/device_health.ts`: error scopes, device loss, destruction, `GpuError`;
 * - `kernels/buffer_pool.ts`: buffers pooled by usage and size class, scratch textures;
 * - `kernels/pipeline_cache.ts`: each WGSL program compiled once, in a bounded cache;
 * - `kernels/encoder.ts`: the `KernelEncoder` a kernel's commands go to, and
 *   the live batch (one shared command encoder, submitted when a value is read back or
 *   after a bounded number of dispatches, so a training loop never waits for the GPU);
 * - `kernels/capture.ts`: the encoder that records a kernel's commands for `jit`;
 * - `kernels/replay.ts`: prepared dispatches and staged writes, for `jit`'s replay;
 * - `kernels/kernel_timer.ts`: each dispatch named and timed, while a profile runs.
 *
 * The runtime checks every argument at its public boundary, then hands the command to
 * its current encoder: the live batch, or a capture while {@linkcode GpuRuntime.capture}
 * runs. Reads, submits, staged writes and prepared dispatches always go to the live
 * batch: they are what replay and the caller do, never what a captured kernel issues.
 */
import { BufferPools } from "./buffer_pool.ts";
import { Capture, type CapturedCommand, type CaptureResources } from "./capture.ts";
import {
  checkArity,
  checkElementCount,
  checkFlag,
  checkInteger,
  checkOptions,
  describeValue,
} from "./_checks.ts";
import { DeviceHealth } from "./device_health.ts";
import { type DType, hostValues, hostWords, type StorageArray, storageBytes } from "./dtype.ts";
import { DeviceLimits } from "./device_limits.ts";
import { type KernelEncoder, LiveBatch, MAX_DISPATCHES_PER_SUBMIT } from "./encoder.ts";
import { templateCount } from "./kernel_plan.ts";
import type { KernelTimer } from "./kernel_timer.ts";
import { PIPELINE_CACHE_SIZE, PipelineCache } from "./pipeline_cache.ts";
import { programTemplateCount } from "./program_kernel.ts";
import { Replay } from "./replay.ts";

export { GpuError } from "./device_health.ts";
export { MAX_UNIFORM_BYTES } from "./device_limits.ts";

/**
 * Byte size and count of GPU buffers, as reported by {@linkcode GpuRuntime.memory}.
 *
 * @example
 * ```ts
 * import { gpu, type GpuMemoryStats } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using t = dev.tensor(new Float32Array(100));
 * const stats: GpuMemoryStats = dev.runtime.memory();
 * console.log(stats.liveBuffers, stats.liveBytes); // 1 512: 400 bytes, pooled in 256-byte classes
 * dev.destroy();
 * ```
 */
export interface GpuMemoryStats {
  /** Buffers held by live tensors. */
  readonly liveBuffers: number;
  /** Bytes held by live tensors. */
  readonly liveBytes: number;
  /** Buffers kept in the pool for reuse (already allocated on the device). */
  readonly pooledBuffers: number;
  /** Bytes kept in the pool for reuse. */
  readonly pooledBytes: number;
}

/**
 * What the runtime has done since it was made: dispatches encoded (eager and replayed),
 * command buffers submitted, reads of values back, pipelines compiled; how many compiled
 * pipelines its bounded cache keeps now; and the kernel generator's cached templates
 * (shared by every runtime of the process).
 *
 * @example
 * ```ts
 * import { gpu, relu } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using x = dev.tensor([-1, 2]);
 * using y = relu(x);
 * await y.read();
 * console.log(dev.stats());
 * // { dispatches: 1, submits: 1, reads: 1, pipelines: 1, cachedPipelines: 1, templates: 1, programTemplates: 0 }
 * dev.destroy();
 * ```
 */
export interface GpuStats {
  /** Compute dispatches encoded. */
  readonly dispatches: number;
  /** Command buffers submitted to the queue. */
  readonly submits: number;
  /** Values read back (each a wait for the GPU). */
  readonly reads: number;
  /** Compute pipelines compiled (a key evicted from the cache and met again compiles again). */
  readonly pipelines: number;
  /** Compiled pipelines the cache keeps now: at most the runtime's `pipelineCacheSize`. */
  readonly cachedPipelines: number;
  /**
   * Generated kernels' templates held now (module-global: one cache for the process),
   * at most `TEMPLATE_CAPACITY` of `kernels/kernel_plan.ts`.
   */
  readonly templates: number;
  /** Program kernels held now (module-global), at most `PROGRAM_TEMPLATE_CAPACITY`. */
  readonly programTemplates: number;
}

/**
 * One compute dispatch, as a kernel describes it to the runtime.
 *
 * @example
 * ```ts
 * import { gpu } from "@deno-gpu/kernels";
 * import { GpuTensor, type KernelDispatch } from "@deno-gpu/kernels/runtime";
 * // A kernel of one's own on the library's runtime: y = 2·x.
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
 * using doubled = new GpuTensor(dev, y, [3]); // the tensor owns the buffer from now on
 * console.log(await doubled.read()); // Float32Array [2, 4, 6]
 * dev.destroy();
 * ```
 */
export interface KernelDispatch {
  /** The public op this dispatch serves, named in any error. */
  readonly op: string;
  /** Pipeline cache key: equal keys must mean equal WGSL. */
  readonly key: string;
  /** Builds the WGSL source; called once per key. */
  readonly wgsl: () => string;
  /** Contents of the uniform buffer at `@binding(0)`. */
  readonly uniforms: ArrayBuffer;
  /**
   * Resources bound at `@binding(1)`, `@binding(2)`, … in order: storage buffers, or
   * views of textures from {@linkcode GpuRuntime.scratchTexture}.
   */
  readonly buffers: readonly (DeviceArray | GPUTextureView)[];
  /** Number of workgroups; folded into more dimensions past the per-dimension limit. */
  readonly workgroups: number;
}

/**
 * A float32 array in a pooled GPU storage buffer.
 *
 * @example
 * ```ts
 * import { gpu } from "@deno-gpu/kernels";
 * import type { DeviceArray, GpuTensor } from "@deno-gpu/kernels/runtime";
 * const dev = await gpu();
 * using t = dev.tensor([1, 2, 3]) as GpuTensor;
 * const array: DeviceArray = t.array;
 * console.log(array.byteLength, array.buffer.size); // 12 256
 * dev.destroy();
 * ```
 */
export interface DeviceArray {
  /** The underlying buffer; may be larger than `byteLength`. */
  readonly buffer: GPUBuffer;
  /** Bytes in use: the element count × the type's bytes, rounded up to a multiple of 4. */
  readonly byteLength: number;
}

/**
 * Options of {@linkcode GpuRuntime}.
 *
 * @example
 * ```ts
 * import { gpu } from "@deno-gpu/kernels";
 * import { GpuRuntime, type GpuRuntimeOptions } from "@deno-gpu/kernels/runtime";
 * const dev = await gpu();
 * const options: GpuRuntimeOptions = { maxDispatchesPerSubmit: 16 };
 * const runtime = new GpuRuntime(dev.device, options); // a second runtime on the same device
 * console.log(runtime.pipelineCount); // 0
 * runtime.destroy();
 * dev.destroy();
 * ```
 */
export interface GpuRuntimeOptions {
  /**
   * Largest workgroup count the runtime puts in one dispatch dimension. Defaults to the
   * device's `maxComputeWorkgroupsPerDimension`; tests lower it to exercise the
   * multi-dimensional dispatch path at small sizes.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /** Dispatches encoded before the shared encoder is submitted without a read (1 to 4096). */
  readonly maxDispatchesPerSubmit?: number;
  /** Whether destroying the runtime destroys the device (true when the runtime made it). */
  readonly ownsDevice?: boolean;
  /**
   * Compiled pipelines kept (the least recently used is dropped past it, and compiled
   * again if its kernel comes back). Defaults to 256 (`PIPELINE_CACHE_SIZE`).
   */
  readonly pipelineCacheSize?: number;
}

/**
/**
 * The device, pipeline cache, buffer pools and shared encoder behind the GPU backend.
 *
 * @example
 * ```ts
 * import { gpu, l2Penalty } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using w = dev.tensor([1, 2]);
 * using p = l2Penalty(w);
 * await p.read(); // submits the shared encoder and waits for the result
 * console.log(dev.runtime.pipelineCount > 0, dev.runtime.maxElements > 0); // true true
 * dev.destroy();
 * ```
 */
export class GpuRuntime {
  /** The device every kernel runs on. */
  readonly device: GPUDevice;
  readonly #ownsDevice: boolean;
  readonly #limits: DeviceLimits;
  readonly #health: DeviceHealth;
  readonly #pools: BufferPools;
  readonly #pipelines: PipelineCache;
  readonly #live: LiveBatch;
  readonly #replay: Replay;
  /** Where kernels' commands go now: the live batch, or a capture. */
  #encoder: KernelEncoder;
  #reads = 0;

  /** Wraps a device; see {@linkcode GpuRuntimeOptions}. */
  constructor(device: GPUDevice, options: GpuRuntimeOptions = {}) {
    const op = "GpuRuntime";
    checkArity(op, arguments, 2);
    if (!(device instanceof GPUDevice)) {
      throw new TypeError(`${op}: expected a GPUDevice, got ${describeValue(device)}`);
    }
    const o = checkOptions(op, options, false, [
      "maxWorkgroupsPerDimension",
      "maxDispatchesPerSubmit",
      "ownsDevice",
      "pipelineCacheSize",
    ]);
    this.device = device;
    this.#limits = new DeviceLimits(
      device,
      o.maxWorkgroupsPerDimension === undefined
        ? Infinity
        : checkInteger(op, "maxWorkgroupsPerDimension", o.maxWorkgroupsPerDimension, { min: 1 }),
    );
    const maxDispatches = o.maxDispatchesPerSubmit === undefined
      ? 64
      : checkInteger(op, "maxDispatchesPerSubmit", o.maxDispatchesPerSubmit, {
        min: 1,
        max: MAX_DISPATCHES_PER_SUBMIT,
      });
    this.#ownsDevice = checkFlag(op, "ownsDevice", o.ownsDevice);
    const limits = this.#limits;
    const health = this.#health = new DeviceHealth(device);
    const pools = this.#pools = new BufferPools(device, health);
    const pipelines = this.#pipelines = new PipelineCache(
      device,
      health,
      o.pipelineCacheSize === undefined
        ? PIPELINE_CACHE_SIZE
        : checkInteger(op, "pipelineCacheSize", o.pipelineCacheSize, { min: 1 }),
    );
    const live = this.#live = new LiveBatch(
      { device, limits, health, pools, pipelines },
      maxDispatches,
    );
    this.#replay = new Replay({ device, health, pools, pipelines, live });
    this.#encoder = live;
  }

  /** Largest workgroup count placed in one dispatch dimension. */
  get maxWorkgroupsPerDimension(): number {
    return this.#limits.maxWorkgroupsPerDimension;
  }

  /** Number of compiled pipelines in the cache (at most the `pipelineCacheSize` option). */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Dispatches encoded before the shared encoder is submitted without a read. */
  get dispatchesPerSubmit(): number {
    return this.#live.maxDispatches;
  }

  /**
   * Counts of dispatches, submits, reads and pipelines since the runtime was made, and
   * the generated kernels' templates held now.
   */
  stats(): GpuStats {
    return {
      dispatches: this.#live.dispatches,
      submits: this.#live.submits,
      reads: this.#reads,
      pipelines: this.#pipelines.compiled,
      cachedPipelines: this.#pipelines.size,
      templates: templateCount(),
      programTemplates: programTemplateCount(),
    };
  }

  /**
   * Storage buffers taken plus dispatches and copies encoded since the runtime was made.
   * A call refused at the public boundary leaves it unchanged (the tests check this).
   */
  get workCount(): number {
    return this.#live.workCount;
  }

  /** Largest float32 element count one storage binding can hold on this device. */
  get maxElements(): number {
    return this.#limits.maxElements;
  }

  /** Throws if the device is lost, the runtime destroyed, or an earlier dispatch failed. */
  assertUsable(op: string): void {
    this.#health.assertUsable(op);
  }

  /**
   * Whether work can be encoded without first reporting a failure: false once the
   * device is lost, the runtime destroyed, or an earlier dispatch failed (that error is
   * left for the next op or read to throw).
   */
  get healthy(): boolean {
    return this.#health.healthy;
  }

  /**
   * Takes a storage buffer for `elements` values of `dtype` (float32 by default) from
   * the pool, which keeps buffers by byte size whatever their type. More elements than
   * one binding holds ({@linkcode GpuRuntime.maxElements}) is a `RangeError` naming `op`
   * and the limit, thrown before anything is allocated.
   */
  allocate(op: string, elements: number, dtype: DType = "float32"): DeviceArray {
    this.assertUsable(op);
    checkElementCount(op, elements, this.maxElements);
    return this.#encoder.allocate(op, storageBytes(elements, dtype));
  }

  /**
   * Uploads values into a new storage buffer, stored as their type is (`kernels/dtype.ts`:
   * a `Uint8Array` of bool as u32 words).
   */
  upload(op: string, values: StorageArray): DeviceArray {
    this.assertUsable(op);
    checkElementCount(op, values.length, this.maxElements);
    return this.#encoder.upload(op, hostWords(values));
  }

  /**
   * Whether creating `buffer` raised an error (out of GPU memory): known once that error
   * was reported. Its contents are lost; a holder should let it go (a released buffer that
   * failed is destroyed, never pooled).
   */
  failed(buffer: GPUBuffer): boolean {
    return this.#pools.failed(buffer);
  }

  /** Returns a tensor's buffer to the pool once no unsubmitted command can still use it. */
  release(array: DeviceArray): void {
    this.#encoder.release(array);
  }

  /**
   * An rgba32float texture (a storage texture, sampleable, a copy destination) for the
   * work being encoded now: it is reused only after the shared encoder is submitted, so
   * a kernel (or {@linkcode GpuRuntime.copyToTexture}) may fill it and the next dispatch
   * read it.
   */
  scratchTexture(op: string, width: number, height: number): GPUTexture {
    this.assertUsable(op);
    return this.#encoder.scratchTexture(op, width, height);
  }

  /** Counts of buffers and bytes held by live tensors and by the pool. */
  memory(): GpuMemoryStats {
    return this.#pools.memory();
  }

  /** The compiled pipeline of a dispatch (compiled on first use, then cached by key). */
  pipeline(dispatch: KernelDispatch): GPUComputePipeline {
    this.assertUsable(dispatch.op);
    return this.#pipelines.get(dispatch);
  }

  /**
   * The dispatch grid for `workgroups` groups: x up to the per-dimension limit, then y,
   * then z. Kernels recover the linear index with `LINEAR_WORKGROUP`.
   */
  grid(workgroups: number): [number, number, number] {
    return this.#limits.grid(workgroups);
  }

  /** Encodes one dispatch into the batch's open compute pass (or records it, capturing). */
  dispatch(dispatch: KernelDispatch): void {
    this.assertUsable(dispatch.op);
    this.#encoder.dispatch(dispatch, this.#limits.dispatchGrid(dispatch));
  }

  /** Whether dispatches are being captured (for a compiled program that replays them). */
  get capturing(): boolean {
    return this.#encoder !== this.#live;
  }

  /**
   * Runs `block` capturing instead of encoding (see `kernels/capture.ts`): returns the
   * commands it issued, with temporaries and textures from `resources`. A capture inside
   * `block` records its own commands, and this one resumes after it.
   */
  capture(resources: CaptureResources, block: () => void): CapturedCommand[] {
    const live = this.#live;
    resources.begin({
      allocate: (op, bytes) => live.allocate(op, bytes),
      release: (array) => live.release(array),
      texture: (width, height) =>
        this.#pools.createTexture(`captured ${width}×${height}`, width, height),
    });
    const outer = this.#encoder;
    const capture = new Capture(resources, outer);
    this.#encoder = capture;
    try {
      block();
    } finally {
      this.#encoder = outer;
    }
    return capture.commands;
  }

  /**
   * Makes a bind group: a uniform block at binding 0, then the resources. Made once and
   * kept (by compiled programs), so inside an error scope: a failure (an invalid pipeline,
   * a buffer that failed) is thrown by the next call or read, naming `op`.
   */
  bindGroup(
    op: string,
    pipeline: GPUComputePipeline,
    uniform: GPUBufferBinding,
    resources: readonly (DeviceArray | GPUTextureView)[],
  ): GPUBindGroup {
    return this.#replay.bindGroup(op, pipeline, uniform, resources);
  }

  /** Encodes a prepared dispatch (pipeline and bind group made beforehand) into the batch. */
  encodePrepared(
    op: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: number,
  ): void {
    this.assertUsable(op);
    this.#replay.encodePrepared(op, pipeline, bindGroup, this.#limits.grid(workgroups));
  }

  /**
   * Writes bytes into buffers at this point of the command stream: one `writeBuffer` of
   * all of them into a fresh staging buffer, then a copy per target. Work encoded
   * earlier in the batch still sees the old contents; work encoded later the new.
   */
  stage(
    op: string,
    writes: readonly { target: GPUBuffer; offset: number; data: Uint8Array<ArrayBuffer> }[],
  ): void {
    this.assertUsable(op);
    this.#replay.stage(op, writes);
  }

  /** A uniform buffer of `bytes` for prepared dispatches; give it back with {@linkcode GpuRuntime.releaseUniforms}. */
  allocateUniforms(op: string, bytes: number): GPUBuffer {
    this.assertUsable(op);
    return this.#replay.allocateUniforms(op, bytes);
  }

  /** Returns a buffer from {@linkcode GpuRuntime.allocateUniforms}. */
  releaseUniforms(buffer: GPUBuffer): void {
    this.#replay.releaseUniforms(buffer);
  }

  /** Copies all of `from` into `to`, starting at element `offset`, inside the shared encoder. */
  copy(op: string, from: DeviceArray, to: DeviceArray, offset = 0): void {
    this.assertUsable(op);
    this.#encoder.copy(op, from, to, offset);
  }

  /**
   * Copies `from`, in rows of `bytesPerRow` bytes (a multiple of 256), into the first
   * `width`×`height` texels of `texture` (a scratch texture), inside the shared encoder.
   */
  copyToTexture(
    op: string,
    from: DeviceArray,
    texture: GPUTexture,
    bytesPerRow: number,
    size: [number, number],
  ): void {
    this.assertUsable(op);
    this.#encoder.copyToTexture(op, from, texture, bytesPerRow, size);
  }

  /** Fills a buffer with zeros inside the shared encoder. */
  clear(op: string, array: DeviceArray): void {
    this.assertUsable(op);
    this.#encoder.clear(op, array);
  }

  /** Submits the batch, if there is one, without waiting for it. */
  flush(): void {
    this.#live.flush();
  }

  /**
   * Names and times every dispatch encoded from now on with `timer` (`dev.profile`);
   * null stops. The batch is submitted first, so a timer sees only its own dispatches
   * and has resolved all its queries once stopped.
   */
  setTimer(timer: KernelTimer | null): void {
    this.#live.flush();
    this.#live.timer = timer;
  }

  /**
   * Reads a buffer of `dtype` values (float32 by default) back: submits pending work and
   * resolves with a copy of its values, in the type's host array.
   */
  async read(op: string, array: DeviceArray, dtype: DType = "float32"): Promise<StorageArray> {
    this.assertUsable(op);
    const encoder = this.#live.copyEncoder(op);
    this.#reads++;
    const staging = this.#pools.take(op, this.#pools.staging, array.byteLength);
    encoder.copyBufferToBuffer(array.buffer, 0, staging, 0, array.byteLength);
    this.#live.flush();
    const scopes = this.#health.scopesSoFar();
    await this.#health.survive(op, staging.mapAsync(GPUMapMode.READ, 0, array.byteLength));
    const values = hostValues(staging.getMappedRange(0, array.byteLength).slice(0), dtype);
    staging.unmap();
    this.#live.recycle(this.#pools.staging, staging);
    await scopes;
    this.assertUsable(op);
    return values;
  }

  /** Waits until all submitted work is done and any error it raised is known. */
  async sync(op = "sync"): Promise<void> {
    this.assertUsable(op);
    this.#live.flush();
    const scopes = this.#health.scopesSoFar();
    await this.#health.idle();
    await scopes;
    this.assertUsable(op);
  }

  /** Frees the pools and caches, and the device if this runtime created it. */
  destroy(): void {
    if (this.#health.destroyed) return;
    this.#live.flush();
    this.#health.destroy();
    this.#pools.destroy();
    this.#pipelines.clear();
    if (this.#ownsDevice) this.device.destroy();
  }
}
