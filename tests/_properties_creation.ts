/**
 * @file The properties of the tensors a backend creates: zeros, ones and full hold the
 * value rounded to float32 in every element, in the shape as given (scalars and shapes past
 * one dispatch included); randomNormal agrees with the reference within WGSL's accuracy.
 */
import fc from "fast-check";
import { type Backend, philox4x32, randomKey, randomNormal } from "../mod.ts";
import { NORMAL_STREAM } from "../kernels/random_normal.ts";
import {
  assertBitwise,
  assertShape,
  assertWithin,
  dim,
  flushSubnormal,
  MIN_NORMAL,
  seed,
  U,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A creation case: a shape and a fill value. */
export interface CreationCase {
  shape: number[];
  value: number;
}

/** zeros, ones and full: every element the value rounded to float32, on the backend. */
export const creationProperty: OpProperty<CreationCase> = {
  name: "zeros, ones, full: every element the value rounded to float32, in the shape given",
  cases: fc.record({
    shape: fc.array(dim(300), { maxLength: 3 }).filter((s) =>
      s.reduce((a, b) => a * b, 1) <= 200_000
    ),
    value: fc.oneof(
      fc.constantFrom(0, -0, 0.1, -2.5, 3e38),
      fc.double({ min: -1e30, max: 1e30, noNaN: true }),
    ),
  }),
  numRuns: 20,
  noSpecialValues: "a fill value must be finite (checked at the boundary); its subnormals " +
    "are drawn by fast-check's doubles",
  async check(backend: Backend, { shape, value }) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (
      const [made, expected] of [
        [backend.zeros(shape), 0],
        [backend.ones(shape), 1],
        [backend.full(shape, value), Math.fround(value)],
      ] as const
    ) {
      try {
        const what = `[${shape}] of ${expected}`;
        assertShape(made.shape, shape, what);
        if (made.backend !== backend) throw new Error(`${what}: made on another backend`);
        assertBitwise(await made.read(), new Float32Array(n).fill(expected), what);
      } finally {
        made.dispose();
      }
    }
  },
};

/**
 * How far WGSL may put one sample from the float64 value, from the WGSL spec's
 * accuracy: log within 2⁻²¹ absolute (or 3 ulp) feeds R = √(−2 ln u), where an error e
 * in −2 ln u moves R by at most √e; sin and cos within 2⁻¹¹ absolute on [−π, π];
 * sqrt, the products and the final mean + std·z a few ulp. WGSL lets a GPU flush
 * subnormals to zero (SwiftShader does, lavapipe does not): a subnormal std or mean read
 * as 0 drops its term, and a subnormal std·z or sum is off by less than MIN_NORMAL each.
 */
function sampleBound(i: number, key: readonly [number, number], mean: number, std: number) {
  const bits = philox4x32([Math.floor(i / 4), 0, 0, NORMAL_STREAM], key);
  const r0 = bits[(i % 4) < 2 ? 0 : 2];
  const u = ((r0 >>> 8) + 1) * 2 ** -24;
  const lnError = Math.max(2 ** -21, 3 * 2 ** -23 * Math.abs(Math.log(u)));
  const radius = Math.sqrt(-2 * Math.log(u));
  const radiusError = Math.sqrt(2 * lnError) + 4 * U * radius;
  const zError = radiusError + radius * (2 ** -11 + 4 * U);
  const flushed = (std - flushSubnormal(std)) * (radius + zError) +
    Math.abs(mean - flushSubnormal(mean)) + 2 * MIN_NORMAL;
  return std * zError + 4 * U * (Math.abs(mean) + std * (radius + zError)) + flushed;
}

/** A randomNormal case: a length, a key's seed, the mean and the standard deviation. */
export interface RandomNormalCase {
  n: number;
  seed: number;
  mean: number;
  std: number;
}

/** randomNormal within WGSL's accuracy of the reference's samples. */
export const randomNormalProperty: OpProperty<RandomNormalCase> = {
  name: "randomNormal: GPU agrees with the reference within WGSL's accuracy",
  cases: fc.record({
    n: dim(20000),
    seed,
    mean: fc.double({ min: -5, max: 5, noNaN: true }),
    std: fc.double({ min: 0, max: 3, noNaN: true }),
  }),
  numRuns: 30,
  noSpecialValues: "its inputs are a key, a finite mean and a finite std (checked at the " +
    "boundary), not values",
  async check(backend, { n, seed: s, mean, std }) {
    const key = randomKey(s);
    using g = randomNormal(backend, [n], key, { mean, std });
    using r = randomNormal(ref, [n], key, { mean, std });
    const bound = (i: number) => sampleBound(i, key.words, Math.fround(mean), Math.fround(std));
    assertWithin(await g.read(), await r.read(), bound, `randomNormal n=${n} seed=${s}`);
  },
};
