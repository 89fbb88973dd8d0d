/**
 * @file Counter-based random numbers: Philox-4x32-10 (`kernels/philox.ts`, in WGSL and in
 * TypeScript, bit-identical). As in JAX, a key is a
 * value: the same key gives the same numbers on every backend, and keys are split or
 * folded to get independent streams. Word `j` of element block `c` of a key's stream
 * is word `j` of `philox4x32([c, 0, 0, 0], key)`; splits and folds use counters with
 * a different last word, so they never collide with a stream.
 */
import { philoxWords } from "../kernels/philox.ts";
import { checkArity, checkInteger } from "./_validate.ts";
import { describe, describeShape } from "./tensor.ts";

/**
 * A key for counter-based random numbers: two 32-bit words. Make one with {@linkcode randomKey}.
 *
 * @example
 * ```ts
 * import { cpu, dropout, type RandomKey, randomKey } from "@deno-gpu/kernels";
 * const key: RandomKey = randomKey(0);
 * using x = cpu().tensor([1, 1, 1, 1, 1, 1, 1, 1]);
 * using a = dropout(x, 0.5, key);
 * using b = dropout(x, 0.5, key);
 * console.log(await a.read(), await b.read()); // the same mask twice: [0, 2, 2, 2, 2, 0, 2, 0]
 * ```
 */
export interface RandomKey {
  /** The two key words, unsigned 32-bit integers. */
  readonly words: readonly [number, number];
}

const SPLIT_TAG = 1;
const FOLD_TAG = 2;

/**
 * Philox-4x32-10: four random 32-bit words from a 128-bit counter and a 64-bit key.
 *
 * @param counter Four unsigned 32-bit words.
 * @param key Two unsigned 32-bit words.
 * @returns Four unsigned 32-bit words.
 * @example
 * ```ts
 * import { philox4x32 } from "@deno-gpu/kernels";
 * // Random123's first known-answer vector.
 * console.log(philox4x32([0, 0, 0, 0], [0, 0]).map((w: number) => w.toString(16)));
 * // ["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]
 * ```
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  checkArity("philox4x32", arguments, 2);
  for (const [name, words, n] of [["counter", counter, 4], ["key", key, 2]] as const) {
    if (!Array.isArray(words) || words.length !== n || !Array.from(words).every(isU32)) {
      throw new TypeError(
        `philox4x32: expected ${name} to be ${n} integers in [0, 4294967295], got ${
          describeShape(words)
        }`,
      );
    }
  }
  return philoxWords(counter, key);
}

function makeKey(k0: number, k1: number): RandomKey {
  return Object.freeze({ words: Object.freeze([k0 >>> 0, k1 >>> 0]) as [number, number] });
}

function checkU32(fn: string, name: string, value: unknown): number {
  return checkInteger(fn, name, value, { min: 0, max: 0xffffffff });
}

function isU32(w: unknown): boolean {
  return typeof w === "number" && Number.isInteger(w) && w >= 0 && w <= 0xffffffff;
}

/** Most keys one {@linkcode splitKey} call makes (2²⁰), so a wrong count cannot exhaust memory. */
const MAX_SPLIT = 2 ** 20;

/** Checks that `value` is a {@linkcode RandomKey}; `fn` names the caller in errors. */
export function checkKey(fn: string, value: unknown): RandomKey {
  const words = (value as RandomKey | null)?.words;
  if (!Array.isArray(words) || words.length !== 2 || !Array.from(words).every(isU32)) {
    throw new TypeError(
      `${fn}: expected a random key from randomKey(seed), got ${describe(value)}`,
    );
  }
  return value as RandomKey;
}

/**
 * A random key from a seed.
 *
 * @param seed An integer in [0, 2³²).
 * @returns The key `[seed, 0]`.
 * @example
 * ```ts
 * import { randomKey } from "@deno-gpu/kernels";
 * console.log(randomKey(42).words); // [42, 0]
 * ```
 */
export function randomKey(seed: number): RandomKey {
  checkArity("randomKey", arguments, 1);
  return makeKey(checkU32("randomKey", "seed", seed), 0);
}

/**
 * Splits a key into `count` new keys, independent of each other and of the key's own
 * stream.
 *
 * @param key The key to split.
 * @param count How many keys, an integer in [1, 2²⁰] (default 2).
 * @returns `count` keys.
 * @example
 * ```ts
 * import { randomKey, splitKey } from "@deno-gpu/kernels";
 * const [dataKey, dropoutKey] = splitKey(randomKey(0));
 * console.log(dataKey.words.length, dropoutKey.words.length); // 2 2
 * ```
 */
export function splitKey(key: RandomKey, count = 2): RandomKey[] {
  checkArity("splitKey", arguments, 2);
  const { words } = checkKey("splitKey", key);
  checkInteger("splitKey", "count", count, { min: 1, max: MAX_SPLIT });
  return Array.from({ length: count }, (_, i) => {
    const [a, b] = philox4x32([i, 0, 0, SPLIT_TAG], words);
    return makeKey(a, b);
  });
}

/**
 * Derives a key from a key and an integer (an epoch or step number, say): the same
 * pair always gives the same key, different integers give independent keys.
 *
 * @param key The key.
 * @param data An integer in [0, 2³²).
 * @returns A new key.
 * @example
 * ```ts
 * import { foldIn, randomKey } from "@deno-gpu/kernels";
 * const epochKey = foldIn(randomKey(7), 3);
 * console.log(epochKey.words.length); // 2
 * ```
 */
export function foldIn(key: RandomKey, data: number): RandomKey {
  checkArity("foldIn", arguments, 2);
  const { words } = checkKey("foldIn", key);
  const [a, b] = philox4x32([checkU32("foldIn", "data", data), 0, 0, FOLD_TAG], words);
  return makeKey(a, b);
}
