/**
 * @file `deno task demo:mlp`: the dropout study (d2l.ai, "Dropout") on the 8×8 digits,
 * on the GPU: the same network trained with and without dropout from the same seed, with
 * progress per epoch, a table, `mlp.json`, and the curves as `mlp.svg` and `mlp.png`.
 * The study itself is in `mlp_study.ts`.
 */
import { cpu, gpu, type GpuBackend } from "../mod.ts";
import {
  MLP_DEFAULTS,
  type MlpSettings,
  readDigits,
  type RunResult,
  runStudy,
  splitDigits,
  STUDY_RUNS,
} from "./mlp_study.ts";
import { type Panel, renderPng, renderSvg } from "./plot.ts";
import {
  consoleIo,
  integerOption,
  type Io,
  parseOptions as parseCommandLine,
  UsageError,
} from "./args.ts";

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
  --backend NAME    gpu (WebGPU, default) or cpu (the reference)
  --out DIR         where mlp.json, mlp.svg and mlp.png go (default out/mlp)
  --help            this text

Per epoch: the mean training loss over the epoch's minibatches (dropout on), and the
accuracy on the training and the test images after the epoch (dropout off).`;

interface Options {
  settings: MlpSettings;
  backend: "gpu" | "cpu";
  out: string;
}

function parseOptions(args: string[]): Options | "help" {
  const { values: parsed, flags } = parseCommandLine(
    args,
    ["epochs", "lr", "batch-size", "seed", "backend", "out"],
    ["help"],
  );
  if (flags.has("help")) return "help";
  const lr = parsed.lr === undefined ? MLP_DEFAULTS.lr : Number(parsed.lr);
  if (!Number.isFinite(lr) || lr <= 0 || parsed.lr?.trim() === "") {
    throw new UsageError(`--lr: expected a finite number > 0, got "${parsed.lr}"`);
  }
  const backend = parsed.backend ?? "gpu";
  if (backend !== "gpu" && backend !== "cpu") {
    throw new UsageError(`--backend: expected gpu or cpu, got "${backend}"`);
  }
  const optional = (name: string, fallback: number, min: number, max?: number) =>
    parsed[name] === undefined ? fallback : integerOption(name, parsed[name], min, max);
  return {
    settings: {
      ...MLP_DEFAULTS,
      lr,
      epochs: optional("epochs", MLP_DEFAULTS.epochs, 1),
      batchSize: optional("batch-size", MLP_DEFAULTS.batchSize, 1, 1437),
      seed: optional("seed", MLP_DEFAULTS.seed, 0, 2 ** 32 - 1),
    },
    backend,
    out: parsed.out ?? "out/mlp",
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
  const rows = [
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
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ");
  return [line(rows[0]), widths.map((w) => "─".repeat(w)).join("  "), ...rows.slice(1).map(line)];
}

/**
 * Runs the demo with command-line `args`.
 *
 * @returns The exit code: 0, 2 for a bad option, 1 for a failure.
 */
export async function main(args: string[], io: Io = consoleIo): Promise<number> {
  let options;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`demo:mlp: ${error.message}\nRun with --help for the options.`);
    return 2;
  }
  if (options === "help") {
    io.out(HELP);
    return 0;
  }
  const { settings } = options;
  let device: GpuBackend | null = null;
  try {
    const backend = options.backend === "gpu" ? (device = await gpu()) : cpu();
    const adapter = backend.name;
    io.out(
      `Backend: ${backend.kind} (${adapter}); ${settings.epochs} epochs, lr ${settings.lr}, batches of ${settings.batchSize}, seed ${settings.seed}`,
    );
    const started = performance.now();
    const data = splitDigits(await readDigits(), backend, settings);
    const results: RunResult[] = [];
    for (const spec of STUDY_RUNS) {
      results.push(
        await runStudy(data, spec, settings, (epoch, loss, train, test) => {
          const line = `${spec.name}: epoch ${epoch}/${settings.epochs}  loss ${
            loss.toFixed(4)
          }  train ${percent(train)}  test ${percent(test)}`;
          if (io.interactive) io.progress(line);
          if (epoch === settings.epochs || (!io.interactive && epoch % 5 === 0)) io.out(line);
        }),
      );
    }
    data.dispose();
    io.out("");
    table(results).forEach((line) => io.out(line));
    io.out(`total ${((performance.now() - started) / 1000).toFixed(2)} s on ${backend.kind}`);

    await Deno.mkdir(options.out, { recursive: true });
    const json = { adapter, backend: backend.kind, settings, runs: results };
    const figure = panels(results);
    const files: Array<[string, string | Uint8Array]> = [
      ["mlp.json", JSON.stringify(json, null, 2) + "\n"],
      ["mlp.svg", renderSvg(figure)],
      ["mlp.png", await renderPng(figure)],
    ];
    for (const [file, content] of files) {
      const path = `${options.out}/${file}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      io.out(`wrote ${path}`);
    }
    return 0;
  } catch (error) {
    io.err(`demo:mlp: ${(error as Error).message}`);
    return 1;
  } finally {
    device?.destroy();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
