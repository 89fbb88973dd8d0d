/**
 * @file bench:report's training shapes: the products a training loop runs, measured as
 * it runs them — in a stream (many products encoded, one wait at the end), each beside
 * the 1024³ rate measured the same way in the same run, since on a shared machine only
 * ratios within one run compare. The products are those of demo:mlp's step (64 → 256
 * → 256 → 10, `nn.Linear` weights [out, in], so the forward products take
 * `transposeB` and the weight gradients `transposeA`) at batch 64 and 256, and LeNet's
 * two convolutions lowered to products ([N·H·W, C·kh·kw]·[C·kh·kw, O]: 12544×25×6 at
 * batch 16, 1600×150×16). Then the jitted MLP step of demo:mlp (batch 64, dropout, SGD)
 * in ms and GFLOP/s, a stream of steps with one wait.
 */
import { foldIn, type GpuBackend, jit, matmul, randomKey, type SgdState } from "../mod.ts";
import { matmulTuning, matmulVariantFor } from "../kernels/matmul.ts";
import {
  initParams,
  makeOptimizer,
  makeTrainStep,
  MLP_DEFAULTS,
  type MlpParams,
  STUDY_RUNS,
} from "../demos/mlp_study.ts";
import { benchValues } from "./_cases.ts";
import { fmt, markdownTable, median } from "./_cli.ts";

/** One product C = op(A)·op(B), op(A) [m, k], op(B) [k, n], and where training runs it. */
export interface TrainingProduct {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly as: string;
}

const product = (
  m: number,
  k: number,
  n: number,
  flags: "NN" | "TN" | "NT",
  as: string,
): TrainingProduct => ({
  m,
  k,
  n,
  transposeA: flags === "TN",
  transposeB: flags === "NT",
  as,
});

/** The MLP's products at batch `b`: three layers forward, their input and weight gradients. */
function mlpProducts(b: number): TrainingProduct[] {
  const [pixels, h1, h2, classes] = [64, ...MLP_DEFAULTS.hidden, 10];
  return [
    product(b, pixels, h1, "NT", `MLP layer 1 forward (x·W1ᵀ), batch ${b}`),
    product(b, h1, h2, "NT", `MLP layer 2 forward, batch ${b}`),
    product(b, h2, classes, "NT", `MLP layer 3 forward, batch ${b}`),
    product(
      b,
      classes,
      h2,
      "NN",
      `MLP input gradient of layer 3 (g·W3), batch ${b}`,
    ),
    product(
      b,
      h2,
      h1,
      "NN",
      `MLP input gradient of layer 2 (g·W2), batch ${b}`,
    ),
    product(
      classes,
      b,
      h2,
      "TN",
      `MLP weight gradient of layer 3 (gᵀ·h2), batch ${b}`,
    ),
    product(
      h2,
      b,
      h1,
      "TN",
      `MLP weight gradient of layer 2 (gᵀ·h1), batch ${b}`,
    ),
    product(
      h1,
      b,
      pixels,
      "TN",
      `MLP weight gradient of layer 1 (gᵀ·x), batch ${b}`,
    ),
  ];
}

/** issue 19's table, then the MLP step's products at batch 64 and 256, then LeNet's. */
export const TRAINING_PRODUCTS: readonly TrainingProduct[] = [
  product(64, 64, 256, "NN", "issue 19: MLP layer 1, batch 64"),
  product(64, 256, 256, "NN", "issue 19: MLP layer 2"),
  product(256, 64, 256, "TN", "issue 19: a weight gradient (xᵀ·g)"),
  product(64, 256, 256, "NT", "issue 19: an input gradient (g·Wᵀ)"),
  product(256, 256, 256, "NN", "issue 19: 256³"),
  ...mlpProducts(64),
  ...mlpProducts(256),
  product(12544, 25, 6, "NN", "LeNet conv 1 as a product (batch 16)"),
  product(1600, 150, 16, "NN", "LeNet conv 2 as a product"),
];

/** The large square product every row is compared with. */
const REFERENCE = product(1024, 1024, 1024, "NN", "1024³, the reference rate");

/** A stream does at least this many flops (and at most {@linkcode MAX_PRODUCTS} products). */
const STREAM_FLOPS = 2 ** 30;
const MIN_PRODUCTS = 8;
const MAX_PRODUCTS = 200;

const flopsOf = ({ m, k, n }: TrainingProduct) => 2 * m * k * n;
const shapeOf = (p: TrainingProduct) =>
  `${p.m}×${p.k}×${p.n}${p.transposeA ? " Aᵀ" : ""}${p.transposeB ? " Bᵀ" : ""}`;

/** Median wall ms per call of `run`, over `reps` streams of `calls` calls and one wait each. */
async function streamMs(
  dev: GpuBackend,
  reps: number,
  calls: number,
  run: () => void,
): Promise<number> {
  run();
  await dev.sync();
  await matmulTuning(dev.runtime);
  run();
  await dev.sync();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) run();
    await dev.sync();
    times.push((performance.now() - start) / calls);
  }
  return median(times);
}

/** Median ms per product of `p` in a stream, with the variant that ran it. */
async function productMs(
  dev: GpuBackend,
  reps: number,
  p: TrainingProduct,
): Promise<{ ms: number; variant: string }> {
  const { m, k, n, transposeA, transposeB } = p;
  using a = dev.tensor(benchValues(m * k, 1), transposeA ? [k, m] : [m, k]);
  using b = dev.tensor(benchValues(k * n, 2), transposeB ? [n, k] : [k, n]);
  const calls = Math.min(
    MAX_PRODUCTS,
    Math.max(MIN_PRODUCTS, Math.ceil(STREAM_FLOPS / flopsOf(p))),
  );
  const ms = await streamMs(
    dev,
    reps,
    calls,
    () => matmul(a, b, { transposeA, transposeB }).dispose(),
  );
  return { ms, variant: matmulVariantFor(dev.runtime, p).name };
}

/** The flops of one MLP training step at batch `b`: its eight products. */
const mlpStepFlops = (b: number) => mlpProducts(b).reduce((sum, p) => sum + flopsOf(p), 0);

/** Median ms of one jitted step of demo:mlp (dropout, SGD) at batch `batch`, in a stream. */
async function mlpStepMs(
  dev: GpuBackend,
  reps: number,
  batch: number,
): Promise<number> {
  const settings = { ...MLP_DEFAULTS, batchSize: batch };
  const optimizer = makeOptimizer(settings);
  const step = jit(makeTrainStep(settings, optimizer, STUDY_RUNS[0].dropout), {
    donate: [0, 1],
  });
  let params: MlpParams = initParams(dev, settings);
  let state: SgdState = optimizer.init(params);
  using X = dev.tensor(benchValues(batch * 64, 3), [batch, 64]);
  using labels = dev.tensor(Array.from({ length: batch }, (_, i) => i % 10));
  const key = randomKey(1);
  let steps = 0;
  const ms = await streamMs(dev, reps, 50, () => {
    const next = step(params, state, X, labels, foldIn(key, steps++));
    ({ params, state } = next);
    next.loss.dispose();
  });
  for (
    const t of [...Object.values(params), ...Object.values(state.momentum)]
  ) t.dispose();
  step.dispose();
  return ms;
}

/** The figures of one run, for report.json. */
export interface TrainingFigures {
  readonly referenceGflops: number;
  readonly products: readonly (TrainingProduct & {
    ms: number;
    gflops: number;
    variant: string;
  })[];
  readonly mlpStep: { batch: number; ms: number; gflops: number };
}

/**
 * Measures every training product and the reference in a stream, then the jitted MLP
 * step; returns the figures and a markdown section.
 */
export async function benchTrainingShapes(
  dev: GpuBackend,
  reps: number,
  progress: (line: string) => void,
): Promise<{ figures: TrainingFigures; markdown: string }> {
  progress(`training shapes: ${shapeOf(REFERENCE)}`);
  const reference = await productMs(dev, reps, REFERENCE);
  const referenceGflops = flopsOf(REFERENCE) / reference.ms / 1e6;
  const products = [];
  for (const p of TRAINING_PRODUCTS) {
    progress(`training shapes: ${shapeOf(p)}`);
    const { ms, variant } = await productMs(dev, reps, p);
    products.push({ ...p, ms, gflops: flopsOf(p) / ms / 1e6, variant });
  }
  progress("training shapes: jitted MLP step, batch 64");
  const batch = MLP_DEFAULTS.batchSize;
  const stepMs = await mlpStepMs(dev, reps, batch);
  const mlpStep = {
    batch,
    ms: stepMs,
    gflops: mlpStepFlops(batch) / stepMs / 1e6,
  };
  const table = markdownTable(
    ["product (m×k×n)", "as in", "variant", "ms", "GFLOP/s", "of 1024³"],
    [
      ...products.map((p) => [
        shapeOf(p),
        p.as,
        p.variant,
        fmt(p.ms),
        fmt(p.gflops),
        `${fmt((100 * p.gflops) / referenceGflops)}%`,
      ]),
      [
        shapeOf(REFERENCE),
        REFERENCE.as,
        reference.variant,
        fmt(reference.ms),
        fmt(referenceGflops),
        "100%",
      ],
    ],
  );
  const markdown =
    `Matmul at training shapes (wall ms per product in a stream: up to ${MAX_PRODUCTS} products, ` +
    `one wait, medians of ${reps} streams; 1024³ measured the same way in the same run):\n\n${table}\n\n` +
    `Jitted demo:mlp step (batch ${batch}, dropout, SGD; 50 steps, one wait): ` +
    `${fmt(mlpStep.ms)} ms, ${fmt(mlpStep.gflops)} GFLOP/s (its eight products' flops).`;
  return { figures: { referenceGflops, products, mlpStep }, markdown };
}
