/**
 * @file Replaying prepared work, for `jit`'s compiled programs (`jit/program.ts`): what a
 * program makes once — bind groups it keeps, its uniform buffer — and what it encodes
 * into the live batch at every call — prepared dispatches (a pipeline and a bind group
 * made beforehand, so encoding one costs ~1–3 µs instead of the ~12 µs of a new bind
 * group) and staged writes, which carry the call's runtime values into fixed buffers
 * by copies inside the command stream, so calls encoded back to back in one batch each
 * see their own values. Separate from the live batch because only compiled programs use
 * it, and from capture because it runs what a capture recorded.
 */
import type { BufferPools } from "./buffer_pool.ts";
import type { DeviceHealth } from "./device_health.ts";
import type { Grid } from "./device_limits.ts";
import type { LiveBatch } from "./encoder.ts";
import type { PipelineCache } from "./pipeline_cache.ts";
import type { DeviceArray } from "./runtime.ts";

/** Bytes to write into a buffer at an offset, at one point of the command stream. */
export interface StagedWrite {
  readonly target: GPUBuffer;
  readonly offset: number;
  readonly data: Uint8Array<ArrayBuffer>;
}

/** Prepared dispatches and staged writes, encoded into the live batch. */
export class Replay {
  readonly #device: GPUDevice;
  readonly #health: DeviceHealth;
  readonly #pools: BufferPools;
  readonly #pipelines: PipelineCache;
  readonly #live: LiveBatch;

  /** Replays on `live`, with the runtime's other rooms. */
  constructor(rooms: {
    readonly device: GPUDevice;
    readonly health: DeviceHealth;
    readonly pools: BufferPools;
    readonly pipelines: PipelineCache;
    readonly live: LiveBatch;
  }) {
    this.#device = rooms.device;
    this.#health = rooms.health;
    this.#pools = rooms.pools;
    this.#pipelines = rooms.pipelines;
    this.#live = rooms.live;
  }

  /**
   * A bind group to keep: made inside an error scope, so a failure (an invalid pipeline,
   * a buffer that failed) is thrown by the next call or read, naming `op`.
   */
  bindGroup(
    op: string,
    pipeline: GPUComputePipeline,
    uniform: GPUBufferBinding,
    resources: readonly (DeviceArray | GPUTextureView)[],
  ): GPUBindGroup {
    return this.#health.scoped(
      op,
      ["validation"],
      () => this.#pipelines.bindGroup(op, pipeline, uniform, resources),
    );
  }

  /** Encodes a prepared dispatch into the live batch. */
  encodePrepared(
    op: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    grid: Grid,
  ): void {
    this.#live.encode(op, pipeline, bindGroup, grid);
  }

  /**
   * Writes bytes into buffers at this point of the command stream: one `writeBuffer` of
   * all of them into a fresh staging buffer, then a copy per target.
   */
  stage(op: string, writes: readonly StagedWrite[]): void {
    const total = writes.reduce((n, w) => n + Math.ceil(w.data.byteLength / 4) * 4, 0);
    if (total === 0) return;
    const encoder = this.#live.copyEncoder(op);
    const staging = this.#pools.take(op, this.#pools.uploads, total);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const w of writes) {
      bytes.set(w.data, at);
      encoder.copyBufferToBuffer(staging, at, w.target, w.offset, w.data.byteLength);
      at += Math.ceil(w.data.byteLength / 4) * 4;
    }
    this.#device.queue.writeBuffer(staging, 0, bytes);
    this.#live.recycle(this.#pools.uploads, staging);
    this.#live.countWork();
  }

  /** A uniform buffer of `bytes` for prepared dispatches. */
  allocateUniforms(op: string, bytes: number): GPUBuffer {
    return this.#pools.take(op, this.#pools.uniforms, bytes);
  }

  /** Returns a buffer from {@linkcode Replay.allocateUniforms} once no pending work uses it. */
  releaseUniforms(buffer: GPUBuffer): void {
    this.#live.recycle(this.#pools.uniforms, buffer);
  }
}
