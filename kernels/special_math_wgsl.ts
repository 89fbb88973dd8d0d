/**
 * @file The WGSL functions of the second wave of elementwise ops that WGSL has no builtin
 * for (`log1p`, `expm1`, `softplus`, NumPy's `floor_divide` and `mod`) or whose builtin it
 * leaves open at the edges (`inverseSqrt` at 0, ±Inf and subnormals; `sin` and `cos`
 * outside [−π, π], where WGSL states no accuracy). Each is written for f32 with a lanewise
 * vec4f twin, and each is a separate prelude, so a kernel carries only the functions it
 * calls (`kernels/expression.ts` lists them per function of the language). The accuracy of
 * each is derived in `tests/_numerics.ts`; the float64 interpreter beside the table in
 * `kernels/expression.ts` gives NumPy's float32 values independently of this WGSL.
 */
import { lanewise, SPECIAL_WGSL } from "./special_wgsl.ts";

/** WGSL of a float32 constant, rounded from `value` (nine significant digits round-trip). */
const f32 = (value: number) => Math.fround(value).toPrecision(9);

/** Horner's evaluation of Σ cₖ·zᵏ (k from 0) in WGSL, the coefficients rounded to float32. */
function horner(z: string, coefficients: readonly number[]): string {
  return coefficients.reduceRight(
    (inner, c, k) => (k === coefficients.length - 1 ? f32(c) : `${f32(c)} + ${z} * (${inner})`),
    "",
  );
}

/**
 * log1p(a): `a` itself where |a| < 2⁻²⁴ (log1p a = a·(1 − a/2 + …) rounds to a: ±0 and
 * subnormals kept); on [−0.5, 1.5) 2·atanh(s) = 2s·(1 + z/3 + … + z⁹/19), s = a/(2 + a),
 * z = s² ≤ 0.184 (the series' tail is below 2⁻²⁸ of the sum), which never takes the log of
 * a number near 1, where WGSL's log is only 2⁻²¹ absolute; elsewhere log(1 + a), whose
 * argument is then outside [0.5, 2] (WGSL's 3 ULP), exact below −0.5 (Sterbenz), and NaN
 * below −1, −Inf at −1, +Inf at +Inf through `special_log`.
 */
export const LOG1P_WGSL: string = /* wgsl */ `fn special_log1p(a: f32) -> f32 {
  if (special_is_nan(a) || abs(a) < 0x1p-24f) { return a; }
  if (a < -0.5 || a >= 1.5) { return special_log(1.0 + a); }
  let s = a / (2.0 + a);
  let z = s * s;
  return 2.0 * s * (${horner("z", Array.from({ length: 10 }, (_, k) => 1 / (2 * k + 1)))});
}
${lanewise("log1p", 1)}`;

/**
 * expm1(a): `a` itself where |a| < 2⁻²⁴ (±0 and subnormals kept); on [−0.5, 0.5] the
 * Taylor polynomial a·(1 + a/2 + … + a⁸/9!) (the tail is below 2⁻³⁰ of the result);
 * elsewhere exp(a) − 1, whose cancellation is at most a factor 1/(1 − e^−0.5) ≈ 2.54
 * (−1 at −Inf, +Inf from an overflowing exp).
 */
export const EXPM1_WGSL: string = /* wgsl */ `fn special_expm1(a: f32) -> f32 {
  if (special_is_nan(a) || abs(a) < 0x1p-24f) { return a; }
  if (abs(a) > 0.5) { return special_exp(a) - 1.0; }
  return a * (${horner("a", Array.from({ length: 9 }, (_, k) => 1 / factorial(k + 1)))});
}
${lanewise("expm1", 1)}`;

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/**
 * rsqrt(a) = 1/√a as NumPy computes it in float32: NaN below 0 (−0 included: −0 gives
 * −Inf, 1/−0), ±Inf at ±0, 0 at +Inf; a subnormal is scaled by 2²⁴ first (WGSL's
 * `inverseSqrt` is 2 ULP for normal arguments only), the result by 2¹² after.
 */
export const RSQRT_WGSL: string = /* wgsl */ `fn special_rsqrt(a: f32) -> f32 {
  if (special_is_nan(a) || a < 0.0) { return special_nan(); }
  if (a == 0.0) {
    return select(special_infinity(), -special_infinity(), (bitcast<u32>(a) & 0x80000000u) != 0u);
  }
  if (special_is_infinite(a)) { return 0.0; }
  if (a < 0x1p-126f) { return inverseSqrt(a * 0x1p24f) * 0x1p12f; }
  return inverseSqrt(a);
}
${lanewise("rsqrt", 1)}`;

/**
 * sin and cos: NaN at ±Inf and NaN; below 2⁻¹² in magnitude `a` (sin, so ±0 and
 * subnormals are kept) and 1 (cos), their correctly rounded values; elsewhere the builtin
 * on r = a − 2πk, k = round(a/2π), within about π of 0, where WGSL bounds its error by
 * 2⁻¹¹ absolute. 2π is split in three float32 (Cody and Waite): c₁ = 6.28125 and
 * c₂ = 2π − c₁ rounded to 8 significant bits, c₃ the rest rounded, so for |k| < 2¹⁶
 * (|a| < 2¹⁸ certainly) k·c₁ and k·c₂ are exact, a − k·c₁ too (Sterbenz), and r is off
 * by a few u of π only — NumPy's accuracy, not the u·|a| of a plain a − 2πk.
 */
/** 2π = c₁ + c₂ + c₃ (to 2⁻⁴⁵): c₁, c₂ of 8 significant bits, c₃ a float32. */
export const TWO_PI_PARTS: readonly [number, number, number] = [
  6.28125,
  0.0019378662109375,
  Math.fround(2 * Math.PI - 6.28125 - 0.0019378662109375),
];

export const TRIG_WGSL: string = /* wgsl */ `fn special_reduce_2pi(a: f32) -> f32 {
  let k = round(a * ${f32(1 / (2 * Math.PI))});
  return ((a - k * ${f32(TWO_PI_PARTS[0])}) - k * ${f32(TWO_PI_PARTS[1])}) - k * (${
  f32(TWO_PI_PARTS[2])
});
}
fn special_sin(a: f32) -> f32 {
  if (special_is_nan(a) || special_is_infinite(a)) { return special_nan(); }
  if (abs(a) < 0x1p-12f) { return a; }
  return sin(special_reduce_2pi(a));
}
fn special_cos(a: f32) -> f32 {
  if (special_is_nan(a) || special_is_infinite(a)) { return special_nan(); }
  if (abs(a) < 0x1p-12f) { return 1.0; }
  return cos(special_reduce_2pi(a));
}
${lanewise("sin", 1)}
${lanewise("cos", 1)}`;

/**
 * C's `fmodf`, exactly, and NumPy's `floor_divide` and `mod` on it (`npy_divmodf`):
 * fmod subtracts |b|·2ᵏ from |a|, the largest k first — each subtraction exact (the two are
 * within a factor 2: Sterbenz), at most 278 of them — and keeps a's sign; the exponents
 * come from the bits and |b|·2ᵏ from products by powers of two (exact, subnormal |b|
 * included: with WGSL's `frexp` and `ldexp` instead, llvmpipe gave mod(−0.037, 2.8·10⁻⁴¹)
 * as −0.037); NaN for NaN, an
 * infinite a or b = 0, a for an infinite b. Then, as NumPy: mod = fmod, plus b where their
 * signs differ (one rounding), else a zero of b's sign; floorDiv = (a − fmod)/b, less 1
 * where the signs differ, rounded to the nearest whole number by floor and a correction
 * (so a division off by less than ½ still lands on NumPy's value), a zero of the sign of
 * a/b where it is 0; a zero b gives a/b: ±Inf, or NaN for a zero or NaN a.
 */
export const DIVMOD_WGSL: string = /* wgsl */ `fn special_exponent(x: f32) -> i32 {
  let bits = bitcast<u32>(x) & 0x7fffffffu;
  let e = i32(bits >> 23u);
  return select(e - 127, -118 - i32(countLeadingZeros(bits)), e == 0);
}
fn special_pow2(j: i32) -> f32 { return bitcast<f32>(u32(j + 127) << 23u); }
fn special_scale(x: f32, k: i32) -> f32 {
  return x * special_pow2(min(k, 127)) * special_pow2(clamp(k - 127, 0, 127)) *
    special_pow2(max(k - 254, 0));
}
fn special_fmod(a: f32, b: f32) -> f32 {
  if (special_is_nan(a) || special_is_nan(b) || special_is_infinite(a) || b == 0.0) {
    return special_nan();
  }
  let m = abs(b);
  var r = abs(a);
  if (!special_is_infinite(b)) {
    let em = special_exponent(m);
    for (var i = 0; i < 280 && r >= m; i++) {
      var s = special_scale(m, special_exponent(r) - em);
      if (s > r) { s = s * 0.5; }
      r = r - s;
    }
  }
  return select(r, -r, (bitcast<u32>(a) & 0x80000000u) != 0u);
}
fn special_sign_bit(a: f32) -> bool { return (bitcast<u32>(a) & 0x80000000u) != 0u; }
fn special_copy_sign(magnitude: f32, negative: bool) -> f32 {
  return select(abs(magnitude), -abs(magnitude), negative);
}
fn special_floor_div(a: f32, b: f32) -> f32 {
  if (special_is_nan(a) || special_is_nan(b)) { return special_nan(); }
  let negative = special_sign_bit(a) != special_sign_bit(b);
  if (b == 0.0) {
    return select(special_copy_sign(special_infinity(), negative), special_nan(), a == 0.0);
  }
  let m = special_fmod(a, b);
  if (special_is_nan(m)) { return m; }
  var d = (a - m) / b;
  if (m != 0.0 && (b < 0.0) != (m < 0.0)) { d = d - 1.0; }
  if (d == 0.0) { return special_copy_sign(0.0, negative); }
  let f = floor(d);
  return select(f, f + 1.0, d - f > 0.5);
}
fn special_mod(a: f32, b: f32) -> f32 {
  let m = special_fmod(a, b);
  if (special_is_nan(m)) { return m; }
  if (m == 0.0) { return special_copy_sign(0.0, special_sign_bit(b)); }
  return select(m, m + b, (b < 0.0) != (m < 0.0));
}
${lanewise("floor_div", 2)}
${lanewise("mod", 2)}`;

/**
 * softplus(a) = log(1 + eᵃ) = max(a, 0) + log1p(e^−|a|) (NumPy's `logaddexp(0, a)`):
 * no overflow for any a; NaN for NaN, +Inf at +Inf, 0 at −Inf.
 */
export const SOFTPLUS_WGSL: string = /* wgsl */ `fn special_softplus(a: f32) -> f32 {
  if (special_is_nan(a)) { return a; }
  return max(a, 0.0) + special_log1p(special_exp(-abs(a)));
}
${lanewise("softplus", 1)}`;

/** The preludes each function needs, in the order a module declares them. */
export const MATH_PRELUDES = {
  log1p: [SPECIAL_WGSL, LOG1P_WGSL],
  expm1: [SPECIAL_WGSL, EXPM1_WGSL],
  rsqrt: [SPECIAL_WGSL, RSQRT_WGSL],
  trig: [SPECIAL_WGSL, TRIG_WGSL],
  divmod: [SPECIAL_WGSL, DIVMOD_WGSL],
  softplus: [SPECIAL_WGSL, LOG1P_WGSL, SOFTPLUS_WGSL],
} as const;
