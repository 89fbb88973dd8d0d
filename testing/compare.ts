/**
 * @file Comparing a float32 result with an exact reference: within a bound element by
 * element, exactly where the reference is NaN, ±Inf or beyond float32's range, and, where
 * WGSL lets a GPU flush subnormals to zero, the flushed computation's value accepted too.
 * A failure names the first element that is off, both values and the bound.
 *
 * @module
 */
import { MIN_NORMAL } from "./bounds.ts";

/**
 * Whether `actual` is what a flushing GPU may give where the flushed computation gives
 * `flushed`: that value (NaN for NaN), or a zero of either sign for a zero or subnormal
 * (WGSL lets it flush a result, and SwiftShader's flushed −1e-40 is +0).
 */
export function isFlushedValue(actual: number, flushed: number): boolean {
  return sameValue(actual, flushed) || (actual === 0 && Math.abs(flushed) < MIN_NORMAL);
}

/** Whether two numbers are the same value: NaN is NaN, and +0 equals −0. */
function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Asserts |actual[i] − expected[i]| ≤ bound[i] for every i, with a message that names
 * the first element that is off, its values, and its bound. Where the reference is NaN
 * or ±Inf, or an exact value beyond float32's range (which rounds to ±Inf), the result
 * must be exactly that (NaN in the same position): no bound is meaningful there. With
 * `flushed` (the result computed with subnormal inputs and results flushed to zero, as
 * WGSL lets a GPU do), an element may instead be exactly `flushed[i]`.
 */
export function assertWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: (i: number) => number,
  what: string,
  flushed?: ArrayLike<number>,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (flushed && isFlushedValue(actual[i], flushed[i])) continue;
    const rounded = Math.fround(expected[i]);
    if (!Number.isFinite(rounded)) {
      if (sameValue(actual[i], rounded)) continue;
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, reference exactly ${rounded}`,
      );
    }
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= bound(i))) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, reference ${expected[i]}, ` +
          `error ${error} exceeds the bound ${bound(i)}`,
      );
    }
  }
}
