/**
 * @file Element types in the expression language (`kernels/expression.ts`): how a call is
 * typed, how a value is converted, and the integer meaning of the functions that have one
 * — each written twice, as WGSL and as float64 arithmetic, side by side as the expression
 * table is.
 *
 * A call's arguments are promoted together (`promoteTypes`: literals are weak numbers)
 * and converted to that type before the function runs, so a kernel never mixes types:
 * - **same** (add, sub, mul, neg, abs, maximum, minimum, relu, sign, floor, ceil, round,
 *   floorDiv, mod): the result has the arguments' type. On int32 and uint32 it is integer
 *   arithmetic that wraps, as WGSL's does (the float64 meaning wraps with `| 0`, `>>> 0`
 *   and `Math.imul`); `floorDiv` and `mod` follow Python (the remainder has the divisor's
 *   sign) and give 0 for a zero divisor (NumPy's value; WGSL's own `/` by zero returns
 *   the dividend). bool computes as int32 and is read back by truth (`add` is or, `mul`
 *   is and, as JAX's).
 * - **float** (div, exp, …): integers and bool are converted to float32 first (`div` is
 *   true division, as JAX's).
 * - **compare**, **logical**, **predicate** (isNaN, isFinite): bool results; logical ops
 *   read each argument by truth (nonzero, NaN included).
 * - **select** (`where`): the condition by truth, the two values promoted together.
 *
 * float16 computes in f32, as float32 does (its storage is rounded once, on store).
 */
import { computeWgsl, type DType, DTYPES, type Operand, promoteTypes } from "./dtype.ts";
import type { FunctionName } from "./expression.ts";

/** How a call is typed (see the file's comment). */
export type Typing = "same" | "float" | "compare" | "logical" | "predicate" | "select";

const TYPING: Partial<Record<FunctionName, Typing>> = {
  add: "same",
  sub: "same",
  mul: "same",
  neg: "same",
  abs: "same",
  maximum: "same",
  minimum: "same",
  relu: "same",
  sign: "same",
  floor: "same",
  ceil: "same",
  round: "same",
  floorDiv: "same",
  mod: "same",
  greater: "compare",
  less: "compare",
  equal: "compare",
  notEqual: "compare",
  greaterEqual: "compare",
  lessEqual: "compare",
  logicalAnd: "logical",
  logicalOr: "logical",
  logicalXor: "logical",
  logicalNot: "logical",
  isNaN: "predicate",
  isFinite: "predicate",
  where: "select",
};

/** How `fn` is typed; functions not listed are float functions. */
export function typingOf(fn: FunctionName): Typing {
  return TYPING[fn] ?? "float";
}

/** The types a call converts its arguments to, and its result's type. */
export interface CallTypes {
  readonly args: readonly DType[];
  readonly result: DType;
}

/** Operands promoted together: a type, or a weak number when every one is a number. */
export function joinOperands(operands: readonly Operand[]): Operand {
  return operands.reduce((a, b) =>
    typeof a === "number" && typeof b === "number"
      ? (Number.isInteger(a) && Number.isInteger(b) ? 1 : 0.5)
      : promoteTypes(a, b)
  );
}

/** A weak number left alone is float32 (the expression language's default type). */
function strong(operand: Operand): DType {
  return typeof operand === "number" ? "float32" : operand;
}

/** The types of a call of `fn` on operands of these types (a number: a weak literal). */
export function callTypes(fn: FunctionName, operands: readonly Operand[]): CallTypes {
  const own = operands.map(strong);
  switch (typingOf(fn)) {
    case "same": {
      const t = strong(joinOperands(operands));
      return { args: own.map(() => (t === "bool" ? "int32" : t)), result: t };
    }
    case "float": {
      const t = strong(joinOperands(operands));
      const f = DTYPES[t].float ? t : "float32";
      return { args: own.map(() => f), result: f };
    }
    case "compare": {
      const t = strong(joinOperands(operands));
      return { args: own.map(() => t), result: "bool" };
    }
    case "logical":
    case "predicate":
      return { args: own, result: "bool" };
    case "select": {
      const t = strong(joinOperands(operands.slice(1)));
      return { args: [own[0], t, t], result: t };
    }
  }
}

/** WGSL of a WGSL comparison operator per compare function. */
const OPERATORS: Partial<Record<FunctionName, string>> = {
  greater: ">",
  less: "<",
  equal: "==",
  notEqual: "!=",
  greaterEqual: ">=",
  lessEqual: "<=",
};

/** The integer meaning of a "same" function: WGSL over `T` (i32, u32 or vectors) and float64. */
interface IntegerDefinition {
  readonly wgsl: (args: readonly string[], T: string, signed: boolean) => string;
  readonly f64: (...args: number[]) => number;
}

/** Python's floor division and remainder of integers, 0 by a zero divisor; exact in float64. */
function divmodInteger(a: number, b: number): [number, number] {
  if (b === 0) return [0, 0];
  let r = a % b, q = (a - r) / b;
  if (r !== 0 && (r < 0) !== (b < 0)) {
    q -= 1;
    r += b;
  }
  return [q, r];
}

const INTEGER: Partial<Record<FunctionName, IntegerDefinition>> = {
  add: { wgsl: ([a, b]) => `(${a} + ${b})`, f64: (a, b) => a + b },
  sub: { wgsl: ([a, b]) => `(${a} - ${b})`, f64: (a, b) => a - b },
  mul: { wgsl: ([a, b]) => `(${a} * ${b})`, f64: Math.imul },
  neg: { wgsl: ([a], T) => `(${T}() - ${a})`, f64: (a) => -a },
  abs: { wgsl: ([a], _T, signed) => (signed ? `abs(${a})` : a), f64: Math.abs },
  maximum: { wgsl: ([a, b]) => `max(${a}, ${b})`, f64: Math.max },
  minimum: { wgsl: ([a, b]) => `min(${a}, ${b})`, f64: Math.min },
  relu: { wgsl: ([a], T) => `max(${a}, ${T}())`, f64: (a) => Math.max(a, 0) },
  sign: {
    wgsl: ([a], T) =>
      `(select(${T}(), ${T}(1), ${a} > ${T}()) - select(${T}(), ${T}(1), ${a} < ${T}()))`,
    f64: Math.sign,
  },
  floor: { wgsl: ([a]) => a, f64: (a) => a },
  ceil: { wgsl: ([a]) => a, f64: (a) => a },
  round: { wgsl: ([a]) => a, f64: (a) => a },
  floorDiv: {
    wgsl: ([a, b], T, signed) =>
      signed
        ? `special_int_floor_div${T.startsWith("vec") ? "_4" : ""}(${a}, ${b})`
        : `select(${a} / ${b}, ${T}(), ${b} == ${T}())`,
    f64: (a, b) => divmodInteger(a, b)[0],
  },
  mod: {
    wgsl: ([a, b], T, signed) =>
      signed
        ? `special_int_mod${T.startsWith("vec") ? "_4" : ""}(${a}, ${b})`
        : `select(${a} % ${b}, ${T}(), ${b} == ${T}())`,
    f64: (a, b) => divmodInteger(a, b)[1],
  },
};

/**
 * Python's `//` and `%` on i32, 0 for a zero divisor. WGSL's `/` truncates (and by zero
 * returns the dividend, which the select discards); −2³¹ / −1 is −2³¹ and its remainder 0,
 * as the float64 meaning gives once wrapped. The truncated remainder is a − q·b, not `%`:
 * on the GL stack `%` of a negative i32 came out wrong (GLSL leaves it undefined; −7 % 3
 * gave 0), where the division itself truncates as WGSL says.
 */
export const INTEGER_WGSL: string = [
  `fn special_int_floor_div(a: i32, b: i32) -> i32 {
  let q = a / b;
  let r = a - q * b;
  return select(select(q, q - 1, r != 0 && ((r < 0) != (b < 0))), 0, b == 0);
}`,
  `fn special_int_mod(a: i32, b: i32) -> i32 {
  let r = a - (a / b) * b;
  return select(select(r, r + b, r != 0 && ((r < 0) != (b < 0))), 0, b == 0);
}`,
  ...["floor_div", "mod"].map((name) =>
    `fn special_int_${name}_4(a: vec4<i32>, b: vec4<i32>) -> vec4<i32> {
  return vec4<i32>(special_int_${name}(a.x, b.x), special_int_${name}(a.y, b.y), special_int_${name}(a.z, b.z), special_int_${name}(a.w, b.w));
}`
  ),
].join("\n");

/** Whether a call of `fn` on these types needs {@linkcode INTEGER_WGSL}. */
export function needsIntegerWgsl(fn: FunctionName, types: CallTypes): boolean {
  return (fn === "floorDiv" || fn === "mod") && DTYPES[types.args[0]].compute === "i32";
}

/** A 32-bit integer wrapped into `dtype`'s range, as WGSL's arithmetic wraps. */
function wrap(dtype: DType, v: number): number {
  return dtype === "uint32" ? v >>> 0 : v | 0;
}

/**
 * WGSL of a call of `fn` with `types`, its arguments' WGSL already of the argument types
 * (`args`), and `float` the float function's WGSL (the expression table's) for float
 * arguments.
 */
export function callWgsl(
  fn: FunctionName,
  types: CallTypes,
  args: readonly string[],
  vector: boolean,
  float: (args: readonly string[]) => string,
): string {
  const result = computeWgsl(types.result, vector);
  const isFloat = (t: DType) => DTYPES[t].compute === "f32";
  switch (typingOf(fn)) {
    case "same": {
      const t = types.args[0];
      if (isFloat(t)) return float(args);
      const text = INTEGER[fn]!.wgsl(args, computeWgsl(t, vector), t === "int32");
      return types.result === "bool" ? castWgsl(t, "bool", text, vector) : text;
    }
    case "float":
      return float(args);
    case "compare":
      // The float comparisons give f32 0/1 (NaN decided by bits); integers compare exactly.
      return isFloat(types.args[0])
        ? `${result}(${float(args)})`
        : `${result}(${args[0]} ${OPERATORS[fn]} ${args[1]})`;
    case "logical": {
      const [a, b] = args.map((x, k) => truthWgsl(types.args[k], x, vector));
      const value = fn === "logicalNot"
        ? `!${a}`
        : fn === "logicalXor"
        ? `(${a} != ${b})`
        : `(${a} ${fn === "logicalAnd" ? "&" : "|"} ${b})`;
      return `${result}(${value})`;
    }
    case "predicate":
      if (isFloat(types.args[0])) return `${result}(${float(args)})`;
      return `${result}(${fn === "isFinite" ? "1u" : "0u"})`; // an integer is finite, never NaN
    case "select":
      return `select(${args[2]}, ${args[1]}, ${truthWgsl(types.args[0], args[0], vector)})`;
  }
}

/**
 * The float64 meaning of a call of `fn` with `types` (its arguments already converted):
 * the float function's (`float`) on floats and wherever the meaning does not depend on
 * the type (comparisons, truth, where), the integer one wrapped into the type otherwise.
 */
export function callFunction(
  fn: FunctionName,
  types: CallTypes,
  float: (...args: number[]) => number,
): (...args: number[]) => number {
  const t = types.args[0];
  if (typingOf(fn) !== "same" || DTYPES[t].float) return float;
  const f = INTEGER[fn]!.f64;
  return types.result === "bool"
    ? (...args) => (f(...args) !== 0 ? 1 : 0)
    : (...args) => wrap(t, f(...args));
}

/** WGSL of a bool (or vec4<bool>): whether a value of `dtype` is true (nonzero, NaN included). */
function truthWgsl(dtype: DType, text: string, vector: boolean): string {
  return DTYPES[dtype].compute === "f32"
    ? `special_is_true${vector ? "_4" : ""}(${text})`
    : `(${text} != ${computeWgsl(dtype, vector)}())`;
}

/**
 * WGSL converting `text`, a value (or vec4) of `from`'s compute type, to `to`'s, as
 * {@linkcode castNumber} does.
 */
export function castWgsl(from: DType, to: DType, text: string, vector: boolean): string {
  const source = DTYPES[from].compute, target = DTYPES[to].compute;
  const type = computeWgsl(to, vector);
  if (to === "bool") {
    return from === "bool"
      ? text
      : `select(${type}(0u), ${type}(1u), ${truthWgsl(from, text, vector)})`;
  }
  if (source === target) return text;
  if (target === "f32") return `${type}(${text})`;
  if (source !== "f32") return `bitcast<${type}>(${text})`; // int32 ↔ uint32, bool → int
  return `special_to_${target}${vector ? "_4" : ""}(${text})`;
}

/**
 * One number of type `from` converted to `to` (the float64 meaning of a conversion): from
 * an integer to a float rounded to float32 (the kernels' compute type); from a float to an integer truncated toward zero
 * and saturated at the type's range, NaN → 0; between integer types wrapped (`| 0`,
 * `>>> 0`: the bits kept); to bool by truth (NaN is true, as in NumPy).
 */
export function castNumber(v: number, from: DType, to: DType): number {
  switch (to) {
    case "float32":
    case "float16":
      // Kernels compute every float in f32: an integer becomes the nearest float32; a
      // float is unchanged (float16 is rounded by its store).
      return DTYPES[from].float ? v : Math.fround(v);
    case "bool":
      return v !== 0 ? 1 : 0;
    case "int32":
      if (!DTYPES[from].float) return v | 0;
      return Number.isNaN(v) ? 0 : Math.trunc(Math.min(Math.max(v, -(2 ** 31)), 2 ** 31 - 1));
    case "uint32":
      if (!DTYPES[from].float) return v >>> 0;
      return Number.isNaN(v) ? 0 : Math.trunc(Math.min(Math.max(v, 0), 2 ** 32 - 1));
  }
}

/** WGSL of a weak literal `value` as a value of `dtype` (a scalar, or vec4). */
export function literalWgsl(
  value: number,
  dtype: DType,
  vector: boolean,
  float: (v: number) => string,
): string {
  const type = computeWgsl(dtype, vector);
  const compute = DTYPES[dtype].compute;
  const text = dtype === "bool"
    ? `${value !== 0 ? 1 : 0}u`
    : compute === "f32"
    ? float(value)
    : `${compute}(${castNumber(value, "float32", dtype)})`;
  return vector ? `${type}(${text})` : text;
}
