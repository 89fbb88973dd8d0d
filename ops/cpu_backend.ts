/**
 * @file The CPU reference backend: tensors are plain `Float32Array`s and every op runs
 * its reference implementation (float64 accumulation, one rounding to float32). It is
 * the "truth" the WebGPU kernels are tested against, written for clarity, not speed.
 */
import { type Backend, checkTensorArgs, Tensor } from "./tensor.ts";

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
  #data: Float32Array | null;

  /** Wraps `data` (not copied) as a tensor of `backend`. */
  constructor(backend: CpuBackend, data: Float32Array, shape: readonly number[]) {
    super(shape);
    this.#backend = backend;
    this.#data = data;
    backend.liveTensors++;
  }

  /** The backend that owns this tensor. */
  get backend(): CpuBackend {
    return this.#backend;
  }

  /** The values, for ops; throws once disposed. */
  get data(): Float32Array {
    if (!this.#data) throw new Error("tensor: this tensor was disposed");
    return this.#data;
  }

  /** Copies the values out, row-major. */
  read(): Promise<Float32Array> {
    try {
      return Promise.resolve(this.data.slice());
    } catch (error) {
      return Promise.reject(error);
    }
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
export class CpuBackend implements Backend {
  /** Always `"cpu"`. */
  readonly kind = "cpu" as const;
  /** Always `"cpu reference"`. */
  readonly name = "cpu reference";
  /** Tensors made and not yet disposed. */
  liveTensors = 0;

  /** Makes a tensor from row-major values (copied). */
  tensor(values: Float32Array | readonly number[], shape?: readonly number[]): CpuTensor {
    const args = checkTensorArgs(values, shape, 2 ** 31 - 1);
    return new CpuTensor(this, args.values, args.shape);
  }
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
  return reference;
}
