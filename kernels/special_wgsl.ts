/**
 * @file The WGSL functions that give NumPy's float32 results where WGSL leaves a builtin or
 * an operator open (docs/architecture.md#special-values): NaN found by its bits, never by
 * `x != x` (WGSL lets a compiler fold that to false, and llvmpipe does); a NaN deciding a
 * choice before any comparison; `pow`, `log`, `sqrt` at their edges as C's `powf`, `logf`,
 * `sqrtf`. The expression table (`kernels/expression.ts`) calls them by name and the
 * reducers (`kernels/reduce_kernel.ts`) use {@linkcode isNaNWgsl}; the float64 interpreter
 * beside the table gives the same values, so the reference stays independent of this WGSL.
 */

/**
 * WGSL of whether `x` (f32, or vec4f with `vector`) is NaN, tested by its bits: an
 * exponent of all ones and a nonzero fraction. `x != x` would say the same under IEEE
 * rules, but WGSL lets a compiler assume no value is NaN and fold it to false (llvmpipe
 * does). Every kernel that must see a NaN (the expressions, the reducers) uses this one.
 */
export function isNaNWgsl(x: string, vector = false): string {
  return vector
    ? `((bitcast<vec4u>(${x}) & vec4u(0x7fffffffu)) > vec4u(0x7f800000u))`
    : `((bitcast<u32>(${x}) & 0x7fffffffu) > 0x7f800000u)`;
}

/**
 * One WGSL function for f32 (`special_<name>`) and for vec4f (`special_<name>_4`), from one
 * body written over the type `T`, the boolean type `B`, the unsigned type `U` (of the
 * bits) and the suffix `s` of the helpers it calls (WGSL's `select`, comparisons and `&`/`|` work on both; `&&` and `||` do not).
 */
function overBoth(
  name: string,
  params: string,
  body: (t: { T: string; B: string; U: string; s: string }) => string,
): string {
  return [
    { T: "f32", B: "bool", U: "u32", s: "" },
    { T: "vec4f", B: "vec4<bool>", U: "vec4u", s: "_4" },
  ].map((t) =>
    `fn special_${name}${t.s}(${params.replaceAll("T", t.T)}) -> ${
      name.startsWith("is_") ? t.B : t.T
    } {\n  ${body(t)}\n}`
  ).join("\n");
}

/** A function applying the f32 function `special_<name>` to each lane of vec4f arguments. */
export function lanewise(name: string, arity: number): string {
  const args = ["a", "b"].slice(0, arity);
  const lane = (c: string) => `special_${name}(${args.map((a) => `${a}.${c}`).join(", ")})`;
  return `fn special_${name}_4(${args.map((a) => `${a}: vec4f`).join(", ")}) -> vec4f {\n  ` +
    `return vec4f(${["x", "y", "z", "w"].map(lane).join(", ")});\n}`;
}

/**
 * The WGSL functions behind the expressions whose edges WGSL leaves open, each taking its
 * arguments once (so a fused argument is computed once): a NaN is found by its bits and
 * decides the result before any comparison does, and `add` and `sub` give NaN for NaN and
 * for Inf − Inf by the bits of their operands (NIR folds x − x to 0 assuming x finite) (a compiler may rewrite `a > b` as
 * `!(a <= b)`, which is true for NaN: GL's llvmpipe does for `relu`); `pow`, `log` and
 * `sqrt` give NumPy's float32 values (C's `powf`, `logf`, `sqrtf`) where WGSL's builtins
 * are undefined, and `pow` and `log` scale a subnormal argument by 2²⁴ first (llvmpipe's
 * log and log2 of a subnormal are neither right nor flushed: log(1e-40) gave −88.02, not
 * −92.10); `exp` is 1 for |x| < 2⁻²⁵, its correctly rounded value, where WGSL allows 3 ULP
 * off (llvmpipe's exp(−1e-40) is 1 − 2⁻²⁴), which `sigmoid` inherits; `tanh` is x for
 * |x| < 2⁻¹² (tanh x = x·(1 − x²/3 + …)), keeping ±0 and subnormals. Infinities and NaN
 * come from bits held in a `var`: WGSL rejects them as constants.
 */
export const SPECIAL_WGSL: string = [
  "fn special_infinity() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }",
  "fn special_nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }",
  overBoth("is_nan", "x: T", ({ s }) => `return ${isNaNWgsl("x", s !== "")};`),
  overBoth(
    "is_infinite",
    "x: T",
    ({ U }) => `return (bitcast<${U}>(x) & ${U}(0x7fffffffu)) == ${U}(0x7f800000u);`,
  ),
  overBoth(
    "add",
    "a: T, b: T",
    ({ T, U, s }) =>
      `return select(a + b, ${T}(special_nan()), special_is_nan${s}(a) | special_is_nan${s}(b) | ` +
      `(special_is_infinite${s}(a) & (bitcast<${U}>(a) == (bitcast<${U}>(b) ^ ${U}(0x80000000u)))));`,
  ),
  overBoth(
    "sub",
    "a: T, b: T",
    ({ T, U, s }) =>
      `return select(a - b, ${T}(special_nan()), special_is_nan${s}(a) | special_is_nan${s}(b) | ` +
      `(special_is_infinite${s}(a) & (bitcast<${U}>(a) == bitcast<${U}>(b))));`,
  ),
  overBoth(
    "is_number",
    "a: T, b: T",
    ({ s }) => `return !(special_is_nan${s}(a) | special_is_nan${s}(b));`,
  ),
  overBoth(
    "maximum",
    "a: T, b: T",
    ({ s }) => `return select(b, a, special_is_nan${s}(a) | ((a > b) & !special_is_nan${s}(b)));`,
  ),
  overBoth(
    "minimum",
    "a: T, b: T",
    ({ s }) => `return select(b, a, special_is_nan${s}(a) | ((a < b) & !special_is_nan${s}(b)));`,
  ),
  overBoth(
    "relu",
    "a: T",
    ({ T, s }) => `return select(a, ${T}(0.0), (a <= ${T}(0.0)) & !special_is_nan${s}(a));`,
  ),
  overBoth(
    "greater",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), (a > b) & special_is_number${s}(a, b));`,
  ),
  overBoth(
    "less",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), (a < b) & special_is_number${s}(a, b));`,
  ),
  overBoth(
    "equal",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), (a == b) & special_is_number${s}(a, b));`,
  ),
  overBoth(
    "not_equal",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(1.0), ${T}(0.0), (a == b) & special_is_number${s}(a, b));`,
  ),
  overBoth(
    "greater_equal",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), (a >= b) & special_is_number${s}(a, b));`,
  ),
  overBoth(
    "less_equal",
    "a: T, b: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), (a <= b) & special_is_number${s}(a, b));`,
  ),
  // Truth as NumPy's bool(x): nonzero, NaN included; ±0 (and a flushed subnormal) false.
  overBoth("is_true", "a: T", ({ T, s }) => `return (a != ${T}(0.0)) | special_is_nan${s}(a);`),
  overBoth(
    "logical_and",
    "a: T, b: T",
    ({ T, s }) =>
      `return select(${T}(0.0), ${T}(1.0), special_is_true${s}(a) & special_is_true${s}(b));`,
  ),
  overBoth(
    "logical_or",
    "a: T, b: T",
    ({ T, s }) =>
      `return select(${T}(0.0), ${T}(1.0), special_is_true${s}(a) | special_is_true${s}(b));`,
  ),
  overBoth(
    "logical_xor",
    "a: T, b: T",
    ({ T, s }) =>
      `return select(${T}(0.0), ${T}(1.0), special_is_true${s}(a) != special_is_true${s}(b));`,
  ),
  overBoth(
    "logical_not",
    "a: T",
    ({ T, s }) => `return select(${T}(1.0), ${T}(0.0), special_is_true${s}(a));`,
  ),
  overBoth(
    "nan_mask",
    "a: T",
    ({ T, s }) => `return select(${T}(0.0), ${T}(1.0), special_is_nan${s}(a));`,
  ),
  overBoth(
    "finite_mask",
    "a: T",
    ({ T, s }) =>
      `return select(${T}(1.0), ${T}(0.0), special_is_nan${s}(a) | special_is_infinite${s}(a));`,
  ),
  // NumPy's sign: NaN for NaN, and +0 for either zero, as (a > 0) − (a < 0): Mesa's NIR
  // turns a choice between +0 and −1 into −b2f(c), which is −0 where c is false.
  overBoth(
    "sign",
    "a: T",
    ({ T, s }) =>
      `return select(select(${T}(0.0), ${T}(1.0), a > ${T}(0.0)) - select(${T}(0.0), ${T}(1.0), a < ${T}(0.0)), a, special_is_nan${s}(a));`,
  ),
  overBoth(
    "where",
    "c: T, a: T, b: T",
    ({ T, s }) => `return select(b, a, (c != ${T}(0.0)) | special_is_nan${s}(c));`,
  ),
  overBoth(
    "exp",
    "a: T",
    ({ T, s }) =>
      `return select(select(exp(a), ${T}(1.0), abs(a) < ${T}(0x1p-25f)), a, special_is_nan${s}(a));`,
  ),
  overBoth(
    "sigmoid",
    "a: T",
    ({ T, s }) =>
      `let e = special_exp${s}(-abs(a));\n  return select(e / (1.0 + e), 1.0 / (1.0 + e), a >= ${T}(0.0));`,
  ),
  overBoth(
    "tanh",
    "a: T",
    ({ T }) =>
      `let t = exp(-2.0 * abs(a));\n  return select(sign(a) * (1.0 - t) / (1.0 + t), a, abs(a) < ${T}(0x1p-12f));`,
  ),
  /* wgsl */ `fn special_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (special_is_nan(a) || special_is_nan(b)) { return special_nan(); }
  let m = abs(a);
  if (abs(b) > 0x1.fffffep127f) {
    if (m == 1.0) { return 1.0; }
    return select(0.0, special_infinity(), (m > 1.0) == (b > 0.0));
  }
  let integer = floor(b) == b;
  let odd = integer && floor(b * 0.5) != b * 0.5;
  let negative = (bitcast<u32>(a) & 0x80000000u) != 0u;
  var r: f32;
  if (m == 0.0) {
    r = select(0.0, special_infinity(), b < 0.0);
  } else if (m > 0x1.fffffep127f) {
    r = select(special_infinity(), 0.0, b < 0.0);
  } else if (negative && !integer) {
    return special_nan();
  } else if (m < 0x1p-126f) {
    r = exp2(b * (log2(m * 0x1p24f) - 24.0));
  } else {
    r = pow(m, b);
  }
  return select(r, -r, negative && odd);
}`,
  lanewise("pow", 2),
  /* wgsl */ `fn special_log(a: f32) -> f32 {
  if (special_is_nan(a)) { return a; }
  if (a == 0.0) { return -special_infinity(); }
  if (a < 0.0) { return special_nan(); }
  if (a < 0x1p-126f) { return log(a * 0x1p24f) - 16.6355324; }
  return log(a);
}`,
  lanewise("log", 1),
  // astype from a float to an integer (`cast` of kernels/expression.ts): truncation toward
  // zero, saturating at the type's range, NaN → 0, whatever WGSL's own conversion does
  // out of range (it clamps) or at NaN (undefined).
  ...["", "_4"].flatMap((s) => {
    const [F, I, U] = s ? ["vec4f", "vec4<i32>", "vec4<u32>"] : ["f32", "i32", "u32"];
    return [
      `fn special_to_i32${s}(a: ${F}) -> ${I} {\n  return select(select(${I}(max(a, ${F}(-2147483648.0))), ${I}(2147483647), a >= ${F}(2147483648.0)), ${I}(0), special_is_nan${s}(a));\n}`,
      `fn special_to_u32${s}(a: ${F}) -> ${U} {\n  return select(select(${U}(max(a, ${F}(0.0))), ${U}(4294967295u), a >= ${F}(4294967296.0)), ${U}(0u), special_is_nan${s}(a));\n}`,
    ];
  }),
  overBoth(
    "sqrt",
    "a: T",
    ({ T, s }) =>
      `return select(select(sqrt(a), ${T}(special_nan()), a < ${T}(0.0)), a, special_is_nan${s}(a));`,
  ),
].join("\n");
