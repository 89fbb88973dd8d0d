/**
 * @file `deno task demo:mlp`: the dropout study (d2l.ai, "Dropout") on the 8×8 digits,
 * on the GPU: the same network trained with and without dropout from the same seed, with
 * progress per epoch, a table, `mlp.json`, and the curves as `mlp.svg` and `mlp.png`.
 * The study itself is in `mlp_study.ts`; the command line, its errors and exit statuses
 * are the demos' shared ones (`args.ts`), as in `demo:decay`: every option and the
 * output directory are checked before the first run, and a run whose loss becomes NaN or
 * infinite is stopped, reported at that epoch and makes the exit status 3 unless
 * `--allow-divergence`. The weights of the run with dropout are saved beside the study
 * as `model.safetensors` (PyTorch's `nn.Linear` layout), and `--load FILE` evaluates such
 * a file instead of training: the same weights give the same counts of right answers.
 * `--profile FILE` trains a few steps of the run with dropout (compiled, unless `--no-jit`),
 * so that first-use costs are past, then profiles the next with `dev.profile`: it prints the kernels' table and writes the
 * step's Trace Event JSON to FILE, for Perfetto or `chrome://tracing`.
 */
import { astype, type Backend, loadSafetensors, saveSafetensors, type Tensor } from "../mod.ts";
import {
  countCorrect,
  epochBatches,
  MLP_DEFAULTS,
  type MlpParams,
  type MlpSettings,
  PARAM_NAMES,
  paramShapes,
  readDigits,
  type RunResult,
  runStudy,
  splitDigits,
  startRun,
  STUDY_RUNS,
} from "./mlp_study.ts";
import type { Panel } from "./plot.ts";
import {
  choiceOption,
  consoleIo,
  DemoFailure,
  EXIT,
  expected,
  integerOption,
  type Io,
  parseTrainingOptions,
  quoted,
  type TrainingOptions,
  trainingOptionsHelp,
  withBackend,
} from "./args.ts";
import { finishStudy, settingsLine, textTable } from "./_study_report.ts";
import { demoMain } from "./_main.ts";
import { describeDivergence, DivergenceWatch } from "./_divergence.ts";

/** Steps `--profile` trains before the one it profiles (llvmpipe compiles a shader on first use). */
const WARM_UP_STEPS = 3;

/** The types `--dtype` takes. */
const DTYPE_CHOICES = ["float32", "float16"] as const;

/** Where the trained weights go, in `--out`. */
const MODEL_FILE = "model.safetensors";

const HELP = `Trains the multilayer perceptron of d2l.ai's dropout chapter — 64 inputs, two hidden
layers of 256 ReLU units, 10 outputs, softmax cross-entropy, minibatch SGD — on the 8×8
handwritten digits (1,437 training and 360 test images), once with dropout 0.2 and 0.5
after the hidden layers and once without, from the same seed. The weights of the run
with dropout are saved as model.safetensors (the safetensors format of PyTorch and
Hugging Face, as nn.Linear holds them: w1 [256, 64], b1 [256], w2, b2, w3, b3).

Usage: deno task demo:mlp [options]
       deno task demo:mlp --load FILE [--seed N] [--backend NAME] [--no-jit]
       deno task demo:mlp --profile FILE [--seed N] [--batch-size N] [--backend NAME] [--no-jit]

Options:
  --epochs N        epochs per run, an integer ≥ 1 (default ${MLP_DEFAULTS.epochs})
  --lr X            learning rate, a finite number > 0 (default ${MLP_DEFAULTS.lr})
  --batch-size N    examples per minibatch, an integer in [1, 1437] (default ${MLP_DEFAULTS.batchSize})
  --seed N          seed of the split, initialisation, shuffling and dropout masks,
                    an integer in [0, 2³²) (default ${MLP_DEFAULTS.seed})
  --dtype T         float32 (default) or float16: the weights, images, activations and
                    gradients stored as float16 (half the bytes), every kernel computing
                    in f32 (matmul and sums accumulating in f32) and rounding once
  --load FILE       evaluate the weights in FILE (a model.safetensors it saved) on the
                    training and test images of --seed's split instead of training:
                    give the seed they were trained with
  --profile FILE    train ${WARM_UP_STEPS} steps of the run with dropout, then profile the next:
                    print its kernels (calls, GPU time, share) and write its trace
                    to FILE as Trace Event JSON (Perfetto, chrome://tracing)
${trainingOptionsHelp("mlp", [MODEL_FILE])}

Per epoch: the mean training loss over the epoch's minibatches (dropout on), and the
accuracy on the training and the test images after the epoch (dropout off).

Exit status: 0 done, 1 a failure (no GPU, a file --load cannot use), 2 a bad option,
3 a run diverged.`;

interface Options extends TrainingOptions {
  settings: MlpSettings;
  /** `--load FILE`: evaluate the weights saved in FILE instead of training. */
  load?: string;
  /** `--profile FILE`: profile one training step and write its trace to FILE. */
  profile?: string;
}

/**
 * Options that only the study reads: refused beside `--load` and `--profile`, never
 * silently ignored (`--profile` reads `--batch-size`: a step's size).
 */
const STUDY_ONLY: Record<string, { unread: readonly string[]; why: string }> = {
  load: { unread: ["epochs", "lr", "batch-size", "out", "dtype"], why: "which trains nothing" },
  profile: { unread: ["epochs", "lr", "out"], why: "which runs a few steps" },
};

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseTrainingOptions(args, ["batch-size", "load", "profile", "dtype"], {
    ...MLP_DEFAULTS,
    out: "out/mlp",
  });
  if (parsed === "help") return "help";
  const { common, values } = parsed;
  if (values.load !== undefined && values.profile !== undefined) {
    throw expected("profile", "no --load beside it (one of the two)", "both");
  }
  for (const mode of ["load", "profile"]) {
    if (values[mode] === undefined) continue;
    const { unread, why } = STUDY_ONLY[mode];
    const unused = unread.find((option) => values[option] !== undefined);
    if (unused) throw expected(unused, `no value with --${mode}, ${why}`, quoted(values[unused]));
    if (common.allowDivergence) throw expected("allow-divergence", `no --${mode}, ${why}`, "both");
  }
  const batchSize = values["batch-size"] === undefined
    ? MLP_DEFAULTS.batchSize
    : integerOption("batch-size", values["batch-size"], 1, 1437);
  const dtype = choiceOption("dtype", values.dtype ?? MLP_DEFAULTS.dtype, DTYPE_CHOICES);
  return {
    ...common,
    settings: { ...MLP_DEFAULTS, ...common.settings, batchSize, dtype },
    load: values.load,
    profile: values.profile,
  };
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
  const run = (options: Options, io: Io) =>
    options.load !== undefined
      ? evaluate(options, options.load, io)
      : options.profile !== undefined
      ? profileStep(options, options.profile, io)
      : train(options, io);
  return demoMain({ name: "mlp", help: HELP, parse: parseOptions, run }, args, io);
}

/** What `model.safetensors` records besides the weights: how they were trained. */
function modelMetadata(spec: (typeof STUDY_RUNS)[number], settings: MlpSettings) {
  return {
    demo: "mlp",
    run: spec.name,
    dropout: spec.dropout.join(", "),
    seed: String(settings.seed),
    epochs: String(settings.epochs),
    lr: String(settings.lr),
    batchSize: String(settings.batchSize),
    dtype: settings.dtype,
  };
}

function train(options: Options, io: Io): Promise<number> {
  const { settings } = options;
  return withBackend(options.backend, async (backend) => {
    io.out(
      settingsLine(backend, settings, [`batches of ${settings.batchSize}`, settings.dtype]),
    );
    const started = performance.now();
    const data = splitDigits(await readDigits(), backend, settings);
    const results: RunResult[] = [];
    const watches: DivergenceWatch[] = [];
    let model: Uint8Array | undefined;
    const saveModel = (spec: (typeof STUDY_RUNS)[number]) => async (params: MlpParams) => {
      if (spec !== STUDY_RUNS[0]) return;
      // model.safetensors holds F32 (nn.Linear's default type): float16 weights widen exactly.
      const f32 = Object.fromEntries(
        Object.entries(params).map(([name, p]) => [name, astype(p, "float32")]),
      );
      model = await saveSafetensors(f32, { metadata: modelMetadata(spec, settings) });
      Object.values(f32).forEach((t) => t.dispose());
    };
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
      }, saveModel(spec));
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
    return await finishStudy(options, "mlp", json, panels(results), json.runs, io, [
      [MODEL_FILE, model!],
    ]);
  });
}

/** Loads the network's parameters from a safetensors file: the six tensors and their shapes. */
function loadParams(backend: Backend, bytes: Uint8Array, file: string, settings: MlpSettings) {
  let tensors: Record<string, Tensor>;
  try {
    tensors = loadSafetensors(backend, bytes);
  } catch (error) {
    throw new DemoFailure(`--load ${quoted(file)}: ${(error as Error).message}`);
  }
  const shapes = paramShapes(settings);
  const list = (entries: [string, readonly number[]][]) =>
    entries.map(([name, shape]) => `${name} [${shape.join(", ")}]`).join(", ") || "none";
  const given = Object.entries(tensors).map(([name, t]) => [name, t.shape] as [string, number[]]);
  const fits = given.length === PARAM_NAMES.length &&
    given.every(([name, shape]) => String(shapes[name as keyof MlpParams]) === String(shape));
  if (!fits) {
    Object.values(tensors).forEach((t) => t.dispose());
    throw new DemoFailure(
      `--load ${quoted(file)}: expected the tensors ${list(Object.entries(shapes))}, got ${
        list(given)
      }`,
    );
  }
  return tensors as MlpParams;
}

/** `--load FILE`: the training and test accuracy of saved weights, on `--seed`'s split. */
async function evaluate(options: Options, file: string, io: Io): Promise<number> {
  const { settings } = options;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (error) {
    throw new DemoFailure(`--load: cannot read ${quoted(file)}: ${(error as Error).message}`);
  }
  return withBackend(options.backend, async (backend) => {
    const params = loadParams(backend, bytes, file, settings);
    const step = settings.jit ? "compiled (jit)" : "eager (--no-jit)";
    io.out(
      `Backend: ${backend.kind} (${backend.name}); weights from ${file}, seed ${settings.seed}'s split, ${step}`,
    );
    const data = splitDigits(await readDigits(), backend, settings);
    try {
      const { train, test } = await countCorrect(data, params, settings);
      const [nTrain, nTest] = [data.train.X.shape[0], data.test.X.shape[0]];
      io.out(
        `train accuracy ${percent(train / nTrain)} (${train} of ${nTrain}), test accuracy ${
          percent(test / nTest)
        } (${test} of ${nTest})`,
      );
      return EXIT.ok;
    } finally {
      data.dispose();
      Object.values(params).forEach((t) => t.dispose());
    }
  });
}

/**
 * `--profile FILE`: a few steps of the run with dropout trained (traced and compiled), the
 * next profiled; its kernels' table printed and its trace written to FILE.
 */
function profileStep(options: Options, file: string, io: Io): Promise<number> {
  const { settings } = options;
  return withBackend(options.backend, async (backend) => {
    const data = splitDigits(await readDigits(), backend, settings);
    const run = startRun(data, STUDY_RUNS[0], settings);
    try {
      const batches = epochBatches(settings, data.train.X.shape[0], 1);
      batches.slice(0, WARM_UP_STEPS).forEach((rows) => run.step(rows).dispose());
      const profiled = batches[WARM_UP_STEPS];
      const report = await backend.profile(() => run.step(profiled).dispose());
      const step = settings.jit ? "one jitted step" : "one eager step (--no-jit)";
      io.out(`${step} of the ${STUDY_RUNS[0].name} run, batch of ${profiled.length}:`);
      report.table().split("\n").forEach((line) => io.out(line));
      try {
        await Deno.writeTextFile(file, report.chromeTrace());
      } catch (error) {
        throw new DemoFailure(
          `--profile: cannot write ${quoted(file)}: ${(error as Error).message}`,
        );
      }
      io.out(`wrote ${file} (Trace Event JSON: open it in Perfetto or chrome://tracing)`);
      return EXIT.ok;
    } finally {
      run.dispose();
      data.dispose();
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
