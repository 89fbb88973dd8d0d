/**
 * @file The WebGPU runtime that every kernel runs on.
 *
 * One object owns the device and everything that makes many small dispatches cheap:
 * a pipeline cache (each WGSL program is compiled once), a buffer pool keyed by size,
 * and one shared command encoder that ops append compute passes to. The encoder is
 * submitted when a result is read back or after a bounded number of dispatches, so a
 * training loop never waits for the GPU between steps (on Deno any wait costs ~11 ms).
 *
 * Per dispatch, Deno and a software adapter cost tens of microseconds, so a batch keeps
 * one compute pass open across its dispatches (ended only for copies), and gathers the
 * dispatches' uniform blocks in one arena buffer, written once just before the submit
 * (`writeBuffer` is ordered before the submit that follows it).
 *
 * Buffers released while commands that use them are still unsubmitted go back to the
 * pool only when that encoder is submitted: `queue.writeBuffer` runs on the queue
 * timeline, ahead of unsubmitted commands, so reusing such a buffer at once would let
 * a later upload overwrite data an earlier dispatch has yet to read.
 *
 * WebGPU reports errors asynchronously. Error scopes surround each pipeline's creation
 * (a WGSL error names its op), each new buffer (out of memory names its op), each bind
 * group a compiled program keeps, and each batch's submit, where an invalid command's
 * message names the op through the label of its bind group. An error is thrown by the
 * next call or read. A lost device makes every later call throw at once and every
 * pending read reject, rather than hang.
 *
 * Eager dispatches make a bind group each: a cache of them keyed by pipeline and buffers
 * would rarely hit, because a tensor's buffer comes from the pool and recombines with
 * others (measured on the decay study's eager steps: 0% hits with 64 entries, 12% with
 * 1,024, even ignoring the uniform block's offset). Compiled programs are the answer:
 * their bind groups are made once.
 *
 * For `jit`, the runtime can capture kernels instead of encoding them
 * (`kernels/capture.ts`), and replay prepared dispatches: a pipeline and a bind group
 * made once, encoded into the shared pass, with the runtime values of a call staged
 * into fixed buffers by copies inside the command stream (so calls encoded back to back
 * in one batch each see their own values).
 */
import { Capture, type CapturedCommand, type CaptureResources } from "./capture.ts";
import {
  checkArity,
  checkElementCount,
  checkFlag,
  checkInteger,
  checkOptions,
  describeValue,
} from "./_checks.ts";
import { templateCount } from "./kernel_plan.ts";
import { programTemplateCount } from "./program_kernel.ts";

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
 * command buffers submitted, reads of values back, pipelines compiled; and the kernel
 * generator's cached templates (shared by every runtime of the process).
 *
 * @example
 * ```ts
 * import { gpu, relu } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using x = dev.tensor([-1, 2]);
 * using y = relu(x);
 * await y.read();
 * console.log(dev.stats());
 * // { dispatches: 1, submits: 1, reads: 1, pipelines: 1, templates: 1, programTemplates: 0 }
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
  /** Compute pipelines compiled (cached by WGSL). */
  readonly pipelines: number;
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
  /** Bytes in use: 4 × element count. */
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
}

/**
 * An error raised by WebGPU for an op's dispatch, or by a lost device.
 *
 * @example
 * ```ts
 * import { GpuError } from "@deno-gpu/kernels";
 * const error = new GpuError("matmul", "out of GPU memory");
 * console.log(error.name, error.message); // "GpuError" "matmul: out of GPU memory"
 * ```
 */
export class GpuError extends Error {
  /** Creates an error whose message names the op. */
  constructor(op: string, message: string) {
    checkArity("GpuError", arguments, 2);
    super(`${op}: ${message}`);
    this.name = "GpuError";
  }
}

const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;
const UNIFORM_USAGE = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
const STAGING_USAGE = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
const UPLOAD_USAGE = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
/**
 * Largest uniform block a kernel may use: 64 words, one alignment step of the arena on
 * every adapter (`minUniformBufferOffsetAlignment` is at most 256).
 */
export const MAX_UNIFORM_BYTES = 256;
const TEXTURE_USAGE = GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING |
  GPUTextureUsage.COPY_DST;
/** Pooled bytes kept beyond this (per pool: buffers of a usage, textures) are destroyed instead. */
const POOL_BYTE_BUDGET = 256 * 1024 * 1024;

/** Most dispatches one submit may gather: the uniform arena holds 256 bytes for each. */
const MAX_DISPATCHES_PER_SUBMIT = 4096;

/** How long a failed read waits to learn whether the device was lost. */
const LOST_GRACE_MS = 1000;

/** Buffers are pooled in size classes: multiples of 256 bytes. */
function sizeClass(bytes: number): number {
  return Math.max(256, Math.ceil(bytes / 256) * 256);
}

/** Free buffers of one usage, by size class. */
class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  #bytes = 0;
  #count = 0;

  constructor(readonly usage: GPUBufferUsageFlags) {}

  /**
   * A free buffer of `bytes`' size class, or a new one (made by `create`). Buffers in
   * `invalid` (their creation failed) are destroyed, never handed out again.
   */
  take(bytes: number, create: (size: number) => GPUBuffer, invalid: WeakSet<GPUBuffer>): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.#free.get(size);
    while (list?.length) {
      const reused = list.pop()!;
      this.#bytes -= size;
      this.#count--;
      if (!invalid.has(reused)) return reused;
      reused.destroy();
    }
    return create(size);
  }

  give(buffer: GPUBuffer, invalid: WeakSet<GPUBuffer>): void {
    if (invalid.has(buffer) || this.#bytes + buffer.size > POOL_BYTE_BUDGET) {
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

/** The commands encoded since the last submit. */
interface Batch {
  readonly encoder: GPUCommandEncoder;
  /** The open compute pass, if the last command was a dispatch. */
  pass: GPUComputePassEncoder | null;
  /** The GPU side of the uniform arena; null until the first dispatch. */
  uniformBuffer: GPUBuffer | null;
  /** Bytes of the arena in use. */
  uniformBytes: number;
  dispatches: number;
  /** The ops encoded, for error messages. */
  readonly ops: Set<string>;
  /** Buffers released while this batch may still use them. */
  readonly released: Array<[BufferPool, GPUBuffer]>;
  /** Scratch textures this batch uses, pooled again once it is submitted. */
  readonly textures: GPUTexture[];
}

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
  /** Largest workgroup count placed in one dispatch dimension. */
  readonly maxWorkgroupsPerDimension: number;
  readonly #maxDispatchesPerSubmit: number;
  readonly #ownsDevice: boolean;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  /** Each pipeline's bind group layout (asking the pipeline costs a call into WebGPU). */
  readonly #layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  readonly #storage: BufferPool;
  readonly #uniforms: BufferPool;
  readonly #staging: BufferPool;
  readonly #uploads: BufferPool;
  /** The kernels being captured instead of encoded, if any. */
  #capture: Capture | null = null;
  #dispatches = 0;
  #submits = 0;
  #reads = 0;
  /** Bytes between two dispatches' uniform blocks in the arena. */
  readonly #uniformStride: number;
  /** The CPU side of the uniform arena, copied to the batch's buffer at submit. */
  readonly #uniformArena: Uint8Array<ArrayBuffer>;
  #batch: Batch | null = null;
  /** Free scratch textures by "width×height", reused once their batch is submitted. */
  readonly #textures = new Map<string, GPUTexture[]>();
  #textureBytes = 0;
  #pendingScopes: Promise<void>[] = [];
  #error: GpuError | null = null;
  #lost: string | null = null;
  readonly #lostSignal: Promise<string>;
  #destroyed = false;
  #liveBuffers = 0;
  #liveBytes = 0;
  #workCount = 0;
  /** Buffers whose creation raised an error (out of memory): never pooled. */
  readonly #invalidBuffers = new WeakSet<GPUBuffer>();

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
    ]);
    this.device = device;
    this.maxWorkgroupsPerDimension = Math.min(
      o.maxWorkgroupsPerDimension === undefined
        ? Infinity
        : checkInteger(op, "maxWorkgroupsPerDimension", o.maxWorkgroupsPerDimension, { min: 1 }),
      device.limits.maxComputeWorkgroupsPerDimension,
    );
    this.#maxDispatchesPerSubmit = o.maxDispatchesPerSubmit === undefined
      ? 64
      : checkInteger(op, "maxDispatchesPerSubmit", o.maxDispatchesPerSubmit, {
        min: 1,
        max: MAX_DISPATCHES_PER_SUBMIT,
      });
    this.#ownsDevice = checkFlag(op, "ownsDevice", o.ownsDevice);
    this.#storage = new BufferPool(STORAGE_USAGE);
    this.#uniforms = new BufferPool(UNIFORM_USAGE);
    this.#staging = new BufferPool(STAGING_USAGE);
    this.#uploads = new BufferPool(UPLOAD_USAGE);
    const alignment = device.limits.minUniformBufferOffsetAlignment;
    this.#uniformStride = Math.ceil(MAX_UNIFORM_BYTES / alignment) * alignment;
    this.#uniformArena = new Uint8Array(this.#uniformStride * this.#maxDispatchesPerSubmit);
    this.#lostSignal = device.lost.then((info) => {
      this.#lost = info.message || info.reason || "unknown reason";
      return this.#lost;
    });
  }

  /** Number of compiled pipelines in the cache. */
  get pipelineCount(): number {
    return this.#pipelines.size;
  }

  /** Dispatches encoded before the shared encoder is submitted without a read. */
  get dispatchesPerSubmit(): number {
    return this.#maxDispatchesPerSubmit;
  }

  /**
   * Counts of dispatches, submits, reads and pipelines since the runtime was made, and
   * the generated kernels' templates held now.
   */
  stats(): GpuStats {
    return {
      dispatches: this.#dispatches,
      submits: this.#submits,
      reads: this.#reads,
      pipelines: this.#pipelines.size,
      templates: templateCount(),
      programTemplates: programTemplateCount(),
    };
  }

  /**
   * Storage buffers taken plus dispatches and copies encoded since the runtime was made.
   * A call refused at the public boundary leaves it unchanged (the tests check this).
   */
  get workCount(): number {
    return this.#workCount;
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

  /**
   * Takes a storage buffer for `elements` float32 values from the pool. More elements
   * than one binding holds ({@linkcode GpuRuntime.maxElements}) is a `RangeError` naming
   * `op` and the limit, thrown before anything is allocated.
   */
  allocate(op: string, elements: number): DeviceArray {
    this.assertUsable(op);
    checkElementCount(op, elements, this.maxElements);
    if (this.#capture) return this.#capture.resources.temporary(op, elements);
    this.#workCount++;
    const byteLength = elements * 4;
    const buffer = this.#take(op, this.#storage, byteLength);
    this.#liveBuffers++;
    this.#liveBytes += buffer.size;
    return { buffer, byteLength };
  }

  /**
   * A buffer from `pool`; a new one is made inside error scopes naming `op`, and is
   * marked invalid (destroyed, not pooled, once released) if its creation failed.
   */
  #take(op: string, pool: BufferPool, bytes: number): GPUBuffer {
    return pool.take(bytes, (size) => {
      let buffer: GPUBuffer | null = null;
      this.#scoped(op, ["out-of-memory", "validation"], () => {
        buffer = this.device.createBuffer({ size, usage: pool.usage });
      }, () => this.#invalidBuffers.add(buffer!));
      return buffer!;
    }, this.#invalidBuffers);
  }

  /**
   * Runs `block` inside error scopes; an error they catch is kept, naming `op`, and
   * `onError` runs.
   */
  #scoped<T>(
    op: string,
    filters: GPUErrorFilter[],
    block: () => T,
    onError: () => void = () => {},
  ): T {
    filters.forEach((filter) => this.device.pushErrorScope(filter));
    try {
      return block();
    } finally {
      const popped = filters.map(() => this.device.popErrorScope());
      this.#pendingScopes.push(
        Promise.all(popped).then((errors) => {
          const index = errors.findIndex((e) => e !== null);
          if (index < 0) return;
          onError();
          if (this.#error) return;
          const kind = filters[filters.length - 1 - index] === "out-of-memory"
            ? "out of GPU memory"
            : "WebGPU validation error";
          this.#error = new GpuError(op, `${kind}: ${errors[index]!.message}`);
        }, () => {}),
      );
    }
  }

  /** Uploads values into a new storage buffer. */
  upload(op: string, values: Float32Array<ArrayBuffer>): DeviceArray {
    if (this.#capture) {
      this.assertUsable(op);
      checkElementCount(op, values.length, this.maxElements);
      return this.#capture.upload(op, values);
    }
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

  /**
   * Whether creating `buffer` raised an error (out of GPU memory): known once that error
   * was reported. Its contents are lost; a holder should let it go (a released buffer that
   * failed is destroyed, never pooled).
   */
  failed(buffer: GPUBuffer): boolean {
    return this.#invalidBuffers.has(buffer);
  }

  /** Returns a tensor's buffer to the pool once no unsubmitted command can still use it. */
  release(array: DeviceArray): void {
    if (this.#capture?.resources.owns(array)) return;
    this.#liveBuffers--;
    this.#liveBytes -= array.buffer.size;
    this.#recycle(this.#storage, array.buffer);
  }

  #recycle(pool: BufferPool, buffer: GPUBuffer): void {
    if (this.#lost !== null || this.#destroyed) return;
    if (this.#batch) this.#batch.released.push([pool, buffer]);
    else pool.give(buffer, this.#invalidBuffers);
  }

  /**
   * An rgba32float texture (a storage texture, sampleable, a copy destination) for the
   * work being encoded now: it is reused only after the shared encoder is submitted, so
   * a kernel (or {@linkcode GpuRuntime.copyToTexture}) may fill it and the next dispatch
   * read it.
   */
  scratchTexture(op: string, width: number, height: number): GPUTexture {
    this.assertUsable(op);
    if (this.#capture) return this.#capture.resources.texture(width, height);
    const key = `${width}×${height}`;
    const reused = this.#textures.get(key)?.pop();
    if (reused) this.#textureBytes -= width * height * 16;
    const texture = reused ?? this.device.createTexture({
      label: `scratch ${key}`,
      size: [width, height],
      format: "rgba32float",
      usage: TEXTURE_USAGE,
    });
    this.#open().textures.push(texture);
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
      pooledBuffers: this.#storage.count + this.#uniforms.count + this.#staging.count +
        this.#uploads.count,
      pooledBytes: this.#storage.bytes + this.#uniforms.bytes + this.#staging.bytes +
        this.#uploads.bytes,
    };
  }

  #layoutOf(pipeline: GPUComputePipeline): GPUBindGroupLayout {
    let layout = this.#layouts.get(pipeline);
    if (!layout) {
      layout = pipeline.getBindGroupLayout(0);
      this.#layouts.set(pipeline, layout);
    }
    return layout;
  }

  /** The compiled pipeline of a dispatch (compiled on first use, then cached by key). */
  pipeline(dispatch: KernelDispatch): GPUComputePipeline {
    this.assertUsable(dispatch.op);
    return this.#pipeline(dispatch);
  }

  #pipeline(dispatch: KernelDispatch): GPUComputePipeline {
    let pipeline = this.#pipelines.get(dispatch.key);
    if (!pipeline) {
      pipeline = this.#scoped(dispatch.op, ["validation"], () =>
        this.device.createComputePipeline({
          label: dispatch.op,
          layout: "auto",
          compute: {
            module: this.device.createShaderModule({ label: dispatch.key, code: dispatch.wgsl() }),
            entryPoint: "main",
          },
        }));
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

  /** The batch being encoded, begun if there is none. */
  #open(): Batch {
    return this.#batch ??= {
      encoder: this.device.createCommandEncoder(),
      pass: null,
      uniformBuffer: null,
      uniformBytes: 0,
      dispatches: 0,
      ops: new Set(),
      released: [],
      textures: [],
    };
  }

  /** The open batch with no compute pass open, for copies. */
  #openForCopy(op: string): Batch {
    if (this.#capture) throw new Error(`${op}: the runtime is capturing kernels, not running them`);
    this.assertUsable(op);
    const batch = this.#open();
    batch.pass?.end();
    batch.pass = null;
    batch.ops.add(op);
    return batch;
  }

  /** Encodes one dispatch into the batch's open compute pass. */
  dispatch(dispatch: KernelDispatch): void {
    this.assertUsable(dispatch.op);
    if (dispatch.uniforms.byteLength > MAX_UNIFORM_BYTES) {
      throw new RangeError(
        `${dispatch.op}: expected a uniform block of at most ${MAX_UNIFORM_BYTES} bytes, got ${dispatch.uniforms.byteLength}`,
      );
    }
    if (this.#capture) {
      this.grid(dispatch.workgroups);
      this.#capture.dispatch(dispatch);
      return;
    }
    const [x, y, z] = this.grid(dispatch.workgroups);
    const pipeline = this.#pipeline(dispatch);
    const batch = this.#open();
    batch.uniformBuffer ??= this.#take(dispatch.op, this.#uniforms, this.#uniformArena.byteLength);
    const offset = batch.uniformBytes;
    this.#uniformArena.set(new Uint8Array(dispatch.uniforms), offset);
    batch.uniformBytes += this.#uniformStride;
    const bindGroup = this.device.createBindGroup({
      label: dispatch.op,
      layout: this.#layoutOf(pipeline),
      entries: bindGroupEntries(
        { buffer: batch.uniformBuffer, offset, size: dispatch.uniforms.byteLength },
        dispatch.buffers,
      ),
    });
    this.#encode(batch, dispatch.op, pipeline, bindGroup, [x, y, z]);
  }

  /** Encodes a dispatch into the batch's compute pass; submits a batch that is full. */
  #encode(
    batch: Batch,
    op: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    [x, y, z]: readonly [number, number, number],
  ): void {
    const pass = batch.pass ??= batch.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.#workCount++;
    this.#dispatches++;
    batch.ops.add(op);
    if (++batch.dispatches >= this.#maxDispatchesPerSubmit) this.flush();
  }

  /**
   * Runs `block` capturing instead of encoding (see `kernels/capture.ts`): returns the
   * commands it issued, with temporaries and textures from `resources`.
   */
  capture(resources: CaptureResources, block: () => void): CapturedCommand[] {
    if (this.#capture) throw new Error("runtime: captures do not nest");
    const capture = new Capture(resources);
    resources.begin({
      allocate: (op, elements) => {
        const previous = this.#capture;
        this.#capture = null;
        try {
          return this.allocate(op, elements);
        } finally {
          this.#capture = previous;
        }
      },
      release: (array) => this.release(array),
      texture: (width, height) =>
        this.device.createTexture({
          label: `captured ${width}×${height}`,
          size: [width, height],
          format: "rgba32float",
          usage: TEXTURE_USAGE,
        }),
    });
    this.#capture = capture;
    try {
      block();
    } finally {
      this.#capture = null;
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
    return this.#scoped(op, ["validation"], () =>
      this.device.createBindGroup({
        label: op,
        layout: this.#layoutOf(pipeline),
        entries: bindGroupEntries(uniform, resources),
      }));
  }

  /** Encodes a prepared dispatch (pipeline and bind group made beforehand) into the batch. */
  encodePrepared(
    op: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: number,
  ): void {
    this.assertUsable(op);
    const grid = this.grid(workgroups);
    this.#encode(this.#open(), op, pipeline, bindGroup, grid);
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
    const total = writes.reduce((n, w) => n + Math.ceil(w.data.byteLength / 4) * 4, 0);
    if (total === 0) return;
    const batch = this.#openForCopy(op);
    const staging = this.#take(op, this.#uploads, total);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const w of writes) {
      bytes.set(w.data, at);
      batch.encoder.copyBufferToBuffer(staging, at, w.target, w.offset, w.data.byteLength);
      at += Math.ceil(w.data.byteLength / 4) * 4;
    }
    this.device.queue.writeBuffer(staging, 0, bytes);
    batch.released.push([this.#uploads, staging]);
    this.#workCount++;
  }

  /** A uniform buffer of `bytes` for prepared dispatches; give it back with {@linkcode GpuRuntime.releaseUniforms}. */
  allocateUniforms(op: string, bytes: number): GPUBuffer {
    this.assertUsable(op);
    return this.#take(op, this.#uniforms, bytes);
  }

  /** Returns a buffer from {@linkcode GpuRuntime.allocateUniforms}. */
  releaseUniforms(buffer: GPUBuffer): void {
    this.#recycle(this.#uniforms, buffer);
  }

  /** Copies all of `from` into `to`, starting at element `offset`, inside the shared encoder. */
  copy(op: string, from: DeviceArray, to: DeviceArray, offset = 0): void {
    if (this.#capture) return this.#capture.copy(op, from, to, offset);
    this.#openForCopy(op).encoder.copyBufferToBuffer(
      from.buffer,
      0,
      to.buffer,
      offset * 4,
      from.byteLength,
    );
    this.#workCount++;
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
    [width, height]: [number, number],
  ): void {
    if (this.#capture) {
      return this.#capture.copyToTexture(op, from, texture, bytesPerRow, [width, height]);
    }
    this.#openForCopy(op).encoder.copyBufferToTexture(
      { buffer: from.buffer, bytesPerRow },
      { texture },
      [width, height],
    );
    this.#workCount++;
  }

  /** Fills a buffer with zeros inside the shared encoder. */
  clear(op: string, array: DeviceArray): void {
    if (this.#capture) return this.#capture.clear(op, array);
    this.#openForCopy(op).encoder.clearBuffer(array.buffer, 0, array.byteLength);
    this.#workCount++;
  }

  /** Submits the batch, if there is one, without waiting for it. */
  flush(): void {
    if (this.#capture) throw new Error("runtime: no submit while kernels are captured");
    const batch = this.#batch;
    if (!batch || this.#lost !== null) return;
    this.#batch = null;
    this.#submits++;
    batch.pass?.end();
    if (batch.uniformBuffer) {
      this.device.queue.writeBuffer(
        batch.uniformBuffer,
        0,
        this.#uniformArena,
        0,
        batch.uniformBytes,
      );
      batch.released.push([this.#uniforms, batch.uniformBuffer]);
    }
    // An invalid command names its op by its bind group's label; else list the batch's ops.
    const ops = [...batch.ops].join(", ");
    this.#scoped(ops, ["out-of-memory", "validation"], () => {
      this.device.queue.submit([batch.encoder.finish()]);
    });
    for (const [pool, buffer] of batch.released) pool.give(buffer, this.#invalidBuffers);
    for (const texture of batch.textures) {
      const bytes = texture.width * texture.height * 16;
      if (this.#textureBytes + bytes > POOL_BYTE_BUDGET) {
        texture.destroy();
        continue;
      }
      const key = `${texture.width}×${texture.height}`;
      this.#textures.set(key, [...this.#textures.get(key) ?? [], texture]);
      this.#textureBytes += bytes;
    }
  }

  /** Reads a buffer back: submits pending work and resolves with a copy of its values. */
  async read(op: string, array: DeviceArray): Promise<Float32Array> {
    const batch = this.#openForCopy(op);
    this.#reads++;
    const staging = this.#take(op, this.#staging, array.byteLength);
    batch.encoder.copyBufferToBuffer(array.buffer, 0, staging, 0, array.byteLength);
    this.flush();
    const scopes = this.#pendingScopes;
    this.#pendingScopes = [];
    const lost = this.#lostSignal.then((reason) => {
      throw new GpuError(op, `the WebGPU device was lost (${reason}) before the read finished`);
    });
    try {
      await Promise.race([staging.mapAsync(GPUMapMode.READ, 0, array.byteLength), lost]);
    } catch (error) {
      // A device destroyed underneath fails the map before its lost promise settles.
      if (this.#lost === null) await this.#lostWithin(LOST_GRACE_MS);
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

  /** Waits up to `ms` for the device's lost promise to settle. */
  async #lostWithin(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#lostSignal.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
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
    this.#uploads.destroy();
    for (const list of this.#textures.values()) list.forEach((t) => t.destroy());
    this.#textures.clear();
    this.#textureBytes = 0;
    this.#pipelines.clear();
    if (this.#ownsDevice) this.device.destroy();
  }
}

/** A bind group's entries: the uniform block at binding 0, then the resources in order. */
function bindGroupEntries(
  uniform: GPUBufferBinding,
  resources: readonly (DeviceArray | GPUTextureView)[],
): GPUBindGroupEntry[] {
  return [
    { binding: 0, resource: uniform },
    ...resources.map((array, i) => ({
      binding: i + 1,
      resource: array instanceof GPUTextureView
        ? array
        : { buffer: array.buffer, size: array.byteLength },
    })),
  ];
}
