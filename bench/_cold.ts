/**
 * @file Cold-process matmul figures: a warm process has compiled its pipelines and
 * tuned its choices, so what a short script sees can only be measured in a process of
 * its own. {@linkcode coldRun} spawns this file (`deno run`, one process per
 * measurement), which makes its backend and inputs, waits for the uploads, then times
 * `calls` square products with a read of the result after every `waitEvery`-th call and
 * after the last, and prints the milliseconds as JSON.
 *
 * Ours runs under a `--location` of the caller's choosing, so that its `localStorage`
 * (the remembered tuning) is either empty (a first run on this adapter) or holds what
 * an earlier `--tune` process measured (any later run). TensorFlow.js's WebGPU backend
 * (`--lib tfjs`) has nothing to remember.
 *
 * Usage: `deno run -A bench/_cold.ts --lib ours|tfjs --n N --calls C --wait-every W
 * [--forget]` (`--forget` empties the storage afterwards), `--lib ours --n N --tune` to
 * measure and store the tuning for N³, or `--clear`.
 */
import { gpu, matmul } from "../mod.ts";
import { benchValues } from "./_cases.ts";
import { median } from "./_cli.ts";

/** What one cold measurement asks for. */
export interface ColdCase {
  readonly lib: "ours" | "tfjs";
  readonly n: number;
  readonly calls: number;
  readonly waitEvery: number;
}

/** Deno's flags for the child: what each library needs, and no prompt. */
const FLAGS = ["--allow-env", "--allow-read", "--allow-write", "--no-prompt"];

/** Runs this file in a fresh process with `args` (and `location` for ours). */
async function child(args: string[], location?: string): Promise<string> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...FLAGS,
      ...(location ? [`--location=${location}`] : []),
      new URL(import.meta.url).pathname,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  if (code !== 0) {
    throw new Error(
      `bench: a cold process failed (${args.join(" ")}):\n${new TextDecoder().decode(stderr)}`,
    );
  }
  return new TextDecoder().decode(stdout);
}

/**
 * Milliseconds of one cold measurement, in a process of its own: under `location`
 * (ours, with the tuning stored there), or with empty storage, emptied again after.
 */
export async function coldRun(c: ColdCase, location?: string): Promise<number> {
  const args = [
    "--lib",
    c.lib,
    "--n",
    `${c.n}`,
    "--calls",
    `${c.calls}`,
    "--wait-every",
    `${c.waitEvery}`,
    ...(location ? [] : ["--forget"]),
  ];
  return JSON.parse(await child(args, c.lib === "ours" ? location ?? newLocation() : undefined))
    .ms;
}

/** Cold milliseconds of the first call, the first ten and the first twenty. */
export interface ColdFigures {
  readonly first: number;
  readonly ten: number;
  readonly twenty: number;
}

/** One wait per this many calls, in the runs of ten and twenty. */
export const WAIT_EVERY = 4;

/** A library in cold processes: ours with the tuning stored at `location`, or none. */
export interface ColdSetup {
  readonly lib: ColdCase["lib"];
  readonly location?: string;
}

/**
 * For each setup, medians over `reps` processes each of one call, ten calls and twenty
 * (one wait per {@linkcode WAIT_EVERY}) of an n³ product; the setups take turns, so
 * that load on the machine falls on all alike.
 */
async function coldFigures(
  setups: readonly ColdSetup[],
  n: number,
  reps: number,
): Promise<ColdFigures[]> {
  const figures = setups.map(() => ({
    first: [] as number[],
    ten: [] as number[],
    twenty: [] as number[],
  }));
  for (const [figure, calls] of [["first", 1], ["ten", 10], ["twenty", 20]] as const) {
    for (let r = 0; r < reps; r++) {
      for (const [i, { lib, location }] of setups.entries()) {
        figures[i][figure].push(await coldRun({ lib, n, calls, waitEvery: WAIT_EVERY }, location));
      }
    }
  }
  return figures.map((f) => ({
    first: median(f.first),
    ten: median(f.ten),
    twenty: median(f.twenty),
  }));
}

/** Measures and stores our tuning for n³ under `location`, in a process of its own. */
async function coldTune(n: number, location: string): Promise<void> {
  await child(["--lib", "ours", "--n", `${n}`, "--tune"], location);
}

/** Empties the storage of `location`. */
async function coldClear(location: string): Promise<void> {
  await child(["--clear"], location);
}

/** A `--location` no run has used: an empty `localStorage`. */
function newLocation(): string {
  return `http://bench-cold-${crypto.randomUUID()}.test/`;
}

/** The sizes n of the cold n³ matmul figures that the report and the peers table give. */
export const COLD_SIZES: readonly number[] = [256, 1024];

/** Cold processes per figure at most: each is a new process, so fewer than other reps. */
export const COLD_REPS = 3;

/** Our cold figures for one size, and those of the other setups measured beside them. */
export interface ColdMatmul {
  /** Ours with nothing stored: a first run on this adapter. */
  readonly fresh: ColdFigures;
  /** Ours with the tuning an earlier process stored: any later run. */
  readonly stored: ColdFigures;
  /** The other setups', in the order given. */
  readonly others: ColdFigures[];
}

/**
 * Matmul n³ as a fresh script sees it: ours with nothing stored and with the tuning that
 * a process of its own measured and stored first, and `others` beside them, taking turns
 * ({@linkcode coldFigures}) over `reps` processes each; the stored tuning is cleared after.
 */
export async function coldMatmul(
  n: number,
  reps: number,
  others: readonly ColdSetup[] = [],
): Promise<ColdMatmul> {
  const location = newLocation();
  await coldTune(n, location);
  try {
    const [fresh, stored, ...rest] = await coldFigures(
      [{ lib: "ours" }, { lib: "ours", location }, ...others],
      n,
      reps,
    );
    return { fresh, stored, others: rest };
  } finally {
    await coldClear(location);
  }
}

/** One product in flight: a wait for its result, and its disposal. */
export interface Product {
  wait(): Promise<unknown>;
  dispose(): void;
}

/**
 * Milliseconds of `calls` products from `product`, waiting for the result of every
 * `waitEvery`-th and of the last.
 */
export async function timeProducts(
  product: () => Product,
  calls: number,
  waitEvery: number,
): Promise<number> {
  const start = performance.now();
  for (let i = 1; i <= calls; i++) {
    const c = product();
    if (i % waitEvery === 0 || i === calls) await c.wait();
    c.dispose();
  }
  return performance.now() - start;
}

/** The child: one measurement, printed as `{ "ms": … }`. */
async function main(args: readonly string[]): Promise<void> {
  const flag = (name: string) => args[args.indexOf(name) + 1];
  if (args.includes("--clear")) {
    (globalThis as { localStorage?: Storage }).localStorage?.clear();
    return;
  }
  const n = Number(flag("--n"));
  const calls = Number(flag("--calls") ?? 1);
  const waitEvery = Number(flag("--wait-every") ?? 1);
  const a = benchValues(n * n, 0), b = benchValues(n * n, 1);
  if (flag("--lib") === "tfjs") {
    const tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) throw new Error("tfjs: no WebGPU backend");
    await tf.ready();
    const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
    await Promise.all([ta.data(), tb.data()]);
    const ms = await timeProducts(
      () => {
        const c = tf.matMul(ta, tb);
        return { wait: () => c.data(), dispose: () => c.dispose() };
      },
      calls,
      waitEvery,
    );
    console.log(JSON.stringify({ ms }));
    return;
  }
  const dev = await gpu();
  if (args.includes("--tune")) {
    await dev.tune([{ m: n, k: n, n }]);
    dev.destroy();
    return;
  }
  using ta = dev.tensor(a, [n, n]);
  using tb = dev.tensor(b, [n, n]);
  await dev.sync();
  const ms = await timeProducts(
    () => {
      const c = matmul(ta, tb);
      return { wait: () => c.read(), dispose: () => c.dispose() };
    },
    calls,
    waitEvery,
  );
  console.log(JSON.stringify({ ms }));
  // Destroying the backend ends any background tuning this run queued.
  dev.destroy();
  if (args.includes("--forget")) localStorage.clear();
}

if (import.meta.main) await main(Deno.args);
