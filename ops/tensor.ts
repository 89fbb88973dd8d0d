/**
 * @file The tensor type every op is written against, and the brands that tell the
 * library's tensors and backends from look-alikes.
 *
 * A tensor is an immutable, row-major array with a shape and an element type
 * (`dtype`, float32 by default: `ops/dtype.ts`), owned by one backend. Its storage (the
 * type's typed array on the CPU reference, a pooled GPU buffer on WebGPU) lives in the
 * backend's own subclass; ops reach it only through
 * {@linkcode runOp}, which hands each application to the backend's own runner
 * ({@linkcode runOn}), so one op definition serves both backends. This file sits at the
 * bottom of `ops/`: validation asks it whether a value is a tensor a backend made, or a
 * backend, without importing the backends (which import the ops above it).
 */
import { checkArity, checkOptions, describeValue } from "../kernels/_checks.ts";
import { castNumber } from "../kernels/expression.ts";
import { formatTensor, type ShownValues } from "./_format.ts";
import { checkDType, type DType, dtypeOfValues, DTYPES, type StorageArray } from "./dtype.ts";
import { trackInScope } from "./scope.ts";
import type { OpDefinition } from "./_op.ts";
import type { Backend } from "./backend.ts";

// Defined above the ops its creation methods run; its type is imported from here.
export type { Backend };

/**
 * What made a tensor: a backend, which stores its values (`"stored"`), or `jit`'s
 * recorder, which traces it (`"traced"`). A tensor of neither (a subclass made
 * elsewhere) is refused by validation.
 */
export type TensorOrigin = "stored" | "traced";

let hasTensorBrand: (value: object) => boolean;
let setShownValues: (t: Tensor, source: () => ShownValues) => void;
let originOf: (t: Tensor) => TensorOrigin | null;
let setOrigin: (t: Tensor, origin: TensorOrigin) => void;

/**
 * An immutable row-major array of one element type, owned by one backend.
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
  /** The element type: `"float32"` unless the tensor was made or cast otherwise. */
  readonly dtype: DType;
  #disposed = false;
  #shownValues: () => ShownValues = () => ({ missing: "values not available" });
  #origin: TensorOrigin | null = null;

  static {
    hasTensorBrand = (value) => #disposed in value;
    setShownValues = (t, source) => t.#shownValues = source;
    originOf = (t) => t.#origin;
    setOrigin = (t, origin) => t.#origin = origin;
  }

  /** Records the tensor in the running {@linkcode scope}, if any. */
  protected constructor(shape: readonly number[], dtype: DType) {
    this.size = storageSize(shape);
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
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
   * @returns A new array of {@linkcode Tensor.size} values of the tensor's type:
   * `Float32Array`, `Float16Array`, `Int32Array`, `Uint32Array`, or for bool a
   * `Uint8Array` of 0 and 1.
   */
  abstract read(): Promise<StorageArray>;

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
   * The shape, the element type (unless float32), the backend and the values where they
   * are on the host: always on the CPU
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
    return formatTensor(this.shape, this.dtype, this.backend.kind, shown);
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
 * prototype chain includes `Tensor.prototype`): a brand check.
 */
export function isTensor(value: unknown): value is Tensor {
  return typeof value === "object" && value !== null && hasTensorBrand(value);
}

/**
 * Marks `t` as made by a backend or by `jit`'s recorder: called once, by the
 * constructors of the library's tensor classes.
 */
export function brandTensor(t: Tensor, origin: TensorOrigin): void {
  setOrigin(t, origin);
}

/** What made `t` ({@linkcode TensorOrigin}), or `null` for a tensor of neither. */
export function tensorOrigin(t: Tensor): TensorOrigin | null {
  return originOf(t);
}

/**
 * How a backend runs one op application on its own tensors (validated by the caller),
 * returning a new tensor of `shape` and element type `dtype`: the CPU reference computes
 * the values, WebGPU allocates the result and encodes the kernel.
 */
export type OpRunner = <P>(
  op: OpDefinition<P>,
  inputs: readonly Tensor[],
  params: P,
  shape: readonly number[],
  dtype: DType,
) => Tensor;

/**
 * The library's backends and how each runs ops. A private method handed over here, not
 * a public `run`, so the public types stop short of the op definitions and the IR
 * below them.
 */
const runners = new WeakMap<object, OpRunner>();

/** Brands `backend` as the library's and gives it its runner: once, in its constructor. */
export function brandBackend(backend: Backend, run: OpRunner): void {
  runners.set(backend, run);
}

/** Whether `value` is a backend the library made (`cpu()`, `gpu()`): a brand check. */
export function isBackend(value: unknown): value is Backend {
  return typeof value === "object" && value !== null && runners.has(value);
}

/** Runs one application of `op` on `backend`, as the backend runs ops ({@linkcode OpRunner}). */
export function runOn<P>(
  backend: Backend,
  op: OpDefinition<P>,
  inputs: readonly Tensor[],
  params: P,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  const run = runners.get(backend);
  if (!run) {
    throw new TypeError(
      `${op.name}: expected a backend from cpu() or gpu(), got ${describe(backend)}`,
    );
  }
  return run(op, inputs, params, shape, dtype);
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
 * Checks what is given to `tensor()`: the values (a typed array of a tensor type, or an
 * array of numbers or of booleans), the shape (positive integers whose product is the
 * value count; zero-size tensors are refused) and the options (`dtype`, to which the
 * values are converted as {@linkcode castValues} does; by default the values' own type).
 */
export function checkTensorArgs(
  values: unknown,
  shape: unknown,
  options: unknown,
  maxElements: number,
): { values: StorageArray; shape: readonly number[]; dtype: DType } {
  const given = dtypeOfValues(values);
  if (given === null) {
    throw new TypeError(
      `tensor: expected values as a typed array (Float32Array, Float16Array, Int32Array, Uint32Array, Uint8Array) or an array of numbers or booleans, got ${
        describe(values)
      }`,
    );
  }
  const list = values as ArrayLike<unknown>;
  const dims = shape === undefined ? [list.length] : shape;
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
  if (size !== list.length) {
    throw new RangeError(
      `tensor: expected ${size} values for shape ${formatShape(dims)}, got ${list.length}`,
    );
  }
  if (Array.isArray(values)) {
    const kind = given === "bool" ? "boolean" : "number";
    // An index loop, not `some`, so that holes in a sparse array are caught too.
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (given === "bool" ? typeof v !== "boolean" : typeof v !== "number") {
        throw new TypeError(
          `tensor: expected every value to be a ${kind}, got ${describe(values[i])} at index ${i}`,
        );
      }
    }
  }
  const { dtype: named } = checkOptions("tensor", options, false, ["dtype"]);
  const dtype = named === undefined ? given : checkDType("tensor", named);
  return {
    values: castValues(list as ArrayLike<number | boolean>, given, dtype),
    shape: dims,
    dtype,
  };
}

/**
 * A new array of `to` holding `values` (copied) of type `from`, converted as `astype`
 * converts (`castNumber` of `kernels/expression.ts`).
 */
export function castValues(
  values: ArrayLike<number | boolean>,
  from: DType,
  to: DType,
): StorageArray {
  // Of the type already: a byte copy, which keeps a NaN's payload (a number may not); a
  // Uint8Array given as bool may hold other values than 0 and 1.
  if (values instanceof DTYPES[to].array && to !== "bool") return values.slice();
  const out = new DTYPES[to].array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = castNumber(Number(values[i]), from, to);
  return out;
}

/**
 * Options of `tensor()`.
 *
 * @example
 * ```ts
 * import { cpu, type TensorOptions } from "@deno-gpu/kernels";
 * const options: TensorOptions = { dtype: "int32" };
 * using t = cpu().tensor([1, 2, 3], [3], options);
 * console.log(t.dtype, await t.read()); // "int32" Int32Array [1, 2, 3]
 * ```
 */
export interface TensorOptions {
  /** The element type; by default the values' own (float32 for an array of numbers). */
  readonly dtype?: DType;
}

/** A short description of a value's type for error messages; a tensor's gives its shape. */
export const describe: (value: unknown) => string = describeValue;
