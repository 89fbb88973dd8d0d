/**
 * @file `deno task demo:decay`: the weight-decay study (`docs/decay-study.md`) on the
 * GPU, with progress, a table, `decay.json`, and the curves as `decay.svg` and
 * `decay.png`. The study itself is in `decay_study.ts`; the command line, its errors and
 * exit statuses are the demos' shared ones (`args.ts`). Every option and the output
 * directory are checked before the first run; a run whose loss becomes NaN or infinite
 * is stopped, reported at that epoch and in its panel, and makes the exit status 3
 * unless `--allow-divergence`.
 */
import {
  makeStudyData,
  runName,
  type RunResult,
  type RunSpec,
  runStudy,
  STUDY_DEFAULTS,
  type StudySettings,
} from "./decay_study.ts";
import type { Panel } from "./plot.ts";
import {
  consoleIo,
  expected,
  type Io,
  parseTrainingOptions,
  quoted,
  type TrainingOptions,
  trainingOptionsHelp,
  withBackend,
} from "./args.ts";
import { finishStudy, settingsLine, textTable } from "./_study_report.ts";
import { demoMain } from "./_main.ts";
import {
  describeDivergence,
  type Divergence,
  divergenceNote,
  DivergenceWatch,
} from "./_divergence.ts";

const HELP = `Reproduces the weight-decay study: linear regression with 200 inputs, 20 training
and 100 test examples, trained with minibatch SGD (batch 5) from scratch with an L2
penalty λ, and concisely with SGD's weight decay on the weight only.

Usage: deno task demo:decay [options]

Options:
  --epochs N        epochs per run, an integer ≥ 1 (default 150)
  --lr X            learning rate, a finite number > 0 (default 0.005)
  --seed N          seed of data, initialisation and shuffling, an integer in [0, 2³²) (default 0)
  --runs LIST       comma-separated variant:λ pairs, variant scratch or concise
                    (default scratch:0,scratch:15,concise:0,concise:-2)
${trainingOptionsHelp("decay")}

The losses reported are the mean over the whole train and test sets every 5 epochs
and at the last epoch: squared loss (½(ŷ − y)²) for scratch runs, MSE ((ŷ − y)²) for
concise ones. A run whose loss is NaN or infinite is stopped there and reported.

Exit status: 0 done, 1 a failure (no GPU), 2 a bad option, 3 a run diverged.
The study and its four runs are explained in docs/decay-study.md.`;

function parseRuns(text: string): RunSpec[] {
  return text.split(",").map((item) => {
    const [variant, lambda, ...rest] = item.trim().split(":");
    const value = Number(lambda);
    if (
      rest.length > 0 || (variant !== "scratch" && variant !== "concise") || lambda === undefined ||
      lambda.trim() === "" || !Number.isFinite(value)
    ) {
      throw expected(
        "runs",
        "comma-separated variant:λ pairs with variant scratch or concise and a finite λ",
        quoted(item),
      );
    }
    return { variant, lambda: value };
  });
}

interface Options extends TrainingOptions {
  settings: StudySettings;
  runs: RunSpec[];
}

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseTrainingOptions(args, ["runs"], { ...STUDY_DEFAULTS, out: "out/decay" });
  if (parsed === "help") return "help";
  const { common, values } = parsed;
  return {
    ...common,
    settings: { ...STUDY_DEFAULTS, ...common.settings },
    runs: parseRuns(values.runs ?? "scratch:0,scratch:15,concise:0,concise:-2"),
  };
}

/** A run's result and where it diverged, if it did. */
type Run = RunResult & { divergence: Divergence | null };

/** The run up to its divergence: evaluations that were under way when it stopped are dropped. */
function until(result: RunResult, divergence: Divergence | null): Run {
  if (!divergence) return { ...result, divergence };
  const kept = result.epochs.filter((epoch) => epoch <= divergence.epoch).length;
  return {
    ...result,
    epochs: result.epochs.slice(0, kept),
    train: result.train.slice(0, kept),
    test: result.test.slice(0, kept),
    divergence,
  };
}

function panels(results: readonly Run[]): Panel[] {
  return results.map((r) => ({
    title: [
      `${r.variant === "scratch" ? "from scratch, λ" : "concise, weight decay"} = ${r.lambda}`,
      `‖w‖ = ${r.wNorm.toPrecision(4)}`,
    ],
    xLabel: "epochs",
    yLabel: r.variant === "scratch" ? "loss (½ squared)" : "loss (MSE)",
    series: [
      { label: "train", x: r.epochs, y: r.train, color: "#1f77b4" },
      { label: "test", x: r.epochs, y: r.test, color: "#bf00bf", dashed: true },
    ],
    warning: r.divergence
      ? { text: divergenceNote(r.divergence), x: r.divergence.epoch }
      : undefined,
  }));
}

function table(results: readonly Run[]): string[] {
  return textTable([
    ["run", "final train loss", "final test loss", "‖w‖", "seconds", "dispatches/step"],
    ...results.map((r) => [
      r.name,
      r.train.at(-1)!.toExponential(3),
      r.test.at(-1)!.toExponential(3),
      r.wNorm.toPrecision(4),
      r.seconds.toFixed(2),
      r.dispatchesPerStep === null ? "–" : String(r.dispatchesPerStep),
    ]),
  ]);
}

/**
 * Runs the demo with command-line `args`.
 *
 * @returns The exit status: 0 done, 1 a failure, 2 a bad option, 3 a run diverged.
 */
export function main(args: string[], io: Io = consoleIo): Promise<number> {
  return demoMain({ name: "decay", help: HELP, parse: parseOptions, run: train }, args, io);
}

function train(options: Options, io: Io): Promise<number> {
  return withBackend(options.backend, async (backend) => {
    io.out(settingsLine(backend, options.settings));
    const started = performance.now();
    const data = makeStudyData(backend, options.settings);
    const results: Run[] = [];
    for (const spec of options.runs) {
      const name = runName(spec);
      const watch = new DivergenceWatch();
      const result = await runStudy(data, spec, options.settings, (epoch, train, test) => {
        const line = `${name}: epoch ${epoch}/${options.settings.epochs}  train ${
          train.toExponential(3)
        }  test ${test.toExponential(3)}`;
        if (watch.divergence) return "stop"; // evaluations still under way when it stopped
        const divergence = watch.check(epoch, { train, test });
        if (divergence) {
          io.out(`${name}: ${describeDivergence(divergence)}; stopping the run`);
          return "stop";
        }
        if (io.interactive) io.progress(line);
        if (epoch === options.settings.epochs || (!io.interactive && epoch % 25 === 0)) {
          io.out(line);
        }
      });
      results.push(until(result, watch.divergence));
    }
    data.dispose();
    const seconds = (performance.now() - started) / 1000;
    io.out("");
    table(results).forEach((line) => io.out(line));
    io.out(`total ${seconds.toFixed(2)} s on ${backend.kind}`);

    const json = {
      adapter: backend.name,
      backend: backend.kind,
      settings: options.settings,
      runs: results,
    };
    return await finishStudy(options, "decay", json, panels(results), results, io);
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
