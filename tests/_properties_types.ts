/**
 * @file The properties of element types (docs/architecture.md#types), checked exactly:
 * integer and bool values have no rounding, so every comparison here is equality, against
 * a rule written out in this file (not the library's `castNumber`). `astype` from float32
 * (the special profile included: NaN, ±Inf, ±0, subnormals) to every type, and from int32
 * bit patterns to every type, on the backend and on the reference; `full` of each type
 * holds its value exactly; integer and bool binary ops and reductions wrap exactly as a
 * BigInt reference.
 */
import fc from "fast-check";
import {
  add,
  argmax,
  argmin,
  astype,
  type Backend,
  div,
  type DType,
  equal,
  floorDiv,
  greater,
  greaterEqual,
  jit,
  less,
  lessEqual,
  logicalAnd,
  logicalOr,
  logicalXor,
  max,
  maximum,
  min,
  minimum,
  mod,
  mul,
  notEqual,
  prod,
  promoteTypes,
  sub,
  sum,
  type Tensor,
} from "../mod.ts";
import { dim, type Profile, profile, seed, values } from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** The types a value converts to. */
const TARGETS: readonly DType[] = ["float32", "int32", "uint32", "bool"];

/**
 * astype's documented rule, written independently of the library: from a float, an
 * integer type truncates toward zero and saturates at its range with NaN → 0 (XLA's
 * conversion, which JAX inherits; NumPy leaves out-of-range and NaN undefined, and on
 * x86 gives −2³¹); from an integer, int32 ↔ uint32 keep the bits (NumPy's wrap, C's
 * conversion); bool is truth (NumPy's `astype(bool)`: nonzero, NaN included); to float32,
 * rounding to nearest.
 */
export function expectedCast(v: number, from: DType, to: DType): number {
  if (to === "float32") return Math.fround(v);
  if (to === "bool") return v === 0 ? 0 : 1;
  const [lo, hi] = to === "int32" ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
  if (from === "int32" || from === "uint32" || from === "bool") {
    const bits = ((v % 2 ** 32) + 2 ** 32) % 2 ** 32; // the 32-bit pattern, as unsigned
    return to === "uint32" ? bits : bits >= 2 ** 31 ? bits - 2 ** 32 : bits;
  }
  if (Number.isNaN(v)) return 0;
  return Math.trunc(Math.min(Math.max(v, lo), hi)) || 0; // an integer has no −0
}

/** The host array `read()` gives for each type (README, "Types"). */
const ARRAY_TYPES = {
  float32: Float32Array,
  float16: Float16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** An astype case: a length, how the float32 values are drawn, and their seed. */
export interface AstypeCase {
  n: number;
  profile: Profile;
  seed: number;
}

/** Asserts `actual` equals `expected` element by element (−0 and +0 apart, NaN equal). */
function assertExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const same = Object.is(actual[i], expected[i]) ||
      (Number.isNaN(actual[i]) && Number.isNaN(expected[i]));
    if (!same) throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/**
 * astype from float32 (every profile, specials included, and values past the integer
 * ranges) and from int32 bit patterns to every type: exactly the rule, on the backend and
 * on the reference, the result's `dtype` and array type the target's.
 */
export const astypeProperty: OpProperty<AstypeCase> = {
  name: "astype: float32 and int32 to every type exactly as the documented rule",
  cases: fc.record({ n: dim(300), profile, seed }),
  // A third of the cases draw the special profile, and a run must meet every special kind:
  // 12 cases missed them all in (2/3)^12 ≈ 0.8% of runs (a CI run did); 30, in 5·10⁻⁶.
  numRuns: 30,
  async check(backend: Backend, c: AstypeCase) {
    // Scaled past 2³² so that saturation is drawn too; the special values stay special.
    const floats = values(c.n, c.profile, c.seed).map((v) => v * 2 ** 20);
    const words = Int32Array.from(
      values(c.n, "mixed", c.seed + 1),
      (v, i) => Math.floor(v * 2 ** 31) ^ (i * 2654435761),
    );
    for (const [from, source] of [["float32", floats], ["int32", words]] as const) {
      for (const to of TARGETS) {
        for (const on of [backend, ref]) {
          using x = on.tensor(source);
          using y = astype(x, to);
          const what = `astype ${from} → ${to} on ${on.kind}`;
          if (y.dtype !== to) throw new Error(`${what}: dtype ${y.dtype}`);
          const got = await y.read();
          const arrayType = ARRAY_TYPES[to];
          if (!(got instanceof arrayType)) {
            throw new Error(`${what}: read() gave a ${got.constructor.name}`);
          }
          assertExact(got, Array.from(source, (v) => expectedCast(v, from, to)), what);
        }
      }
    }
  },
};

/** A fill case: a type and a value of it. */
export interface FullCase {
  shape: number[];
  dtype: DType;
  value: number;
}

/** full of each type: every element exactly the value (int32's and uint32's extremes included). */
export const fullTypesProperty: OpProperty<FullCase> = {
  name: "full of int32, uint32, bool: every element exactly the value",
  cases: fc.oneof(
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("int32"),
      value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    }),
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("uint32"),
      value: fc.oneof(fc.constantFrom(0, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 31 })),
    }),
    fc.record({
      shape: fc.array(dim(40), { maxLength: 3 }),
      dtype: fc.constant<DType>("bool"),
      value: fc.constantFrom(0, 1),
    }),
  ),
  numRuns: 20,
  noSpecialValues: "integer and bool fill values have no special values; float fills are " +
    "creationProperty's",
  async check(backend: Backend, { shape, dtype, value }) {
    using t = backend.full(shape, value, { dtype });
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.dtype !== dtype) throw new Error(`full ${dtype}: dtype ${t.dtype}`);
    assertExact(await t.read(), new Array(n).fill(value), `full [${shape}] ${dtype} ${value}`);
  },
};

/** The binary ops of every element type, by how their result is typed. */
export const BINARY_OPS = {
  same: { add, mul, maximum, minimum },
  /** No bool operand (NumPy refuses bool subtraction; floor division and remainder follow). */
  noBool: { sub, floorDiv, mod },
  /** True division: the promoted type if a float, else float32. */
  float: { div },
  bool: {
    equal,
    notEqual,
    greater,
    less,
    greaterEqual,
    lessEqual,
    logicalAnd,
    logicalOr,
    logicalXor,
  },
} as const;

/** Each binary op's result type for operands of types `a` and `b`; null where refused. */
export function expectedResultType(
  kind: keyof typeof BINARY_OPS,
  a: DType,
  b: DType,
): DType | null {
  const joined = promoteTypes(a, b);
  switch (kind) {
    case "same":
      return joined;
    case "noBool":
      return a === "bool" || b === "bool" ? null : joined;
    case "float":
      return joined === "float16" || joined === "float32" ? joined : "float32";
    case "bool":
      return "bool";
  }
}

/** Integer edges, drawn beside random bit patterns. */
const INTEGER_EDGES = [0, 1, -1, 2, -2, 2 ** 31 - 1, -(2 ** 31), 7, -7];

/** An integer case: the operands' types, an exact op, and their values' seed. */
export interface IntegerCase {
  a: DType;
  b: DType;
  op: string;
  n: number;
  seed: number;
  scalarB: boolean;
}

const EXACT_OPS = [
  "add",
  "sub",
  "mul",
  "maximum",
  "minimum",
  "floorDiv",
  "mod",
  "equal",
  "less",
  "greaterEqual",
  "logicalAnd",
  "logicalXor",
];

/** `n` int32 bit patterns, the integer edges among them, from `seed`. */
function integerWords(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return i % 3 === 0 ? INTEGER_EDGES[(s >>> 8) % INTEGER_EDGES.length] : s | 0;
  });
}

/** `words` as values of `dtype` (uint32: the same bits; bool: their truth). */
function asType(words: Int32Array, dtype: DType): Int32Array | Uint32Array | Uint8Array {
  if (dtype === "uint32") return new Uint32Array(words.buffer.slice(0));
  if (dtype === "bool") return Uint8Array.from(words, (w) => (w !== 0 ? 1 : 0));
  return words.slice();
}

/**
 * An op on integers, exactly, in BigInt (independent of the library's float64 meaning):
 * both operands converted to the promoted type `t` (int32 ↔ uint32 by their bits, bool as
 * 0/1), the result wrapped into `t`; floorDiv and mod as Python's, 0 by a zero divisor.
 */
export function exactInteger(op: string, t: DType, x: number, y: number): number {
  const wrapT = (v: bigint) =>
    Number(t === "uint32" ? BigInt.asUintN(32, v) : BigInt.asIntN(32, v));
  const [a, b] = [x, y].map((v) => BigInt(wrapT(BigInt(v))));
  const truth = (v: bigint) => v !== 0n;
  switch (op) {
    case "add":
      return wrapT(a + b);
    case "sub":
      return wrapT(a - b);
    case "mul":
      return wrapT(a * b);
    case "maximum":
      return Number(a > b ? a : b);
    case "minimum":
      return Number(a < b ? a : b);
    case "floorDiv":
    case "mod": {
      if (b === 0n) return 0;
      let q = a / b, r = a % b;
      if (r !== 0n && (r < 0n) !== (b < 0n)) {
        q -= 1n;
        r += b;
      }
      return wrapT(op === "floorDiv" ? q : r);
    }
    case "equal":
      return +(a === b);
    case "less":
      return +(a < b);
    case "greaterEqual":
      return +(a >= b);
    case "logicalAnd":
      return +(truth(a) && truth(b));
    case "logicalXor":
      return +(truth(a) !== truth(b));
  }
  throw new Error(`exactInteger: no op ${op}`);
}

const OPS_BY_NAME: Record<string, (a: Tensor, b: Tensor) => Tensor> = Object.assign(
  {},
  ...Object.values(BINARY_OPS),
);

/**
 * int32, uint32 and bool operands (mixed, one maybe a broadcast scalar) under the exact
 * ops: every element equal to the BigInt reference, on the backend and the reference.
 */
export const integerOpsProperty: OpProperty<IntegerCase> = {
  name: "integer and bool ops: exact, wrapping, against a BigInt reference",
  cases: fc.record({
    a: fc.constantFrom<DType>("int32", "uint32", "bool"),
    b: fc.constantFrom<DType>("int32", "uint32", "bool"),
    op: fc.constantFrom(...EXACT_OPS),
    n: dim(200),
    seed,
    scalarB: fc.boolean(),
  }),
  numRuns: 40,
  noSpecialValues: "integers have no NaN, infinities or subnormals; the cases draw the " +
    "integer edges (0, ±1, −2³¹, 2³¹ − 1 and, as uint32, 2³² − 1) instead",
  async check(backend: Backend, c: IntegerCase) {
    const kind = (Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[]).find((k) =>
      c.op in BINARY_OPS[k]
    )!;
    const result = expectedResultType(kind, c.a, c.b);
    const [x, y] = [
      asType(integerWords(c.n, c.seed), c.a),
      asType(
        integerWords(c.scalarB ? 1 : c.n, c.seed + 1),
        c.b,
      ),
    ];
    const t = promoteTypes(c.a, c.b);
    const compute = t === "bool" && kind === "same" ? "int32" : t;
    for (const on of [backend, ref]) {
      using tx = on.tensor(x);
      using ty = on.tensor(y, c.scalarB ? [] : [c.n]);
      const what = `${c.op}(${c.a}, ${c.b}) on ${on.kind}`;
      if (result === null) {
        let refused = false;
        try {
          OPS_BY_NAME[c.op](tx, ty).dispose();
        } catch (error) {
          refused = error instanceof TypeError && (error as Error).message.startsWith(c.op);
        }
        if (!refused) throw new Error(`${what}: expected a TypeError naming ${c.op}`);
        continue;
      }
      using out = OPS_BY_NAME[c.op](tx, ty);
      if (out.dtype !== result) throw new Error(`${what}: dtype ${out.dtype}, expected ${result}`);
      const expected = Array.from(x, (v, i) => {
        const e = exactInteger(c.op, compute, v, y[c.scalarB ? 0 : i]);
        return result === "bool" ? +(e !== 0) : e;
      });
      assertExact(await out.read(), expected, what);
    }
  },
};

/** A reduction of integers: the type, the reducer, the shape and which axes. */
export interface IntegerReduceCase {
  dtype: DType;
  op: "sum" | "prod" | "max" | "min" | "argmax" | "argmin";
  rows: number;
  columns: number;
  axis: 0 | 1 | "all";
  seed: number;
}

/** The reductions by name, all called as `(x, { axis? })`. */
const REDUCTIONS = { sum, prod, max, min, argmax, argmin } as Record<
  IntegerReduceCase["op"],
  (x: Tensor, options: { axis?: number }) => Tensor
>;

/**
 * A reduction of `values` (row-major [rows, columns]) exactly, in BigInt: wrapped into
 * the result type after every step (wrapping is a ring map, so the tree's order does not
 * matter); bool sums count (int32); argmax and argmin the position of the first extreme
 * (NumPy's), as int32.
 */
function exactReduction(c: IntegerReduceCase, values: ArrayLike<number>): number[] {
  if (c.op === "argmax" || c.op === "argmin") {
    const extreme = exactReduction({ ...c, op: c.op === "argmax" ? "max" : "min" }, values);
    const outputs = c.axis === 0 ? c.columns : c.rows;
    const at = (o: number, k: number) =>
      values[c.axis === 0 ? k * c.columns + o : o * c.columns + k];
    return Array.from({ length: outputs }, (_, o) => {
      let k = 0;
      while (at(o, k) !== extreme[o]) k++;
      return k;
    });
  }
  const wrap = (v: bigint) => c.dtype === "uint32" ? BigInt.asUintN(32, v) : BigInt.asIntN(32, v);
  const outputs = c.axis === "all" ? 1 : c.axis === 0 ? c.columns : c.rows;
  const combine = ({
    sum: (a: bigint, b: bigint) => wrap(a + b),
    prod: (a: bigint, b: bigint) => wrap(a * b),
    max: (a: bigint, b: bigint) => (a > b ? a : b),
    min: (a: bigint, b: bigint) => (a < b ? a : b),
  } as Record<string, (a: bigint, b: bigint) => bigint>)[c.op];
  const out: (bigint | undefined)[] = new Array(outputs).fill(
    c.op === "sum" ? 0n : c.op === "prod" ? 1n : undefined,
  );
  for (let i = 0; i < c.rows * c.columns; i++) {
    const o = c.axis === "all" ? 0 : c.axis === 0 ? i % c.columns : Math.floor(i / c.columns);
    const v = BigInt(values[i]);
    out[o] = out[o] === undefined ? v : combine(out[o]!, v);
  }
  return out.map(Number);
}

/**
 * `sum`, `prod`, `max`, `min` of int32 and uint32 (and `sum` of bool) over one axis or
 * all: every element equal to the BigInt reference, in the reduced type (bool sums as
 * int32), eagerly on the backend and the reference and under `jit`. Long rows take the
 * generated kernel's two passes, whose partials are of the reduced type too.
 */
export const integerReduceProperty: OpProperty<IntegerReduceCase> = {
  name: "sum, prod, max, min, argmax, argmin of integers and sum of bool: exact, in their type",
  cases: fc.oneof(
    fc.record({
      dtype: fc.constantFrom<DType>("int32", "uint32"),
      op: fc.constantFrom<IntegerReduceCase["op"]>("sum", "prod", "max", "min", "argmax", "argmin"),
    }),
    fc.record({ dtype: fc.constant<DType>("bool"), op: fc.constant("sum" as const) }),
  ).chain((typed) =>
    fc.record({
      dtype: fc.constant(typed.dtype),
      op: fc.constant(typed.op),
      rows: dim(4),
      columns: fc.oneof(dim(300), fc.constantFrom(3000, 5000)),
      // argmax and argmin take one axis.
      axis: typed.op.startsWith("arg")
        ? fc.constantFrom<0 | 1>(0, 1)
        : fc.constantFrom<0 | 1 | "all">(0, 1, "all"),
      seed,
    })
  ),
  numRuns: 30,
  noSpecialValues: "integers have no NaN, infinities or subnormals; the values draw the " +
    "integer edges (0, ±1, −2³¹, 2³¹ − 1 and, as uint32, 2³² − 1) instead",
  async check(backend: Backend, c: IntegerReduceCase) {
    const x = asType(integerWords(c.rows * c.columns, c.seed), c.dtype);
    const expected = exactReduction(c, x);
    const type = c.dtype === "bool" || c.op.startsWith("arg") ? "int32" : c.dtype;
    const options = c.axis === "all" ? {} : { axis: c.axis };
    const f = (t: Tensor) => REDUCTIONS[c.op](t, options);
    for (const on of [backend, ref]) {
      using t = on.tensor(x, [c.rows, c.columns]);
      const compiled = jit(f);
      using eager = f(t);
      using fused = compiled(t);
      compiled.dispose();
      for (const [how, out] of [["eager", eager], ["jit", fused]] as const) {
        const what = `${c.op} of ${c.dtype} [${c.rows}, ${c.columns}] over ${c.axis}, ` +
          `${how} on ${on.kind}`;
        if (out.dtype !== type) throw new Error(`${what}: dtype ${out.dtype}, expected ${type}`);
        assertExact(await out.read(), expected, what);
      }
    }
  },
};
