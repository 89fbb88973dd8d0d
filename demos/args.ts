/**
 * @file The demos' command line, shared by every `deno task demo:*`: options
 * (`--name value`, `--name=value` and boolean flags, nothing else), the checks of their
 * values, one error style, and exit statuses; the options every training demo takes
 * ({@linkcode parseTrainingOptions}), and the backend that `--backend` names, opened and
 * destroyed around a demo's work ({@linkcode withBackend}).
 *
 * Every problem with the command line is a {@linkcode UsageError} whose message reads
 * `--option: expected …, got …`; `demoMain` (`_main.ts`) prints it as
 * `demo:NAME: --option: expected …, got …` with a hint to `--help`, and exits 2. A
 * problem found later (a file, the GPU) is a {@linkcode DemoFailure}: its message alone,
 * exit 1. A run that diverged exits 3 (see `_divergence.ts`). Options are all checked,
 * the output directory included (`_output.ts`), before any work starts.
 */
import { type Backend, cpu, gpu, type GpuBackend } from "../mod.ts";

/** A bad command line; the message names the option, what it accepts and what was given. */
export class UsageError extends Error {
  /** Creates an error with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A problem to report without a stack: a file that cannot be read, no GPU, a picture too
 * large. The message says what and why.
 */
export class DemoFailure extends Error {
  /** Creates an error with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "DemoFailure";
  }
}

/** Exit statuses of every demo. */
export const EXIT = {
  /** Done (or `--help`). */
  ok: 0,
  /** A failure: a file, the GPU. */
  failure: 1,
  /** A bad command line. */
  usage: 2,
  /** A run diverged (NaN or infinite loss) and `--allow-divergence` was not given. */
  diverged: 3,
} as const;

/** `text` quoted as the user typed it, for "got …". */
export function quoted(text: string): string {
  return JSON.stringify(text);
}

/** The error `--option: expected <what>, got <given>`. */
export function expected(option: string, what: string, given: string): UsageError {
  return new UsageError(`--${option}: expected ${what}, got ${given}`);
}

/**
 * Parses `args` against the named options: those in `values` take a value, those in
 * `flags` take none.
 *
 * @returns The values given (absent options are missing from the record) and the flags set.
 * @throws {UsageError} For an unknown option, a stray argument, a flag with a value, a
 * value option without one, or an option given twice.
 */
export function parseOptions(
  args: readonly string[],
  values: readonly string[],
  flags: readonly string[],
): { values: Record<string, string>; flags: Set<string> } {
  const given: Record<string, string> = {};
  const set = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const match = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(args[i]);
    if (!match) {
      throw new UsageError(
        `expected options of the form --name value or --name=value, got ${quoted(args[i])}`,
      );
    }
    const [, name, inline] = match;
    if (flags.includes(name)) {
      if (inline !== undefined) throw expected(name, "no value (it is a flag)", quoted(inline));
      set.add(name);
    } else if (values.includes(name)) {
      const value = inline ?? args[++i];
      // "--p --out x" is a missing value, not p = "--out".
      if (value === undefined) throw expected(name, "a value", "nothing");
      if (inline === undefined && value.startsWith("--")) {
        throw expected(name, "a value", `the option ${value}`);
      }
      if (name in given) {
        throw expected(name, "one value", `two: ${quoted(given[name])} and ${quoted(value)}`);
      }
      given[name] = value;
    } else {
      throw expected(
        name,
        `one of ${[...values, ...flags].map((o) => `--${o}`).join(", ")}`,
        "an unknown option",
      );
    }
  }
  return { values: given, flags: set };
}

/**
 * Reads an integer option.
 *
 * @param option The option's name, for the message.
 * @param text What was given.
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @throws {UsageError} When `text` is not a whole number in [min, max].
 */
export function integerOption(
  option: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = Number(text);
  if (!/^\s*[-+]?\d+\s*$/.test(text) || value < min || value > max) {
    throw expected(option, `an integer in [${min}, ${max}]`, quoted(text));
  }
  return value;
}

/**
 * Reads a number option.
 *
 * @param option The option's name, for the message.
 * @param text What was given.
 * @param what What is accepted, for the message: "a finite number > 0".
 * @param accept Whether a (finite, parsed) value is accepted.
 * @throws {UsageError} When `text` is not a finite number that `accept` accepts.
 */
export function numberOption(
  option: string,
  text: string,
  what: string,
  accept: (value: number) => boolean,
): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || !accept(value)) {
    throw expected(option, what, quoted(text));
  }
  return value;
}

/**
 * Reads an option that takes one of a few words.
 *
 * @param option The option's name, for the message.
 * @param text What was given.
 * @param choices The words accepted.
 * @throws {UsageError} When `text` is none of them.
 */
export function choiceOption<T extends string>(
  option: string,
  text: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    const list = choices.length === 2
      ? `${choices[0]} or ${choices[1]}`
      : `one of ${choices.join(", ")}`;
    throw expected(option, list, quoted(text));
  }
  return text as T;
}

/** What every training demo (`demo:decay`, `demo:mlp`) is given on its command line. */
export interface TrainingOptions {
  /** The study's settings that every training demo has. */
  readonly settings: {
    /** The learning rate (`--lr`). */
    readonly lr: number;
    /** Epochs per run (`--epochs`). */
    readonly epochs: number;
    /** The seed of everything random (`--seed`). */
    readonly seed: number;
    /** Whether each step is compiled by `jit` (no `--no-jit`). */
    readonly jit: boolean;
  };
  /** `--backend`. */
  readonly backend: "gpu" | "cpu";
  /** `--out`, the output directory. */
  readonly out: string;
  /** `--allow-divergence`: exit 0 even if a run diverges. */
  readonly allowDivergence: boolean;
}

/**
 * The `--help` lines of the options every training demo takes after its own, for a
 * demo that writes `NAME.json`, `NAME.svg`, `NAME.png` and any `extraFiles` (by default
 * into `out/NAME`).
 */
export function trainingOptionsHelp(name: string, extraFiles: readonly string[] = []): string {
  const files = [`${name}.json`, `${name}.svg`, `${name}.png`, ...extraFiles];
  const where = `where ${files.slice(0, -1).join(", ")} and ${files.at(-1)} go`;
  return `  --backend NAME    gpu (WebGPU, default) or cpu (the reference)
  --out DIR         ${where}${
    where.length > 50 ? "\n                   " : ""
  } (default out/${name})
  --no-jit          run each training step eagerly, one kernel per op, instead of the
                    compiled step (jit) — for comparison
  --allow-divergence
                    exit 0 even if a run diverges (its loss becomes NaN or infinite)
  --help            this text`;
}

/**
 * Parses a training demo's command line: the options every training demo takes
 * (`--epochs`, `--lr`, `--seed`, `--backend`, `--out`, `--no-jit`,
 * `--allow-divergence`, `--help`) and the demo's own value options, `own`.
 *
 * @param defaults The demo's learning rate, epochs, seed and output directory.
 * @returns `"help"`, or the common options, checked, and every value given (absent ones
 * missing from the record), from which the demo checks its own.
 * @throws {UsageError} As {@linkcode parseOptions}, or for a value out of range.
 */
export function parseTrainingOptions(
  args: readonly string[],
  own: readonly string[],
  defaults: {
    readonly lr: number;
    readonly epochs: number;
    readonly seed: number;
    readonly out: string;
  },
): { common: TrainingOptions; values: Record<string, string> } | "help" {
  const { values, flags } = parseOptions(
    args,
    ["epochs", "lr", "seed", ...own, "backend", "out"],
    ["no-jit", "allow-divergence", "help"],
  );
  if (flags.has("help")) return "help";
  const common: TrainingOptions = {
    settings: {
      lr: values.lr === undefined
        ? defaults.lr
        : numberOption("lr", values.lr, "a finite number > 0", (v) => v > 0),
      epochs: values.epochs === undefined
        ? defaults.epochs
        : integerOption("epochs", values.epochs, 1),
      seed: values.seed === undefined
        ? defaults.seed
        : integerOption("seed", values.seed, 0, 2 ** 32 - 1),
      jit: !flags.has("no-jit"),
    },
    backend: choiceOption("backend", values.backend ?? "gpu", ["gpu", "cpu"]),
    out: values.out ?? defaults.out,
    allowDivergence: flags.has("allow-divergence"),
  };
  return { common, values };
}

/** Where a demo writes: standard output and error. */
export interface Io {
  /** A line of progress, results or help. */
  out(line: string): void;
  /** A line about a problem. */
  err(line: string): void;
  /** Whether progress can rewrite its line (a terminal). */
  readonly interactive: boolean;
  /** Rewrites the current line with progress (used when interactive). */
  progress(line: string): void;
}

const interactive = Deno.stdout.isTerminal();
/** Clears a progress line first where it would share the terminal with it. */
const clearing = (terminal: boolean) => (line: string) =>
  interactive && terminal ? `\r\x1b[2K${line}` : line;
const clearOut = clearing(true), clearErr = clearing(Deno.stderr.isTerminal());

/** The console: progress rewrites its line on a terminal. */
export const consoleIo: Io = {
  out: (line) => console.log(clearOut(line)),
  err: (line) => console.error(clearErr(line)),
  interactive,
  progress: (line) => Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`)),
};

/**
 * Runs `work` on the backend `--backend` names (WebGPU, or the CPU reference), and
 * destroys a WebGPU backend after, however `work` ends.
 *
 * @throws {DemoFailure} When there is no WebGPU adapter; the message suggests the CPU.
 */
export async function withBackend<T>(
  choice: "gpu" | "cpu",
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  if (choice === "cpu") return await work(cpu());
  let backend: GpuBackend;
  try {
    backend = await gpu();
  } catch (error) {
    throw new DemoFailure(
      `--backend gpu: ${(error as Error).message}; --backend cpu runs the CPU reference`,
    );
  }
  try {
    return await work(backend);
  } finally {
    backend.destroy();
  }
}
