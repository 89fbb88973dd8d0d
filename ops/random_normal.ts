/**
 * @file `randomNormal`: normal samples from the counter-based generator, made on the
 * backend that will use them (the study's synthetic data never leaves the GPU). The
 * reference applies the same Box–Muller transform to the same Philox words in float64;
 * see `kernels/random_normal.ts` for the stream layout and the accuracy.
 */
import {
  encodeRandomNormal,
  NORMAL_STREAM,
  type RandomNormalParams,
} from "../kernels/random_normal.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkBackend, checkNumber, checkOptions } from "./_validate.ts";
import { checkKey, philox4x32, type RandomKey } from "./random.ts";
import { type Backend, describeShape, isShape, type Tensor } from "./tensor.ts";

/** The Box–Muller pair from two Philox words, in float64 (the kernel's reference). */
function boxMuller(r0: number, r1: number): [number, number] {
  const u = ((r0 >>> 8) + 1) * 2 ** -24;
  const v = (r1 >>> 8) * 2 ** -24;
  const theta = Math.fround(Math.fround(2 * Math.fround(Math.PI) * v) - Math.fround(Math.PI));
  const radius = Math.sqrt(-2 * Math.log(u));
  return [-radius * Math.cos(theta), -radius * Math.sin(theta)];
}

const randomNormalOp: OpDefinition<RandomNormalParams & { size: number }> = {
  name: "randomNormal",
  reference(_inputs, { mean, std, key, size }) {
    const out = new Float32Array(size);
    const [m, s] = [Math.fround(mean), Math.fround(std)];
    for (let block = 0; block * 4 < size; block++) {
      const [r0, r1, r2, r3] = philox4x32([block, 0, 0, NORMAL_STREAM], key);
      const z = [...boxMuller(r0, r1), ...boxMuller(r2, r3)];
      for (let j = 0; j < 4 && block * 4 + j < size; j++) out[block * 4 + j] = m + s * z[j];
    }
    return out;
  },
  kernel: encodeRandomNormal,
  // The key, mean and standard deviation reach the kernel as uniforms.
  staticKey: ({ size }) => String(size),
};

/** Options of {@linkcode randomNormal}. */
export interface RandomNormalOptions {
  /** The mean, finite (default 0). */
  readonly mean?: number;
  /** The standard deviation, finite and ≥ 0 (default 1). */
  readonly std?: number;
}

/**
 * Samples of a normal distribution, a function of the key and the element index only.
 *
 * @param backend Where to make the tensor.
 * @param shape Its shape.
 * @param key A key from {@linkcode randomKey}.
 * @param options `mean` and `std`.
 * @returns A new tensor of `shape`.
 * @example
 * ```ts
 * import { cpu, randomKey, randomNormal } from "@deno-gpu/kernels";
 * using noise = randomNormal(cpu(), [2, 3], randomKey(0), { std: 0.01 });
 * console.log(noise.shape); // [2, 3]
 * ```
 */
export function randomNormal(
  backend: Backend,
  shape: readonly number[],
  key: RandomKey,
  options?: RandomNormalOptions,
): Tensor {
  checkArity("randomNormal", arguments, 4);
  const op = "randomNormal";
  checkBackend(op, backend);
  if (!isShape(shape)) {
    throw new TypeError(
      `${op}: expected shape as an array of integers ≥ 1, got ${describeShape(shape)}`,
    );
  }
  const { words } = checkKey(op, key);
  const o = checkOptions(op, options, false, ["mean", "std"]);
  const mean = o.mean === undefined ? 0 : checkNumber(op, "mean", o.mean);
  const std = o.std === undefined ? 1 : checkNumber(op, "std", o.std, { min: 0 });
  const size = shape.reduce((a, b) => a * b, 1);
  return runOp(randomNormalOp, [], { mean, std, key: words, size }, shape, backend);
}
