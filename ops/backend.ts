/**
 * @file What every backend is: where tensors live and ops run. Each backend runs one
 * op application itself — the CPU reference computes the values, WebGPU allocates a
 * buffer and encodes the kernel — with a private method it hands to the brand in its
 * constructor (`brandBackend` in `ops/tensor.ts`), so the op spine (`ops/_op.ts`) never
 * needs to know which backend it holds, and the backends import the ops, never the other
 * way round. The creation methods are written once here, on top of the `full` op, which
 * runs like any other.
 */
import { fill } from "./creation.ts";
import { checkDType, type DType, type StorageArray } from "./dtype.ts";
import type { ProfileReport } from "./profile_report.ts";
import type { Tensor, TensorOptions } from "./tensor.ts";
import { checkArity } from "./_validate.ts";

/**
 * A backend: where tensors live and ops run. The library has two, {@linkcode CpuBackend}
 * (from `cpu()`) and {@linkcode GpuBackend} (from `gpu()`); ops refuse any other.
 *
 * @example
 * ```ts
 * import { type Backend, cpu, gpu, l2Penalty } from "@deno-gpu/kernels";
 * // Code written against Backend runs on the GPU and on the CPU reference alike.
 * async function penalty(backend: Backend, values: number[]): Promise<number> {
 *   using w = backend.tensor(values);
 *   using p = l2Penalty(w);
 *   return (await p.read())[0];
 * }
 * const dev = await gpu();
 * console.log(await penalty(dev, [3, 4]), await penalty(cpu(), [3, 4])); // 12.5 12.5
 * dev.destroy();
 * ```
 */
export abstract class Backend {
  /** `"cpu"` for the float64-accumulating reference, `"webgpu"` for the GPU. */
  abstract readonly kind: "cpu" | "webgpu";
  /** A human-readable name: the adapter's description on WebGPU. */
  abstract readonly name: string;
  /** The largest element count of one tensor; a larger result is refused before allocating. */
  abstract readonly maxElements: number;

  /**
   * Makes a tensor from row-major values.
   *
   * @param values The values: a typed array keeps its type (`Int32Array` is int32,
   * `Uint32Array` uint32, `Float16Array` float16, `Uint8Array` bool), an array of numbers
   * is float32 and an array of booleans bool.
   * @param shape The shape; defaults to `[values.length]`. `[]` is a scalar.
   * @param options `dtype`: the element type, the values converted to it as `astype`
   * converts (integers truncate toward zero and saturate, NaN → 0).
   */
  abstract tensor(
    values: StorageArray | readonly number[] | readonly boolean[],
    shape?: readonly number[],
    options?: TensorOptions,
  ): Tensor;

  /**
   * Whether tensors of `dtype` can live here: every type on the CPU; on WebGPU every type
   * but float16, which needs the adapter's `shader-f16` feature (`gpu()` requests it where
   * offered; the GL stack has none).
   *
   * @param dtype An element type.
   * @returns `true` when tensors of `dtype` can be made and computed on this backend.
   * @example
   * ```ts
   * import { cpu, gpu } from "@deno-gpu/kernels";
   * const dev = await gpu();
   * console.log(cpu().supports("float16"), dev.supports("int32")); // true true
   * console.log(dev.supports("float16")); // true on Vulkan/llvmpipe, false on the GL stack
   * dev.destroy();
   * ```
   */
  supports(dtype: DType): boolean {
    checkArity("supports", arguments, 1);
    return this.storedTypes.includes(checkDType("supports", dtype));
  }

  /** The types tensors of this backend can have: {@linkcode Backend.supports}. */
  protected abstract readonly storedTypes: readonly DType[];

  /**
   * Runs `fn` and reports every kernel (on the CPU, every op) it ran on this backend,
   * with calls, time and share: see {@linkcode GpuBackend.profile}.
   *
   * @param fn The work to profile, sync or async.
   * @returns The report; rejects with what `fn` threw.
   */
  abstract profile(fn: () => unknown): Promise<ProfileReport>;

  /**
   * A tensor of `shape` filled with 0.
   *
   * @param shape Dimensions, integers ≥ 1.
   * @param options `dtype`: the element type (float32 by default).
   * @returns A new tensor.
   */
  zeros(shape: readonly number[], options?: TensorOptions): Tensor {
    checkArity("zeros", arguments, 2);
    return fill("zeros", this, shape, 0, options);
  }

  /**
   * A tensor of `shape` filled with 1.
   *
   * @param shape Dimensions, integers ≥ 1.
   * @param options `dtype`: the element type (float32 by default).
   * @returns A new tensor.
   */
  ones(shape: readonly number[], options?: TensorOptions): Tensor {
    checkArity("ones", arguments, 2);
    return fill("ones", this, shape, 1, options);
  }

  /**
   * A tensor of `shape` filled with `value`, rounded to float32 (or `options.dtype`).
   *
   * @param shape Dimensions, integers ≥ 1.
   * @param value A finite number; for an integer type an integer in the type's range, for
   * bool `true`, `false`, 0 or 1.
   * @param options `dtype`: the element type (float32 by default).
   * @returns A new tensor.
   * @example
   * ```ts
   * import { cpu, gpu } from "@deno-gpu/kernels";
   * const dev = await gpu();
   * for (const backend of [cpu(), dev]) {
   *   using t = backend.full([2, 2], 0.5);
   *   console.log(await t.read()); // Float32Array [0.5, 0.5, 0.5, 0.5]
   * }
   * dev.destroy();
   * ```
   */
  full(shape: readonly number[], value: number | boolean, options?: TensorOptions): Tensor {
    checkArity("full", arguments, 3);
    return fill("full", this, shape, value, options);
  }
}
