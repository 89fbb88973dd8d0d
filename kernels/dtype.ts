/**
 * @file The element types a tensor may have and the one table of what each is in
 * storage: bytes per element, the WGSL type of a storage buffer and of a value in a
 * kernel, the typed array the host holds, and whether it is a float. It sits in
 * `kernels/` because the kernel generator, the buffer pool and the runtime's reads and
 * uploads need these facts and may not import `ops/` (docs/architecture.md#layers); the
 * rules of the ops — promotion, which types an op takes — live in `ops/dtype.ts`.
 *
 * The one promotion function, {@linkcode promoteTypes}, is here too: the expression
 * language types its calls with it (`kernels/expression.ts`), and `ops/dtype.ts`
 * re-exports it with the rest of the op layer's type rules.
 *
 * bool is stored as u32 0/1 (WGSL's `bool` is not host-shareable) and held by the host
 * as a `Uint8Array` of 0/1. float16 is a storage type: kernels load it into f32, compute
 * in f32 and round once on store, so the expression language stays f32 for every float.
 */

import { checkArity, describeValue } from "./_checks.ts";

/** The element type of a tensor. */
export type DType = "float32" | "float16" | "int32" | "uint32" | "bool";

/** The host array of a tensor's values, by element type. */
export type StorageArray = Float32Array | Float16Array | Int32Array | Uint32Array | Uint8Array;

/**
 * Host values an upload writes: an array whose bytes are the buffer's bytes (bool is
 * uploaded as u32 words, float16 padded to an even count).
 */
export type HostWords =
  | Float32Array<ArrayBuffer>
  | Float16Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>;

/** What one element type is in storage, in kernels and on the host. */
export interface DTypeFacts {
  /** Bytes per element in a GPU buffer (bool: a u32 word). */
  readonly bytes: number;
  /** The WGSL element type of a storage buffer. */
  readonly storage: "f32" | "f16" | "i32" | "u32";
  /** The WGSL type of a value in a kernel (float16 computes in f32, bool in u32 0/1). */
  readonly compute: "f32" | "i32" | "u32";
  /** The host array's constructor. */
  readonly array: new (length: number) => StorageArray;
  /** Whether the type is a float (differentiable, takes NaN and infinities). */
  readonly float: boolean;
}

/** Every element type's facts: the one table the kernels, pool and backends read. */
export const DTYPES: Readonly<Record<DType, DTypeFacts>> = {
  float32: { bytes: 4, storage: "f32", compute: "f32", array: Float32Array, float: true },
  float16: { bytes: 2, storage: "f16", compute: "f32", array: Float16Array, float: true },
  int32: { bytes: 4, storage: "i32", compute: "i32", array: Int32Array, float: false },
  uint32: { bytes: 4, storage: "u32", compute: "u32", array: Uint32Array, float: false },
  bool: { bytes: 4, storage: "u32", compute: "u32", array: Uint8Array, float: false },
};

/** Every element type, the default first. */
export const DTYPE_NAMES: readonly DType[] = Object.keys(DTYPES) as DType[];

/** An operand of promotion: a tensor's type, or a JavaScript number (weakly typed). */
export type Operand = DType | number;

/** The lattice's rank of a tensor type: a higher rank absorbs a lower one. */
const RANK: Readonly<Record<DType, number>> = {
  bool: 0,
  uint32: 1,
  int32: 1,
  float16: 2,
  float32: 3,
};

/**
 * The result type of a binary op on `a` and `b` (JAX's lattice, weak numbers).
 *
 * @param a A tensor's type, or a number (a weak int if integral, else a weak float).
 * @param b Likewise.
 * @returns The type both are promoted to.
 * @example
 * ```ts
 * import { promoteTypes } from "@deno-gpu/kernels";
 * console.log(promoteTypes("int32", 2), promoteTypes("int32", 0.5)); // "int32" "float32"
 * console.log(promoteTypes("bool", "uint32"), promoteTypes("int32", "float16")); // "uint32" "float16"
 * ```
 */
export function promoteTypes(a: Operand, b: Operand): DType {
  checkArity("promoteTypes", arguments, 2);
  checkOperand(a);
  checkOperand(b);
  if (typeof a === "number" && typeof b === "number") {
    return Number.isInteger(a) && Number.isInteger(b) ? "int32" : "float32";
  }
  if (typeof a === "number") return promoteTypes(b, a);
  if (typeof b === "number") {
    if (DTYPES[a].float) return a;
    if (!Number.isInteger(b)) return "float32";
    return a === "bool" ? "int32" : a;
  }
  if (a === b) return a;
  if (RANK[a] === RANK[b]) return "int32"; // int32 with uint32
  return RANK[a] > RANK[b] ? a : b;
}

/** Refuses what is neither an element type nor a finite number. */
function checkOperand(value: unknown): void {
  if (!isDType(value) && !(typeof value === "number" && Number.isFinite(value))) {
    throw new TypeError(
      `promoteTypes: expected an element type (${DTYPE_NAMES.join(", ")}) or a finite number, got ${
        describeValue(value)
      }`,
    );
  }
}

/** Whether `value` names an element type. */
export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DTYPES, value);
}

/**
 * The element type of a host array: its own for a typed array of a tensor type, `bool`
 * for a `Uint8Array`, or `null` for anything else.
 */
export function dtypeOfArray(values: unknown): DType | null {
  for (const name of DTYPE_NAMES) {
    if (values instanceof DTYPES[name].array) return name;
  }
  return null;
}

/**
 * Bytes a GPU buffer of `elements` values of `dtype` takes, rounded up to a multiple of
 * 4 (copies and bindings work in 4-byte words; float16 has 2-byte elements).
 */
export function storageBytes(elements: number, dtype: DType): number {
  return Math.ceil((elements * DTYPES[dtype].bytes) / 4) * 4;
}

/** The WGSL type of a value of `dtype` in a kernel: scalar, or a vector of four. */
export function computeWgsl(dtype: DType, vector: boolean): string {
  const type = DTYPES[dtype].compute;
  return vector ? `vec4<${type}>` : type;
}

/**
 * The words an upload writes for `values`: the array itself where its bytes are the
 * buffer's, a `Uint32Array` of 0/1 for bool, float16 padded to an even count (copies
 * move whole 4-byte words).
 */
export function hostWords(values: StorageArray): HostWords {
  if (values instanceof Uint8Array) return Uint32Array.from(values);
  if (values instanceof Float16Array && values.length % 2 === 1) {
    const padded = new Float16Array(values.length + 1);
    padded.set(values);
    return padded;
  }
  return (values.buffer instanceof ArrayBuffer ? values : values.slice()) as HostWords;
}

/** The host array of `dtype` over bytes read back from a buffer (bool: u32 words to 0/1). */
export function hostValues(bytes: ArrayBuffer, dtype: DType): StorageArray {
  switch (dtype) {
    case "bool":
      return Uint8Array.from(new Uint32Array(bytes), (w) => (w === 0 ? 0 : 1));
    case "float32":
      return new Float32Array(bytes);
    case "float16":
      return new Float16Array(bytes);
    case "int32":
      return new Int32Array(bytes);
    case "uint32":
      return new Uint32Array(bytes);
  }
}
