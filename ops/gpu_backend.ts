/**
 * @file The WebGPU backend: finding an adapter and device (or adopting the caller's),
 * and tensors stored in pooled GPU buffers of the {@linkcode GpuRuntime}.
 */
import { matmulVariantNamed, pinMatmulVariant } from "../kernels/matmul.ts";
import { type DeviceArray, type GpuMemoryStats, GpuRuntime } from "../kernels/runtime.ts";
import { type Backend, checkTensorArgs, Tensor } from "./tensor.ts";

/** A tensor stored in a GPU buffer. */
export class GpuTensor extends Tensor {
  readonly #backend: GpuBackend;
  #array: DeviceArray | null;

  /** Wraps a device array (owned from now on) as a tensor of `backend`. */
  constructor(backend: GpuBackend, array: DeviceArray, shape: readonly number[]) {
    super(shape);
    this.#backend = backend;
    this.#array = array;
    backend.liveTensors++;
  }

  /** The backend that owns this tensor. */
  get backend(): GpuBackend {
    return this.#backend;
  }

  /** The device array, for kernels; throws once disposed. */
  get array(): DeviceArray {
    if (!this.#array) throw new Error("tensor: this tensor was disposed");
    return this.#array;
  }

  /** Submits pending work and copies the values back, row-major. */
  read(): Promise<Float32Array> {
    try {
      return this.#backend.runtime.read("read", this.array);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Returns the buffer to the pool. */
  protected free(): void {
    if (this.#array) this.#backend.runtime.release(this.#array);
    this.#array = null;
    this.#backend.liveTensors--;
  }
}

/** Live tensors and GPU memory of a {@linkcode GpuBackend}. */
export interface GpuBackendMemory extends GpuMemoryStats {
  /** Tensors made and not yet disposed. */
  readonly liveTensors: number;
}

/** The WebGPU backend; get one with {@linkcode gpu}. */
export class GpuBackend implements Backend {
  /** Always `"webgpu"`. */
  readonly kind = "webgpu" as const;
  /** The adapter's description, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  readonly name: string;
  /** The runtime that compiles, pools, encodes and submits. */
  readonly runtime: GpuRuntime;
  /** Tensors made and not yet disposed. */
  liveTensors = 0;

  /** Wraps a runtime; use {@linkcode gpu} instead. */
  constructor(runtime: GpuRuntime, name: string) {
    this.runtime = runtime;
    this.name = name;
  }

  /** The GPUDevice in use, for interop with other WebGPU code. */
  get device(): GPUDevice {
    return this.runtime.device;
  }

  /** Makes a tensor from row-major values, uploaded to the device. */
  tensor(values: Float32Array | readonly number[], shape?: readonly number[]): GpuTensor {
    this.runtime.assertUsable("tensor");
    const args = checkTensorArgs(values, shape, this.runtime.maxElements);
    return new GpuTensor(this, this.runtime.upload("tensor", args.values), args.shape);
  }

  /** Live tensors, and the buffers and bytes they and the pool hold. */
  memory(): GpuBackendMemory {
    return { liveTensors: this.liveTensors, ...this.runtime.memory() };
  }

  /** Waits until all work so far has run, and throws any error it raised. */
  sync(): Promise<void> {
    return this.runtime.sync();
  }

  /** Frees pooled buffers and, if {@linkcode gpu} created it, the device. */
  destroy(): void {
    this.runtime.destroy();
  }
}

/** Options of {@linkcode gpu}. */
export interface GpuOptions {
  /** A device the caller owns, to adopt instead of requesting one. It is not destroyed. */
  readonly device?: GPUDevice;
  /** Passed to `navigator.gpu.requestAdapter`. */
  readonly powerPreference?: GPUPowerPreference;
  /**
   * Largest workgroup count per dispatch dimension; defaults to the device limit.
   * Lower it only to test the folded multi-dimensional dispatch at small sizes.
   */
  readonly maxWorkgroupsPerDimension?: number;
  /**
   * Runs every matmul with this kernel variant instead of choosing one per shape by
   * measuring: one of `registers4x4`, `registers8x8`, `texture8x8`, `texture16x8`,
   * `texture16x12`, `texture20x12`, `tiled`, `splitK`. For comparing variants and for results that stay
   * bit-identical whatever the shape class's measured choice would be.
   */
  readonly matmulVariant?: string;
}

/**
 * The WebGPU backend: finds an adapter and requests a device with its largest buffer
 * limits, or adopts `options.device`.
 *
 * @param options See {@linkcode GpuOptions}.
 * @returns A backend whose tensors live on the device.
 * @throws {Error} When WebGPU is unavailable or no adapter or device can be had; the
 * message names what is missing.
 * @example
 * ```ts ignore
 * import { gpu, matmul } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using a = dev.tensor([1, 2, 3, 4], [2, 2]);
 * using c = matmul(a, a);
 * console.log(await c.read()); // Float32Array [7, 10, 15, 22]
 * dev.destroy();
 * ```
 */
export async function gpu(options: GpuOptions = {}): Promise<GpuBackend> {
  const pinned = options.matmulVariant === undefined
    ? null
    : matmulVariantNamed(options.matmulVariant);
  if (options.device) {
    const runtime = new GpuRuntime(options.device, {
      maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension,
    });
    if (pinned) pinMatmulVariant(runtime, pinned);
    return new GpuBackend(runtime, options.device.adapterInfo?.description || "adopted device");
  }
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new Error(
      "gpu: WebGPU is not available in this runtime (navigator.gpu is undefined); " +
        "use Deno 2 or a browser with WebGPU enabled",
    );
  }
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: options.powerPreference,
  });
  if (!adapter) {
    throw new Error(
      "gpu: no WebGPU adapter found. On Linux without a GPU install Mesa's software " +
        "Vulkan driver (apt-get install mesa-vulkan-drivers) or use OpenGL with " +
        "DENO_WEBGPU_BACKEND=gl",
    );
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxTextureDimension2D: adapter.limits.maxTextureDimension2D,
      },
    });
  } catch (error) {
    throw new Error(`gpu: the adapter "${adapter.info.description}" gave no device: ${error}`);
  }
  const runtime = new GpuRuntime(device, {
    ownsDevice: true,
    maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension,
  });
  if (pinned) pinMatmulVariant(runtime, pinned);
  return new GpuBackend(runtime, adapter.info.description || adapter.info.vendor || "WebGPU");
}
