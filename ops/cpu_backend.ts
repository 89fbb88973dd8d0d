/**
 * @file The CPU reference backend: tensors are plain typed arrays of their element type
 * (`Float32Array` for float32, `Int32Array` for int32, a `Uint8Array` of 0/1 for bool, …)
 * and every op runs its reference implementation (float64 accumulation, one rounding to
 * the result's type). It is
 * the "truth" the WebGPU kernels are tested against, written for clarity, not speed.
 */
import type { OpDefinition } from "./_op.ts";
import { checkArity } from "./_validate.ts";
import { Backend } from "./backend.ts";
import { cpuOpTimes, cpuRecording, runProfiled } from "./profile.ts";
import type { ProfileReport } from "./profile_report.ts";
import { ALL_TYPES, type DType, dtypeOfArray, DTYPES, type StorageArray } from "./dtype.ts";
import {
  brandBackend,
  brandTensor,
  castValues,
  checkTensorArgs,
  describe,
  showValuesFrom,
  storageSize,
  Tensor,
  type TensorOptions,
} from "./tensor.ts";

/**
 * The CPU backend's largest tensor: 2²⁸ elements (1 GiB of float32), so that a
 * mistaken huge shape is refused rather than exhausting the process's memory.
 */
const CPU_MAX_ELEMENTS = 2 ** 28;

/**
 * A tensor of the CPU reference backend.
 *
 * @example
 * ```ts
 * import { cpu, type CpuTensor } from "@deno-gpu/kernels";
 * using t: CpuTensor = cpu().tensor([1, 2]);
 * console.log(t.data); // Float32Array [1, 2]: the values themselves, not a copy
 * ```
 */
export class CpuTensor extends Tensor {
  readonly #backend: CpuBackend;
  #data: StorageArray | null;

  /**
   * Wraps `data` (not copied) as a tensor of `backend`, of the array's element type
   * (a `Uint8Array` is bool, and must hold only 0 and 1).
   */
  constructor(backend: CpuBackend, data: StorageArray, shape: readonly number[]) {
    checkArity("tensor", arguments, 3);
    const dtype = dtypeOfArray(data);
    if (!(backend instanceof CpuBackend) || dtype === null) {
      throw new TypeError(
        `tensor: expected a CpuBackend and a typed array of a tensor type, got ${
          describe(backend)
        } and ${describe(data)}`,
      );
    }
    storageSize(shape, data.length);
    super(shape, dtype);
    this.#backend = backend;
    this.#data = data;
    brandTensor(this, "stored");
    showValuesFrom(this, () => ({ values: this.data }));
    backend.liveTensors++;
  }

  /** The backend that owns this tensor. */
  get backend(): CpuBackend {
    return this.#backend;
  }

  /** The values, for ops; throws once disposed. */
  get data(): StorageArray {
    if (!this.#data) throw new TypeError("tensor: expected a live tensor, got a disposed one");
    return this.#data;
  }

  /** Copies the values out, row-major, in the type's array. */
  read(): Promise<StorageArray> {
    try {
      checkArity("read", arguments, 0);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.disposed) return Promise.reject(disposedRead());
    return Promise.resolve(this.data.slice());
  }

  /** Drops the reference to the values. */
  protected free(): void {
    this.#data = null;
    this.#backend.liveTensors--;
  }
}

/**
 * The CPU reference backend; get it with {@linkcode cpu}.
 *
 * @example
 * ```ts
 * import { cpu, type CpuBackend } from "@deno-gpu/kernels";
 * const ref: CpuBackend = cpu();
 * using x = ref.tensor([1, 2, 3]);
 * console.log(ref.kind, ref.liveTensors); // "cpu" 1
 * ```
 */
export class CpuBackend extends Backend {
  /** Always `"cpu"`. */
  readonly kind = "cpu" as const;
  /** Always `"cpu reference"`. */
  readonly name = "cpu reference";
  /** Tensors made and not yet disposed. */
  liveTensors = 0;
  /** 2²⁸: the largest tensor, in elements (1 GiB of float32). */
  readonly maxElements: number = CPU_MAX_ELEMENTS;

  /** The reference backend; {@linkcode cpu} returns the one every caller shares. */
  constructor() {
    checkArity("CpuBackend", arguments, 0);
    super();
    brandBackend(
      this,
      (op, inputs, params, shape, dtype) => this.#run(op, inputs, params, shape, dtype),
    );
  }

  /** Every type: float16 through `Float16Array` and `Math.f16round`. */
  protected readonly storedTypes: readonly DType[] = ALL_TYPES;

  /** Makes a tensor from row-major values (copied), of their own type or `options.dtype`. */
  tensor(
    values: StorageArray | readonly number[] | readonly boolean[],
    shape?: readonly number[],
    options?: TensorOptions,
  ): CpuTensor {
    checkArity("tensor", arguments, 3);
    const args = checkTensorArgs(values, shape, options, this.maxElements);
    return new CpuTensor(this, args.values, args.shape);
  }

  /**
   * Runs `fn` and reports every op it ran on this backend, each timed wall-clock as its
   * reference runs (`timing: "cpu wall-clock"`), in the same report as the GPU's
   * {@linkcode GpuBackend.profile}; a jitted function runs its ops eagerly here, so they
   * are listed one by one.
   *
   * @param fn The work to profile, sync or async.
   * @returns The report; rejects with what `fn` threw, or with a `TypeError` naming
   * `profile` for a non-function or a profile inside another.
   * @example
   * ```ts
   * import { cpu, relu } from "@deno-gpu/kernels";
   * using x = cpu().tensor([-1, 2]);
   * const report = await cpu().profile(() => relu(x).dispose());
   * console.log(report.timing, report.kernels[0].name); // "cpu wall-clock" "relu"
   * ```
   */
  profile(fn: () => unknown): Promise<ProfileReport> {
    try {
      checkArity("profile", arguments, 1);
    } catch (error) {
      return Promise.reject(error);
    }
    return runProfiled(this, fn, cpuRecording);
  }

  /** Runs `op`'s reference on the inputs' values: how this backend runs an op. */
  #run<P>(
    op: OpDefinition<P>,
    inputs: readonly Tensor[],
    params: P,
    shape: readonly number[],
    dtype: DType,
  ): CpuTensor {
    const times = cpuOpTimes();
    const startMs = times ? performance.now() : 0;
    const values = op.reference(
      inputs.map((t) => (t as CpuTensor).data),
      params,
      {
        inputs: inputs.map((t) => t.shape),
        output: shape,
        inputTypes: inputs.map((t) => t.dtype),
        outputType: dtype,
      },
    );
    times?.push({ name: op.name, startMs, durationMs: performance.now() - startMs });
    // A reference computing in float32 (most float ops) is stored as the result's type.
    const stored = values instanceof DTYPES[dtype].array
      ? values
      : castValues(values, dtypeOfArray(values)!, dtype);
    return new CpuTensor(this, stored, shape);
  }
}

/** The error of `read()` on a disposed tensor. */
export function disposedRead(): TypeError {
  return new TypeError("read: expected a live tensor, got a disposed one");
}

const reference = new CpuBackend();

/**
 * The CPU reference backend, always available. Every call returns the same backend.
 *
 * @returns The CPU backend.
 * @example
 * ```ts
 * import { cpu, l2Penalty } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using w = ref.tensor([3, 4]);
 * using penalty = l2Penalty(w);
 * console.log(await penalty.read()); // Float32Array [12.5]
 * ```
 */
export function cpu(): CpuBackend {
  checkArity("cpu", arguments, 0);
  return reference;
}
