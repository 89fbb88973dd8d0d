/**
 * @file Compiled compute pipelines, each WGSL program compiled once and kept by its key,
 * and the bind groups made against them.
 *
 * The cache is bounded (by default {@linkcode PIPELINE_CACHE_SIZE}; least recently used
 * first out, `kernels/lru_cache.ts`): `jit`'s kernels and some generated ones have keys that
 * include shapes, so a process that meets many shapes would otherwise keep every
 * pipeline it ever compiled. Eviction only drops the cache's reference. A pipeline held
 * elsewhere (by a compiled program's prepared dispatch, or by a bind group made against
 * its layout) stays valid and usable; the next dispatch of an evicted key compiles a new
 * pipeline, and bind groups are always made against the pipeline they are used with,
 * since an `"auto"` layout belongs to one pipeline. A pipeline's layout is looked up once
 * and kept in a `WeakMap`, which lets it go with its pipeline.
 */
import type { DeviceHealth } from "./device_health.ts";
import { LruCache } from "./lru_cache.ts";
import type { DeviceArray, KernelDispatch } from "./runtime.ts";

/**
 * Compiled pipelines a runtime keeps unless told otherwise (`GpuRuntimeOptions`'s
 * `pipelineCacheSize`): room for the kernels of several training programs at once,
 * while a process meeting ever new shapes (whose kernels' keys include them) stays
 * bounded. Past this, the pipeline used longest ago is dropped (and compiled again if
 * its kernel comes back).
 */
export const PIPELINE_CACHE_SIZE = 256;

/** Compiled pipelines by key, and their bind group layouts. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #health: DeviceHealth;
  readonly #pipelines: LruCache<string, GPUComputePipeline>;
  /** Each pipeline's bind group layout (asking the pipeline costs a call into WebGPU). */
  readonly #layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  #compiled = 0;

  /**
   * A cache of at most `capacity` pipelines for `device`; compilation errors are reported
   * through `health`.
   */
  constructor(device: GPUDevice, health: DeviceHealth, capacity: number) {
    this.#device = device;
    this.#health = health;
    this.#pipelines = new LruCache(capacity);
  }

  /** Pipelines compiled since the cache was made (each key again after its eviction). */
  get compiled(): number {
    return this.#compiled;
  }

  /** Pipelines kept now: at most the capacity. */
  get size(): number {
    return this.#pipelines.size;
  }

  /**
   * The compiled pipeline of a dispatch: compiled on first use (inside an error scope, so
   * a WGSL error is thrown by the next call or read, naming the dispatch's op), then kept
   * by key.
   */
  get(dispatch: KernelDispatch): GPUComputePipeline {
    const cached = this.#pipelines.get(dispatch.key);
    if (cached) return cached;
    const pipeline = this.#health.scoped(
      dispatch.op,
      ["validation"],
      () =>
        this.#device.createComputePipeline({
          label: dispatch.op,
          layout: "auto",
          compute: {
            module: this.#device.createShaderModule({ label: dispatch.key, code: dispatch.wgsl() }),
            entryPoint: "main",
          },
        }),
    );
    this.#compiled++;
    this.#pipelines.set(dispatch.key, pipeline);
    return pipeline;
  }

  /**
   * A bind group for `pipeline`, labelled `label` (so an invalid command names its op): a
   * uniform block at binding 0, then the resources in order at bindings 1, 2, ….
   */
  bindGroup(
    label: string,
    pipeline: GPUComputePipeline,
    uniform: GPUBufferBinding,
    resources: readonly (DeviceArray | GPUTextureView)[],
  ): GPUBindGroup {
    return this.#device.createBindGroup({
      label,
      layout: this.#layoutOf(pipeline),
      entries: [
        { binding: 0, resource: uniform },
        ...resources.map((array, i) => ({
          binding: i + 1,
          resource: array instanceof GPUTextureView
            ? array
            : { buffer: array.buffer, size: array.byteLength },
        })),
      ],
    });
  }

  /** Forgets every pipeline. */
  clear(): void {
    this.#pipelines.clear();
  }

  #layoutOf(pipeline: GPUComputePipeline): GPUBindGroupLayout {
    let layout = this.#layouts.get(pipeline);
    if (!layout) {
      layout = pipeline.getBindGroupLayout(0);
      this.#layouts.set(pipeline, layout);
    }
    return layout;
  }
}
