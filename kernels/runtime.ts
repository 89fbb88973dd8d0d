/**
 * @file The WebGPU runtime that every kernel runs on.
 *
 * One object owns the device and everything that makes many small dispatches cheap:
 * a pipeline cache (each WGSL program is compiled once), a buffer pool keyed by size,
 * and one shared command encoder that ops append compute passes to. The encoder is
 * submitted when a result is read back or after a bounded number of dispatches, so a
 * training loop never waits for the GPU between steps (on Deno any wait costs ~11 ms).
 *
 * Buffers released while commands that use them are still unsubmitted go back to the
 * pool only when that encoder is submitted: `queue.writeBuffer` runs on the queue
 * timeline, ahead of unsubmitted commands, so reusing such a buffer at once would let
 * a later upload overwrite data an earlier dispatch has yet to read.
 *
 * WebGPU reports errors asynchronously. Every dispatch runs inside validation and
 * out-of-memory error scopes; an error found there is thrown, naming the op, by the
 * next dispatch or read. A lost device makes every later call throw at once and every
 * pending read reject, rather than hang.
 */

/** Byte size and count of GPU buffers, as reported by {@linkcode GpuRuntime.memory}. */
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

/** One compute dispatch, as a kernel describes it to the runtime. */
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

/** A float32 array in a pooled GPU storage buffer. */
export interface DeviceArray {
  /** The underlying buffer; may be larger than `byteLength`. */
  readonly buffer: GPUBuffer;
  /** Bytes in use: 4 × element count. */
  readonly byteLength: number;
}

/** Options of {@linkcode GpuRuntime}. */
export interface GpuRuntimeOptions {
  /**
   * Largest workgroup count the runtime puts in one dispatch dimension. Defaults to the
   * device's `maxComputeWorkgroupsPerDimension`; tests lower it to exercise the
   * multi-dimensional dispatch path at small sizes.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /** Dispatches encoded before the shared encoder is submitted without a read. */
  readonly maxDispatchesPerSubmit?: number;
  /** Whether destroying the runtime destroys the device (true when the runtime made it). */
  readonly ownsDevice?: boolean;
}

/** An error raised by WebGPU for an op's dispatch, or by a lost device. */
export class GpuError extends Error {
  /** Creates an error whose message names the op. */
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "GpuError";
  }
}

const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;
const UNIFORM_USAGE = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STAGING_USAGE = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
const TEXTURE_USAGE = GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING;
/** Pooled bytes kept beyond this (per pool: buffers of a usage, textures) are destroyed instead. */
const POOL_BYTE_BUDGET = 256 * 1024 * 1024;

/** Buffers are pooled in size classes: multiples of 256 bytes. */
function sizeClass(bytes: number): number {
  return Math.max(256, Math.ceil(bytes / 256) * 256);
}

/** Free buffers of one usage, by size class. */
class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  #bytes = 0;
  #count = 0;

  constructor(readonly device: GPUDevice, readonly usage: GPUBufferUsageFlags) {}

  take(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const reused = this.#free.get(size)?.pop();
    if (reused) {
      this.#bytes -= size;
      this.#count--;
      return reused;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  give(buffer: GPUBuffer): void {
    if (this.#bytes + buffer.size > POOL_BYTE_BUDGET) {
      buffer.destroy();
      return;
    }
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#free.set(buffer.size, list);
    this.#bytes += buffer.size;
    this.#count++;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#count;
  }

  destroy(): void {
    for (const list of this.#free.values()) list.forEach((b) => b.destroy());
    this.#free.clear();
    this.#bytes = 0;
    this.#count = 0;
  }
}

/** The device, pipeline cache, buffer pools and shared encoder behind the GPU backend. */
export class GpuRuntime {
  /** The device every kernel runs on. */
  readonly device: GPUDevice;
  /** Largest workgroup count placed in one dispatch dimension. */
  readonly maxWorkgroupsPerDimension: number;
  readonly #maxDispatchesPerSubmit: number;
  readonly #ownsDevice: boolean;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #storage: BufferPool;
  readonly #uniforms: BufferPool;
  readonly #staging: BufferPool;
  #encoder: GPUCommandEncoder | null = null;
  #dispatches = 0;
  /** Buffers released while the current encoder may still use them. */
  #releasedInBatch: Array<[BufferPool, GPUBuffer]> = [];
  /** Free scratch textures by "width×height", reused once their encoder is submitted. */
  readonly #textures = new Map<string, GPUTexture[]>();
  #textureBytes = 0;
  #texturesInBatch: GPUTexture[] = [];
  #pendingScopes: Promise<void>[] = [];
  #error: GpuError | null = null;
  #lost: string | null = null;
  readonly #lostSignal: Promise<string>;
  #destroyed = false;
  #liveBuffers = 0;
  #liveBytes = 0;

  /** Wraps a device; see {@linkcode GpuRuntimeOptions}. */
  constructor(device: GPUDevice, options: GpuRuntimeOptions = {}) {
    this.device = device;
    this.maxWorkgroupsPerDimension = Math.min(
      options.maxWorkgroupsPerDimension ?? Infinity,
      device.limits.maxComputeWorkgroupsPerDimension,
    );
    this.#maxDispatchesPerSubmit = options.maxDispatchesPerSubmit ?? 64;
    this.#ownsDevice = options.ownsDevice ?? false;
    this.#storage = new BufferPool(device, STORAGE_USAGE);
    this.#uniforms = new BufferPool(device, UNIFORM_USAGE);
    this.#staging = new BufferPool(device, STAGING_USAGE);
    this.#lostSignal = device.lost.then((info) => {
      this.#lost = info.message || info.reason || "unknown reason";
      return this.#lost;
    });
  }

  /** Number of compiled pipelines in the cache. */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Largest float32 element count one storage binding can hold on this device. */
  get maxElements(): number {
    return Math.floor(
      Math.min(
        this.device.limits.maxStorageBufferBindingSize,
        this.device.limits.maxBufferSize,
      ) / 4,
    );
  }

  /** Throws if the device is lost, the runtime destroyed, or an earlier dispatch failed. */
  assertUsable(op: string): void {
    if (this.#lost !== null) {
      throw new GpuError(
        op,
        `the WebGPU device was lost (${this.#lost}); create a new backend with gpu()`,
      );
    }
    if (this.#destroyed) {
      throw new GpuError(op, "this GPU backend was destroyed; create a new one with gpu()");
    }
    const error = this.#error;
    if (error) {
      this.#error = null;
      throw error;
    }
  }

  /** Takes a storage buffer for `elements` float32 values from the pool. */
  allocate(op: string, elements: number): DeviceArray {
    this.assertUsable(op);
    const byteLength = elements * 4;
    const buffer = this.#storage.take(byteLength);
    this.#liveBuffers++;
    this.#liveBytes += buffer.size;
    return { buffer, byteLength };
  }

  /** Uploads values into a new storage buffer. */
  upload(op: string, values: Float32Array<ArrayBuffer>): DeviceArray {
    const array = this.allocate(op, values.length);
    this.device.queue.writeBuffer(
      array.buffer,
      0,
      values.buffer,
      values.byteOffset,
      values.byteLength,
    );
    return array;
  }

  /** Returns a tensor's buffer to the pool once no unsubmitted command can still use it. */
  release(array: DeviceArray): void {
    this.#liveBuffers--;
    this.#liveBytes -= array.buffer.size;
    this.#recycle(this.#storage, array.buffer);
  }

  #recycle(pool: BufferPool, buffer: GPUBuffer): void {
    if (this.#lost !== null || this.#destroyed) return;
    if (this.#encoder) this.#releasedInBatch.push([pool, buffer]);
    else pool.give(buffer);
  }

  /**
   * An rgba32float texture (storage-writable and sampleable) for the work being encoded
   * now: it is reused only after the shared encoder is submitted, so a kernel may fill
   * it in one dispatch and read it in the next.
   */
  scratchTexture(op: string, width: number, height: number): GPUTexture {
    this.assertUsable(op);
    const key = `${width}×${height}`;
    const reused = this.#textures.get(key)?.pop();
    if (reused) this.#textureBytes -= width * height * 16;
    const texture = reused ?? this.device.createTexture({
      label: `scratch ${key}`,
      size: [width, height],
      format: "rgba32float",
      usage: TEXTURE_USAGE,
    });
    this.#encoder ??= this.device.createCommandEncoder();
    this.#texturesInBatch.push(texture);
    return texture;
  }

  /**
   * Whether work can be encoded without first reporting a failure: false once the
   * device is lost, the runtime destroyed, or an earlier dispatch failed (that error is
   * left for the next op or read to throw).
   */
  get healthy(): boolean {
    return this.#lost === null && !this.#destroyed && this.#error === null;
  }

  /** Counts of buffers and bytes held by live tensors and by the pool. */
  memory(): GpuMemoryStats {
    return {
      liveBuffers: this.#liveBuffers,
      liveBytes: this.#liveBytes,
      pooledBuffers: this.#storage.count + this.#uniforms.count + this.#staging.count,
      pooledBytes: this.#storage.bytes + this.#uniforms.bytes + this.#staging.bytes,
    };
  }

  #pipeline(dispatch: KernelDispatch): GPUComputePipeline {
    let pipeline = this.#pipelines.get(dispatch.key);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: dispatch.key, code: dispatch.wgsl() });
      pipeline = this.device.createComputePipeline({
        label: dispatch.key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(dispatch.key, pipeline);
    }
    return pipeline;
  }

  /**
   * The dispatch grid for `workgroups` groups: x up to the per-dimension limit, then y,
   * then z. Kernels recover the linear index with `LINEAR_WORKGROUP`.
   */
  grid(workgroups: number): [number, number, number] {
    const limit = this.maxWorkgroupsPerDimension;
    if (workgroups > limit ** 3) {
      throw new RangeError(`gpu: expected at most ${limit ** 3} workgroups, got ${workgroups}`);
    }
    const x = Math.max(1, Math.min(workgroups, limit));
    const rows = Math.ceil(workgroups / x);
    const y = Math.min(rows, limit);
    return [x, y, Math.ceil(rows / y)];
  }

  /** Encodes one compute pass into the shared encoder. */
  dispatch(dispatch: KernelDispatch): void {
    this.assertUsable(dispatch.op);
    const [x, y, z] = this.grid(dispatch.workgroups);
    const device = this.device;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const uniform = this.#uniforms.take(dispatch.uniforms.byteLength);
    device.queue.writeBuffer(uniform, 0, dispatch.uniforms);
    const pipeline = this.#pipeline(dispatch);
    const entries: GPUBindGroupEntry[] = [{
      binding: 0,
      resource: { buffer: uniform, size: dispatch.uniforms.byteLength },
    }];
    dispatch.buffers.forEach((array, i) =>
      entries.push({
        binding: i + 1,
        resource: array instanceof GPUTextureView
          ? array
          : { buffer: array.buffer, size: array.byteLength },
      })
    );
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const encoder = this.#encoder ??= device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.#releasedInBatch.push([this.#uniforms, uniform]);
    this.#watch(dispatch.op);
    if (++this.#dispatches >= this.#maxDispatchesPerSubmit) this.flush();
  }

  /** Pops the two error scopes pushed for `op`, keeping the first error found. */
  #watch(op: string): void {
    const validation = this.device.popErrorScope();
    const outOfMemory = this.device.popErrorScope();
    this.#pendingScopes.push(
      Promise.all([validation, outOfMemory]).then(([v, m]) => {
        const error = v ?? m;
        if (error && !this.#error) {
          const kind = m && !v ? "out of GPU memory" : "WebGPU validation error";
          this.#error = new GpuError(op, `${kind}: ${error.message}`);
        }
      }, () => {}),
    );
  }

  /** Copies `elements` values between buffers inside the shared encoder. */
  copy(op: string, from: DeviceArray, to: DeviceArray): void {
    this.assertUsable(op);
    const encoder = this.#encoder ??= this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from.buffer, 0, to.buffer, 0, from.byteLength);
  }

  /** Fills a buffer with zeros inside the shared encoder. */
  clear(op: string, array: DeviceArray): void {
    this.assertUsable(op);
    const encoder = this.#encoder ??= this.device.createCommandEncoder();
    encoder.clearBuffer(array.buffer, 0, array.byteLength);
  }

  /** Submits the shared encoder, if it holds any work, without waiting for it. */
  flush(): void {
    const encoder = this.#encoder;
    if (!encoder || this.#lost !== null) return;
    this.#encoder = null;
    this.#dispatches = 0;
    this.device.pushErrorScope("validation");
    this.device.queue.submit([encoder.finish()]);
    this.#watch("submit");
    for (const [pool, buffer] of this.#releasedInBatch) pool.give(buffer);
    this.#releasedInBatch = [];
    for (const texture of this.#texturesInBatch) {
      const bytes = texture.width * texture.height * 16;
      if (this.#textureBytes + bytes > POOL_BYTE_BUDGET) {
        texture.destroy();
        continue;
      }
      const key = `${texture.width}×${texture.height}`;
      this.#textures.set(key, [...this.#textures.get(key) ?? [], texture]);
      this.#textureBytes += bytes;
    }
    this.#texturesInBatch = [];
  }

  /** Reads a buffer back: submits pending work and resolves with a copy of its values. */
  async read(op: string, array: DeviceArray): Promise<Float32Array> {
    this.assertUsable(op);
    const staging = this.#staging.take(array.byteLength);
    const encoder = this.#encoder ??= this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(array.buffer, 0, staging, 0, array.byteLength);
    this.flush();
    const scopes = this.#pendingScopes;
    this.#pendingScopes = [];
    const lost = this.#lostSignal.then((reason) => {
      throw new GpuError(op, `the WebGPU device was lost (${reason}) before the read finished`);
    });
    try {
      await Promise.race([staging.mapAsync(GPUMapMode.READ, 0, array.byteLength), lost]);
    } catch (error) {
      if (this.#lost !== null) {
        throw new GpuError(
          op,
          `the WebGPU device was lost (${this.#lost}) before the read finished`,
        );
      }
      throw error;
    }
    const values = new Float32Array(staging.getMappedRange(0, array.byteLength).slice(0));
    staging.unmap();
    this.#recycle(this.#staging, staging);
    await Promise.all(scopes);
    this.assertUsable(op);
    return values;
  }

  /** Waits until all submitted work is done and any error it raised is known. */
  async sync(op = "sync"): Promise<void> {
    this.assertUsable(op);
    this.flush();
    const scopes = this.#pendingScopes;
    this.#pendingScopes = [];
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.#lostSignal]);
    await Promise.all(scopes);
    this.assertUsable(op);
  }

  /** Frees the pools and caches, and the device if this runtime created it. */
  destroy(): void {
    if (this.#destroyed) return;
    this.flush();
    this.#destroyed = true;
    this.#storage.destroy();
    this.#uniforms.destroy();
    this.#staging.destroy();
    for (const list of this.#textures.values()) list.forEach((t) => t.destroy());
    this.#textures.clear();
    this.#textureBytes = 0;
    this.#pipelines.clear();
    if (this.#ownsDevice) this.device.destroy();
  }
}
