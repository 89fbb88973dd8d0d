/**
 * @file Random compositions of the differentiable ops, for testing `jit`: a program is a
 * short list of steps (elementwise ops with NumPy broadcasting, scaling, axis sums,
 * matmuls with both transpose flags, transposes, dropout with a key argument, corr2d),
 * each reading earlier values or new inputs of compatible shapes. fast-check generates
 * the steps as small records, so a failing program shrinks to a short one.
 *
 * The oracle is the program run eagerly on the CPU reference
 * (docs/architecture.md#oracle-independent-of-the-compiler).
 * The tolerance is the forward error bound of the unfused computation, propagated step
 * by step beside the reference values: each op adds its own rounding error — the bound
 * of the algorithm the GPU runs (γ of the rounding count for sums and dot products,
 * WGSL's accuracy for the transcendental parts) — to its inputs' errors carried through
 * its derivative. A GPU result and the reference both lie within that bound of the exact
 * value, so they lie within twice it of each other.
 */
import fc from "fast-check";
import {
  add,
  type Backend,
  corr2d,
  type CpuTensor,
  dropout,
  elu,
  matmul,
  mul,
  neg,
  type RandomKey,
  relu,
  scale,
  sigmoid,
  softplus,
  square,
  sub,
  sum,
  tanh,
  type Tensor,
  transpose,
} from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import { gamma, MIN_NORMAL, U } from "./_numerics.ts";

/** One step, as fast-check generates it: numbers interpreted against the values so far. */
export interface StepCase {
  readonly kind: number;
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

/** A program's case: its first input's shape and its steps. */
export interface ProgramCase {
  /** 1 for a matrix input, else a stack of that many matrices (a 3-D input). */
  readonly depth: number;
  readonly rows: number;
  readonly columns: number;
  readonly steps: readonly StepCase[];
  /** Also return an earlier value (a value with two readers: the next step and the output). */
  readonly twoOutputs: boolean;
}

const dims = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7), fc.integer({ min: 1, max: 12 }));

/** Arbitrary programs of 1 to `maxSteps` steps. */
export function programs(maxSteps = 7): fc.Arbitrary<ProgramCase> {
  return fc.record({
    depth: fc.constantFrom(1, 1, 2, 3),
    rows: dims,
    columns: dims,
    steps: fc.array(
      fc.record({
        kind: fc.nat(8),
        x: fc.nat(1000),
        y: fc.nat(1000),
        z: fc.nat(1000),
      }),
      { minLength: 1, maxLength: maxSteps },
    ),
    twoOutputs: fc.boolean(),
  });
}

/** What a program does with values: the library's ops, or values with error bounds. */
interface Evaluator<V> {
  input(index: number): V;
  shape(v: V): readonly number[];
  unary(op: typeof UNARY[number], v: V): V;
  binary(op: "add" | "sub" | "mul", a: V, b: V): V;
  scale(v: V, c: number): V;
  sum(v: V, axis: number, keepDims: boolean): V;
  matmul(a: V, b: V, transposeA: boolean, transposeB: boolean): V;
  transpose(v: V): V;
  dropout(v: V, p: number): V;
  corr2d(x: V, k: V): V;
}

/** The shapes of a program's inputs, and the program run by an evaluator. */
export interface Program {
  readonly inputs: readonly (readonly number[])[];
  run<V>(e: Evaluator<V>): V[];
  /** A description for failure messages. */
  readonly text: string;
}

const UNARY = ["relu", "tanh", "sigmoid", "neg", "square", "softplus", "elu"] as const;
const BINARY = ["add", "sub", "mul"] as const;

/** Interprets a case: the inputs it needs and the steps over them. */
export function program(c: ProgramCase): Program {
  const first = c.depth === 1 ? [c.rows, c.columns] : [c.depth, c.rows, c.columns];
  const inputs: number[][] = [first];
  const lines: string[] = [];
  // Shapes are followed while the steps are laid out, so each step can be checked to fit.
  type Plan = (e: Evaluator<unknown>, values: unknown[]) => unknown;
  const plans: Plan[] = [];
  const shapes: number[][] = [first];
  const newInput = (shape: number[]) => {
    inputs.push(shape);
    return inputs.length - 1;
  };
  for (const s of c.steps) {
    // Mostly the latest value (chains, as real code has), sometimes any earlier one.
    const a = s.x % 4 === 0 ? (s.x >> 2) % shapes.length : shapes.length - 1;
    const shape = shapes[a];
    let plan: Plan;
    let out: number[];
    switch (s.kind) {
      case 0: {
        const op = UNARY[s.y % UNARY.length];
        plan = (e, v) => e.unary(op, v[a]);
        out = shape;
        lines.push(`${op}(v${a})`);
        break;
      }
      case 1: {
        // A new operand whose shape broadcasts with v[a]: some dimensions 1, maybe fewer.
        const op = BINARY[s.y % BINARY.length];
        const drop = s.z % (shape.length + 1);
        const other = shape.slice(drop).map((d, i) => ((s.z >> (i + 2)) & 1 ? 1 : d));
        const k = newInput(other);
        const swap = (s.y >> 3) & 1;
        plan = (e, v) => (swap ? e.binary(op, e.input(k), v[a]) : e.binary(op, v[a], e.input(k)));
        out = shape;
        lines.push(`${op}(v${a}, in${k}[${other}])`);
        break;
      }
      case 2: {
        const op = BINARY[s.y % BINARY.length];
        const b = shapes.findIndex((t, i) => i !== a && String(t) === String(shape));
        const other = b >= 0 ? b : a;
        plan = (e, v) => e.binary(op, v[a], v[other]);
        out = shape;
        lines.push(`${op}(v${a}, v${other})`);
        break;
      }
      case 3: {
        const factor = [0.5, -2, 3, 1e-3, 7.25][s.y % 5];
        plan = (e, v) => e.scale(v[a], factor);
        out = shape;
        lines.push(`scale(v${a}, ${factor})`);
        break;
      }
      case 4: {
        if (shape.length === 0) continue;
        const axis = s.y % shape.length;
        const keepDims = (s.z & 1) === 1;
        plan = (e, v) => e.sum(v[a], axis, keepDims);
        out = keepDims
          ? shape.map((d, i) => (i === axis ? 1 : d))
          : shape.filter((_, i) => i !== axis);
        lines.push(`sum(v${a}, ${axis}, ${keepDims})`);
        break;
      }
      case 5: {
        if (shape.length !== 2) continue;
        const [m, k] = shape;
        const n = 1 + (s.y % 9);
        const transposeA = (s.z & 1) === 1, transposeB = (s.z & 2) === 2;
        const b = newInput(transposeB ? [n, k] : [k, n]);
        // With transposeA, the stored operand is v[a]'s transpose (a view, fused or not).
        plan = (e, v) =>
          e.matmul(transposeA ? e.transpose(v[a]) : v[a], e.input(b), transposeA, transposeB);
        out = [m, n];
        lines.push(`matmul(v${a}${transposeA ? "ᵀᵀ" : ""}, in${b}${transposeB ? "ᵀ" : ""})`);
        break;
      }
      case 6: {
        if (shape.length !== 2) continue;
        plan = (e, v) => e.transpose(v[a]);
        out = [shape[1], shape[0]];
        lines.push(`transpose(v${a})`);
        break;
      }
      case 7: {
        const p = [0, 0.25, 0.5, 0.9][s.y % 4];
        plan = (e, v) => e.dropout(v[a], p);
        out = shape;
        lines.push(`dropout(v${a}, ${p})`);
        break;
      }
      case 8: {
        if (shape.length !== 2) continue;
        const kh = 1 + (s.y % shape[0]), kw = 1 + (s.z % shape[1]);
        const k = newInput([Math.min(kh, 3), Math.min(kw, 3)]);
        plan = (e, v) => e.corr2d(v[a], e.input(k));
        out = [shape[0] - Math.min(kh, 3) + 1, shape[1] - Math.min(kw, 3) + 1];
        lines.push(`corr2d(v${a}, in${k})`);
        break;
      }
      default:
        continue;
    }
    plans.push(plan);
    shapes.push(out);
  }
  const last = shapes.length - 1;
  const early = c.twoOutputs && last > 1 ? Math.floor(last / 2) : -1;
  return {
    inputs,
    text: `v0 = in0[${inputs[0]}]; ${lines.map((l, i) => `v${i + 1} = ${l}`).join("; ")}${
      early >= 0 ? `; outputs v${last}, v${early}` : ""
    }`,
    run<V>(e: Evaluator<V>): V[] {
      const values: unknown[] = [e.input(0)];
      for (const plan of plans) values.push(plan(e as Evaluator<unknown>, values));
      return (early >= 0 ? [values[last], values[early]] : [values[last]]) as V[];
    },
  };
}

/** The program on tensors: what `jit` compiles and what the reference runs eagerly. */
export function tensorEvaluator(inputs: readonly Tensor[], key: RandomKey): Evaluator<Tensor> {
  return {
    input: (i) => inputs[i],
    shape: (v) => v.shape,
    unary: (op, v) => ({ relu, tanh, sigmoid, neg, square, softplus, elu })[op](v),
    binary: (op, a, b) => ({ add, sub, mul })[op](a, b),
    scale: (v, c) => scale(v, c),
    sum: (v, axis, keepDims) => sum(v, { axis, keepDims }),
    matmul: (a, b, transposeA, transposeB) => matmul(a, b, { transposeA, transposeB }),
    transpose: (v) => transpose(v),
    dropout: (v, p) => dropout(v, p, key),
    corr2d: (x, k) => corr2d(x, k),
  };
}

/** A reference value (on the CPU backend) and the bound of its error from the exact value. */
export interface Bounded {
  readonly value: CpuTensor;
  readonly error: Float64Array;
}

/** NumPy broadcasting of per-element numbers from `from` to `to`. */
function spread(
  values: ArrayLike<number>,
  from: readonly number[],
  to: readonly number[],
): Float64Array {
  const out = new Float64Array(to.reduce((a, b) => a * b, 1));
  const lead = to.length - from.length;
  const coordinate = new Array<number>(to.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let j = 0;
    for (let d = 0; d < from.length; d++) {
      j = j * from[d] + (from[d] === 1 ? 0 : coordinate[lead + d]);
    }
    out[i] = values[j];
    for (let d = to.length - 1; d >= 0 && ++coordinate[d] === to[d]; d--) coordinate[d] = 0;
  }
  return out;
}

/** Longest chain of roundings of a sum of `length` values with `outputs` outputs, on any path. */
function sumRoundings(length: number, outputs: number): number {
  return Math.max(reductionRoundings(length, outputs), treeSumRoundings(length), length - 1);
}

/**
 * The program on reference values with error bounds: each op runs on the CPU backend and
 * adds its own bound to its inputs' (propagated through its derivative).
 */
export function boundEvaluator(inputs: readonly CpuTensor[], key: RandomKey): Evaluator<Bounded> {
  const ops = tensorEvaluator([], key);
  const abs = (t: CpuTensor) => Float64Array.from(t.data, Math.abs);
  // A NaN or infinite reference value is exact: a GPU must give exactly it (the output's
  // comparison checks so), and an op of it that gives a finite value (tanh(Inf) = 1,
  // relu(−Inf) = 0) adds only its own rounding. Its error is 0, never Inf·0.
  const make = (value: Tensor, error: (i: number, r: number) => number): Bounded => {
    const v = value as CpuTensor;
    return {
      value: v,
      error: Float64Array.from(v.data, (r, i) => (Number.isFinite(r) ? error(i, Math.abs(r)) : 0)),
    };
  };
  return {
    input: (i) => ({ value: inputs[i], error: new Float64Array(inputs[i].size) }),
    shape: (v) => v.value.shape,
    unary(op, v) {
      const x = v.value.data, e = v.error;
      const r = ops.unary(op, v.value);
      switch (op) {
        case "relu":
        case "neg":
          return make(r, (i) => e[i]);
        case "square":
          return make(r, (i, y) => (2 * Math.abs(x[i]) + e[i]) * e[i] + U * y);
        case "tanh":
          // (1 − t)/(1 + t), t = exp(−2|x|): ≤ 7u + 13u|y| (see kernels/expression.ts); tanh' ≤ 1.
          return make(r, (i, y) => e[i] + 7 * U + 13 * U * y);
        case "sigmoid":
          // One exp (3 + 2|x| ulp) and one division by 1 + e ∈ [1, 2]; sigmoid' ≤ 1/4.
          // At ±Inf the result is exactly 1 or 0: no exp error grows with |x|.
          return make(
            r,
            (i, y) =>
              e[i] / 4 + (Number.isFinite(x[i]) ? (19 + 4 * Math.abs(x[i])) * U * y : 0) + 8 * U,
          );
        case "softplus":
          // max(x, 0) + log1p(ê), ê = exp(−|x|) (tests/_numerics.ts, softplusBound): exp's
          // (3.5 + 2t)·2u·e^−t ≤ 7u through log1p′ ≤ 1, log1p's 10u of ≤ ln 2 and its half
          // ULP (≤ 1.4u), the sum's u·y, a flushed subnormal: 16u + u·y + MIN_NORMAL;
          // softplus′ = σ ≤ 1.
          return make(r, (i, y) => e[i] + 16 * U + U * y + MIN_NORMAL);
        case "elu":
          // x above 0 (exact); expm1 below: 4.1u·y near 0, else exp's ≤ 7u absolute and the
          // subtraction's u (expm1Bound): ≤ 9u; elu′ ≤ 1.
          return make(r, (i) => e[i] + (x[i] > 0 ? 0 : 9 * U));
      }
    },
    binary(op, a, b) {
      const r = ops.binary(op, a.value, b.value);
      const to = r.shape;
      const [av, bv] = [
        spread(abs(a.value), a.value.shape, to),
        spread(abs(b.value), b.value.shape, to),
      ];
      const [ae, be] = [spread(a.error, a.value.shape, to), spread(b.error, b.value.shape, to)];
      return make(
        r,
        (i, y) =>
          (op === "mul" ? bv[i] * ae[i] + av[i] * be[i] + ae[i] * be[i] : ae[i] + be[i]) + U * y,
      );
    },
    scale: (v, c) =>
      make(ops.scale(v.value, c), (i, y) => Math.abs(Math.fround(c)) * v.error[i] + U * y),
    sum(v, axis, keepDims) {
      const r = ops.sum(v.value, axis, keepDims);
      const shape = v.value.shape;
      const length = shape[axis];
      const outputs = r.size;
      const absSums = ops.sum(
        v.value.backend.tensor(Float32Array.from(abs(v.value)), shape),
        axis,
        keepDims,
      ) as CpuTensor;
      const errSums = ops.sum(
        v.value.backend.tensor(Float32Array.from(v.error), shape),
        axis,
        keepDims,
      ) as CpuTensor;
      const g = gamma(sumRoundings(length, outputs) + 1);
      // Sums of |x| and of errors in float32 are themselves rounded: a factor 1 + γ covers it.
      return make(r, (i) => (errSums.data[i] + g * absSums.data[i]) * (1 + 2 * g));
    },
    matmul(a, b, transposeA, transposeB) {
      const r = ops.matmul(a.value, b.value, transposeA, transposeB) as CpuTensor;
      const k = transposeA ? a.value.shape[0] : a.value.shape[1];
      const t = (x: Tensor, e: Float64Array | Float32Array) =>
        x.backend.tensor(Float32Array.from(e), x.shape);
      const opts = { transposeA, transposeB };
      // Σ |a|·eb + |b|·ea + ea·eb + γ(k)·Σ|a·b|, each sum in float32 enlarged by its own γ.
      const aAbs = t(a.value, abs(a.value)), bAbs = t(b.value, abs(b.value));
      const aErr = t(a.value, a.error), bErr = t(b.value, b.error);
      const terms = [
        matmul(aAbs, bErr, opts),
        matmul(aErr, bAbs, opts),
        matmul(aErr, bErr, opts),
      ] as CpuTensor[];
      const products = matmul(aAbs, bAbs, opts) as CpuTensor;
      const g = gamma(k + 1);
      return make(
        r,
        (i) => (terms.reduce((s, m) => s + m.data[i], 0) + g * products.data[i]) * (1 + 2 * g),
      );
    },
    transpose(v) {
      const r = ops.transpose(v.value) as CpuTensor;
      const e = ops.transpose(
        v.value.backend.tensor(Float32Array.from(v.error), v.value.shape),
      ) as CpuTensor;
      return { value: r, error: Float64Array.from(e.data) };
    },
    dropout(v, p) {
      const r = ops.dropout(v.value, p);
      const factor = p === 1 ? 0 : Math.fround(1 / (1 - p));
      return make(r, (i, y) => factor * v.error[i] + U * y);
    },
    corr2d(x, k) {
      const r = ops.corr2d(x.value, k.value) as CpuTensor;
      const t = (s: Tensor, e: ArrayLike<number>) =>
        s.backend.tensor(Float32Array.from(e), s.shape);
      const xAbs = t(x.value, abs(x.value)), kAbs = t(k.value, abs(k.value));
      const xErr = t(x.value, x.error), kErr = t(k.value, k.error);
      const terms = [corr2d(xAbs, kErr), corr2d(xErr, kAbs), corr2d(xErr, kErr)] as CpuTensor[];
      const products = corr2d(xAbs, kAbs) as CpuTensor;
      const g = gamma(k.value.size + 1);
      return make(
        r,
        (i) => (terms.reduce((s, m) => s + m.data[i], 0) + g * products.data[i]) * (1 + 2 * g),
      );
    },
  };
}

/** The backend-independent input values of a program. */
export function inputTensors(
  backend: Backend,
  p: Program,
  values: (n: number, i: number) => Float32Array,
): Tensor[] {
  return p.inputs.map((shape, i) =>
    backend.tensor(values(shape.reduce((a, b) => a * b, 1), i), shape)
  );
}
