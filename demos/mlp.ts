/**
 * @file `deno task demo:mlp`: the dropout study (d2l.ai, "Dropout") on the 8×8 digits,
 * on the GPU: the same network trained with and without dropout from the same seed, with
 * progress per epoch, a table, `mlp.json`, and the curves as `mlp.svg` and `mlp.png`.
 * The study itself is in `mlp_study.ts`; the command line, its errors and exit statuses
 * are the demos' shared ones (`args.ts`), as in `demo:decay`: every option and the
 * output directory are checked before the first run, and a run whose loss becomes NaN or
 * infinite is stopped, reported at that epoch and makes the exit status 3 unless
 * `--allow-divergence`.
 */
import {
  MLP_DEFAULTS,
  type MlpSettings,
  readDigits,
  type RunResult,
  runStudy,
  splitDigits,
  STUDY_RUNS,
} from "./mlp_study.ts";
import type { Panel } from "./plot.ts";
import {
  consoleIo,
  integerOption,
  type Io,
  parseTrainingOptions,
  type TrainingOptions,
  trainingOptionsHelp,
  withBackend,
} from "./args.ts";
import { finishStudy, settingsLine, textTable } from "./_study_report.ts";
import { demoMain } from "./_main.ts";
import { describeDivergence, DivergenceWatch } from "./_divergence.ts";

const HELP = `Trains the multilayer perceptron of d2l.ai's dropout chapter — 64 inputs, two hidden
layers of 256 ReLU units, 10 outputs, softmax cross-entropy, minibatch SGD — on the 8×8
handwritten digits (1,437 training and 360 test images), once with dropout 0.2 and 0.5
after the hidden layers and once without, from the same seed.

Usage: deno task demo:mlp [options]

Options:
  --epochs N        epochs per run, an integer ≥ 1 (default ${MLP_DEFAULTS.epochs})
  --lr X            learning rate, a finite number > 0 (default ${MLP_DEFAULTS.lr})
  --batch-size N    examples per minibatch, an integer in [1, 1437] (default ${MLP_DEFAULTS.batchSize})
  --seed N          seed of the split, initialisation, shuffling and dropout masks,
                    an integer in [0, 2³²) (default ${MLP_DEFAULTS.seed})
${trainingOptionsHelp("mlp")}

Per epoch: the mean training loss over the epoch's minibatches (dropout on), and the
accuracy on the training and the test images after the epoch (dropout off).

Exit status: 0 done, 1 a failure (no GPU), 2 a bad option, 3 a run diverged.`;

interface Options extends TrainingOptions {
  settings: MlpSettings;
}

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseTrainingOptions(args, ["batch-size"], { ...MLP_DEFAULTS, out: "out/mlp" });
  if (parsed === "help") return "help";
  const { common, values } = parsed;
  const batchSize = values["batch-size"] === undefined
    ? MLP_DEFAULTS.batchSize
    : integerOption("batch-size", values["batch-size"], 1, 1437);
  return { ...common, settings: { ...MLP_DEFAULTS, ...common.settings, batchSize } };
}

const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

function panels(results: readonly RunResult[]): Panel[] {
  const colors = ["#1f77b4", "#bf00bf"];
  return [
    {
      title: ["training loss", "(cross-entropy, mean over the epoch)"],
      xLabel: "epochs",
      yLabel: "loss",
      series: results.map((r, k) => ({
        label: r.name,
        x: r.epochs,
        y: r.trainLoss,
        color: colors[k % 2],
        dashed: k % 2 === 1,
      })),
    },
    {
      title: [
        "test error = 1 − test accuracy",
        `(${
          results.map((r) => `${r.name} ${percent(r.testAccuracy.at(-1)!)}`).join(", ")
        } accurate at the end)`,
      ],
      xLabel: "epochs",
      yLabel: "test error",
      series: results.map((r, k) => ({
        label: r.name,
        x: r.epochs,
        y: r.testAccuracy.map((a) => 1 - a),
        color: colors[k % 2],
        dashed: k % 2 === 1,
      })),
    },
  ];
}

function table(results: readonly RunResult[]): string[] {
  return textTable([
    ["run", "dropout", "train loss", "train acc.", "test acc.", "best test acc.", "seconds"],
    ...results.map((r) => [
      r.name,
      r.dropout.join(", "),
      r.trainLoss.at(-1)!.toFixed(4),
      percent(r.trainAccuracy.at(-1)!),
      percent(r.testAccuracy.at(-1)!),
      percent(Math.max(...r.testAccuracy)),
      r.seconds.toFixed(2),
    ]),
  ]);
}

/**
 * Runs the demo with command-line `args`.
 *
 * @returns The exit status: 0 done, 1 a failure, 2 a bad option, 3 a run diverged.
 */
export function main(args: string[], io: Io = consoleIo): Promise<number> {
  return demoMain({ name: "mlp", help: HELP, parse: parseOptions, run: train }, args, io);
}

function train(options: Options, io: Io): Promise<number> {
  const { settings } = options;
  return withBackend(options.backend, async (backend) => {
    io.out(settingsLine(backend, settings, [`batches of ${settings.batchSize}`]));
    const started = performance.now();
    const data = splitDigits(await readDigits(), backend, settings);
    const results: RunResult[] = [];
    const watches: DivergenceWatch[] = [];
    for (const spec of STUDY_RUNS) {
      const watch = new DivergenceWatch();
      watches.push(watch);
      const result = await runStudy(data, spec, settings, (epoch, loss, train, test) => {
        if (watch.divergence) return "stop";
        const divergence = watch.check(epoch, { train: loss });
        if (divergence) {
          io.out(`${spec.name}: ${describeDivergence(divergence)}; stopping the run`);
          return "stop";
        }
        const line = `${spec.name}: epoch ${epoch}/${settings.epochs}  loss ${
          loss.toFixed(4)
        }  train ${percent(train)}  test ${percent(test)}`;
        if (io.interactive) io.progress(line);
        if (epoch === settings.epochs || (!io.interactive && epoch % 5 === 0)) io.out(line);
      });
      results.push(result);
    }
    data.dispose();
    io.out("");
    table(results).forEach((line) => io.out(line));
    io.out(`total ${((performance.now() - started) / 1000).toFixed(2)} s on ${backend.kind}`);

    const json = {
      adapter: backend.name,
      backend: backend.kind,
      settings,
      runs: results.map((r, i) => ({ ...r, divergence: watches[i].divergence })),
    };
    return await finishStudy(options, "mlp", json, panels(results), json.runs, io);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
