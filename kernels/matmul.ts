/**
 * @file Matmul on the GPU: which variant runs, chosen by measuring on the adapter in
 * use. What is fast differs by adapter (on Mesa's llvmpipe texture-fed register
 * blocks win and workgroup-memory tiling is slow; on a discrete GPU it is the other
 * way round), so no ranking is hard-coded for large products.
 *
 * - Small products (2·m·n·k < 2²⁴ flops): a fixed choice, `splitK` for tiny outputs
 *   with a long k, `registers4x4` otherwise. Latency, not arithmetic, decides these,
 *   and results stay reproducible call after call.
 * - Large products: the first call for a shape class (m, k, n rounded up to powers of
 *   two, and the transpose flags) runs the default and starts a short autotune in the
 *   background: every variant that supports the shape runs on scratch operands of that
 *   shape (each side capped at 1024), is timed from submit to completion (the two
 *   fastest twice), and the fastest is cached for the class in this runtime (one
 *   device, one adapter). Later calls of the class use it. Its measurements share the
 *   queue with the caller's work, so a busy queue can mislead it; pin a variant where
 *   that matters, or where results must stay bit-identical from the first call on.
 * - `gpu({ matmulVariant })` pins one variant for every shape (tests use this to check
 *   each variant against the reference; benches to compare them).
 *
 * The texture block shapes kept are those that won somewhere on llvmpipe (kernel-only,
 * one quiet run, GFLOP/s): at 256³ 16×8 21.2, 16×12 20.6, 8×8 19.2, 20×12 12.0; at
 * 1024³ 16×12 42.4, 20×12 41.1, 16×8 36.5, 8×12 35.6, 12×12 38.1, 16×4 27.8; at 2048³
 * 20×12 46.0, 16×12 41.2, 16×8 37.5. Workgroups of 4×4 threads ran at half the speed
 * of 8×8; explicit fma() changed nothing. `bench/report.ts` prints the current table.
 */
import type { MatmulParams, MatmulVariant } from "./_matmul_shared.ts";
import { registersVariant } from "./matmul_registers.ts";
import { splitKVariant } from "./matmul_split_k.ts";
import { textureVariant } from "./matmul_texture.ts";
import { tiledVariant } from "./matmul_tiled.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

export type { MatmulParams } from "./_matmul_shared.ts";

/** Every matmul variant, by name. */
export const MATMUL_VARIANTS: ReadonlyMap<string, MatmulVariant> = new Map(
  [
    registersVariant(4, 4),
    registersVariant(8, 8),
    textureVariant(8, 8),
    textureVariant(16, 8),
    textureVariant(16, 12),
    textureVariant(20, 12),
    tiledVariant,
    splitKVariant,
  ].map((v) => [v.name, v]),
);

/** Products of at least this many flops are autotuned per shape class. */
const TUNE_FLOPS = 2 ** 24;
/** Each side of the scratch product an autotune times is capped at this. */
const TUNE_SIDE = 1024;

/** The per-runtime state: a pinned variant, tuned choices, tunes in flight. */
interface MatmulChoices {
  pinned: MatmulVariant | null;
  readonly tuned: Map<string, MatmulVariant>;
  readonly tuning: Map<string, Promise<void>>;
}

const perRuntime = new WeakMap<GpuRuntime, MatmulChoices>();

function choicesOf(runtime: GpuRuntime): MatmulChoices {
  let choices = perRuntime.get(runtime);
  if (!choices) {
    choices = { pinned: null, tuned: new Map(), tuning: new Map() };
    perRuntime.set(runtime, choices);
  }
  return choices;
}

/** The variant called `name`; a `RangeError` naming the accepted names otherwise. */
export function matmulVariantNamed(name: unknown): MatmulVariant {
  const variant = typeof name === "string" ? MATMUL_VARIANTS.get(name) : undefined;
  if (!variant) {
    throw new RangeError(
      `gpu: expected matmulVariant to be one of ${[...MATMUL_VARIANTS.keys()].join(", ")}, ` +
        `got ${JSON.stringify(name)}`,
    );
  }
  return variant;
}

/** Runs every matmul on `runtime` with `variant`. */
export function pinMatmulVariant(runtime: GpuRuntime, variant: MatmulVariant): void {
  choicesOf(runtime).pinned = variant;
}

/** The shape class a tuned choice is cached under. */
function shapeClass({ m, k, n, transposeA, transposeB }: MatmulParams): string {
  const up = (d: number) => Math.ceil(Math.log2(d));
  return `${up(m)}/${up(k)}/${up(n)}/${transposeA ? "T" : "N"}${transposeB ? "T" : "N"}`;
}

/** The choice without measurements: what is fast on llvmpipe and safe everywhere. */
function defaultVariant({ m, k, n }: MatmulParams): MatmulVariant {
  return MATMUL_VARIANTS.get(m * n <= 256 && k >= 1024 ? "splitK" : "registers4x4")!;
}

/** The variant that a matmul of `params` runs on `runtime` now. */
export function matmulVariantFor(runtime: GpuRuntime, params: MatmulParams): MatmulVariant {
  const choices = choicesOf(runtime);
  if (choices.pinned) return choices.pinned;
  if (2 * params.m * params.n * params.k < TUNE_FLOPS) return defaultVariant(params);
  const key = shapeClass(params);
  const tuned = choices.tuned.get(key);
  if (tuned) return tuned;
  if (!choices.tuning.has(key)) {
    const done = autotune(runtime, params)
      .then((best) => {
        if (best) choices.tuned.set(key, best);
      })
      .finally(() => choices.tuning.delete(key));
    choices.tuning.set(key, done);
  }
  return defaultVariant(params);
}

/** Resolves when the autotunes in flight on `runtime` have finished. */
export async function matmulTuning(runtime: GpuRuntime): Promise<void> {
  await Promise.all(choicesOf(runtime).tuning.values());
}

/** The fastest supporting variant on a capped scratch product; null if cut short. */
async function autotune(runtime: GpuRuntime, params: MatmulParams): Promise<MatmulVariant | null> {
  const candidates = [...MATMUL_VARIANTS.values()].filter((v) =>
    v.supports(runtime, params) && (v.name !== "splitK" || params.m * params.n <= 4096)
  );
  const scratch = {
    ...params,
    m: Math.min(params.m, TUNE_SIDE),
    k: Math.min(params.k, TUNE_SIDE),
    n: Math.min(params.n, TUNE_SIDE),
  };
  // Yield first, so the call that asked returns before any tuning work is encoded.
  await Promise.resolve();
  if (!runtime.healthy) return null;
  const a = runtime.allocate("matmul", scratch.m * scratch.k);
  const b = runtime.allocate("matmul", scratch.k * scratch.n);
  const c = runtime.allocate("matmul", scratch.m * scratch.n);
  try {
    runtime.clear("matmul", a);
    runtime.clear("matmul", b);
    const timeOf = async (variant: MatmulVariant): Promise<number> => {
      if (!runtime.healthy) throw new Error("stop");
      const start = performance.now();
      variant.encode(runtime, [a, b], c, scratch);
      runtime.flush();
      await runtime.device.queue.onSubmittedWorkDone();
      return performance.now() - start;
    };
    const times = new Map<MatmulVariant, number>();
    for (const variant of candidates) {
      // A 1×1×1 product compiles the variant's pipelines without timing the compile.
      variant.encode(runtime, [a, b], c, { ...scratch, m: 1, k: 1, n: 1 });
      times.set(variant, await timeOf(variant));
    }
    const ranked = [...times].sort((x, y) => x[1] - y[1]).slice(0, 2);
    for (const [variant, time] of ranked) times.set(variant, Math.min(time, await timeOf(variant)));
    return ranked.map(([v]) => v).sort((x, y) => times.get(x)! - times.get(y)!)[0];
  } catch {
    return null;
  } finally {
    for (const array of [a, b, c]) runtime.release(array);
  }
}

/** Encodes C = op(A)·op(B) with the variant chosen for this shape on this runtime. */
export function encodeMatmul(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  c: DeviceArray,
  params: MatmulParams,
): void {
  const variant = matmulVariantFor(runtime, params);
  if (!variant.supports(runtime, params)) {
    throw new RangeError(
      `matmul: the pinned variant ${variant.name} cannot run [${params.m}, ${params.k}]·` +
        `[${params.k}, ${params.n}] within this device's limits; pin another or none`,
    );
  }
  variant.encode(runtime, inputs, c, params);
}
