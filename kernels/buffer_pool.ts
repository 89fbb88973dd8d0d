/**
 * @file The runtime's pooled memory: buffers of each usage (storage, uniform, staging
 * for reads, upload) kept by size class for reuse, the scratch textures of matmul's and
 * corr2d's texture variants, and the counts of what live tensors hold.
 *
 * A training step frees and takes the same sizes every time, so pooling by size class
 * (multiples of 256 bytes) makes a steady loop create no buffers. Each pool keeps at
 * most {@linkcode POOL_BYTE_BUDGET} bytes; beyond that a returned buffer is destroyed. A
 * buffer whose creation failed (out of memory, known only once its error scope reports)
 * is never handed out again. When a buffer may come back is not decided here: the live
 * batch (`kernels/encoder.ts`) holds released buffers until its commands are submitted.
 */
import type { DeviceHealth } from "./device_health.ts";
import type { DeviceArray, GpuMemoryStats } from "./runtime.ts";

/** Pooled bytes kept beyond this (per pool: buffers of a usage, textures) are destroyed instead. */
const POOL_BYTE_BUDGET = 256 * 1024 * 1024;

const TEXTURE_USAGE = GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING |
  GPUTextureUsage.COPY_DST;

/** Buffers are pooled in size classes: multiples of 256 bytes. */
function sizeClass(bytes: number): number {
  return Math.max(256, Math.ceil(bytes / 256) * 256);
}

/** Free buffers of one usage, by size class. */
export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  /** Every buffer in {@linkcode BufferPool.#free}: one given back twice is a bug, not a spare. */
  readonly #kept = new Set<GPUBuffer>();
  #bytes = 0;
  #count = 0;

  /**
   * @param usage The usage of every buffer in the pool.
   * @param invalid Buffers whose creation failed: destroyed, never handed out or kept.
   */
  constructor(readonly usage: GPUBufferUsageFlags, readonly invalid: WeakSet<GPUBuffer>) {}

  /** A free buffer of `bytes`' size class, or a new one made by `create`. */
  take(bytes: number, create: (size: number) => GPUBuffer): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.#free.get(size);
    while (list?.length) {
      const reused = list.pop()!;
      this.#kept.delete(reused);
      this.#bytes -= size;
      this.#count--;
      if (!this.invalid.has(reused)) return reused;
      reused.destroy();
    }
    return create(size);
  }

  /** Keeps `buffer` for reuse, or destroys it (failed, or past the pool's budget). */
  give(buffer: GPUBuffer): void {
    if (this.#kept.has(buffer)) {
      throw new Error(
        `BufferPool: a ${buffer.size}-byte buffer was given back twice (an internal error; ` +
          `please report it): two owners would share it`,
      );
    }
    if (this.invalid.has(buffer) || this.#bytes + buffer.size > POOL_BYTE_BUDGET) {
      buffer.destroy();
      return;
    }
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#kept.add(buffer);
    this.#free.set(buffer.size, list);
    this.#bytes += buffer.size;
    this.#count++;
  }

  /** Bytes kept for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Buffers kept for reuse. */
  get count(): number {
    return this.#count;
  }

  /** Destroys every kept buffer. */
  destroy(): void {
    for (const list of this.#free.values()) list.forEach((b) => b.destroy());
    this.#free.clear();
    this.#kept.clear();
    this.#bytes = 0;
    this.#count = 0;
  }
}

/** Free rgba32float scratch textures, by size. */
export class TexturePool {
  readonly #free = new Map<string, GPUTexture[]>();
  #bytes = 0;

  /** A free texture of this size, or undefined. */
  take(width: number, height: number): GPUTexture | undefined {
    const texture = this.#free.get(`${width}×${height}`)?.pop();
    if (texture) this.#bytes -= width * height * 16;
    return texture;
  }

  /** Keeps `texture` for reuse, or destroys it past the pool's budget. */
  give(texture: GPUTexture): void {
    const bytes = texture.width * texture.height * 16;
    if (this.#bytes + bytes > POOL_BYTE_BUDGET) {
      texture.destroy();
      return;
    }
    const key = `${texture.width}×${texture.height}`;
    this.#free.set(key, [...this.#free.get(key) ?? [], texture]);
    this.#bytes += bytes;
  }

  /** Destroys every kept texture. */
  destroy(): void {
    for (const list of this.#free.values()) list.forEach((t) => t.destroy());
    this.#free.clear();
    this.#bytes = 0;
  }
}

/**
 * Every pool of one device, buffer creation inside error scopes, and the counts of the
 * storage buffers live tensors hold.
 */
export class BufferPools {
  readonly #device: GPUDevice;
  readonly #health: DeviceHealth;
  /** Buffers whose creation raised an error (out of memory): never pooled. */
  readonly #invalid = new WeakSet<GPUBuffer>();
  /** Storage buffers of tensors and temporaries. */
  readonly storage: BufferPool;
  /** Uniform buffers: each batch's arena and compiled programs' uniforms. */
  readonly uniforms: BufferPool;
  /** Mappable buffers that reads copy into. */
  readonly staging: BufferPool;
  /** Buffers that staged writes go through. */
  readonly uploads: BufferPool;
  /** Scratch textures, reused once the batch that used them is submitted. */
  readonly textures: TexturePool = new TexturePool();
  #liveBuffers = 0;
  #liveBytes = 0;

  /** Pools for `device`; creation failures are reported through `health`. */
  constructor(device: GPUDevice, health: DeviceHealth) {
    this.#device = device;
    this.#health = health;
    this.storage = new BufferPool(
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      this.#invalid,
    );
    this.uniforms = new BufferPool(GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, this.#invalid);
    this.staging = new BufferPool(GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, this.#invalid);
    this.uploads = new BufferPool(GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, this.#invalid);
  }

  /**
   * A buffer from `pool`; a new one is made inside error scopes naming `op`, and is
   * marked invalid (destroyed, not pooled, once released) if its creation failed.
   */
  take(op: string, pool: BufferPool, bytes: number): GPUBuffer {
    return pool.take(bytes, (size) => {
      let buffer: GPUBuffer | null = null;
      this.#health.scoped(op, ["out-of-memory", "validation"], () => {
        // Labelled by the op that made it, so a WebGPU error about it names that op.
        buffer = this.#device.createBuffer({ label: op, size, usage: pool.usage });
      }, () => this.#invalid.add(buffer!));
      return buffer!;
    });
  }

  /**
   * A storage buffer of `byteLength` bytes (pooled by that size's class, whatever the
   * element type), counted as live until released.
   */
  allocate(op: string, byteLength: number): DeviceArray {
    const buffer = this.take(op, this.storage, byteLength);
    this.#liveBuffers++;
    this.#liveBytes += buffer.size;
    return { buffer, byteLength };
  }

  /** Stops counting a storage buffer from {@linkcode BufferPools.allocate} as live. */
  forget(array: DeviceArray): void {
    this.#liveBuffers--;
    this.#liveBytes -= array.buffer.size;
  }

  /** Whether creating `buffer` raised an error (known once that error was reported). */
  failed(buffer: GPUBuffer): boolean {
    return this.#invalid.has(buffer);
  }

  /** A new rgba32float texture: a storage texture, sampleable, a copy destination. */
  createTexture(label: string, width: number, height: number): GPUTexture {
    return this.#device.createTexture({
      label,
      size: [width, height],
      format: "rgba32float",
      usage: TEXTURE_USAGE,
    });
  }

  /** Counts of buffers and bytes held by live tensors and by the pools. */
  memory(): GpuMemoryStats {
    const pools = [this.storage, this.uniforms, this.staging, this.uploads];
    return {
      liveBuffers: this.#liveBuffers,
      liveBytes: this.#liveBytes,
      pooledBuffers: pools.reduce((n, pool) => n + pool.count, 0),
      pooledBytes: pools.reduce((n, pool) => n + pool.bytes, 0),
    };
  }

  /** Destroys every pooled buffer and texture. */
  destroy(): void {
    for (const pool of [this.storage, this.uniforms, this.staging, this.uploads]) pool.destroy();
    this.textures.destroy();
  }
}
