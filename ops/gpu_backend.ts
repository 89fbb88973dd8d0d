/**
 * @file The WebGPU backend: finding an adapter and device (or adopting the caller's),
 * and tensors stored in pooled GPU buffers of the {@linkcode GpuRuntime}.
 */
import {
  configureMatmul,
  MATMUL_TUNING_MODES,
  type MatmulConfiguration,
  type MatmulShape,
  type MatmulTuningMode,
  matmulVariantNamed,
  tuneMatmul,
} from "../kernels/matmul.ts";
import {
  type DeviceArray,
  type GpuMemoryStats,
  GpuRuntime,
  type GpuStats,
} from "../kernels/runtime.ts";
import { disposedRead } from "./cpu_backend.ts";
import { formatValues, type ShownValues, SUMMARY_THRESHOLD } from "./_format.ts";
import { encodeOp, type OpDefinition } from "./_op.ts";
import { Backend } from "./backend.ts";
import { storageBytes } from "../kernels/dtype.ts";
import { ALL_TYPES, checkDType, type DType, type StorageArray } from "./dtype.ts";
import {
  brandBackend,
  brandTensor,
  checkTensorArgs,
  describe,
  formatShape,
  showValuesFrom,
  storageSize,
  Tensor,
  type TensorOptions,
} from "./tensor.ts";
import { recorderFor } from "./_trace.ts";
import { gpuRecording, runProfiled } from "./profile.ts";
import type { ProfileReport } from "./profile_report.ts";
import { checkArity, checkFlag, checkInteger, checkOptions } from "./_validate.ts";

let takeArray: (tensor: GpuTensor) => DeviceArray;

/**
 * A tensor stored in a GPU buffer.
 *
 * @example
 * ```ts
 * import { gpu, type GpuTensor } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using t = dev.tensor([1, 2, 3]) as GpuTensor;
 * console.log(t.array.byteLength, await t.read()); // 12 Float32Array [1, 2, 3]
 * dev.destroy();
 * ```
 */
export class GpuTensor extends Tensor {
  readonly #backend: GpuBackend;
  #array: DeviceArray | null;
  /** What the last read returned, for inspection: a copy, or (large tensors) its text. */
  #lastRead: ShownValues | null = null;

  static {
    takeArray = (tensor) => {
      const array = tensor.array;
      tensor.#array = null;
      tensor.dispose();
      return array;
    };
  }

  /**
   * Wraps a device array (owned from now on) as a tensor of `backend` holding values of
   * `dtype` (float32 by default).
   */
  constructor(
    backend: GpuBackend,
    array: DeviceArray,
    shape: readonly number[],
    dtype: DType = "float32",
  ) {
    checkArity("tensor", arguments, 4);
    if (!(backend instanceof GpuBackend) || !(array?.buffer instanceof GPUBuffer)) {
      throw new TypeError(
        `tensor: expected a GpuBackend and a device array, got ${describe(backend)} and ${
          describe(array)
        }`,
      );
    }
    const size = storageSize(shape);
    checkDType("tensor", dtype);
    if (array.byteLength !== storageBytes(size, dtype)) {
      throw new RangeError(
        `tensor: expected ${storageBytes(size, dtype)} bytes of ${dtype} for shape ${
          formatShape(shape)
        }, got a device array of ${array.byteLength}`,
      );
    }
    super(shape, dtype);
    this.#backend = backend;
    this.#array = array;
    brandTensor(this, "stored");
    showValuesFrom(
      this,
      () => this.#lastRead ?? { missing: "on the device; read() it to see the values" },
    );
    backend.liveTensors++;
  }

  /** The backend that owns this tensor. */
  get backend(): GpuBackend {
    return this.#backend;
  }

  /** The device array, for kernels; throws once disposed. */
  get array(): DeviceArray {
    if (!this.#array) throw new TypeError("tensor: expected a live tensor, got a disposed one");
    return this.#array;
  }

  /**
   * Submits pending work and copies the values back, row-major, in the type's array.
   * Inspection shows them from then on (a tensor never changes).
   */
  read(): Promise<StorageArray> {
    try {
      checkArity("read", arguments, 0);
      if (!this.#array) throw disposedRead();
      return this.#backend.runtime.read("read", this.#array, this.dtype).then((words) => {
        // float16's storage is padded to whole 4-byte words.
        const values = words.length === this.size ? words : words.slice(0, this.size);
        this.#lastRead = values.length <= SUMMARY_THRESHOLD
          ? { values: values.slice() }
          : { formatted: formatValues(this.shape, values, this.dtype) };
        return values;
      });
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

/**
 * Disposes `tensor` without freeing its storage, and returns the storage: for `jit`,
 * whose results may take over a donated argument's buffer. Not part of the public API.
 */
export function detachArray(tensor: GpuTensor): DeviceArray {
  return takeArray(tensor);
}

/**
 * Live tensors and GPU memory of a {@linkcode GpuBackend}.
 *
 * @example
 * ```ts
 * import { gpu, type GpuBackendMemory } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * dev.tensor([1, 2, 3]).dispose();
 * const memory: GpuBackendMemory = dev.memory();
 * console.log(memory.liveTensors, memory.liveBuffers, memory.pooledBuffers); // 0 0 1
 * dev.destroy();
 * ```
 */
export interface GpuBackendMemory extends GpuMemoryStats {
  /** Tensors made and not yet disposed. */
  readonly liveTensors: number;
}

/**
 * The WebGPU backend; get one with {@linkcode gpu}.
 *
 * @example
 * ```ts
 * import { gpu, type GpuBackend, matmul } from "@deno-gpu/kernels";
 * const dev: GpuBackend = await gpu();
 * console.log(dev.kind, dev.name); // "webgpu" and the adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
 * using a = dev.tensor([1, 2, 3, 4], [2, 2]);
 * using c = matmul(a, a);
 * await dev.sync(); // waits for the work so far and throws any WebGPU error it raised
 * dev.destroy();
 * ```
 */
export class GpuBackend extends Backend {
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
    checkArity("GpuBackend", arguments, 2);
    if (!(runtime instanceof GpuRuntime) || typeof name !== "string") {
      throw new TypeError(
        `GpuBackend: expected a GpuRuntime and a name, got ${describe(runtime)} and ${
          describe(name)
        }`,
      );
    }
    super();
    this.runtime = runtime;
    this.name = name;
    this.storedTypes = runtime.device.features.has("shader-f16")
      ? ALL_TYPES
      : ALL_TYPES.filter((t) => t !== "float16");
    brandBackend(
      this,
      (op, inputs, params, shape, dtype) => this.#run(op, inputs, params, shape, dtype),
    );
  }

  /** Every type but float16 on a device without `shader-f16`. */
  protected readonly storedTypes: readonly DType[];

  /** The largest tensor, in elements: what one storage binding of the device holds. */
  get maxElements(): number {
    return this.runtime.maxElements;
  }

  /** The GPUDevice in use, for interop with other WebGPU code. */
  get device(): GPUDevice {
    return this.runtime.device;
  }

  /**
   * Makes a tensor from row-major values, of their own type or `options.dtype`, uploaded
   * to the device (inside a function being compiled by `jit`, a constant of the program
   * whose values are uploaded per call).
   */
  tensor(
    values: StorageArray | readonly number[] | readonly boolean[],
    shape?: readonly number[],
    options?: TensorOptions,
  ): Tensor {
    checkArity("tensor", arguments, 3);
    const args = checkTensorArgs(values, shape, options, this.runtime.maxElements);
    checkStorable("tensor", this, args.dtype);
    const recorder = recorderFor(this);
    if (recorder) return recorder.constant(args.values, args.shape);
    this.runtime.assertUsable("tensor");
    return new GpuTensor(
      this,
      this.runtime.upload("tensor", args.values),
      args.shape,
      args.dtype,
    );
  }

  /**
   * Allocates the result and encodes `op`'s kernel (or the one generated from its form)
   * into the runtime's shared batch: how this backend runs an op.
   */
  #run<P>(
    op: OpDefinition<P>,
    inputs: readonly Tensor[],
    params: P,
    shape: readonly number[],
    dtype: DType,
  ): GpuTensor {
    checkStorable(op.name, this, dtype);
    const output = this.runtime.allocate(op.name, shape.reduce((a, b) => a * b, 1), dtype);
    try {
      encodeOp(
        this.runtime,
        op,
        inputs.map((t) => (t as GpuTensor).array),
        output,
        params,
        {
          inputs: inputs.map((t) => t.shape),
          output: shape,
          inputTypes: inputs.map((t) => t.dtype),
          outputType: dtype,
        },
      );
    } catch (error) {
      this.runtime.release(output);
      throw error;
    }
    return new GpuTensor(this, output, shape, dtype);
  }

  /** Live tensors, and the buffers and bytes they and the pool hold. */
  memory(): GpuBackendMemory {
    checkArity("memory", arguments, 0);
    return { liveTensors: this.liveTensors, ...this.runtime.memory() };
  }

  /**
   * What the backend has done so far: dispatches, submits, reads and compiled pipelines
   * (see {@linkcode GpuStats}); compare two snapshots to see what a step costs.
   */
  stats(): GpuStats {
    checkArity("stats", arguments, 0);
    return this.runtime.stats();
  }

  /** Waits until all work so far has run, and throws any error it raised. */
  sync(): Promise<void> {
    try {
      checkArity("sync", arguments, 0);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runtime.sync();
  }

  /**
   * Runs `fn` and reports every kernel it ran on this backend — eager ops and jitted
   * steps, each by the name its errors give (`matmul`, `jit: matmul+add`) — with calls,
   * GPU time and share (see {@linkcode ProfileReport}). Times come from `timestamp-query`
   * where the device has it (`gpu()` requests it when the adapter offers it); otherwise
   * they are wall-clock estimates, marked so. Earlier work is finished first, and the
   * profile ends once `fn`'s work is done. While profiling, each dispatch gets a compute
   * pass of its own, so a profiled step runs a little slower than an unprofiled one;
   * profiling off costs nothing. Work of other code on this backend while `fn` runs is
   * counted too. `fn`'s result is not kept: dispose what it makes, or keep it outside.
   *
   * @param fn The work to profile, sync or async.
   * @returns The report; rejects with what `fn` threw (no report, nothing kept), or with
   * a `TypeError` naming `profile` for a non-function or a profile inside another.
   * @example
   * ```ts
   * import { gpu, matmul, relu } from "@deno-gpu/kernels";
   * const dev = await gpu();
   * using a = dev.tensor([1, -2, 3, 4], [2, 2]);
   * const report = await dev.profile(() => {
   *   using c = matmul(a, a);
   *   relu(c).dispose();
   * });
   * console.log(report.kernels.map((k) => [k.name, k.calls])); // [["matmul", 1], ["relu", 1]], by time
   * console.log(report.table());
   * dev.destroy();
   * ```
   */
  profile(fn: () => unknown): Promise<ProfileReport> {
    try {
      checkArity("profile", arguments, 1);
      this.runtime.assertUsable("profile");
    } catch (error) {
      return Promise.reject(error);
    }
    return runProfiled(this, fn, () => gpuRecording(this.runtime));
  }

  /**
   * Measures now which matmul variant is fastest for each shape's class on this
   * adapter, uses it from now on and remembers it for later processes (see
   * {@linkcode GpuOptions.tuning}). Without shapes, common square shapes.
   *
   * @param shapes The products to tune for (the transposes count; sizes are rounded up
   * to powers of two, so one shape stands for its neighbours).
   * @example
   * ```ts
   * import { gpu } from "@deno-gpu/kernels";
   * const dev = await gpu();
   * await dev.tune([{ m: 512, k: 512, n: 512 }]); // a few seconds on a software adapter
   * dev.destroy();
   * ```
   */
  tune(shapes?: readonly MatmulShape[]): Promise<void> {
    try {
      checkArity("tune", arguments, 1);
      const checked = shapes === undefined ? undefined : checkShapes(shapes);
      this.runtime.assertUsable("tune");
      return tuneMatmul(this.runtime, checked);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Frees pooled buffers and, if {@linkcode gpu} created it, the device. */
  destroy(): void {
    checkArity("destroy", arguments, 0);
    this.runtime.destroy();
  }
}

/**
 * Options of {@linkcode gpu}.
 *
 * @example
 * ```ts
 * import { gpu, type GpuOptions } from "@deno-gpu/kernels";
 * const mine = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const options: GpuOptions = { device: mine }; // adopt a device this program owns
 * const dev = await gpu(options);
 * console.log(dev.device === mine); // true
 * dev.destroy(); // frees the pool; the adopted device stays usable
 * mine.destroy();
 * ```
 */
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
   * rule and measurement: one of `registers4x4`, `registers8x8`, `texture8x8`,
   * `texture16x16`, `tiled4x4`, `tiled8x8`, `splitK`. For comparing variants and for
   * results that stay bit-identical whatever the shape class's choice would be.
   */
  readonly matmulVariant?: string;
  /**
   * How matmul's variant is chosen per shape. The first product runs the variant a
   * rule picks for the adapter's class (a software adapter such as llvmpipe or
   * SwiftShader, or a GPU); then
   * - `"background"` (default): a shape class is measured once the device is idle
   *   after its products came to 2²⁴ flops (one large product, or a stream of small
   *   ones), and the fastest variant is used from then on and remembered for this
   *   adapter in `localStorage` where there is one;
   * - `"eager"`: common shapes are measured (unless remembered) before `gpu()` resolves;
   * - `"off"`: the rule alone, nothing measured, read or remembered.
   */
  readonly tuning?: MatmulTuningMode;
}

/**
 * Refuses a type the device cannot store: float16 where the adapter lacks `shader-f16`
 * (kernels on float16 storage need `enable f16;`).
 */
function checkStorable(op: string, backend: GpuBackend, dtype: DType): void {
  if (!backend.supports(dtype)) {
    throw new TypeError(
      `${op}: float16 needs the shader-f16 feature, which the adapter "${backend.name}" does not offer; use float32, or the CPU backend`,
    );
  }
}

/** Checks the shapes given to {@linkcode GpuBackend.tune}. */
function checkShapes(shapes: unknown): MatmulShape[] {
  if (!Array.isArray(shapes)) {
    throw new TypeError(`tune: expected shapes to be an array, got ${describe(shapes)}`);
  }
  // Array.from visits holes (as undefined), where map would skip them.
  return Array.from(shapes, (shape, i) => {
    const o = checkOptions("tune", shape, true, ["m", "k", "n", "transposeA", "transposeB"]);
    const [m, k, n] = ["m", "k", "n"].map((side) =>
      checkInteger("tune", `shapes[${i}].${side}`, o[side], { min: 1 })
    );
    const flag = (name: string) => checkFlag("tune", `shapes[${i}].${name}`, o[name]);
    return { m, k, n, transposeA: flag("transposeA"), transposeB: flag("transposeB") };
  });
}

const POWER_PREFERENCES = ["low-power", "high-performance"];

/** Features `gpu()` requests where the adapter offers them. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ["timestamp-query", "shader-f16"];

/** Configures matmul on `runtime`; destroys the runtime if that fails ("eager" tuning). */
async function configured(
  runtime: GpuRuntime,
  configuration: MatmulConfiguration,
): Promise<void> {
  try {
    await configureMatmul(runtime, configuration);
  } catch (error) {
    runtime.destroy();
    throw error;
  }
}

/** Checks {@linkcode GpuOptions} before any adapter or device is requested. */
function checkGpuOptions(options: unknown): asserts options is GpuOptions {
  const o = checkOptions("gpu", options, false, [
    "device",
    "powerPreference",
    "maxWorkgroupsPerDimension",
    "matmulVariant",
    "tuning",
  ]);
  if (o.device !== undefined && !(o.device instanceof GPUDevice)) {
    throw new TypeError(`gpu: expected device to be a GPUDevice, got ${describe(o.device)}`);
  }
  if (o.powerPreference !== undefined && !POWER_PREFERENCES.includes(o.powerPreference as string)) {
    throw new TypeError(
      `gpu: expected powerPreference to be "low-power" or "high-performance", got ${
        describe(o.powerPreference)
      }`,
    );
  }
  if (o.tuning !== undefined && !MATMUL_TUNING_MODES.includes(o.tuning as MatmulTuningMode)) {
    throw new TypeError(
      `gpu: expected tuning to be "off", "background" or "eager", got ${describe(o.tuning)}`,
    );
  }
  const limit = o.maxWorkgroupsPerDimension;
  if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 1)) {
    throw new RangeError(
      `gpu: expected maxWorkgroupsPerDimension to be an integer ≥ 1, got ${describe(limit)}`,
    );
  }
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
 * ```ts
 * import { gpu, matmul } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using a = dev.tensor([1, 2, 3, 4], [2, 2]);
 * using c = matmul(a, a);
 * console.log(await c.read()); // Float32Array [7, 10, 15, 22]
 * dev.destroy();
 * ```
 */
export async function gpu(options: GpuOptions = {}): Promise<GpuBackend> {
  checkArity("gpu", arguments, 1);
  checkGpuOptions(options);
  const pinned = options.matmulVariant === undefined
    ? null
    : matmulVariantNamed(options.matmulVariant);
  const tuning = options.tuning ?? "background";
  if (options.device) {
    const runtime = new GpuRuntime(options.device, {
      maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension,
    });
    await configured(runtime, { variant: pinned, tuning });
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
      // timestamp-query for dev.profile's GPU times, shader-f16 for float16 tensors;
      // each asked for only where offered.
      requiredFeatures: OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature)),
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
        maxTextureDimension2D: adapter.limits.maxTextureDimension2D,
        // Fused kernels read many buffers at once.
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        // Matmul's workgroup-tiled kernel sizes its tiles by these.
        maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: adapter.limits.maxComputeWorkgroupSizeY,
      },
    });
  } catch (error) {
    throw new Error(`gpu: the adapter "${adapter.info.description}" gave no device: ${error}`);
  }
  const runtime = new GpuRuntime(device, {
    ownsDevice: true,
    maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension,
  });
  await configured(runtime, { variant: pinned, tuning, adapter: adapter.info });
  const { description, vendor, architecture } = adapter.info;
  return new GpuBackend(
    runtime,
    description || [vendor, architecture].filter((part) => part).join(" ") || "WebGPU",
  );
}
