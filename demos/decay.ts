/**
 * @file `deno task demo:decay`: the weight-decay study of `../shared/seed/EXPERIMENTS.md`
 * (sections 1 and 2) on the GPU, with progress, a table, `decay.json`, and the curves as
 * `decay.svg` and `decay.png`. The study itself is in `decay_study.ts`.
 */
import { cpu, gpu, type GpuBackend } from "../mod.ts";
import {
  makeStudyData,
  runName,
  type RunResult,
  type RunSpec,
  runStudy,
  STUDY_DEFAULTS,
  type StudySettings,
} from "./decay_study.ts";
import { type Panel, renderPng, renderSvg } from "./plot.ts";
import { parseOptions as parseCommandLine, UsageError } from "./args.ts";

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
  --backend NAME    gpu (WebGPU, default) or cpu (the reference)
  --out DIR         where decay.json, decay.svg and decay.png go (default out/decay)
  --help            this text

The losses reported are the mean over the whole train and test sets every 5 epochs:
squared loss (½(ŷ − y)²) for scratch runs, MSE ((ŷ − y)²) for concise ones.`;

/** Where the demo writes: standard output and error. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Whether progress can rewrite its line (a terminal); else it is printed every 25 epochs. */
  readonly interactive: boolean;
  /** Rewrites the current line with progress (used when interactive). */
  progress(line: string): void;
}

const interactive = Deno.stdout.isTerminal();
const consoleIo: Io = {
  out: (line) => console.log(interactive ? `\r\x1b[2K${line}` : line),
  err: (line) => console.error(line),
  interactive,
  progress: (line) => Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`)),
};

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || v < min || v > max) {
    throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got "${text}"`);
  }
  return v;
}

function parseRuns(text: string): RunSpec[] {
  return text.split(",").map((item) => {
    const [variant, lambda, ...rest] = item.trim().split(":");
    const value = Number(lambda);
    if (
      rest.length > 0 || (variant !== "scratch" && variant !== "concise") || lambda === undefined ||
      lambda.trim() === "" || !Number.isFinite(value)
    ) {
      throw new UsageError(
        `--runs: expected comma-separated variant:λ pairs with variant scratch or concise and a finite λ, got "${item}"`,
      );
    }
    return { variant, lambda: value };
  });
}

interface Options {
  settings: StudySettings;
  runs: RunSpec[];
  backend: "gpu" | "cpu";
  out: string;
}

function parseOptions(args: string[]): Options | "help" {
  const { values: parsed, flags } = parseCommandLine(
    args,
    ["epochs", "lr", "seed", "runs", "backend", "out"],
    ["help"],
  );
  if (flags.has("help")) return "help";
  const lr = parsed.lr === undefined ? STUDY_DEFAULTS.lr : Number(parsed.lr);
  if (!Number.isFinite(lr) || lr <= 0 || parsed.lr?.trim() === "") {
    throw new UsageError(`--lr: expected a finite number > 0, got "${parsed.lr}"`);
  }
  const backend = parsed.backend ?? "gpu";
  if (backend !== "gpu" && backend !== "cpu") {
    throw new UsageError(`--backend: expected gpu or cpu, got "${backend}"`);
  }
  return {
    settings: {
      ...STUDY_DEFAULTS,
      lr,
      epochs: parsed.epochs === undefined
        ? STUDY_DEFAULTS.epochs
        : integer("epochs", parsed.epochs, 1),
      seed: parsed.seed === undefined
        ? STUDY_DEFAULTS.seed
        : integer("seed", parsed.seed, 0, 2 ** 32 - 1),
    },
    runs: parseRuns(parsed.runs ?? "scratch:0,scratch:15,concise:0,concise:-2"),
    backend,
    out: parsed.out ?? "out/decay",
  };
}

function panels(results: readonly RunResult[]): Panel[] {
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
  }));
}

function table(results: readonly RunResult[]): string[] {
  const rows = [
    ["run", "final train loss", "final test loss", "‖w‖", "seconds"],
    ...results.map((r) => [
      r.name,
      r.train.at(-1)!.toExponential(3),
      r.test.at(-1)!.toExponential(3),
      r.wNorm.toPrecision(4),
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
    io.err(`demo:decay: ${error.message}\nRun with --help for the options.`);
    return 2;
  }
  if (options === "help") {
    io.out(HELP);
    return 0;
  }
  let device: GpuBackend | null = null;
  try {
    const backend = options.backend === "gpu" ? (device = await gpu()) : cpu();
    const adapter = backend.name;
    io.out(
      `Backend: ${backend.kind} (${adapter}); ${options.settings.epochs} epochs, lr ${options.settings.lr}, seed ${options.settings.seed}`,
    );
    const started = performance.now();
    const data = makeStudyData(backend, options.settings);
    const results: RunResult[] = [];
    for (const spec of options.runs) {
      const name = runName(spec);
      const result = await runStudy(data, spec, options.settings, (epoch, train, test) => {
        const line = `${name}: epoch ${epoch}/${options.settings.epochs}  train ${
          train.toExponential(3)
        }  test ${test.toExponential(3)}`;
        if (io.interactive) io.progress(line);
        if (epoch === options.settings.epochs || (!io.interactive && epoch % 25 === 0)) {
          io.out(line);
        }
      });
      results.push(result);
    }
    data.dispose();
    const seconds = (performance.now() - started) / 1000;
    io.out("");
    table(results).forEach((line) => io.out(line));
    io.out(`total ${seconds.toFixed(2)} s on ${backend.kind}`);

    await Deno.mkdir(options.out, { recursive: true });
    const json = {
      adapter,
      backend: backend.kind,
      settings: options.settings,
      runs: results,
    };
    const figure = panels(results);
    const files: Array<[string, string | Uint8Array]> = [
      ["decay.json", JSON.stringify(json, null, 2) + "\n"],
      ["decay.svg", renderSvg(figure)],
      ["decay.png", await renderPng(figure)],
    ];
    for (const [file, content] of files) {
      const path = `${options.out}/${file}`;
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
      io.out(`wrote ${path}`);
    }
    return 0;
  } catch (error) {
    io.err(`demo:decay: ${(error as Error).message}`);
    return 1;
  } finally {
    device?.destroy();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
