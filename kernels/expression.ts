/**
 * @file The elementwise expression language
 * (docs/architecture.md#elementwise-math-once): an elementwise op is
 * one small expression tree over its inputs, with two interpreters written side by side
 * here — {@linkcode expressionWgsl}, the WGSL text the kernel generator (eager and fused
 * alike) compiles, and {@linkcode evaluateExpression}, float64 arithmetic that is the CPU
 * reference (the result is rounded to float32 once, by the caller). Adding an op is then
 * one expression, its derivative and its tests, not a kernel file.
 *
 * Leaves are the op's inputs, literals (constants of the formula, part of the WGSL
 * text) and runtime words: a `scalar` (a float32 such as a learning rate) or the words
 * of a dropout mask (key, threshold). Runtime words are never written into the WGSL:
 * they travel in the kernel's uniform block, so a new learning rate or key reuses the
 * compiled pipeline and, under `jit`, the compiled program. {@linkcode runtimeWords}
 * lists them in the order the WGSL interpreter reads them (pre-order), which is the
 * order a kernel's uniform block holds them.
 *
 * The functions are written for robustness on every WebGPU implementation, not for the
 * shortest WGSL: `sigmoid` and `tanh` divide only by numbers in [1, 2] (WGSL bounds a
 * division's error only there), `maximum`/`minimum`/`relu` propagate NaN as NumPy does
 * (WGSL leaves `max` with NaN unspecified), and NaN is tested by its bits
 * (`isNaNWgsl`, `kernels/special_wgsl.ts`), never by `x != x`, which WGSL lets a compiler fold to false.
 * Where WGSL leaves a builtin undefined (`pow` at a zero, negative or infinite base, or a
 * NaN; `log` and `sqrt` below zero), a function of the prelude defines the edges as NumPy
 * does in float32 (C's `powf`, `logf`, `sqrtf`), and the float64 interpreter agrees; the
 * functions WGSL lacks (`log1p`, `expm1`, NumPy's `floor_divide` and `mod` on an exact
 * `fmod`, `softplus`) or leaves open at the edges (`inverseSqrt`, `sin` and `cos`) are
 * written in `kernels/special_math_wgsl.ts`, one prelude each.
 * Modelled on jax-js's `alu.ts` (one tiny IR, one interpreter per target).
 */
import { computeWgsl, type DType, DTYPES, type Operand } from "./dtype.ts";
import { PHILOX_WGSL, philoxWords } from "./philox.ts";
import { MATH_PRELUDES } from "./special_math_wgsl.ts";
import { SPECIAL_WGSL } from "./special_wgsl.ts";
import {
  callFunction,
  type CallTypes,
  callTypes,
  callWgsl,
  castNumber,
  castWgsl,
  INTEGER_WGSL,
  joinOperands,
  literalWgsl,
} from "./typed_calls.ts";

export { castNumber };

/** An expression over an elementwise op's inputs. */
export type Expr =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "literal"; readonly value: number }
  | { readonly kind: "scalar"; readonly value: number; readonly dtype?: DType }
  | { readonly kind: "cast"; readonly to: DType; readonly arg: Expr }
  | { readonly kind: "call"; readonly fn: FunctionName; readonly args: readonly Expr[] }
  | { readonly kind: "keep"; readonly mask: DropoutMask }
  | { readonly kind: "position" };

/**
 * A dropout mask: element `i` is kept when word `i mod 4` of
 * `philox4x32([⌊i/4⌋, 0, 0, 0], key)` is ≥ `threshold` (= ⌈p·2³²⌉), never when `dropAll`.
 */
export interface DropoutMask {
  readonly key: readonly [number, number];
  /** In [0, 2³² − 1]; meaningless when `dropAll`. */
  readonly threshold: number;
  readonly dropAll: boolean;
}

/** One function of the language: its WGSL and its float64 meaning. */
interface FunctionDefinition {
  readonly arity: number;
  /** WGSL of the call, from the WGSL of its arguments (all f32, or all vec4f). */
  readonly wgsl: (args: readonly string[], vector: boolean) => string;
  /** The float64 reference. */
  readonly f64: (...args: number[]) => number;
  /**
   * Relative cost of evaluating the call once per element, its arguments aside: 1 for
   * arithmetic, 4 for a transcendental. Fusion stores a value several kernels read
   * rather than recompute it when recomputing costs more than a store and a load.
   */
  readonly cost: number;
  /**
   * WGSL functions the call uses, each written once per module by
   * {@linkcode expressionPrelude}.
   */
  readonly prelude?: readonly string[];
}

const one = (vector: boolean) => (vector ? "vec4f(1.0)" : "1.0");
const zero = (vector: boolean) => (vector ? "vec4f(0.0)" : "0.0");

/** A function of the language that calls `special_<name>` of {@linkcode SPECIAL_WGSL}. */
const special = (name: string): Pick<FunctionDefinition, "wgsl" | "prelude"> => ({
  wgsl: (args, vector) => `special_${name}${vector ? "_4" : ""}(${args.join(", ")})`,
  prelude: [SPECIAL_WGSL],
});

/** A function calling `special_<name>` of `kernels/special_math_wgsl.ts`, with its preludes. */
const math = (
  name: string,
  prelude: readonly string[],
): Pick<FunctionDefinition, "wgsl" | "prelude"> => ({ ...special(name), prelude });

/**
 * C's `powf`, which NumPy follows in float32, in float64: JavaScript's `Math.pow` gives
 * the same except that 1 to any power (NaN, ±∞ included) and −1 to ±∞ are 1 in C.
 */
function powNumpy(a: number, b: number): number {
  return a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b);
}

/** NumPy's truth of a float: nonzero, NaN included. */
function truth(a: number): boolean {
  return a !== 0;
}

/** The nearest whole number, a tie to the even one (NumPy's `round`); the sign of a zero kept. */
function roundHalfEven(a: number): number {
  if (!Number.isFinite(a)) return a;
  const r = Math.round(a), down = r - a === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return down === 0 ? (a < 0 || Object.is(a, -0) ? -0 : 0) : down;
}

/**
 * NumPy's `npy_divmodf` in float32 — [floor_divide, mod] — each step rounded to float32
 * as NumPy rounds it (`%` is C's fmod, exactly): mod is fmod plus b where their signs
 * differ, else a zero of b's sign; the quotient (a − fmod)/b, less 1 where the signs
 * differ, is floored and corrected to the nearest whole number, a zero of a/b's sign where
 * 0. A zero divisor gives [a/b, NaN].
 */
function divmodNumpy(a: number, b: number): [number, number] {
  const f = Math.fround, fmod = a % b;
  if (b === 0) return [a / b, fmod];
  // C's `if (mod)` and `if (div)`: NaN is true there (JavaScript's `if` would say false).
  let mod = fmod, div = f(f(a - fmod) / b);
  if (mod !== 0) {
    if ((b < 0) !== (mod < 0)) {
      mod = f(mod + b);
      div = f(div - 1);
    }
  } else mod = Object.is(b, -0) || b < 0 ? -0 : 0;
  if (div === 0) return [Object.is(a / b, -0) || a / b < 0 ? -0 : 0, mod];
  const floor = Math.floor(div);
  return [f(div - floor) > 0.5 ? floor + 1 : floor, mod];
}
// `|` and `&`, not `||` and `&&`: WGSL defines only the former on vectors of bool.

const FUNCTIONS = {
  // Inf − Inf and NaN decided by bits: a compiler that assumes finite values may fold
  // x − x to 0 in a fused kernel (Mesa's NIR does), where NumPy gives NaN for x = ±Inf.
  add: { arity: 2, cost: 1, ...special("add"), f64: (a, b) => a + b },
  sub: { arity: 2, cost: 1, ...special("sub"), f64: (a, b) => a - b },
  mul: { arity: 2, cost: 1, wgsl: ([a, b]) => `(${a} * ${b})`, f64: (a, b) => a * b },
  div: { arity: 2, cost: 1, wgsl: ([a, b]) => `(${a} / ${b})`, f64: (a, b) => a / b },
  neg: { arity: 1, cost: 1, wgsl: ([a]) => `(-${a})`, f64: (a) => -a },
  abs: { arity: 1, cost: 1, wgsl: ([a]) => `abs(${a})`, f64: Math.abs },
  exp: { arity: 1, cost: 4, ...special("exp"), f64: Math.exp },
  log: { arity: 1, cost: 4, ...special("log"), f64: Math.log },
  sqrt: { arity: 1, cost: 4, ...special("sqrt"), f64: Math.sqrt },
  // NumPy's maximum/minimum: NaN if either is NaN, else `a` if it wins, else `b` (so
  // maximum(−0, +0) is +0 and maximum(+0, −0) is −0, as in NumPy).
  maximum: {
    arity: 2,
    cost: 1,
    ...special("maximum"),
    f64: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  },
  minimum: {
    arity: 2,
    cost: 1,
    ...special("minimum"),
    f64: (a, b) => (a < b || Number.isNaN(a) ? a : b),
  },
  // maximum(x, 0) as NumPy computes it: relu(−0) = +0, relu(NaN) = NaN.
  relu: { arity: 1, cost: 1, ...special("relu"), f64: (a) => (a <= 0 ? 0 : a) },
  // exp of a non-positive number, then a division by 1 + e ∈ [1, 2].
  sigmoid: {
    arity: 1,
    cost: 4,
    ...special("sigmoid"),
    f64: (a) => 1 / (1 + Math.exp(-a)),
  },
  // sign(x)·(1 − t)/(1 + t) with t = exp(−2|x|) ∈ (0, 1]: no overflow, divisor in [1, 2];
  // x itself where |x| < 2⁻¹² (tanh x = x·(1 − x²/3 + …), within 2⁻²⁵·⁶ of x), which keeps
  // ±0 and subnormals exact.
  tanh: { arity: 1, cost: 4, ...special("tanh"), f64: Math.tanh },
  // C's powf at every edge: pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN; a negative
  // base keeps the sign of an odd integer exponent, and a non-integer one gives NaN.
  pow: { arity: 2, cost: 4, ...special("pow"), f64: powNumpy },
  greater: { arity: 2, cost: 1, ...special("greater"), f64: (a, b) => (a > b ? 1 : 0) },
  less: { arity: 2, cost: 1, ...special("less"), f64: (a, b) => (a < b ? 1 : 0) },
  equal: { arity: 2, cost: 1, ...special("equal"), f64: (a, b) => (a === b ? 1 : 0) },
  /** `where(c, a, b)`: a where c ≠ 0 (NaN counts as true, as in NumPy), else b. */
  where: { arity: 3, cost: 1, ...special("where"), f64: (c, a, b) => (c !== 0 ? a : b) },
  // NaN unequal to everything; ≥ and ≤ false with a NaN, as NumPy.
  notEqual: { arity: 2, cost: 1, ...special("not_equal"), f64: (a, b) => (a !== b ? 1 : 0) },
  greaterEqual: {
    arity: 2,
    cost: 1,
    ...special("greater_equal"),
    f64: (a, b) => (a >= b ? 1 : 0),
  },
  lessEqual: { arity: 2, cost: 1, ...special("less_equal"), f64: (a, b) => (a <= b ? 1 : 0) },
  // Truth is NumPy's bool(x): nonzero, NaN included.
  logicalAnd: {
    arity: 2,
    cost: 1,
    ...special("logical_and"),
    f64: (a, b) => +(truth(a) && truth(b)),
  },
  logicalOr: {
    arity: 2,
    cost: 1,
    ...special("logical_or"),
    f64: (a, b) => +(truth(a) || truth(b)),
  },
  logicalXor: {
    arity: 2,
    cost: 1,
    ...special("logical_xor"),
    f64: (a, b) => +(truth(a) !== truth(b)),
  },
  logicalNot: { arity: 1, cost: 1, ...special("logical_not"), f64: (a) => +!truth(a) },
  isNaN: { arity: 1, cost: 1, ...special("nan_mask"), f64: (a) => +Number.isNaN(a) },
  isFinite: { arity: 1, cost: 1, ...special("finite_mask"), f64: (a) => +Number.isFinite(a) },
  // WGSL's floor, ceil and round (half to even, as NumPy's) are exact; NaN and ±Inf pass.
  floor: { arity: 1, cost: 1, wgsl: ([a]) => `floor(${a})`, f64: Math.floor },
  ceil: { arity: 1, cost: 1, wgsl: ([a]) => `ceil(${a})`, f64: Math.ceil },
  round: { arity: 1, cost: 1, wgsl: ([a]) => `round(${a})`, f64: roundHalfEven },
  // NumPy's sign: NaN for NaN, +0 for either zero.
  sign: {
    arity: 1,
    cost: 1,
    ...special("sign"),
    f64: (a) => (a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : a),
  },
  log1p: { arity: 1, cost: 6, ...math("log1p", MATH_PRELUDES.log1p), f64: Math.log1p },
  expm1: { arity: 1, cost: 6, ...math("expm1", MATH_PRELUDES.expm1), f64: Math.expm1 },
  rsqrt: { arity: 1, cost: 4, ...math("rsqrt", MATH_PRELUDES.rsqrt), f64: (a) => 1 / Math.sqrt(a) },
  sin: { arity: 1, cost: 4, ...math("sin", MATH_PRELUDES.trig), f64: Math.sin },
  cos: { arity: 1, cost: 4, ...math("cos", MATH_PRELUDES.trig), f64: Math.cos },
  // log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|).
  softplus: {
    arity: 1,
    cost: 10,
    ...math("softplus", MATH_PRELUDES.softplus),
    f64: (a) => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))),
  },
  // NumPy's floor_divide and mod on float32 (npy_divmodf), steps rounded as it rounds them.
  floorDiv: {
    arity: 2,
    cost: 8,
    ...math("floor_div", MATH_PRELUDES.divmod),
    f64: (a, b) => divmodNumpy(a, b)[0],
  },
  mod: {
    arity: 2,
    cost: 8,
    ...math("mod", MATH_PRELUDES.divmod),
    f64: (a, b) => divmodNumpy(a, b)[1],
  },
} as const satisfies Record<string, FunctionDefinition>;

/**
 * Relative cost of a dropout mask per element: a Philox-4x32-10 block (ten rounds of
 * multiplications) for every four elements, far above a transcendental.
 */
const KEEP_COST = 20;

/**
 * Relative cost of evaluating an expression once per element: the sum of its calls'
 * `cost`s (1 for arithmetic, 4 for a transcendental) and its dropout masks'; reading an
 * input, a literal, a scalar or the position costs nothing.
 */
export function expressionCost(expr: Expr): number {
  switch (expr.kind) {
    case "call":
      return expr.args.reduce<number>((n, a) => n + expressionCost(a), FUNCTIONS[expr.fn].cost);
    case "cast":
      return 1 + expressionCost(expr.arg);
    case "keep":
      return KEEP_COST;
    default:
      return 0;
  }
}

/** The name of a function of the language. */
export type FunctionName = keyof typeof FUNCTIONS;

/** The expression of the op's `index`-th input. */
export function input(index: number): Expr {
  return { kind: "input", index };
}

/** A constant of the formula (compiled into the WGSL). */
export function literal(value: number): Expr {
  return { kind: "literal", value };
}

/**
 * A runtime value (a uniform word: changing it needs no new pipeline): a float32 that
 * takes the type of what it meets, as a JavaScript number does (a learning rate), or,
 * given `dtype`, a value of that type (a fill value).
 */
export function scalar(value: number, dtype?: DType): Expr {
  return dtype === undefined ? { kind: "scalar", value } : { kind: "scalar", value, dtype };
}

/**
 * `arg` converted to `to`, as `astype` converts: to a float by rounding (float16 on
 * store); from a float to an integer by truncating toward zero, saturating at the type's
 * range, NaN to 0 (WGSL's own conversion clamps, and leaves NaN undefined); between int32
 * and uint32 by keeping the bits (wrapping, as NumPy and C do); to bool by truth.
 */
export function cast(to: DType, arg: Expr): Expr {
  return { kind: "cast", to, arg };
}

/** A call of one of the language's functions. */
export function call(fn: FunctionName, ...args: Expr[]): Expr {
  const arity = FUNCTIONS[fn].arity;
  if (args.length !== arity) {
    throw new TypeError(`expression: ${fn} takes ${arity} arguments, got ${args.length}`);
  }
  return { kind: "call", fn, args };
}

/** 1 where the dropout mask keeps the element, else 0. */
export function keep(mask: DropoutMask): Expr {
  return { kind: "keep", mask };
}

/** The element's flat index, as a float32 (exact below 2²⁴). */
export function position(): Expr {
  return { kind: "position" };
}

/** The number of inputs an expression reads: one more than its largest input index. */
export function inputCount(expr: Expr): number {
  switch (expr.kind) {
    case "input":
      return expr.index + 1;
    case "call":
      return Math.max(0, ...expr.args.map(inputCount));
    case "cast":
      return inputCount(expr.arg);
    default:
      return 0;
  }
}

/**
 * The element type of an expression's value given its inputs' types: an input's own, a
 * cast's target, a call's arguments promoted (`promoteTypes`: a literal, or a scalar
 * without a type, is a weak number that never widens a tensor); float32 when nothing
 * but weak numbers and positions is read.
 */
export function expressionType(expr: Expr, inputTypes: readonly DType[]): DType {
  const type = expressionOperand(expr, inputTypes);
  return typeof type === "number" ? "float32" : type;
}

/**
 * The type of an expression's value as an operand of promotion: a type, or (literals,
 * untyped scalars, calls of nothing else) a weak number.
 */
function expressionOperand(e: Expr, inputTypes: readonly DType[]): Operand {
  switch (e.kind) {
    case "input":
      return inputTypes[e.index];
    case "literal":
      return e.value;
    case "scalar":
      return e.dtype ?? 0.5; // a weak float
    case "cast":
      return e.to;
    case "call": {
      const operands = e.args.map((a) => expressionOperand(a, inputTypes));
      return operands.every((o) => typeof o === "number")
        ? joinOperands(operands)
        : callTypes(e.fn, operands).result;
    }
    case "keep":
    case "position":
      return "float32";
  }
}

/** The types of call `e`'s arguments and result, given the expression's input types. */
function typesOfCall(
  e: Expr & { kind: "call" },
  inputTypes: readonly DType[],
): CallTypes {
  return callTypes(e.fn, e.args.map((a) => expressionOperand(a, inputTypes)));
}

/** A 32-bit word of a uniform block: an unsigned integer or a float32. */
export type Word = { readonly u32: number } | { readonly f32: number };

/** The runtime words of an expression, in the order {@linkcode expressionWgsl} reads them. */
export function runtimeWords(expr: Expr): Word[] {
  const words: Word[] = [];
  const visit = (e: Expr): void => {
    if (e.kind === "scalar") {
      const type = e.dtype ?? "float32";
      words.push(DTYPES[type].compute === "f32" ? { f32: e.value } : { u32: e.value >>> 0 });
    } else if (e.kind === "cast") visit(e.arg);
    else if (e.kind === "keep") {
      const { key, threshold, dropAll } = e.mask;
      words.push({ u32: key[0] }, { u32: key[1] }, { u32: threshold }, { u32: dropAll ? 1 : 0 });
    } else if (e.kind === "call") e.args.forEach(visit);
  };
  visit(expr);
  return words;
}

/** What the WGSL interpreter needs from the kernel it writes into. */
export interface WgslContext {
  /** WGSL of the op's `index`-th input at the current element (its type's, or a vec4 of it). */
  input(index: number): string;
  /** The element types of the inputs. */
  readonly inputTypes: readonly DType[];
  /** WGSL reading runtime word `ordinal` of this expression (in {@linkcode runtimeWords} order). */
  word(ordinal: number, type: "u32" | "f32"): string;
  /** WGSL of the current flat element index (u32); with `vector`, of the block of four. */
  readonly index: string;
  /** Four consecutive elements per evaluation, as vec4f. */
  readonly vector: boolean;
}

/** WGSL of a float32 literal: nine significant digits round-trip every float32. */
export function f32Literal(value: number): string {
  const v = Math.fround(value);
  if (!Number.isFinite(v)) throw new RangeError(`expression: a literal must be finite, got ${v}`);
  // A whole number exactly (9 digits of 3.40282347e38 exceed float32's range, which Tint
  // rejects); others in nine significant digits.
  const text = Number.isInteger(v) ? `${BigInt(v)}.0` : v.toPrecision(9);
  return v < 0 ? `(${text})` : text;
}

/** WGSL needed once per module by the expressions: Philox for `keep`, the functions' preludes. */
export function expressionPrelude(exprs: readonly Expr[]): string {
  const preludes = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.kind === "keep") preludes.add(PHILOX_WGSL);
    if (e.kind === "cast") {
      preludes.add(SPECIAL_WGSL);
      visit(e.arg);
    }
    if (e.kind !== "call") return;
    (FUNCTIONS[e.fn] as FunctionDefinition).prelude?.forEach((p) => preludes.add(p));
    if (e.fn === "floorDiv" || e.fn === "mod") preludes.add(INTEGER_WGSL);
    preludes.add(SPECIAL_WGSL); // truth and the float comparisons of typed calls
    e.args.forEach(visit);
  };
  exprs.forEach(visit);
  return [...preludes].join("\n");
}

/** The WGSL interpreter: the expression as WGSL text, f32 or (with `vector`) vec4f. */
export function expressionWgsl(expr: Expr, context: WgslContext): string {
  let ordinal = 0;
  const emit = (e: Expr): string => {
    switch (e.kind) {
      case "input":
        return context.input(e.index);
      case "literal":
        return literalWgsl(e.value, "float32", context.vector, f32Literal);
      case "scalar": {
        const type = e.dtype ?? "float32";
        const compute = DTYPES[type].compute;
        const word = context.word(ordinal++, compute === "f32" ? "f32" : "u32");
        const value = compute === "i32" ? `bitcast<i32>(${word})` : word;
        return context.vector ? `${computeWgsl(type, true)}(${value})` : value;
      }
      case "cast":
        return castWgsl(
          expressionType(e.arg, context.inputTypes),
          e.to,
          emit(e.arg),
          context.vector,
        );
      case "call": {
        const types = typesOfCall(e, context.inputTypes);
        const args = e.args.map((a, k) =>
          a.kind === "literal"
            ? literalWgsl(a.value, types.args[k], context.vector, f32Literal)
            : castWgsl(
              expressionType(a, context.inputTypes),
              types.args[k],
              emit(a),
              context.vector,
            )
        );
        const float = FUNCTIONS[e.fn].wgsl as (args: readonly string[], vector: boolean) => string;
        return callWgsl(e.fn, types, args, context.vector, (a) => float(a, context.vector));
      }
      case "position":
        return context.vector
          ? `vec4f(vec4u(${context.index} * 4u) + vec4u(0u, 1u, 2u, 3u))`
          : `f32(${context.index})`;
      case "keep": {
        const [k0, k1, threshold, dropAll] = [0, 1, 2, 3].map(() => context.word(ordinal++, "u32"));
        const block = context.vector ? context.index : `(${context.index} / 4u)`;
        const bits = `philox4x32(vec4u(${block}, 0u, 0u, 0u), vec2u(${k0}, ${k1}))`;
        const v = context.vector;
        const word = v ? bits : `${bits}[${context.index} % 4u]`;
        const kept = v ? `(${word} >= vec4u(${threshold}))` : `(${word} >= ${threshold})`;
        const all = v ? `vec4<bool>(${dropAll} == 0u)` : `(${dropAll} == 0u)`;
        return `select(${zero(v)}, ${one(v)}, ${kept} & ${all})`;
      }
    }
  };
  return emit(expr);
}

/**
 * The float64 interpreter, compiled once per expression (over inputs of `inputTypes`)
 * into nested closures: the expression's exact value for `inputs` at element `index`
 * (before the single rounding to the result's type that the reference does). Scalars are
 * the float32 the kernel receives.
 */
export function expressionFunction(
  expr: Expr,
  inputTypes: readonly DType[],
): (inputs: readonly number[], index: number) => number {
  switch (expr.kind) {
    case "input": {
      const k = expr.index;
      return (inputs) => inputs[k];
    }
    case "literal": {
      const v = expr.value;
      return () => v;
    }
    case "scalar": {
      const v = expr.dtype === undefined || DTYPES[expr.dtype].float
        ? Math.fround(expr.value)
        : expr.value;
      return () => v;
    }
    case "cast": {
      const to = expr.to, from = expressionType(expr.arg, inputTypes);
      const arg = expressionFunction(expr.arg, inputTypes);
      return (inputs, index) => castNumber(arg(inputs, index), from, to);
    }
    case "call": {
      const types = typesOfCall(expr, inputTypes);
      const f = callFunction(expr.fn, types, FUNCTIONS[expr.fn].f64 as (...a: number[]) => number);
      const args = expr.args.map((a, k) => {
        const value = expressionFunction(a, inputTypes), to = types.args[k];
        const from = expressionType(a, inputTypes);
        // Literals are weak: exact in the call's type. Other arguments are converted.
        if (from === to || a.kind === "literal") return value;
        return (inputs: readonly number[], index: number) =>
          castNumber(value(inputs, index), from, to);
      });
      if (args.length === 1) {
        const [a] = args;
        return (inputs, index) => f(a(inputs, index));
      }
      if (args.length === 2) {
        const [a, b] = args;
        return (inputs, index) => f(a(inputs, index), b(inputs, index));
      }
      return (inputs, index) => f(...args.map((a) => a(inputs, index)));
    }
    case "position":
      return (_inputs, index) => index;
    case "keep": {
      const { key, threshold, dropAll } = expr.mask;
      return (_inputs, index) =>
        !dropAll && philoxWords([Math.floor(index / 4), 0, 0, 0], key)[index % 4] >= threshold
          ? 1
          : 0;
    }
  }
}

/** The structure of an expression, runtime words left out: equal signatures, equal WGSL. */
export function expressionSignature(expr: Expr): string {
  switch (expr.kind) {
    case "input":
      return `i${expr.index}`;
    case "literal":
      return `${expr.value}`;
    case "scalar":
      return `s${expr.dtype ?? ""}`;
    case "cast":
      return `${expr.to}(${expressionSignature(expr.arg)})`;
    case "keep":
      return "k";
    case "position":
      return "p";
    case "call":
      return `${expr.fn}(${expr.args.map(expressionSignature).join(",")})`;
  }
}
