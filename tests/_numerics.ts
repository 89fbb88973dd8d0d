/**
 * @file The numerical half of the test harness: fast-check settings, reference helpers
 * and exact comparisons, and (re-exported from their home in the `testing/` folder
 * behind `@deno-gpu/kernels/testing`, so the library's tests and its users share one copy)
 * the value generators, error bounds and the comparison within a bound. It uses no Deno
 * API, so the same checks run in Deno and, bundled, in the browser
 * (tests/browser/properties.ts).
 */
import type fc from "fast-check";
import { assertWithin, isFlushedValue } from "../testing/compare.ts";
import { flushSubnormal, specialKind } from "../testing/values.ts";

export { assertWithin, isFlushedValue } from "../testing/compare.ts";
export {
  dim,
  flushSubnormal,
  ordinaryProfile,
  type Profile,
  profile,
  PROFILES,
  seed,
  SPECIAL_KINDS,
  specialCounts,
  type SpecialKind,
  specialKind,
  undrawnSpecialKinds,
  values,
} from "../testing/values.ts";
export {
  type Allowance,
  allowanceOn,
  divBound,
  dot,
  EXP_ALLOWANCE,
  expUlps,
  gamma,
  MIN_NORMAL,
  powBound,
  treeSum,
  U,
  ulp,
} from "../testing/bounds.ts";

/** fast-check settings: a fixed run count, and the seed printed on failure. */
export function runs<T = unknown>(numRuns: number): fc.Parameters<T> {
  return { numRuns, verbose: 1 };
}

/**
 * `domain` applied to the values that are not special (NaN, ±Inf, ±0, subnormals): those
 * stay as drawn, so every input meets them.
 */
export function keepingSpecials(
  domain: (x: Float32Array) => Float32Array,
): (x: Float32Array) => Float32Array {
  return (x) => {
    const mapped = domain(x);
    return mapped.map((v, i) => (specialKind(x[i]) ? x[i] : v));
  };
}

/**
 * A function of float32 inputs with its subnormal inputs flushed to zero, rounded to
 * float32: what a GPU that flushes computes (the comparisons accept its result flushed too).
 */
export function flushing(f: (...args: number[]) => number): (...args: number[]) => number {
  return (...args) => Math.fround(f(...args.map(flushSubnormal)));
}

/**
 * C's `powf` (NumPy's pow in float32) in float64: JavaScript's `Math.pow` except that 1 to
 * any power and −1 to ±Inf are 1.
 */
export function powC(a: number, b: number): number {
  return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b);
}

/** Asserts two float32 arrays are bit-identical, except that any NaN matches any NaN. */
export function assertBitwise(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== b.length) {
    throw new Error(`${what}: expected ${b.length} values, got ${a.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}

/**
 * Asserts each element is bit-identical to `expected`, or to `flushed`: what a GPU that
 * flushes subnormal inputs and results to zero computes (NVIDIA's does; llvmpipe's
 * does not; SwiftShader's does, to +0), or to a zero where `flushed` is zero or subnormal.
 * WGSL allows both. A NaN matches any NaN (its payload is not specified).
 */
export function assertBitwiseOrFlushed(
  actual: Float32Array,
  expected: Float32Array,
  flushed: Float32Array,
  what: string,
): void {
  if (actual.length !== expected.length || flushed.length !== expected.length) {
    throw new Error(
      `${what}: expected ${expected.length} values (and as many flushed), got ${actual.length} ` +
        `(and ${flushed.length} flushed)`,
    );
  }
  const bits = (a: Float32Array, i: number) => new Uint32Array(a.buffer, a.byteOffset, a.length)[i];
  for (let i = 0; i < expected.length; i++) {
    const nan = Number.isNaN(actual[i]) && Number.isNaN(expected[i]);
    if (!nan && bits(actual, i) !== bits(expected, i) && !isFlushedValue(actual[i], flushed[i])) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]} (or ${
          flushed[i]
        } with subnormals flushed)`,
      );
    }
  }
}

/** Asserts two float32 arrays are equal element by element (+0 equals −0; NaN equals NaN). */
export function assertEqualValues(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
): void {
  assertWithin(actual, expected, () => 0, what);
}

/** Asserts a tensor's shape, naming what was computed. */
export function assertShape(actual: readonly number[], expected: readonly number[], what: string) {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: expected shape [${expected}], got [${actual}]`);
  }
}

/** The number of elements of a shape. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major coordinates of flat index i in `shape`. */
export function coordinates(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}
