/**
 * @file The properties of element types (DESIGN.md, "Types (contract)"), checked exactly:
 * integer and bool values have no rounding, so every comparison here is equality, against
 * a rule written out in this file (not the library's `castNumber`). `astype` from float32
 * (the special profile included: NaN, ±Inf, ±0, subnormals) to every type, and from int32
 * bit patterns to every type, on the backend and on the reference; `full` of each type
 * holds its value exactly.
 */
import fc from "fast-check";
import { astype, type Backend, type DType } from "../mod.ts";
import { dim, type Profile, profile, seed, values } from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** The types a value converts to. */
const TARGETS: readonly DType[] = ["float32", "int32", "uint32", "bool"];

/**
 * astype's documented rule, written independently of the library: from a float, an
 * integer type truncates toward zero and saturates at its range with NaN → 0 (XLA's
 * conversion, which JAX inherits; NumPy leaves out-of-range and NaN undefined, and on
 * x86 gives −2³¹); from an integer, int32 ↔ uint32 keep the bits (NumPy's wrap, C's
 * conversion); bool is truth (NumPy's `astype(bool)`: nonzero, NaN included); to float32,
 * rounding to nearest.
 */
export function expectedCast(v: number, from: DType, to: DType): number {
  if (to === "float32") return Math.fround(v);
  if (to === "bool") return v === 0 ? 0 : 1;
  const [lo, hi] = to === "int32" ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
  if (from === "int32" || from === "uint32" || from === "bool") {
    const bits = ((v % 2 ** 32) + 2 ** 32) % 2 ** 32; // the 32-bit pattern, as unsigned
    return to === "uint32" ? bits : bits >= 2 ** 31 ? bits - 2 ** 32 : bits;
  }
  if (Number.isNaN(v)) return 0;
  return Math.trunc(Math.min(Math.max(v, lo), hi)) || 0; // an integer has no −0
}

/** The host array `read()` gives for each type (DESIGN.md). */
const ARRAY_TYPES = {
  float32: Float32Array,
  float16: Float16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** An astype case: a length, how the float32 values are drawn, and their seed. */
export interface AstypeCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** Asserts `actual` equals `expected` element by element (−0 and +0 apart, NaN equal). */
function assertExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const same = Object.is(actual[i], expected[i]) ||
      (Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
    if (!same) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/**
 * astype from float32 (every profile, specials included, and values past the integer
 * ranges) and from int32 bit patterns to every type: exactly the rule, on the backend and
 * on the reference, the result's `dtype` and array type the target's.
 */
export const astypeProperty: OpProperty<AstypeCase> = {
  name: "astype: float32 and int32 to every type exactly as the documented rule",
  cases: fc.record({ n: dim(300), profile, seed }),
  numRuns: 12,
  async check(backend: Backend, c: AstypeCase) {
    // Scaled past 2³² so that saturation is drawn too; the special values stay special.
    const floats = values(c.n, c.profile, c.seed).map((v) => v * 2 ** 20);
    const words = Int32Array.from(
      values(c.n, "mixed", c.seed + 1),
      (v, i) => Math.floor(v * 2 ** 31) ^ (i * 2654435761),
    );
    for (const [from, source] of [["float32", floats], ["int32", words]] as const) {
      for (const to of TARGETS) {
        for (const on of [backend, ref]) {
          using x = on.tensor(source);
          using y = astype(x, to);
          const what = `astype ${from} → ${to} on ${on.kind}`;
          if (y.dtype !== to) throw new Error(`${what}: dtype ${y.dtype}`);
          const got = await y.read();
          const arrayType = ARRAY_TYPES[to];
          if (!(got instanceof arrayType)) {
            throw new Error(`${what}: read() gave a ${got.constructor.name}`);
          }
          assertExact(got, Array.from(source, (v) => expectedCast(v, from, to)), what);
        }
      }
    }
  },
};

/** A fill case: a type and a value of it. */
export interface FullCase {
  shape: number[];
  dtype: DType;
  value: number;
}

/** full of each type: every element exactly the value (int32's and uint32's extremes included). */
export const fullTypesProperty: OpProperty<FullCase> = {
  name: "full of int32, uint32, bool: every element exactly the value",
  cases: fc.oneof(
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("int32"),
      value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    }),
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("uint32"),
      value: fc.oneof(fc.constantFrom(0, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 31 })),
    }),
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("bool"),
      value: fc.constantFrom(0, 1),
    }),
  ),
  numRuns: 20,
  noSpecialValues: "integer and bool fill values have no special values; float fills are " +
    "creationProperty's",
  async check(backend: Backend, { shape, dtype, value }) {
    using t = backend.full(shape, value, { dtype });
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.dtype !== dtype) throw new Error(`full ${dtype}: dtype ${t.dtype}`);
    assertExact(await t.read(), new Array(n).fill(value), `full [${shape}] ${dtype} ${value}`);
  },
};
