/**
 * @file Matmul on the GPU: which variant runs. What is fast differs by adapter, so the
 * choice starts from a rule by adapter class, is refined by measuring on the adapter in
 * use, and is remembered across runs (kernels/matmul_tuning.ts).
 *
 * The rule (no measurement; what a process runs first), by adapter class (`adapter.info`:
 * llvmpipe, SwiftShader and other CPU-based adapters are "software"; others "gpu"):
 *
 * - Both: a tiny output with a long k (m·n ≤ 256, k ≥ 1024) takes `splitK` (8×4096×8 on
 *   llvmpipe: 0.38 GFLOP/s against 0.20 for texture8x8 and 0.17 for registers4x4).
 * - Software, a narrow side (n ≤ 16 or m ≤ 16): `narrow` (kernels/matmul_narrow.ts),
 *   where every tiled kernel's tile is mostly padding. `deno task bench:report --only
 *   training --reps 3`, llvmpipe, load average ~3.5, the old rule's process (texture8x8
 *   there) and this one's back to back; ms per product in a stream and share of the same
 *   run's 1024³ rate (20.8 and 14.8 GFLOP/s, so shares compare only roughly): LeNet
 *   12544×25×6 13.3 ms 1.4% → 2.59 ms 9.8%; 1600×150×16 7.38 ms 5.0% → 2.46 ms 21%;
 *   the MLP at batch 256, 256×256×10 Bᵀ 0.83 ms 7.6% → 0.81 ms 11%, 10×256×256 Aᵀ 1.04
 *   ms 6.1% → 0.86 ms 10%; the jitted MLP step (batch 64) 32.4 → 22.9 ms. A second
 *   pair, the old rule's second (1024³ at 14.2 and 15.7 GFLOP/s): 12544×25×6 10.8 ms
 *   2.5% → 3.55 ms 6.8%; 1600×150×16 4.43 ms 12% → 3.04 ms 16%; 10×256×256 Aᵀ 0.93 →
 *   0.77 ms; 256×256×10 Bᵀ 0.97 → 2.59 ms (an outlier or the load: 0.65–0.81 ms in the
 *   other runs); the MLP step 23.3 → 20.6 ms. At batch 64
 *   (64×256×10 Bᵀ, 10×64×256 Aᵀ: ~0.5 ms, ~3%) both kernels are bound by each product's
 *   three commands (a pack, a copy, the product: 15×64×16 takes ~0.45 ms), and the
 *   tuning kept texture8x8; 64×10×256 (a narrow k) is not narrow's. Pinned, one process,
 *   narrow against texture8x8: 12544×25×6 2.1 against 11.7 ms, 1600×150×16 1.9 against
 *   5.4, 10×256×256 Aᵀ 0.69 against 1.3.
 * - Software, every other product: the texture kernels, `texture8x8` below 2³¹ flops
 *   and `texture16x16` from there (1024³ on). Small and transposed products
 *   too: a training loop never waits, so a stream of small products is throughput-bound
 *   (latency matters only for a cold process's first call, which the cold figures
 *   watch). Wall ms per product in a stream (`bench:report --only training`, llvmpipe,
 *   a loaded machine; registers4x4, the old rule's choice below 2²⁴ flops → now,
 *   the tuned texture kernel): 64×64×256 3.14 → 1.03; 64×256×256 10.3 → 0.79; 256×64×256
 *   Aᵀ 14.0 → 1.04; 64×256×256 Bᵀ 20.9 → 5.20; MLP batch 64, forward 64×64×256 Bᵀ 5.84
 *   → 1.17, weight gradient 256×64×64 Aᵀ 4.45 → 0.89; LeNet 12544×25×6 119 → 57,
 *   1600×150×16 82.7 → 19.7. Pinned, one process: 64×64×256 Bᵀ registers4x4 9.5,
 *   texture8x8 1.24, texture16x16 1.20, tiled4x4 11.0; 256×64×256 Aᵀ 45.9, 3.9, 3.5,
 *   73.4; 10×64×256 Aᵀ 3.5, 0.53, 0.85, 11.7. Each as a share of the 1024³ rate of its
 *   own run is too noisy there to quote (1024³ ran at 3.6 against 24.9 GFLOP/s).
 *   Larger products, kernel-only GFLOP/s on llvmpipe, one quiet run
 *   (`deno task bench:report --only matmul`): 256³ texture16x16 21.9, texture8x8 19.3,
 *   registers8x8 5.9, tiled8x8 4.4, registers4x4 3.1; 1024³ 45.9, 40.6, 6.5, 8.2, 2.6;
 *   2048³ 52.0, 44.5, 9.7, 11.0, 3.5. In a cold process (20 calls, one wait per 4,
 *   three runs each, bench/_cold.ts' loop) the 16×16 pipeline's longer compile (~40 ms)
 *   outweighs its speed at 256³ (texture8x8 131–145 ms, texture16x16 180–185) but not
 *   at 1024³ (1464–1571 against 1368–1405). SwiftShader (Chromium, wall, loaded
 *   machine) ranks the texture kernels first too: 256³ texture16x16 1.3, texture8x8
 *   0.6, registers8x8 0.4, tiled 0.1–0.5 GFLOP/s. Measured again (issue 19, two runs
 *   of `bench:report --only training --reps 3`, load average 10–14: 1024³ ran at 5.5
 *   and 2.8 GFLOP/s, not ~46, so each share swings up to 4× between runs; share of the
 *   1024³ rate of the same run, run 1/run 2): 64×64×256 55/22%; 64×256×256 100/141%;
 *   256×64×256 Aᵀ 19/40%; 64×256×256 Bᵀ 67/73%; 256³ 115/496%; the MLP step's sixteen
 *   products (batch 64 and 256) 3–277%, under 20% in both runs only for the 10-wide
 *   ones (64×10×256 6–8%, 10×64×256 Aᵀ 3–4%); LeNet 12544×25×6 2/2% (27.4/70.6 ms),
 *   1600×150×16 11/9% (12.4/30.3 ms), short of the 20% target. The jitted MLP step
 *   (batch 64) 31.4/70.0 ms; beside bd164e1 (before the matmul work), processes of
 *   each taking turns, streams of 50 steps, medians of 5: 30.6 and 31.9 ms against 178
 *   and 260, 5.6–8.2× faster.
 * - Software, a cold class: an eager product under 2²⁴ flops, at least 32 rows and
 *   columns, whose class has come to less than 2²⁷ flops in this process takes
 *   `registers4x4`, the variant quickest to compile; `jit`'s products (captured,
 *   replayed) never do. Compiling decides a cold process's first products: with
 *   Mesa's shader cache off, llvmpipe took ~0.1–0.3 s longer for a texture-fed
 *   product's pipelines than for registers4x4's (64×256×256, first call, wall, three
 *   runs: registers4x4 131 ms, texture8x8 203 with A and B copied and 321 with A
 *   packed), while Mesa's disk cache, warm after any earlier run, hides it (38–46 ms
 *   either way). 64³ in cold processes, cache off, a loaded machine (load average
 *   10), wall ms for 1/10/20 calls, medians of 3 (`bench/_cold.ts`): this rule
 *   827/1007/1141, bd164e1 (before the texture rule) 589/925/1297, texture8x8 from
 *   the first call 1308/2197/1376; TensorFlow.js (an earlier run, load ~6)
 *   811/1031/1224.
 * - GPU, small products (< 2²⁴ flops): `registers4x4` (32×32 tiles: more workgroups than
 *   the tiled kernels' for a small output; not measured on a GPU yet, and the tuning
 *   compares it with the others and `splitK` there).
 * - GPU, larger products: the workgroup-tiled kernel, `tiled8x8` (128×128 tiles) where
 *   the output has at least 2048² values, `tiled4x4` (64×64 tiles) below that, so that a
 *   large GPU still gets ≥ 256 workgroups (an H200 has 132 SMs). Measured once on an
 *   NVIDIA H200 at 1024³ before this kernel existed: texture8x8 1,862, the scalar
 *   64×64 tiled kernel this one replaces 1,525, registers8x8 1,443 GFLOP/s. The vec4,
 *   double-buffered tiled kernel has not met a GPU yet; the tuning compares it with
 *   the others there.
 *
 * Tuning (`gpu({ tuning })`): with `"background"` (the default), a shape class (m, k,
 * n rounded up to powers of two, and the transpose flags) runs the rule's variant until
 * its products come to 2²⁴ flops — the first product of a large class, a stream of
 * small ones — then queues a measurement of the class's candidates (with `splitK` where
 * m·n ≤ 4096; kernels/matmul_autotune.ts). It runs once the runtime has
 * been idle for {@linkcode IDLE_MS} ms, so a script's own products are never slowed by
 * it (in Deno, a short script lingers for that measurement at its end); the fastest is
 * used from then on and stored for later processes. With `"eager"`, `gpu()` measures
 * the common shapes before it resolves; with `"off"`, the rule alone decides and
 * nothing is read or stored. `dev.tune(shapes)` measures given shapes at once. A
 * change of variant changes results in the last bits: pin one (`gpu({ matmulVariant
 * })`) where results must stay bit-identical from the first call on.
 */
import {
  type AdapterClass,
  adapterClass,
  type MatmulParams,
  type MatmulVariant,
  setAdapterClass,
} from "./_matmul_shared.ts";
import { fastestVariant, scratchShape } from "./matmul_autotune.ts";
import { NARROW_SIDE, narrowVariant } from "./matmul_narrow.ts";
import { registersVariant } from "./matmul_registers.ts";
import { splitKVariant } from "./matmul_split_k.ts";
import { textureVariant } from "./matmul_texture.ts";
import { tiledVariant } from "./matmul_tiled.ts";
import { adapterKey, defaultStorage, driverStack, TuningStore } from "./matmul_tuning.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

export { type AdapterClass, adapterClass, type MatmulParams } from "./_matmul_shared.ts";

/** Every matmul variant, by name. */
export const MATMUL_VARIANTS: ReadonlyMap<string, MatmulVariant> = new Map(
  [
    registersVariant(4, 4),
    registersVariant(8, 8),
    textureVariant(8, 8),
    textureVariant(16, 16),
    tiledVariant(4, 4),
    tiledVariant(8, 8),
    splitKVariant,
    narrowVariant,
  ].map((v) => [v.name, v]),
);

/**
 * How matmul's variant is chosen: `"off"` (the rule alone), `"background"` (measured
 * when the device is idle, remembered), `"eager"` (measured before `gpu()` resolves).
 */
export type MatmulTuningMode = "off" | "background" | "eager";

/** The tuning modes, for validation. */
export const MATMUL_TUNING_MODES: readonly MatmulTuningMode[] = ["off", "background", "eager"];

/**
 * A matmul shape to tune for: op(A) is [m, k], op(B) is [k, n].
 *
 * @example
 * ```ts
 * import { gpu, type MatmulShape } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * const shape: MatmulShape = { m: 300, k: 784, n: 10 };
 * await dev.tune([shape]);
 * dev.destroy();
 * ```
 */
export interface MatmulShape {
  /** Rows of op(A) and of the product. */
  readonly m: number;
  /** The inner dimension. */
  readonly k: number;
  /** Columns of op(B) and of the product. */
  readonly n: number;
  /** A is stored as [k, m], as `matmul`'s option of that name. */
  readonly transposeA?: boolean;
  /** B is stored as [n, k]. */
  readonly transposeB?: boolean;
}

/**
 * A shape class is measured once its products have come to this many flops: at the
 * first product of a large class, after a stream of a small one (64×64×256: the 9th
 * product), never for the few tiny products of a script.
 */
const TUNE_FLOPS = 2 ** 24;
/**
 * A product under {@linkcode TUNE_FLOPS} is `cold` (for the rule) until its class has
 * come to this many flops in this process: on llvmpipe the texture-fed product compiles
 * ~0.1–0.3 s slower than `registers4x4` (Mesa's shader cache off), which runs small
 * products in a stream at ~0.7–3 GFLOP/s, so about this much work on it costs what the
 * compile does (a ski rental: never more than twice the better of the two choices).
 */
const COLD_FLOPS = 2 ** 27;
/**
 * `registers4x4`'s tiles are this many rows and columns: a cold product narrower than a
 * tile takes the rule's usual variant, since most of registers4x4's work would be
 * padding (LeNet's 12544×25×6 in a stream: 119 ms a product against texture8x8's 57).
 */
const REGISTERS_TILE = 32;
/** The runtime must have been idle this long before a background measurement. */
export const IDLE_MS = 100;
/** A measurement interrupted by other work is tried at most this often per class. */
const MAX_ATTEMPTS = 3;

/** What the rule and the measurements use, per adapter class. */
interface ClassPolicy {
  /**
   * The variant before any measurement (the first that supports the shape); `cold`: an
   * eager product under {@linkcode TUNE_FLOPS} whose class has come to less than
   * {@linkcode COLD_FLOPS} in this process, where compiling decides (see
   * {@linkcode matmulVariantFor}).
   */
  rule(params: MatmulParams, cold: boolean): readonly string[];
  /** The variants a measurement compares (and `splitK` where the output is small). */
  readonly candidates: readonly string[];
  /** Each side of the scratch product measured is capped at this. */
  readonly maxSide: number;
  /** The shapes `"eager"` and `dev.tune()` measure by default. */
  readonly commonShapes: readonly number[];
}

/** A tiny output with a long k: one workgroup per output keeps the device busy. */
const splitKShape = ({ m, n, k }: MatmulParams) => m * n <= 256 && k >= 1024;
/** A narrow side (kernels/matmul_narrow.ts): most of any tiled variant's tile would be padding. */
const narrowShape = ({ m, n }: MatmulParams) => Math.min(m, n) <= NARROW_SIDE;
/**
 * Outputs this small are measured with `splitK` too: a few tiles of C leave a GPU's
 * cores idle where a workgroup per output does not (the measurement decides).
 */
const SPLIT_K_OUTPUTS = 4096;
const flopsOf = ({ m, k, n, batch = 1 }: MatmulParams) => 2 * m * n * k * batch;

const POLICIES: Record<AdapterClass, ClassPolicy> = {
  software: {
    rule: (p, cold) =>
      splitKShape(p)
        ? ["splitK"]
        : narrowShape(p)
        ? ["narrow", "texture8x8", "registers4x4"]
        : cold && p.m >= REGISTERS_TILE && p.n >= REGISTERS_TILE
        ? ["registers4x4"]
        : flopsOf(p) >= 2 ** 31
        ? ["texture16x16", "texture8x8", "registers4x4"]
        : ["texture8x8", "registers4x4"],
    candidates: ["texture8x8", "texture16x16", "registers4x4", "narrow"],
    maxSide: 1024,
    commonShapes: [256, 1024],
  },
  gpu: {
    rule: (p) =>
      splitKShape(p)
        ? ["splitK"]
        : flopsOf(p) < TUNE_FLOPS
        ? ["registers4x4"]
        : p.m * p.n >= 2048 * 2048
        ? ["tiled8x8", "tiled4x4", "registers4x4"]
        : ["tiled4x4", "registers4x4"],
    candidates: [
      "tiled8x8",
      "tiled4x4",
      "texture8x8",
      "texture16x16",
      "registers8x8",
      "registers4x4",
      "narrow",
    ],
    maxSide: 4096,
    commonShapes: [256, 1024, 4096],
  },
};

/** The per-runtime state: how to choose, the choices measured, the work queued. */
interface MatmulChoices {
  pinned: MatmulVariant | null;
  mode: MatmulTuningMode;
  policy: ClassPolicy;
  store: TuningStore | null;
  /** Shape class → variant, measured here or remembered. */
  readonly tuned: Map<string, MatmulVariant>;
  /** Flops run so far in each class not yet measured (see {@linkcode TUNE_FLOPS}). */
  readonly streamed: Map<string, number>;
  /** Classes waiting for a background measurement, with attempts so far. */
  readonly waiting: Map<string, { params: MatmulParams; attempts: number }>;
  /** The background loop, while it runs. */
  background: Promise<void> | null;
  /** The end of the last measurement queued: measurements run one at a time. */
  measuring: Promise<unknown>;
}

const perRuntime = new WeakMap<GpuRuntime, MatmulChoices>();

/** The runtime's state; a runtime never configured gets the defaults for its device. */
function choicesOf(runtime: GpuRuntime): MatmulChoices {
  let choices = perRuntime.get(runtime);
  if (!choices) {
    choices = {
      pinned: null,
      mode: "background",
      policy: POLICIES.gpu,
      store: null,
      tuned: new Map(),
      streamed: new Map(),
      waiting: new Map(),
      background: null,
      measuring: Promise.resolve(),
    };
    perRuntime.set(runtime, choices);
    setAdapter(runtime, choices, runtime.device.adapterInfo);
  }
  return choices;
}

/** Takes the adapter's class and, unless tuning is off, its remembered choices. */
function setAdapter(
  runtime: GpuRuntime,
  choices: MatmulChoices,
  info: GPUAdapterInfo | undefined,
): void {
  const cls = adapterClass(info);
  setAdapterClass(runtime, cls);
  choices.policy = POLICIES[cls];
  choices.tuned.clear();
  choices.store = null;
  if (choices.mode === "off") return;
  const storage = defaultStorage();
  const key = adapterKey(info, driverStack());
  if (!storage || !key) return;
  choices.store = new TuningStore(storage, key);
  for (const [shape, name] of choices.store.load()) {
    const variant = MATMUL_VARIANTS.get(name);
    if (variant) choices.tuned.set(shape, variant);
  }
}

/** How {@linkcode configureMatmul} sets up a runtime. */
export interface MatmulConfiguration {
  /** Runs every matmul with this variant. */
  readonly variant?: MatmulVariant | null;
  /** See {@linkcode MatmulTuningMode}; `"background"` by default. */
  readonly tuning?: MatmulTuningMode;
  /** The adapter's info, where the device does not carry it (`device.adapterInfo`). */
  readonly adapter?: GPUAdapterInfo;
}

/**
 * Sets how matmul chooses its variant on `runtime`; with `"eager"` tuning, resolves
 * once the common shapes are measured (those remembered are not measured again).
 */
export async function configureMatmul(
  runtime: GpuRuntime,
  { variant = null, tuning = "background", adapter }: MatmulConfiguration,
): Promise<void> {
  const choices = choicesOf(runtime);
  choices.pinned = variant;
  choices.mode = tuning;
  setAdapter(runtime, choices, adapter ?? runtime.device.adapterInfo);
  if (tuning === "eager" && !variant) {
    const sides = choices.policy.commonShapes;
    const missing = sides.map((s) => ({ m: s, k: s, n: s }))
      .filter((shape) => !choices.tuned.has(shapeClass(withFlags(shape))));
    await tuneMatmul(runtime, missing);
  }
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

/**
 * The shape class a tuned choice is kept under: one matrix's; a batched product runs
 * its class's variant where that variant can take the batch.
 */
export function shapeClass({ m, k, n, transposeA, transposeB }: MatmulParams): string {
  const up = (d: number) => Math.ceil(Math.log2(d));
  return `${up(m)}/${up(k)}/${up(n)}/${transposeA ? "T" : "N"}${transposeB ? "T" : "N"}`;
}

function withFlags(shape: MatmulShape): MatmulParams {
  return { ...shape, transposeA: !!shape.transposeA, transposeB: !!shape.transposeB };
}

/**
 * The rule's variant for `params` on `runtime`: the first of its list that fits; `cold`
 * as {@linkcode ClassPolicy.rule} takes it.
 */
export function ruleVariant(
  runtime: GpuRuntime,
  params: MatmulParams,
  cold = false,
): MatmulVariant {
  const names = choicesOf(runtime).policy.rule(params, cold);
  const fits = names.map((name) => MATMUL_VARIANTS.get(name)!)
    .find((v) => v.supports(runtime, params));
  return fits ?? MATMUL_VARIANTS.get("registers4x4")!;
}

/**
 * The variant that a matmul of `params` runs on `runtime` now. A product captured into a
 * compiled program (`jit`), which replays it, takes the throughput choice from its first
 * call on: it is never `cold` for the rule.
 */
export function matmulVariantFor(runtime: GpuRuntime, params: MatmulParams): MatmulVariant {
  const choices = choicesOf(runtime);
  if (choices.pinned) return choices.pinned;
  const key = shapeClass(params);
  const tuned = choices.tuned.get(key);
  if (tuned?.supports(runtime, params)) return tuned;
  const streamed = (choices.streamed.get(key) ?? 0) + flopsOf(params);
  choices.streamed.set(key, streamed);
  if (choices.mode !== "off" && !tuned && streamed >= TUNE_FLOPS) {
    requestBackgroundTune(runtime, choices, key, params);
  }
  const cold = !runtime.capturing && flopsOf(params) < TUNE_FLOPS && streamed < COLD_FLOPS;
  return ruleVariant(runtime, params, cold);
}

/** Resolves when the background measurements queued on `runtime` have finished. */
export async function matmulTuning(runtime: GpuRuntime): Promise<void> {
  const choices = choicesOf(runtime);
  while (choices.background) await choices.background;
}

/**
 * Measures the fastest variant for each shape's class now (by default the adapter
 * class's common square shapes), uses it from now on and remembers it.
 */
export async function tuneMatmul(
  runtime: GpuRuntime,
  shapes?: readonly MatmulShape[],
): Promise<void> {
  const choices = choicesOf(runtime);
  const list = shapes ?? choices.policy.commonShapes.map((s) => ({ m: s, k: s, n: s }));
  for (const shape of list) {
    const params = withFlags(shape);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome = await measureClass(runtime, choices, params);
      if (outcome !== "interrupted") break;
    }
  }
}

/** Queues a background measurement of `key`'s class, started once the runtime is idle. */
function requestBackgroundTune(
  runtime: GpuRuntime,
  choices: MatmulChoices,
  key: string,
  params: MatmulParams,
): void {
  if (choices.waiting.has(key)) return;
  choices.waiting.set(key, { params, attempts: 0 });
  choices.background ??= (async () => {
    while (choices.waiting.size > 0 && await idle(runtime)) {
      const [first, entry] = choices.waiting.entries().next().value!;
      const outcome = await measureClass(runtime, choices, entry.params);
      if (outcome !== "interrupted" || ++entry.attempts >= MAX_ATTEMPTS) {
        choices.waiting.delete(first);
      }
      if (outcome === "unusable") break;
    }
  })().catch(() => {}).finally(() => {
    choices.waiting.clear();
    choices.background = null;
  });
}

/** Resolves true once no work has reached `runtime` for {@linkcode IDLE_MS}; false if it became unusable. */
async function idle(runtime: GpuRuntime): Promise<boolean> {
  let seen = runtime.workCount;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    if (!runtime.healthy) return false;
    if (runtime.workCount === seen) return true;
    seen = runtime.workCount;
  }
}

/**
 * Measures the candidates for `params`' class (one measurement at a time per runtime)
 * and keeps the fastest.
 */
function measureClass(
  runtime: GpuRuntime,
  choices: MatmulChoices,
  params: MatmulParams,
): Promise<"done" | "interrupted" | "unusable"> {
  const run = async () => {
    if (!runtime.healthy) return "unusable";
    const scratch = scratchShape(params, choices.policy.maxSide);
    const names = params.m * params.n <= SPLIT_K_OUTPUTS
      ? [...choices.policy.candidates, "splitK"]
      : choices.policy.candidates;
    const candidates = names.map((name) => MATMUL_VARIANTS.get(name)!)
      .filter((v) => v.supports(runtime, params) && v.supports(runtime, scratch));
    const key = shapeClass(params);
    if (candidates.length === 0) {
      // Nothing to compare (sides past the texture limit): the rule's, not remembered.
      choices.tuned.set(key, ruleVariant(runtime, params));
      return "done";
    }
    const result = await fastestVariant(runtime, scratch, candidates);
    if (!result) return runtime.healthy ? "interrupted" : "unusable";
    choices.tuned.set(key, result.best);
    choices.store?.save(new Map([[key, result.best.name]]));
    return "done";
  };
  const outcome = choices.measuring.then(run, run);
  choices.measuring = outcome;
  return outcome;
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
      `matmul: the pinned variant ${variant.name} cannot run ${params.batch ?? 1} × ` +
        `[${params.m}, ${params.k}]·[${params.k}, ${params.n}] within this device's limits; ` +
        `pin another or none`,
    );
  }
  variant.encode(runtime, inputs, c, params);
}
