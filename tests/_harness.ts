/**
 * @file What every test file shares: the backends under test, fast-check settings, and
 * value generators.
 *
 * The WebGPU backend is made once. Without an adapter, GPU tests are registered as
 * ignored (reported as such, never as passed), except under `CI=true`, where a missing
 * adapter fails the run. The adapter and driver stack are printed once, so a log says
 * what it ran on.
 */
import fc from "fast-check";
import { cpu, gpu, type GpuBackend } from "../mod.ts";

const inCI = Deno.env.get("CI") === "true";

async function openGpu(options = {}): Promise<GpuBackend | null> {
  try {
    return await gpu(options);
  } catch (error) {
    if (inCI) throw new Error(`CI=true requires a WebGPU adapter: ${error}`);
    console.warn(`no WebGPU adapter; GPU tests are ignored: ${error}`);
    return null;
  }
}

/** The GPU backend under test, or null where there is no adapter (outside CI). */
export const dev: GpuBackend | null = await openGpu();

/**
 * A second GPU backend that folds dispatches at 7 workgroups per dimension, so that
 * the two-dimensional dispatch path runs at small sizes.
 */
export const folded: GpuBackend | null = dev
  ? await openGpu({ maxWorkgroupsPerDimension: 7 })
  : null;

if (dev) {
  const stack = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default (Vulkan on Linux)";
  console.log(`WebGPU adapter: ${dev.name}; DENO_WEBGPU_BACKEND=${stack}`);
}

/** The CPU reference backend. */
export const ref = cpu();

/** Registers a test that needs the GPU; ignored (not passed) when there is none. */
export function gpuTest(name: string, fn: (dev: GpuBackend) => Promise<void> | void): void {
  Deno.test({
    name,
    ignore: dev === null,
    // Pending WebGPU error-scope promises may outlive a test by design.
    sanitizeOps: false,
    fn: () => fn(dev!),
  });
}

/** fast-check settings: a fixed run count, and the seed printed on failure. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { numRuns, verbose: 1 };
}

/** Value profiles that stress different parts of float32 arithmetic. */
export const PROFILES = ["unit", "zeros", "integers", "mixed", "large", "tiny"] as const;
/** One of {@linkcode PROFILES}. */
export type Profile = typeof PROFILES[number];

/** An arbitrary profile. */
export const profile: fc.Arbitrary<Profile> = fc.constantFrom(...PROFILES);

/** An arbitrary seed for {@linkcode values}. */
export const seed: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });

/**
 * A dimension: 1, primes around the tile sizes (4, 8, 16, 32, 256, 1024), or any size
 * up to `max`.
 */
export function dim(max: number): fc.Arbitrary<number> {
  const special = [1, 2, 3, 5, 7, 13, 17, 31, 33, 37, 61, 67, 127, 257, 1031]
    .filter((d) => d <= max);
  return fc.oneof(fc.constantFrom(...special), fc.integer({ min: 1, max }));
}

/**
 * `n` deterministic values of a profile from a seed (a small xorshift generator, so
 * fast-check shrinks the seed, profile and shape rather than thousands of floats).
 * No value is subnormal: GPUs may flush those to zero.
 */
export function values(n: number, kind: Profile, seed: number): Float32Array {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const sign = next() < 0.5 ? -1 : 1;
    const r = next();
    switch (kind) {
      case "unit":
        out[i] = sign * r;
        break;
      case "zeros":
        out[i] = r < 0.6 ? 0 : sign * next();
        break;
      case "integers":
        out[i] = sign * Math.floor(r * 17);
        break;
      case "mixed":
        out[i] = sign * (1 + r) * 10 ** Math.floor(next() * 17 - 8);
        break;
      case "large":
        out[i] = sign * (1 + r) * 10 ** (10 + Math.floor(next() * 5));
        break;
      case "tiny":
        out[i] = sign * (1 + r) * 10 ** (-15 + Math.floor(next() * 5));
        break;
    }
  }
  return out;
}

/** Unit roundoff of float32. */
export const U = 2 ** -24;

/** γ(n) = n·u/(1 − n·u): the forward error factor of n rounded operations. */
export function gamma(n: number): number {
  return (n * U) / (1 - n * U);
}

/** Smallest normal float32: a flushed subnormal intermediate is off by less than this. */
export const MIN_NORMAL = 2 ** -126;

/**
 * Asserts |actual[i] − expected[i]| ≤ bound[i] for every i, with a message that names
 * the first element that is off, its values, and its bound.
 */
export function assertWithin(
  actual: Float32Array,
  expected: Float32Array,
  bound: (i: number) => number,
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= bound(i))) {
      throw new Error(
        `${what}: element ${i} is ${actual[i]}, reference ${expected[i]}, ` +
          `error ${error} exceeds the bound ${bound(i)}`,
      );
    }
  }
}

/** Asserts two float32 arrays are bit-identical. */
export function assertBitwise(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== b.length) {
    throw new Error(`${what}: expected ${b.length} values, got ${a.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected exactly ${expected[i]}`);
    }
  }
}

/** Asserts two float32 arrays are equal element by element (+0 equals −0; NaN never does). */
export function assertEqualValues(
  actual: Float32Array,
  expected: Float32Array,
  what: string,
): void {
  assertWithin(actual, expected, () => 0, what);
}

/** `promise`, or a rejection naming `what` after `ms`: a hang fails the test instead. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer!);
  }
}
