/**
 * @file The benchmark catalogue that `deno bench`, the report and the peer comparison
 * share: every op at three sizes, with the work it does (flops or bytes moved), so each
 * timing turns into GFLOP/s or GB/s the same way everywhere. An op added to the
 * library is benchmarked everywhere by adding one line to {@linkcode BENCH_OPS}.
 */
import {
  add,
  type Backend,
  corr2d,
  cumsum,
  dropout,
  exp,
  l2Penalty,
  matmul,
  mean,
  mul,
  randomKey,
  relu,
  scale,
  sgdStep,
  square,
  sum,
  type Tensor,
} from "../mod.ts";

/** Small, medium, large. */
export type Tier = "small" | "medium" | "large";

/** One op at one size, ready to make its inputs on any backend. */
export interface BenchCase {
  /** The op's public name. */
  readonly op: string;
  /** A label of the size, e.g. `256³` or `10⁶`. */
  readonly size: string;
  readonly tier: Tier;
  /** The shapes of the inputs, in the op's argument order. */
  readonly shapes: readonly (readonly number[])[];
  /** What the op's rate is reported in. */
  readonly unit: "GFLOP/s" | "GB/s";
  /** Flops (GFLOP/s) or bytes read and written (GB/s) of one call. */
  readonly work: number;
  /** Makes the inputs on `backend`; `run` calls the op once on them. */
  prepare(backend: Backend): PreparedCase;
}

/** Inputs living on a backend, and the op applied to them. */
export interface PreparedCase {
  /** The inputs, in the op's argument order. */
  readonly inputs: readonly Tensor[];
  /** Calls the op once; the caller disposes the result. */
  run(): Tensor;
  /** Disposes the inputs. */
  dispose(): void;
}

/** Deterministic values in [−1, 1] (no subnormals, no zeros by design). */
export function benchValues(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.61803 + seed));
}

/** A case whose inputs have `shapes` and whose op is `fn` applied to them. */
function sized(
  op: string,
  tier: Tier,
  size: string,
  shapes: number[][],
  rate: { unit: BenchCase["unit"]; work: number },
  fn: (...inputs: Tensor[]) => Tensor,
): BenchCase {
  return {
    op,
    tier,
    size,
    shapes,
    ...rate,
    prepare(backend) {
      const inputs = shapes.map((shape, i) =>
        backend.tensor(benchValues(shape.reduce((a, b) => a * b, 1), i), shape)
      );
      return {
        inputs,
        run: () => fn(...inputs),
        dispose: () => inputs.forEach((t) => t.dispose()),
      };
    },
  };
}

const TIERS: readonly Tier[] = ["small", "medium", "large"];
const ELEMENTS = [1e4, 1e6, 1e7];
const ELEMENT_LABELS = ["10⁴", "10⁶", "10⁷"];

/**
 * An op that reads `reads` and writes `writes` float32 arrays of n elements, at
 * n = 10⁴, 10⁶, 10⁷; `fn` gets `reads` tensors of shape [n].
 */
export function elementwise(
  op: string,
  reads: number,
  writes: number,
  fn: (...inputs: Tensor[]) => Tensor,
): BenchCase[] {
  return TIERS.map((tier, i) => {
    const n = ELEMENTS[i];
    const shapes = Array.from({ length: reads }, () => [n]);
    return sized(op, tier, ELEMENT_LABELS[i], shapes, {
      unit: "GB/s",
      work: 4 * n * (reads + writes),
    }, fn);
  });
}

/** Square matmuls 64³, 256³, 1024³. */
function matmulCases(): BenchCase[] {
  return TIERS.map((tier, i) => {
    const n = [64, 256, 1024][i];
    return sized("matmul", tier, `${n}³`, [[n, n], [n, n]], {
      unit: "GFLOP/s",
      work: 2 * n ** 3,
    }, (a, b) => matmul(a, b));
  });
}

/** corr2d of 64², 256², 1024² images with a 3×3 kernel. */
function corr2dCases(): BenchCase[] {
  return TIERS.map((tier, i) => {
    const n = [64, 256, 1024][i];
    return sized("corr2d", tier, `${n}², 3×3`, [[n, n], [3, 3]], {
      unit: "GFLOP/s",
      work: 2 * (n - 2) ** 2 * 9,
    }, (x, k) => corr2d(x, k));
  });
}

const KEY = randomKey(42);

/** Every op at every size. Add an op here (one line) and every bench covers it. */
export const BENCH_OPS: readonly BenchCase[] = [
  ...matmulCases(),
  ...corr2dCases(),
  ...elementwise("sgdStep", 2, 1, (p, g) => sgdStep(p, g, { lr: 0.1, weightDecay: 0.01 })),
  ...elementwise("dropout", 1, 1, (x) => dropout(x, 0.5, KEY)),
  ...elementwise("l2Penalty", 1, 0, (w) => l2Penalty(w)),
  ...elementwise("add", 2, 1, (a, b) => add(a, b)),
  ...elementwise("mul", 2, 1, (a, b) => mul(a, b)),
  ...elementwise("scale", 1, 1, (x) => scale(x, 0.5)),
  ...elementwise("square", 1, 1, (x) => square(x)),
  ...elementwise("relu", 1, 1, (x) => relu(x)),
  ...elementwise("exp", 1, 1, (x) => exp(x)),
  ...elementwise("sum", 1, 0, (x) => sum(x)),
  ...elementwise("mean", 1, 0, (x) => mean(x)),
  ...elementwise("cumsum", 1, 1, (x) => cumsum(x, { axis: 0 })),
];

/**
 * Iterations for `deno bench` where one call is slow (about 0.5 G flops or bytes per
 * second on the CPU reference, ~5 on the GPU here), so a run stays within minutes on
 * two cores; `undefined` lets `deno bench` decide.
 */
export function benchIterations(c: BenchCase, rate: number): number | undefined {
  const seconds = c.work / rate;
  return seconds > 0.02 ? Math.max(1, Math.min(10, Math.round(0.5 / seconds))) : undefined;
}

/** Throughput benches put this many calls in flight before one wait. */
export function inFlight(c: BenchCase): number {
  return c.tier === "large" ? 2 : 16;
}
