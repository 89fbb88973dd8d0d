/**
 * @file Scans along one axis: `cumsum` and `cumprod`, with TensorFlow's `exclusive` (each
 * output leaves out its own value) and `reverse` (from the axis' end), NumPy's values
 * otherwise. On the GPU, the scan of `kernels/scan.ts` (work-efficient, deterministic);
 * a hand-written kernel, so under `jit` a scan is a kernel of its own.
 * `cumsum`'s gradient is the scan of `g` the other way; `cumprod`'s is got without
 * dividing by zero (see {@linkcode cumprodVjp}).
 */
import { encodeScan, type ScanCombiner } from "../kernels/scan.ts";
import { call, input, literal } from "../kernels/expression.ts";
import { applyElementwise, elementwiseOp } from "./_elementwise.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkAxes, checkOptions, checkTensors } from "./_validate.ts";
import { mul } from "./arithmetic.ts";
import { isZero } from "./compare.ts";
import type { Tensor } from "./tensor.ts";

/** The scanned axis (non-negative) and the options. */
interface ScanOpParams {
  readonly axis: number;
  readonly exclusive: boolean;
  readonly reverse: boolean;
}

/** Options of {@linkcode cumsum} and {@linkcode cumprod}. */
export interface ScanOptions {
  /** The axis scanned (negative counts from the end). */
  readonly axis: number;
  /** Each output leaves out its own value; the first is 0 (or 1). Default false. */
  readonly exclusive?: boolean;
  /** Scan from the axis' end towards its start. Default false. */
  readonly reverse?: boolean;
}

/** The lines of `shape` along `axis` (a scan's, a sort's): length, stride and count. */
export function linesOf(shape: readonly number[], axis: number) {
  const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  const inner = size(shape.slice(axis + 1));
  return { n: shape[axis], inner, lines: size(shape.slice(0, axis)) * inner };
}

/** A scan op: the float64 reference, the scan kernels, the vjp. */
function scanOp(
  name: string,
  combiner: ScanCombiner,
  vjp: OpDefinition<ScanOpParams>["vjp"],
): OpDefinition<ScanOpParams> {
  const [identity, combine] = combiner === "sum"
    ? [-0, (a: number, b: number) => a + b]
    : [1, (a: number, b: number) => a * b];
  return {
    name,
    reference([x], { axis, exclusive, reverse }, shapes) {
      const { n, inner, lines } = linesOf(shapes.inputs[0], axis);
      const out = new Float32Array(x.length);
      for (let line = 0; line < lines; line++) {
        const base = Math.floor(line / inner) * n * inner + (line % inner);
        let running = identity;
        for (let k = 0; k < n; k++) {
          const at = base + (reverse ? n - 1 - k : k) * inner;
          if (exclusive) out[at] = k === 0 ? Math.abs(identity) : running;
          running = combine(running, x[at]);
          if (!exclusive) out[at] = running;
        }
      }
      return out;
    },
    kernel(runtime, [x], output, { axis, exclusive, reverse }, shapes) {
      const lines = linesOf(shapes.inputs[0], axis);
      encodeScan(runtime, name, x, output, { ...lines, combiner, exclusive, reverse });
    },
    ...(vjp ? { vjp } : {}),
  };
}

const cumsumOp: OpDefinition<ScanOpParams> = scanOp(
  "cumsum",
  "sum",
  (g, _inputs, params) => [runOp(cumsumOp, [g], { ...params, reverse: !params.reverse }, g.shape)],
);

/** The values with ±0 replaced by 1 where `at` (input 1) is 1. */
const oneAtOp = elementwiseOp<void>({
  name: "cumprod",
  expression: () => call("where", input(1), literal(1), input(0)),
});

/**
 * Inputs (x, zeros before, sum before, sum from): the gradient of one value of cumprod
 * given the reverse cumulative sums of c = g·y′ over the products before the line's first
 * zero and from it on (see {@linkcode cumprodVjp}).
 */
const cumprodGradOp = elementwiseOp<void>({
  name: "cumprod",
  expression: () => {
    const [x, zerosBefore, before, from] = [0, 1, 2, 3].map(input);
    const isBefore = call("equal", zerosBefore, literal(0));
    const isFirstZero = call("equal", x, literal(0));
    return call(
      "where",
      isBefore,
      call("where", isFirstZero, from, call("div", before, x)),
      literal(0),
    );
  },
});

/** c where `mask` (input 1) is 1, else 0; or the other way round (`keep` false). */
function maskOp(keep: boolean) {
  return elementwiseOp<void>({
    name: "cumprod",
    expression: () =>
      keep
        ? call("where", input(1), input(0), literal(0))
        : call("where", input(1), literal(0), input(0)),
  });
}
const beforeOnly = maskOp(true);
const fromZeroOn = maskOp(false);

/**
 * cumprod's vector-Jacobian product, exact at zeros (JAX's values), with no division by
 * a zero: along a line in scan order let z be the first zero (the line's end if none),
 * y′ = cumprod of x with x_z replaced by 1 (so y′ = y up to z), c = g·y′. Inclusive:
 * ∂/∂x_j = Σ_{j≤k<z} c_k / x_j before z (x_j ≠ 0 there); at z, Σ_{k≥z} c_k (every product
 * through z, without its zero); after z, 0 (each product holds x_z = 0). Exclusive (y_k
 * leaves x_k out): Σ_{j<k≤z} c_k / x_j before z, Σ_{k>z} c_k at z, 0 after — the
 * exclusive reverse sums of c masked to k ≤ z and k > z.
 */
function cumprodVjp(g: Tensor, [x]: readonly Tensor[], params: ScanOpParams): Tensor[] {
  const along = (t: Tensor, op: OpDefinition<ScanOpParams>, p: Partial<ScanOpParams> = {}) =>
    runOp(op, [t], { ...params, ...p }, t.shape);
  const zero = isZero(x);
  // Zeros strictly before each value in scan order: 0 up to and at the first zero.
  const zerosBefore = along(zero, cumsumOp, { exclusive: true });
  const upToZ = isZero(zerosBefore);
  const firstZero = mul(zero, upToZ);
  const yPrime = along(applyElementwise(oneAtOp, { x, firstZero }, undefined), cumprodOp);
  const c = mul(g, yPrime);
  const mask = params.exclusive ? upToZ : mul(upToZ, isZero(firstZero));
  const backward = { reverse: !params.reverse };
  const before = along(applyElementwise(beforeOnly, { c, mask }, undefined), cumsumOp, backward);
  const from = along(applyElementwise(fromZeroOn, { c, mask }, undefined), cumsumOp, backward);
  return [applyElementwise(cumprodGradOp, { x, zerosBefore, before, from }, undefined)];
}

const cumprodOp: OpDefinition<ScanOpParams> = scanOp(
  "cumprod",
  "prod",
  (g, inputs, params) => cumprodVjp(g, inputs, params),
);

/** Validates a scan's input and options. */
function scanArgs(op: string, x: unknown, options: unknown): [Tensor, ScanOpParams] {
  const [input] = checkTensors(op, { x });
  const o = checkOptions(op, options, true, ["axis", "exclusive", "reverse"]);
  if (typeof o.axis !== "number") {
    throw new TypeError(
      `${op}: expected axis to be an integer, got ${o.axis === undefined ? "none" : typeof o.axis}`,
    );
  }
  const [axis] = checkAxes(op, o.axis, input.shape.length);
  for (const flag of ["exclusive", "reverse"] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      throw new TypeError(`${op}: expected ${flag} to be a boolean, got ${typeof o[flag]}`);
    }
  }
  return [input, { axis, exclusive: o.exclusive === true, reverse: o.reverse === true }];
}

/**
 * The cumulative sum along `axis`: `out[k] = x[0] + … + x[k]` (NumPy's `cumsum`), or with
 * `exclusive` up to x[k − 1] (0 first), and with `reverse` from the axis' end. On the GPU
 * a work-efficient scan (reduce, then scan, recursively), bit-identical run to run,
 * within γ(R)·Σ|x| of the exact prefix sums (R: `scanRoundings` of `kernels/scan.ts`,
 * 16 and 31 more a level of chunks of 16: 78 for 1,024 values, 171 for 10⁷). Its
 * gradient is the scan of `g` the other way.
 *
 * @param x A tensor of at least one dimension.
 * @param options `axis` (one integer; negative counts from the end), `exclusive`, `reverse`.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, cumsum } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using rows = cumsum(x, { axis: 1 });
 * using back = cumsum(x, { axis: 1, exclusive: true, reverse: true });
 * console.log(await rows.read()); // Float32Array [1, 3, 6, 4, 9, 15]
 * console.log(await back.read()); // Float32Array [5, 3, 0, 11, 6, 0]
 * ```
 */
export function cumsum(x: Tensor, options: ScanOptions): Tensor {
  checkArity("cumsum", arguments, 2);
  const [input, params] = scanArgs("cumsum", x, options);
  return runOp(cumsumOp, [input], params, input.shape);
}

/**
 * The cumulative product along `axis`: `out[k] = x[0]·…·x[k]` (NumPy's `cumprod`), or
 * with `exclusive` up to x[k − 1] (1 first), and with `reverse` from the axis' end. The
 * k-th output takes k rounded multiplications in any order, so it is within γ(k) of the
 * exact product, relatively, while no partial product leaves the normal range. Its
 * gradient is exact at zeros (JAX's values; no division by zero).
 *
 * @param x A tensor of at least one dimension.
 * @param options `axis` (one integer; negative counts from the end), `exclusive`, `reverse`.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, cumprod } from "@deno-gpu/kernels";
 * using p = cumprod(cpu().tensor([1, 2, 3, 4]), { axis: 0 });
 * console.log(await p.read()); // Float32Array [1, 2, 6, 24]
 * ```
 */
export function cumprod(x: Tensor, options: ScanOptions): Tensor {
  checkArity("cumprod", arguments, 2);
  const [input, params] = scanArgs("cumprod", x, options);
  return runOp(cumprodOp, [input], params, input.shape);
}
