/**
 * @file The tensor type and the backend interface every op is written against.
 *
 * A tensor is an immutable, row-major float32 array with a shape, owned by one
 * backend. Its storage (a `Float32Array` on the CPU reference, a pooled GPU buffer on
 * WebGPU) lives in the backend's own subclass; ops reach it only through
 * {@linkcode runOp}, so one op definition serves both backends.
 */
import { checkArity, describeValue } from "../kernels/_checks.ts";
import { formatTensor, type ShownValues } from "./_format.ts";
import { trackInScope } from "./scope.ts";

/**
 * A backend: where tensors live and ops run.
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
export interface Backend {
  /** `"cpu"` for the float64-accumulating reference, `"webgpu"` for the GPU. */
  readonly kind: "cpu" | "webgpu";
  /** A human-readable name: the adapter's description on WebGPU. */
  readonly name: string;
  /**
   * Makes a tensor from row-major values.
   *
   * @param values The values; converted to float32.
   * @param shape The shape; defaults to `[values.length]`. `[]` is a scalar.
   */
  tensor(values: Float32Array | readonly number[], shape?: readonly number[]): Tensor;
  /** A tensor of `shape` filled with 0. */
  zeros(shape: readonly number[]): Tensor;
  /** A tensor of `shape` filled with 1. */
  ones(shape: readonly number[]): Tensor;
  /** A tensor of `shape` filled with `value` (rounded to float32). */
  full(shape: readonly number[], value: number): Tensor;
  /** The largest element count of one tensor; a larger result is refused before allocating. */
  readonly maxElements: number;
}

let hasTensorBrand: (value: object) => boolean;
let setShownValues: (t: Tensor, source: () => ShownValues) => void;

/**
 * An immutable row-major float32 array owned by one backend.
 *
 * @example
 * ```ts
 * import { cpu, type Tensor } from "@deno-gpu/kernels";
 * const t: Tensor = cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * console.log(t.shape, t.size, await t.read()); // [2, 3] 6 Float32Array [1, 2, 3, 4, 5, 6]
 * t.dispose();
 * console.log(t.disposed); // true
 * ```
 */
export abstract class Tensor {
  /** The dimensions; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** The element count: the product of the dimensions. */
  readonly size: number;
  #disposed = false;
  #shownValues: () => ShownValues = () => ({ missing: "values not available" });

  static {
    hasTensorBrand = (value) => #disposed in value;
    setShownValues = (t, source) => t.#shownValues = source;
  }

  /** Records the tensor in the running {@linkcode scope}, if any. */
  protected constructor(shape: readonly number[]) {
    this.size = storageSize(shape);
    this.shape = Object.freeze([...shape]);
    trackInScope(this);
  }

  /** The backend that owns this tensor. */
  abstract get backend(): Backend;

  /** Whether {@linkcode Tensor.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Copies the values out, row-major.
   *
   * @returns A new `Float32Array` of {@linkcode Tensor.size} values.
   */
  abstract read(): Promise<Float32Array>;

  /** Frees the storage. Disposing twice does nothing; using a disposed tensor throws. */
  dispose(): void {
    checkArity("dispose", arguments, 0);
    if (this.#disposed) return;
    this.#disposed = true;
    this.free();
  }

  /** Same as {@linkcode Tensor.dispose}, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Releases the backend storage; called once, by {@linkcode Tensor.dispose}. */
  protected abstract free(): void;

  /**
   * The shape, the backend and the values where they are on the host: always on the CPU
   * backend, after a `read()` on WebGPU (tensors are immutable, so the last read's
   * values stay true). Past 1,000 elements, the first and last three along each axis.
   *
   * @returns E.g. `Tensor [3] cpu [1, 2, 3]`.
   * @example
   * ```ts
   * import { cpu } from "@deno-gpu/kernels";
   * using t = cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]);
   * console.log(String(t)); // "Tensor [2, 3] cpu\n[[1, 2, 3],\n [4, 5, 6]]"
   * ```
   */
  toString(): string {
    checkArity("toString", arguments, 0);
    const shown = this.disposed ? { missing: "disposed" } : this.#shownValues();
    return formatTensor(this.shape, this.backend.kind, shown);
  }

  /** What `console.log` and `Deno.inspect` print: {@linkcode Tensor.toString}. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/**
 * Tells inspection where a backend's tensor finds the values it may show without
 * waiting for a device (none by default).
 */
export function showValuesFrom(t: Tensor, source: () => ShownValues): void {
  setShownValues(t, source);
}

/**
 * Whether `value` is a tensor made by a tensor constructor (not merely an object whose
 * prototype chain includes `Tensor.prototype`).
 */
export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor && hasTensorBrand(value);
}

/**
 * The element count of a tensor's storage, checking that `shape` is an array of
 * integers ≥ 1 and, when given, that the storage holds `length` elements: a backend's
 * tensor constructor is public, so it checks what it wraps.
 */
export function storageSize(shape: unknown, length?: number): number {
  if (!isShape(shape)) {
    throw new RangeError(`tensor: expected a shape of integers ≥ 1, got ${describeShape(shape)}`);
  }
  const size = shape.reduce((a: number, b: number) => a * b, 1);
  if (length !== undefined && length !== size) {
    throw new RangeError(
      `tensor: expected storage of ${size} elements for shape ${formatShape(shape)}, got ${length}`,
    );
  }
  return size;
}

/**
 * Whether `value` is an array of integers ≥ 1 (`Array.from`, so that a hole in a sparse
 * array counts as `undefined` rather than being skipped).
 */
export function isShape(value: unknown): value is readonly number[] {
  return Array.isArray(value) && Array.from(value).every((d) => Number.isInteger(d) && d >= 1);
}

/** A shape, or what was given instead of one, for error messages. */
export function describeShape(shape: unknown): string {
  return Array.isArray(shape)
    ? `[${Array.from(shape, describeScalar).join(", ")}]`
    : describe(shape);
}

function describeScalar(value: unknown): string {
  return typeof value === "number" ? String(value) : describe(value);
}

/** Formats a shape for error messages: `[2, 3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Checks a shape and value count given to `tensor()`: dimensions are positive
 * integers (zero-size dimensions are refused) and their product is the value count.
 */
export function checkTensorArgs(
  values: unknown,
  shape: unknown,
  maxElements: number,
): { values: Float32Array<ArrayBuffer>; shape: readonly number[] } {
  if (!(values instanceof Float32Array) && !Array.isArray(values)) {
    throw new TypeError(
      `tensor: expected values as a Float32Array or an array of numbers, got ${describe(values)}`,
    );
  }
  const dims = shape === undefined ? [values.length] : shape;
  if (!Array.isArray(dims)) {
    throw new TypeError(`tensor: expected shape as an array of integers, got ${describe(shape)}`);
  }
  for (const d of dims) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 1) {
      throw new RangeError(
        `tensor: expected every dimension to be an integer ≥ 1 (zero-size tensors are not supported), got shape ${
          describeShape(dims)
        }`,
      );
    }
  }
  const size = dims.reduce((a: number, b: number) => a * b, 1);
  if (size > maxElements) {
    throw new RangeError(
      `tensor: expected at most ${maxElements} elements (the backend's largest buffer), got ${size}`,
    );
  }
  if (size !== values.length) {
    throw new RangeError(
      `tensor: expected ${size} values for shape ${formatShape(dims)}, got ${values.length}`,
    );
  }
  if (Array.isArray(values)) {
    // An index loop, not `some`, so that holes in a sparse array are caught too.
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== "number") {
        throw new TypeError(
          `tensor: expected every value to be a number, got ${describe(values[i])} at index ${i}`,
        );
      }
    }
  }
  return { values: Float32Array.from(values), shape: dims };
}

/** A short description of a value's type for error messages; a tensor's gives its shape. */
export const describe: (value: unknown) => string = describeValue;
