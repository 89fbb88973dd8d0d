/**
 * @file What a property's cases are made of: value profiles that stress float32
 * arithmetic (unit, zeros, integers, mixed, large, tiny magnitudes, and special values:
 * NaN, ±Inf, ±0, subnormals, with NumPy's semantics), dimensions that meet the kernels'
 * tile edges, and the deterministic values of a profile drawn from a seed, so fast-check
 * shrinks a seed, a profile and a shape rather than thousands of floats. No Deno API: the
 * browser test runs the same generators, bundled.
 *
 * @module
 */
import fc from "./_fast_check.ts";
import { MIN_NORMAL } from "./bounds.ts";

/**
 * Value profiles that stress different parts of float32 arithmetic; `special` mixes the
 * {@linkcode SPECIAL_KINDS} into unit values (README, "Special values").
 */
export const PROFILES = [
  "unit",
  "zeros",
  "integers",
  "mixed",
  "large",
  "tiny",
  "special",
] as const;

/** One of {@linkcode PROFILES}. */
export type Profile = typeof PROFILES[number];

/** An arbitrary profile other than `special`: finite, normal values and zeros. */
export const ordinaryProfile: fc.Arbitrary<Profile> = fc.constantFrom(
  ...PROFILES.filter((p) => p !== "special"),
);

/**
 * An arbitrary profile, `special` one case in three: a special tensor of 7 values or
 * more holds every kind (see {@linkcode values}), so a property of 20 cases meets them all
 * in all but about (2/3)²⁰ ≈ 0.03% of runs, of 30 cases in all but 5·10⁻⁶ (counted by
 * {@linkcode specialCounts} and asserted by the properties' runner).
 */
export const profile: fc.Arbitrary<Profile> = fc.oneof(
  { arbitrary: ordinaryProfile, weight: 2 },
  { arbitrary: fc.constant("special" as const), weight: 1 },
);

/** A kind of special value: a key of {@linkcode SPECIAL_KINDS}. */
export type SpecialKind = "NaN" | "+Inf" | "-Inf" | "+0" | "-0" | "+subnormal" | "-subnormal";

/** The kinds of special value, each with a float32 of it. */
export const SPECIAL_KINDS: Readonly<Record<SpecialKind, number>> = {
  "NaN": NaN,
  "+Inf": Infinity,
  "-Inf": -Infinity,
  "+0": 0,
  "-0": -0,
  "+subnormal": Math.fround(1e-40),
  "-subnormal": Math.fround(-1e-40),
};

/** The kind of special value `v` is, or null for a normal nonzero finite number. */
export function specialKind(v: number): SpecialKind | null {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "+0";
  if (Math.abs(v) < MIN_NORMAL) return v > 0 ? "+subnormal" : "-subnormal";
  return null;
}

/**
 * How many values of each special kind the `special` profile of {@linkcode values} has
 * drawn since the counts were last cleared (the runner of properties clears them before a
 * property and asserts after it that every kind was drawn).
 */
export const specialCounts: Map<SpecialKind, number> = new Map();

/** The special kinds not drawn since {@linkcode specialCounts} was cleared. */
export function undrawnSpecialKinds(): SpecialKind[] {
  return (Object.keys(SPECIAL_KINDS) as SpecialKind[]).filter((k) => !specialCounts.get(k));
}

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
 * Only the `special` profile draws subnormals (GPUs may flush those to zero), NaN and
 * ±Inf: each value is special with a probability of 1/2, 1/8 or 1/64 (chosen by the seed,
 * so a long reduction sometimes meets few), at least min(1/2, 4/n) (so a short tensor
 * meets some), the kind uniform among {@linkcode SPECIAL_KINDS}; and a tensor of n ≥ 7
 * holds each kind at least once, kind j somewhere in the j-th seventh of it.
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
  const kinds = Object.values(SPECIAL_KINDS);
  const specialRate = kind === "special"
    ? Math.max([1 / 2, 1 / 8, 1 / 64][Math.floor(next() * 3)], Math.min(1 / 2, 4 / n))
    : 0;
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
      case "special":
        out[i] = next() < specialRate ? kinds[Math.floor(next() * kinds.length)] : sign * r;
        break;
    }
  }
  if (kind === "special") {
    if (n >= kinds.length) {
      kinds.forEach((v, j) => out[Math.floor(((j + next()) * n) / kinds.length)] = v);
    }
    for (const v of out) {
      const k = specialKind(v);
      if (k) specialCounts.set(k, (specialCounts.get(k) ?? 0) + 1);
    }
  }
  return out;
}

/** A float32 with subnormals flushed to zero (sign kept), as GPUs may treat them. */
export function flushSubnormal(v: number): number {
  return Math.abs(v) < MIN_NORMAL ? v * 0 : v;
}
