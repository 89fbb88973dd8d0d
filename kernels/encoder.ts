/**
 * @file Where a kernel's commands go: a {@linkcode KernelEncoder}. The runtime holds one
 * current encoder and hands every command a kernel issues (storage it takes, uploads,
 * dispatches, copies, clears, scratch textures) to it. Normally that is the
 * {@linkcode LiveBatch}, which encodes into one shared command encoder and submits it
 * when a value is read back or after a bounded number of dispatches (on Deno any wait
 * costs ~11 ms, so a training loop never waits between steps). While `jit` captures a
 * program's kernels, it is a `Capture` (`kernels/capture.ts`), which records the same
 * commands for replay. Kernels are written once, for the interface, and neither the
 * runtime nor a kernel asks which encoder it has.
 *
 * Per dispatch, Deno and a software adapter cost tens of microseconds, so a batch keeps
 * one compute pass open across its dispatches (ended only for copies), and gathers the
 * dispatches' uniform blocks in one arena buffer, written once just before the submit
 * (`writeBuffer` is ordered before the submit that follows it).
 *
 * While a profile runs, the batch holds a `KernelTimer` (`kernels/kernel_timer.ts`) and
 * gives each dispatch a timed pass of its own instead; otherwise it holds none.
 *
 * Buffers released while commands that use them are still unsubmitted go back to the
 * pool only when the batch is submitted: `queue.writeBuffer` runs on the queue timeline,
 * ahead of unsubmitted commands, so reusing such a buffer at once would let a later
 * upload overwrite data an earlier dispatch has yet to read.
 *
 * Eager dispatches make a bind group each: a cache of them keyed by pipeline and buffers
 * would rarely hit, because a tensor's buffer comes from the pool and recombines with
 * others (measured on the decay study's eager steps: 0% hits with 64 entries, 12% with
 * 1,024, even ignoring the uniform block's offset). Compiled programs are the answer:
 * their bind groups are made once (`kernels/replay.ts`).
 */
import type { BufferPool, BufferPools } from "./buffer_pool.ts";
import type { DeviceHealth } from "./device_health.ts";
import type { HostWords } from "./dtype.ts";
import type { DeviceLimits, Grid } from "./device_limits.ts";
import type { PipelineCache } from "./pipeline_cache.ts";
import type { KernelTimer } from "./kernel_timer.ts";
import type { DeviceArray, KernelDispatch } from "./runtime.ts";

/**
 * What a kernel issues, received either by the live batch or by a capture. The runtime
 * checks every argument at its public boundary before handing it on.
 */
export interface KernelEncoder {
  /** Storage of `bytes` (a multiple of 4; a capture's temporaries are its own). */
  allocate(op: string, bytes: number): DeviceArray;
  /** Gives back storage from {@linkcode KernelEncoder.allocate}. */
  release(array: DeviceArray): void;
  /** New storage holding `values`. */
  upload(op: string, values: HostWords): DeviceArray;
  /** An rgba32float texture that the following commands may fill and read. */
  scratchTexture(op: string, width: number, height: number): GPUTexture;
  /** One dispatch, on the grid the runtime checked for it. */
  dispatch(dispatch: KernelDispatch, grid: Grid): void;
  /** Copies all of `from` into `to`, starting at element `offset`. */
  copy(op: string, from: DeviceArray, to: DeviceArray, offset: number): void;
  /** Fills `array` with zeros. */
  clear(op: string, array: DeviceArray): void;
  /** Copies `from`, in rows of `bytesPerRow` bytes, into `texture`'s first texels. */
  copyToTexture(
    op: string,
    from: DeviceArray,
    texture: GPUTexture,
    bytesPerRow: number,
    size: [number, number],
  ): void;
}

/** Most dispatches one submit may gather: the uniform arena holds 256 bytes for each. */
export const MAX_DISPATCHES_PER_SUBMIT = 4096;

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
 * The shared command encoder and what it has gathered since the last submit; the
 * runtime's encoder whenever nothing is being captured.
 */
export class LiveBatch implements KernelEncoder {
  readonly #device: GPUDevice;
  readonly #health: DeviceHealth;
  readonly #pools: BufferPools;
  readonly #pipelines: PipelineCache;
  /** Dispatches encoded before the batch is submitted without a read. */
  readonly maxDispatches: number;
  readonly #uniformStride: number;
  /** The CPU side of the uniform arena, copied to the batch's buffer at submit. */
  readonly #uniformArena: Uint8Array<ArrayBuffer>;
  #batch: Batch | null = null;
  /**
   * Set while a profile runs (`kernels/kernel_timer.ts`): each dispatch then gets a
   * compute pass of its own, timed. Null otherwise, and a dispatch checks only this.
   */
  timer: KernelTimer | null = null;
  #dispatches = 0;
  #submits = 0;
  #workCount = 0;

  /** A batch of at most `maxDispatches` dispatches per submit, on the runtime's other rooms. */
  constructor(rooms: {
    readonly device: GPUDevice;
    readonly limits: DeviceLimits;
    readonly health: DeviceHealth;
    readonly pools: BufferPools;
    readonly pipelines: PipelineCache;
  }, maxDispatches: number) {
    this.#device = rooms.device;
    this.#health = rooms.health;
    this.#pools = rooms.pools;
    this.#pipelines = rooms.pipelines;
    this.maxDispatches = maxDispatches;
    this.#uniformStride = rooms.limits.uniformStride;
    this.#uniformArena = new Uint8Array(this.#uniformStride * maxDispatches);
  }

  /** Dispatches encoded (eager and prepared) since the batch was made. */
  get dispatches(): number {
    return this.#dispatches;
  }

  /** Command buffers submitted. */
  get submits(): number {
    return this.#submits;
  }

  /** Storage buffers taken plus dispatches and copies encoded. */
  get workCount(): number {
    return this.#workCount;
  }

  allocate(op: string, bytes: number): DeviceArray {
    this.#workCount++;
    return this.#pools.allocate(op, bytes);
  }

  release(array: DeviceArray): void {
    this.#pools.forget(array);
    this.recycle(this.#pools.storage, array.buffer);
  }

  upload(op: string, values: HostWords): DeviceArray {
    const array = this.allocate(op, values.byteLength);
    this.#device.queue.writeBuffer(
      array.buffer,
      0,
      values.buffer,
      values.byteOffset,
      values.byteLength,
    );
    return array;
  }

  scratchTexture(_op: string, width: number, height: number): GPUTexture {
    const texture = this.#pools.textures.take(width, height) ??
      this.#pools.createTexture(`scratch ${width}×${height}`, width, height);
    this.#open().textures.push(texture);
    return texture;
  }

  dispatch(dispatch: KernelDispatch, grid: Grid): void {
    const pipeline = this.#pipelines.get(dispatch);
    const batch = this.#open();
    batch.uniformBuffer ??= this.#pools.take(
      dispatch.op,
      this.#pools.uniforms,
      this.#uniformArena.byteLength,
    );
    const offset = batch.uniformBytes;
    this.#uniformArena.set(new Uint8Array(dispatch.uniforms), offset);
    batch.uniformBytes += this.#uniformStride;
    const bindGroup = this.#pipelines.bindGroup(
      dispatch.op,
      pipeline,
      { buffer: batch.uniformBuffer, offset, size: dispatch.uniforms.byteLength },
      dispatch.buffers,
    );
    this.encode(dispatch.op, pipeline, bindGroup, grid);
  }

  /** Encodes a dispatch into the batch's compute pass; submits a batch that is full. */
  encode(
    op: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    [x, y, z]: Grid,
  ): void {
    const batch = this.#open();
    const timer = this.timer;
    if (timer) {
      batch.pass?.end();
      batch.pass = batch.encoder.beginComputePass(timer.pass(op, batch.encoder));
    }
    const pass = batch.pass ??= batch.encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.#workCount++;
    this.#dispatches++;
    batch.ops.add(op);
    if (++batch.dispatches >= this.maxDispatches) this.flush();
  }

  copy(op: string, from: DeviceArray, to: DeviceArray, offset: number): void {
    this.copyEncoder(op).copyBufferToBuffer(from.buffer, 0, to.buffer, offset * 4, from.byteLength);
    this.#workCount++;
  }

  clear(op: string, array: DeviceArray): void {
    this.copyEncoder(op).clearBuffer(array.buffer, 0, array.byteLength);
    this.#workCount++;
  }

  copyToTexture(
    op: string,
    from: DeviceArray,
    texture: GPUTexture,
    bytesPerRow: number,
    [width, height]: [number, number],
  ): void {
    this.copyEncoder(op).copyBufferToTexture(
      { buffer: from.buffer, bytesPerRow },
      { texture },
      [width, height],
    );
    this.#workCount++;
  }

  /**
   * The batch's command encoder with no compute pass open, for copy commands naming `op`
   * (a caller that counts them as work calls {@linkcode LiveBatch.countWork}).
   */
  copyEncoder(op: string): GPUCommandEncoder {
    const batch = this.#open();
    batch.pass?.end();
    batch.pass = null;
    batch.ops.add(op);
    return batch.encoder;
  }

  /** Counts one piece of work encoded outside this class (a staged write). */
  countWork(): void {
    this.#workCount++;
  }

  /**
   * Returns `buffer` to `pool` once no unsubmitted command can still use it: at the next
   * submit if a batch is open, else now. Dropped if the device is lost or destroyed.
   */
  recycle(pool: BufferPool, buffer: GPUBuffer): void {
    if (!this.#health.alive) return;
    if (this.#batch) this.#batch.released.push([pool, buffer]);
    else pool.give(buffer);
  }

  /** Submits the batch, if there is one, without waiting for it. */
  flush(): void {
    const batch = this.#batch;
    if (!batch || this.#health.lost) return;
    this.#batch = null;
    this.#submits++;
    batch.pass?.end();
    this.timer?.resolve(batch.encoder);
    if (batch.uniformBuffer) {
      this.#device.queue.writeBuffer(
        batch.uniformBuffer,
        0,
        this.#uniformArena,
        0,
        batch.uniformBytes,
      );
      batch.released.push([this.#pools.uniforms, batch.uniformBuffer]);
    }
    // An invalid command names its op by its bind group's label; else list the batch's ops.
    const ops = [...batch.ops].join(", ");
    this.#health.scoped(ops, ["out-of-memory", "validation"], () => {
      this.#device.queue.submit([batch.encoder.finish()]);
    });
    for (const [pool, buffer] of batch.released) pool.give(buffer);
    for (const texture of batch.textures) this.#pools.textures.give(texture);
  }

  /** The batch being encoded, begun if there is none. */
  #open(): Batch {
    return this.#batch ??= {
      encoder: this.#device.createCommandEncoder(),
      pass: null,
      uniformBuffer: null,
      uniformBytes: 0,
      dispatches: 0,
      ops: new Set(),
      released: [],
      textures: [],
    };
  }
}
