/**
 * @file bench:peers' LeNet row: training steps of demo:lenet's LeNet (d2l §7.6: two 5×5
 * convolutions, sigmoid, 2×2 average pooling, dense 120, 84, 10; SGD with lr 0.9,
 * batches of 256, softmax cross-entropy) on Fashion-MNIST, ours (the demo's step,
 * compiled by `jit`) beside the same network as a TensorFlow.js user writes it on its
 * WebGPU backend: NHWC images, HWIO kernels, `tf.conv2d`, `tf.avgPool`, `tf.sigmoid`,
 * `tf.train.sgd(lr).minimize`, `tf.losses.softmaxCrossEntropy` — same images, same
 * initial weights (transposed to tfjs's layouts; the first dense layer's rows permuted so
 * that flattening NHWC feeds it as NCHW feeds ours), same minibatches in the same order,
 * each uploaded from the host as its step needs it on both sides (the 60,000 images do
 * not fit one default-sized WebGPU buffer).
 *
 * A whole epoch is 235 steps; on a software adapter that is many minutes a side, so the
 * row times slices of {@linkcode SLICE_STEPS} steps, the two libraries alternating slice
 * by slice so load on the machine hits both alike, each slice timed from its first step
 * to the read of its last loss, after a warm-up slice each (pipelines, our matmul
 * autotune); the epoch's time is 60,000 images over the median images a second. The
 * losses of the last slice, the same batches from the same weights, show that both
 * trained alike. The data is the demo's (`deno task demo:lenet` fetches it); without it
 * the row is skipped with a message, never fetched here.
 */
import type * as tfNamespace from "@tensorflow/tfjs-core";
// What a tfjs user imports: the full package registers the gradients.
import "@tensorflow/tfjs";
import type { GpuBackend } from "../mod.ts";
import { DemoFailure } from "../demos/args.ts";
import { type FashionMnist, PIXELS, readFashionMnist, SIDE } from "../demos/fashion_mnist.ts";
import { LENET_DEFAULTS, startRun, STUDY_RUNS, uploadData } from "../demos/lenet_study.ts";
import { fmt, markdownTable, median, writeResult } from "./_cli.ts";

type Tf = typeof tfNamespace;

/** Training steps per timed slice. */
const SLICE_STEPS = 4;

/** One library's figures. */
interface Side {
  /** Median images a second over the timed slices. */
  readonly imagesPerSecond: number;
  /** 60,000 images at that rate. */
  readonly secondsPerEpoch: number;
  /** The mean loss of the last slice's steps. */
  readonly lastLoss: number;
}

/**
 * Times `reps` slices of LeNet's training on ours and on tfjs (after a warm-up slice
 * each), prints a table and writes `lenet_peer.json` and `lenet_peer.md` into `out`.
 */
export async function benchLenetPeer(
  tf: Tf,
  dev: GpuBackend,
  reps: number,
  out: string,
  progress: (line: string) => void,
): Promise<void> {
  let host: FashionMnist;
  try {
    host = await readFashionMnist();
  } catch (error) {
    if (!(error instanceof DemoFailure)) throw error;
    progress(`lenet: skipped: ${error.message}`);
    return;
  }
  const spec = STUDY_RUNS[0];
  const settings = LENET_DEFAULTS;
  const data = uploadData(host, dev);
  const run = startRun(data, spec, settings);
  const n = host.train.count;
  const batches = [1, 2].flatMap((epoch) => run.batches(epoch));
  const initial = Object.fromEntries(
    await Promise.all(
      Object.entries(run.trained.params).map(async ([k, t]) =>
        [k, Float32Array.from(await t.read())] as const
      ),
    ),
  );

  // tfjs: NHWC images, HWIO kernels, [in, out] dense weights.
  const kernel = (name: string, shape: [number, number, number, number]) =>
    tf.tidy(() => tf.variable(tf.transpose(tf.tensor4d(initial[name], shape), [2, 3, 1, 0])));
  const dense = (
    name: string,
    rows: number,
    columns: number,
    values = initial[name],
  ) => tf.tidy(() => tf.variable(tf.transpose(tf.tensor2d(values, [rows, columns]))));
  // Ours flattens [16, 5, 5] as (c, y, x); tfjs's [5, 5, 16] as (y, x, c).
  const firstDense = new Float32Array(120 * 400);
  for (let j = 0; j < 120; j++) {
    for (let c = 0; c < 16; c++) {
      for (let p = 0; p < 25; p++) {
        firstDense[j * 400 + p * 16 + c] = initial["7.weight"][j * 400 + c * 25 + p];
      }
    }
  }
  const w = {
    c1: kernel("0.weight", [6, 1, 5, 5]),
    c2: kernel("3.weight", [16, 6, 5, 5]),
    d1: dense("7.weight", 120, 400, firstDense),
    d2: dense("9.weight", 84, 120),
    d3: dense("11.weight", 10, 84),
  };
  const b = Object.fromEntries(
    ["0", "3", "7", "9", "11"].map((
      i,
    ) => [i, tf.variable(tf.tensor1d(initial[`${i}.bias`]))]),
  );
  type T4 = tfNamespace.Tensor4D;
  /** Convolution, bias, sigmoid, 2×2 average pooling: one of LeNet's feature stages. */
  const stage = (x: T4, kernel: T4, bias: tfNamespace.Tensor, pad: 2 | "valid") =>
    tf.avgPool(tf.sigmoid(tf.add(tf.conv2d(x, kernel, 1, pad), bias)) as T4, 2, 2, "valid");
  const model = (x: T4) => {
    const h = stage(stage(x, w.c1, b["0"], 2), w.c2, b["3"], "valid");
    let d = tf.reshape(h, [x.shape[0], 400]) as tfNamespace.Tensor2D;
    d = tf.sigmoid(tf.add(tf.matMul(d, w.d1), b["7"]));
    d = tf.sigmoid(tf.add(tf.matMul(d, w.d2), b["9"]));
    return tf.add(tf.matMul(d, w.d3), b["11"]);
  };
  const optimizer = tf.train.sgd(settings.lr ?? spec.lr);

  const theirSlice = async (rows: number[][]) => {
    const costs = rows.map((batch) =>
      tf.tidy(() => {
        const images = new Float32Array(batch.length * PIXELS);
        batch.forEach((r, i) =>
          images.set(host.train.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS)
        );
        const x = tf.tensor4d(images, [batch.length, SIDE, SIDE, 1]);
        const labels = tf.tensor1d(batch.map((r) => host.train.labels[r]), "int32");
        return optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), model(x)),
          true,
        )!;
      })
    );
    const mean = tf.tidy(() => tf.div(tf.addN(costs), costs.length));
    costs.forEach((c) => c.dispose());
    const [loss] = await mean.data();
    mean.dispose();
    return loss;
  };
  const ourSlice = async (rows: number[][]) => {
    const figures = rows.map((batch) => run.step(batch));
    const losses = await Promise.all(figures.map((f) => f.read()));
    figures.forEach((f) => f.dispose());
    return losses.reduce((s, [l]) => s + l, 0) / losses.length;
  };

  const rates = { ours: [] as number[], theirs: [] as number[] };
  const lastLoss = { ours: NaN, theirs: NaN };
  for (let slice = 0; slice <= reps; slice++) {
    const rows = batches.slice(slice * SLICE_STEPS, (slice + 1) * SLICE_STEPS);
    const images = rows.reduce((s, r) => s + r.length, 0);
    for (
      const [side, train] of [["ours", ourSlice], [
        "theirs",
        theirSlice,
      ]] as const
    ) {
      const start = performance.now();
      lastLoss[side] = await train(rows);
      if (slice > 0) {
        rates[side].push(images / ((performance.now() - start) / 1000));
      }
    }
    progress(
      `lenet slice ${slice + 1}/${reps + 1}${slice === 0 ? " (warm-up)" : ""}`,
    );
  }
  run.dispose(true);
  data.dispose();
  tf.dispose([...Object.values(w), ...Object.values(b)]);
  optimizer.dispose();

  const side = (s: "ours" | "theirs"): Side => ({
    imagesPerSecond: median(rates[s]),
    secondsPerEpoch: n / median(rates[s]),
    lastLoss: lastLoss[s],
  });
  const sides = { ours: side("ours"), theirs: side("theirs") };
  const ratio = sides.theirs.secondsPerEpoch / sides.ours.secondsPerEpoch;
  const table = markdownTable(
    [
      "LeNet training (batches of 256)",
      "ours",
      "tfjs",
      "ours / tfjs (images per second)",
    ],
    [
      [
        "images per second (median)",
        fmt(sides.ours.imagesPerSecond),
        fmt(sides.theirs.imagesPerSecond),
        fmt(ratio),
      ],
      [
        `seconds per epoch (${n.toLocaleString("en-US")} images, at that rate)`,
        fmt(sides.ours.secondsPerEpoch),
        fmt(sides.theirs.secondsPerEpoch),
        "",
      ],
      [
        `mean loss of the last ${SLICE_STEPS} steps (same batches)`,
        sides.ours.lastLoss.toFixed(4),
        sides.theirs.lastLoss.toFixed(4),
        "",
      ],
    ],
  );
  const markdown =
    `LeNet training (demo:lenet's lenet run, its step compiled with jit) vs TensorFlow.js ${tf.version_core} (WebGPU), same run, alternating slices of ${SLICE_STEPS} steps, medians of ${reps}; above 1: ours is faster.\n\n${table}`;
  console.log(`\n${markdown}`);
  const json = JSON.stringify(
    { tfjs: tf.version_core, sliceSteps: SLICE_STEPS, reps, ...sides, ratio },
    null,
    2,
  );
  progress(`wrote ${await writeResult(out, "lenet_peer.json", json)}`);
  progress(`wrote ${await writeResult(out, "lenet_peer.md", markdown + "\n")}`);
}
