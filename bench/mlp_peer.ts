/**
 * @file bench:peers' training row: one epoch of the MLP demo (demos/mlp_study.ts: 64 →
 * 256 → 256 → 10, ReLU, dropout 0.2 and 0.5, softmax cross-entropy, SGD with lr 0.5,
 * batches of 64, 1,437 training images, then accuracy on the training and test images)
 * on our GPU backend, beside the same training written as a TensorFlow.js user writes
 * it with tfjs-core on its WebGPU backend: `tf.variable`s, `tf.train.sgd(lr).minimize`,
 * `tf.losses.softmaxCrossEntropy`, `tf.dropout`, `tf.gather` for the minibatch — same
 * data, same initial weights, same batches. An epoch is timed from its first step to
 * the read of its figures (loss and both accuracies, one read for each library), the
 * two alternating epoch by epoch so load on the machine hits both alike; the first
 * epoch of each is a warm-up (pipelines, our matmul autotune).
 */
import type * as tfNamespace from "@tensorflow/tfjs-core";
// What a tfjs user imports: the full package registers the gradients (tfjs-core alone has
// none, and its ESM gradient files do not load outside a bundler).
import "@tensorflow/tfjs";
import { cpu, type CpuTensor, type GpuBackend } from "../mod.ts";
import {
  CLASSES,
  epochBatches,
  MLP_DEFAULTS,
  PARAM_NAMES,
  PIXELS,
  readDigits,
  splitDigits,
  startRun,
  STUDY_RUNS,
} from "../demos/mlp_study.ts";
import { fmt, markdownTable, median, writeResult } from "./_cli.ts";

type Tf = typeof tfNamespace;

/** One library's figures. */
interface Side {
  /** Median seconds per epoch. */
  readonly secondsPerEpoch: number;
  /** Test accuracy after the last epoch, as a check that both trained alike. */
  readonly testAccuracy: number;
}

/**
 * Times `epochs` epochs of the MLP's training on ours and on tfjs (after one warm-up
 * epoch each), prints a table and writes `mlp_peer.json` and `mlp_peer.md` into `out`.
 */
export async function benchMlpPeer(
  tf: Tf,
  dev: GpuBackend,
  epochs: number,
  out: string,
  progress: (line: string) => void,
): Promise<void> {
  const settings = MLP_DEFAULTS;
  const spec = STUDY_RUNS[0]; // with dropout
  const digits = await readDigits();
  const ours = splitDigits(digits, dev, settings);
  const host = splitDigits(digits, cpu(), settings);
  const nTrain = host.train.X.shape[0], nTest = host.test.X.shape[0];
  const run = startRun(ours, spec, settings);
  // tfjs: the same data, kernels [in, out] as tfjs lays them out, the same initial values.
  const data = (t: unknown) => Float32Array.from((t as CpuTensor).data);
  const Xtrain = tf.tensor2d(data(host.train.X), [nTrain, PIXELS]);
  const Xtest = tf.tensor2d(data(host.test.X), [nTest, PIXELS]);
  const labelsTrain = tf.tensor1d(data(host.train.labels), "int32");
  const labelsTest = tf.tensor1d(data(host.test.labels), "int32");
  const oneHot = tf.oneHot(labelsTrain, CLASSES);
  const initial = Object.fromEntries(
    await Promise.all(
      PARAM_NAMES.map(async (n) => [n, Float32Array.from(await run.params[n].read())] as const),
    ),
  );
  const variable = (name: string, rows: number, columns: number) => {
    const t = tf.tensor2d(initial[name], [rows, columns]);
    const v = tf.variable(tf.transpose(t));
    t.dispose();
    return v;
  };
  const [h1, h2] = settings.hidden;
  const w1 = variable("w1", h1, PIXELS),
    w2 = variable("w2", h2, h1),
    w3 = variable("w3", CLASSES, h2);
  const b1 = tf.variable(tf.tensor1d(initial.b1)), b2 = tf.variable(tf.tensor1d(initial.b2));
  const b3 = tf.variable(tf.tensor1d(initial.b3));
  const model = (x: tfNamespace.Tensor, training: boolean) => {
    let h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    if (training) h = tf.dropout(h, spec.dropout[0]);
    h = tf.relu(tf.add(tf.matMul(h, w2), b2));
    if (training) h = tf.dropout(h, spec.dropout[1]);
    return tf.add(tf.matMul(h, w3), b3);
  };
  const optimizer = tf.train.sgd(settings.lr);
  const correct = (x: tfNamespace.Tensor, labels: tfNamespace.Tensor) =>
    tf.sum(tf.cast(tf.equal(tf.argMax(model(x, false), 1), labels), "float32"));

  const theirEpoch = async (epoch: number) => {
    const costs: tfNamespace.Scalar[] = [];
    for (const rows of epochBatches(settings, nTrain, epoch)) {
      costs.push(tf.tidy(() => {
        const index = tf.tensor1d(rows, "int32");
        return optimizer.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(
              tf.gather(oneHot, index),
              model(tf.gather(Xtrain, index), true),
            ),
          true,
        )!;
      }));
    }
    const figures = tf.tidy(() =>
      tf.stack([
        tf.div(tf.addN(costs), costs.length),
        correct(Xtrain, labelsTrain),
        correct(Xtest, labelsTest),
      ])
    );
    costs.forEach((c) => c.dispose());
    const values = await figures.data();
    figures.dispose();
    return values[2] / nTest;
  };
  const ourEpoch = async (epoch: number) => {
    using figures = run.epoch(epoch);
    return (await figures.read())[2] / nTest;
  };

  const seconds = { ours: [] as number[], theirs: [] as number[] };
  const accuracy = { ours: 0, theirs: 0 };
  for (let epoch = 1; epoch <= epochs + 1; epoch++) {
    for (const [side, train] of [["ours", ourEpoch], ["theirs", theirEpoch]] as const) {
      const start = performance.now();
      accuracy[side] = await train(epoch);
      if (epoch > 1) seconds[side].push((performance.now() - start) / 1000);
    }
    progress(`mlp epoch ${epoch}/${epochs + 1}${epoch === 1 ? " (warm-up)" : ""}`);
  }
  run.dispose();
  ours.dispose();
  host.dispose();
  tf.dispose([Xtrain, Xtest, labelsTrain, labelsTest, oneHot, w1, w2, w3, b1, b2, b3]);
  optimizer.dispose();

  const sides: Record<"ours" | "theirs", Side> = {
    ours: { secondsPerEpoch: median(seconds.ours), testAccuracy: accuracy.ours },
    theirs: { secondsPerEpoch: median(seconds.theirs), testAccuracy: accuracy.theirs },
  };
  const ratio = sides.theirs.secondsPerEpoch / sides.ours.secondsPerEpoch;
  const table = markdownTable(
    ["MLP epoch (1,437 images, batches of 64)", "ours", "tfjs", "ours / tfjs (epochs per second)"],
    [
      [
        "seconds per epoch (median)",
        fmt(sides.ours.secondsPerEpoch),
        fmt(sides.theirs.secondsPerEpoch),
        fmt(ratio),
      ],
      [
        `test accuracy after ${epochs + 1} epochs`,
        `${(100 * sides.ours.testAccuracy).toFixed(1)}%`,
        `${(100 * sides.theirs.testAccuracy).toFixed(1)}%`,
        "",
      ],
    ],
  );
  const markdown =
    `MLP training (demo:mlp's dropout run, its step compiled with jit) vs TensorFlow.js ${tf.version_core} (WebGPU), same run, alternating epochs, medians of ${epochs}; above 1: ours is faster.\n\n${table}`;
  console.log(`\n${markdown}`);
  const json = JSON.stringify({ tfjs: tf.version_core, epochs, ...sides, ratio }, null, 2);
  progress(`wrote ${await writeResult(out, "mlp_peer.json", json)}`);
  progress(`wrote ${await writeResult(out, "mlp_peer.md", markdown + "\n")}`);
}
