/**
 * @file Kernel-only GPU time from `timestamp-query`, without touching the library's
 * runtime: a timestamp pass is submitted before the work and another after it, on the
 * same queue, so the difference is the time the device spent on the work (on Deno any
 * wait for the GPU costs ~11 ms here, which wall-clock timing of one op would include).
 * Where the adapter lacks the feature, {@linkcode openBenchDevice} says so and callers
 * fall back to wall time.
 */
import { gpu, type GpuBackend } from "../mod.ts";

/** A backend for benches, with timestamp queries when the adapter has them. */
export interface BenchDevice {
  /** The backend under test; it does not own the device. */
  readonly backend: GpuBackend;
  /** The adapter's description. */
  readonly adapter: string;
  /** Kernel-only timer, or null where the adapter lacks `timestamp-query`. */
  readonly timer: GpuTimer | null;
  /** Destroys the backend and the device. */
  destroy(): void;
}

/**
 * Requests a device with the adapter's largest limits, and `timestamp-query` and
 * `shader-f16` where offered.
 */
export async function openBenchDevice(): Promise<BenchDevice> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) {
    throw new Error(
      "bench: no WebGPU adapter; install mesa-vulkan-drivers or set DENO_WEBGPU_BACKEND=gl",
    );
  }
  const timestamps = adapter.features.has("timestamp-query");
  const features: GPUFeatureName[] = ["timestamp-query", "shader-f16"];
  const device = await adapter.requestDevice({
    // As gpu() requests them: float16 where the adapter has it.
    requiredFeatures: features.filter((f) => adapter.features.has(f)),
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxTextureDimension2D: adapter.limits.maxTextureDimension2D,
      // As gpu() requests them, so matmul's tiled kernel sizes its tiles as users get them.
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: adapter.limits.maxComputeWorkgroupSizeY,
    },
  });
  const backend = await gpu({ device });
  return {
    backend,
    adapter: adapter.info.description || adapter.info.vendor || "WebGPU",
    timer: timestamps ? new GpuTimer(device) : null,
    destroy() {
      backend.destroy();
      device.destroy();
    },
  };
}

/** Measures device time between two timestamp passes around submitted work. */
export class GpuTimer {
  readonly #device: GPUDevice;
  readonly #queries: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  readonly #staging: GPUBuffer;

  /** Wraps a device created with the `timestamp-query` feature. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#queries = device.createQuerySet({ type: "timestamp", count: 2 });
    this.#resolve = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.#staging = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  #stamp(index: number, resolve: boolean): void {
    const encoder = this.#device.createCommandEncoder();
    encoder.beginComputePass({
      timestampWrites: index === 0
        ? { querySet: this.#queries, beginningOfPassWriteIndex: 0 }
        : { querySet: this.#queries, endOfPassWriteIndex: 1 },
    }).end();
    if (resolve) {
      encoder.resolveQuerySet(this.#queries, 0, 2, this.#resolve, 0);
      encoder.copyBufferToBuffer(this.#resolve, 0, this.#staging, 0, 16);
    }
    this.#device.queue.submit([encoder.finish()]);
  }

  /**
   * Runs `encode` (which encodes work into `backend`'s runtime) between two
   * timestamps and resolves with the device time in milliseconds.
   */
  async time(backend: GpuBackend, encode: () => void): Promise<number> {
    backend.runtime.flush();
    this.#stamp(0, false);
    encode();
    backend.runtime.flush();
    this.#stamp(1, true);
    await this.#staging.mapAsync(GPUMapMode.READ);
    const [start, end] = new BigUint64Array(
      this.#staging.getMappedRange().slice(0),
    );
    this.#staging.unmap();
    return Number(end - start) / 1e6;
  }
}
