/**
 * @file `deno task demo:image`: section 3 of the study — dropout and edge detection on
 * one channel of a picture, computed with the library's ops (`dropout`, `corr2d`) on
 * the GPU, or on the CPU reference with `--backend cpu`.
 *
 * Everything that can be refused is refused before anything is written: options are
 * parsed and checked first, the picture's size is checked against the kernels and the
 * adapter's binding limit before its values are read, and the five pictures are
 * written all or nothing (see {@linkcode writeAll}). `main` takes the arguments and
 * returns the exit status, so tests run the demo in-process.
 */
import { parseOptions as parseCommandLine, UsageError } from "./args.ts";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import {
  type Backend,
  corr2d,
  cpu,
  dropout,
  gpu,
  GpuBackend,
  randomKey,
  type Tensor,
} from "../mod.ts";
import {
  type Channel,
  CHANNELS,
  encodeGreyPng,
  encodePanel,
  type GreyPicture,
  InputError,
  openPicture,
  writeAll,
} from "./_image_io.ts";
import { encodeNpy } from "./_npy.ts";

const DEFAULT_INPUT = relative(Deno.cwd(), fileURLToPath(new URL("chelsea.png", import.meta.url)));

const HELP = `Dropout and edge detection on one channel of a picture, on the GPU.

Usage: deno task demo:image [options]

  --input PATH    a PNG or JPEG, or a NumPy .npy array (H×W or H×W×C, uint8 or float32)
                  [default: ${DEFAULT_INPUT}, "Chelsea the cat", CC0]
  --channel C     r, g, b, or luma (0.299 R + 0.587 G + 0.114 B)  [default: r, as the original]
  --p P           dropout probability, in [0, 1]  [default: 0.2]
  --seed N        dropout seed, an integer in [0, 4294967295]  [default: 0]
  --backend B     gpu (WebGPU) or cpu (the reference)  [default: gpu]
  --out DIR       output directory  [default: out/image]
  --npy           also write each result as float32 .npy (the values before mapping to 8 bits)
  --help          print this and exit

The grey image is the chosen channel: 8-bit values (PNG, JPEG, uint8 .npy) divided by 255, so
in [0, 1]; float32 .npy values as they are. Written to DIR:
  gray.png        the grey image, H × W
  dropout.png     dropout(grey, p): each pixel kept with probability 1 − p and scaled by
                  1/(1 − p), the others 0
  vertical.png    corr2d(grey, [[1, -1]]): vertical edges, H × (W − 1)
  horizontal.png  corr2d(grey, [[1], [-1]]): horizontal edges, (H − 1) × W
  panel.png       the four side by side, captioned

Mapping to 8-bit grey:
  gray, dropout         v → round(255 · v / s), clipped to [0, 255], with s = 1 (or the grey
                        image's largest value, if larger): 0 is black, s white; kept dropout
                        pixels are 1/(1 − p) brighter and clip at white
  vertical, horizontal  e → round(127.5 + 127.5 · e / m), with m = the largest |e| of the two:
                        zero is mid-grey (128), −m black, +m white

Exit status: 0 done (or --help), 1 a problem with the input file or the GPU, 2 a bad option.`;

/** Where the demo prints: progress and summary to `log`, problems to `error`. */
export interface DemoOutput {
  /** A line of progress or summary. */
  log(line: string): void;
  /** A line about a problem. */
  error(line: string): void;
}

interface Options {
  input: string;
  channel: Channel;
  p: number;
  seed: number;
  backend: "gpu" | "cpu";
  out: string;
  npy: boolean;
}

/** Options that take a value, with their defaults. */
const VALUE_OPTIONS = {
  input: DEFAULT_INPUT,
  channel: "r",
  p: "0.2",
  seed: "0",
  backend: "gpu",
  out: "out/image",
};

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseCommandLine(args, Object.keys(VALUE_OPTIONS), ["help", "npy"]);
  if (parsed.flags.has("help")) return "help";
  const values = { ...VALUE_OPTIONS, ...parsed.values };
  const channel = values.channel as Channel;
  if (!CHANNELS.includes(channel)) {
    throw new UsageError(
      `--channel: expected one of ${CHANNELS.join(", ")}, got ${values.channel}`,
    );
  }
  const p = Number(values.p);
  if (values.p.trim() === "" || !(p >= 0 && p <= 1)) {
    throw new UsageError(`--p: expected a probability in [0, 1], got ${values.p}`);
  }
  const seed = Number(values.seed);
  if (values.seed.trim() === "" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new UsageError(`--seed: expected an integer in [0, 4294967295], got ${values.seed}`);
  }
  if (values.backend !== "gpu" && values.backend !== "cpu") {
    throw new UsageError(`--backend: expected gpu or cpu, got ${values.backend}`);
  }
  return {
    input: values.input,
    channel,
    p,
    seed,
    backend: values.backend,
    out: values.out,
    npy: parsed.flags.has("npy"),
  };
}

async function checkOutputDirectory(out: string): Promise<void> {
  try {
    if (!(await Deno.stat(out)).isDirectory) {
      throw new UsageError(`--out ${out}: expected a directory, got an existing file`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Largest number of values one tensor may hold on `backend`: the adapter's storage
 * binding limit on the GPU; on the CPU reference, memory is the only limit.
 */
function capacity(backend: Backend): number {
  return backend instanceof GpuBackend ? backend.runtime.maxElements : Infinity;
}

/** Waits until the backend has finished all work so far (the CPU reference is synchronous). */
function finish(backend: Backend): Promise<void> {
  return backend instanceof GpuBackend ? backend.sync() : Promise.resolve();
}

/** Intensities in [0, white] to bytes: 0 black, `white` white, clipped. */
function intensityPicture(
  values: Float32Array,
  shape: readonly number[],
  white: number,
): GreyPicture {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bytes[i] = Math.round(255 * Math.min(1, Math.max(0, values[i] / white)));
  }
  return { bytes, height: shape[0], width: shape[1] };
}

/** Signed values to bytes: zero mid-grey, −m black, +m white. */
function signedPicture(values: Float32Array, shape: readonly number[], m: number): GreyPicture {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bytes[i] = Math.round(127.5 + 127.5 * (m === 0 ? 0 : values[i] / m));
  }
  return { bytes, height: shape[0], width: shape[1] };
}

function maxOf(values: Float32Array, f: (v: number) => number): number {
  let m = 0;
  for (const v of values) m = Math.max(m, f(v));
  return m;
}

const ms = (t: number) => `${t.toFixed(1)} ms`;

async function openGpu(): Promise<GpuBackend> {
  try {
    return await gpu();
  } catch (error) {
    throw new InputError(
      `--backend gpu: ${(error as Error).message}; --backend cpu runs the CPU reference`,
    );
  }
}

async function run(options: Options, out: DemoOutput): Promise<void> {
  await checkOutputDirectory(options.out);
  const picture = await openPicture(options.input);
  const { height, width } = picture;
  if (width < 2 || height < 2) {
    throw new InputError(
      `${picture.path}: the picture is ${width} × ${height} pixels; the edge kernels [[1, -1]] ` +
        "and [[1], [-1]] need at least 2 × 2",
    );
  }
  const readGrey = picture.select(options.channel);
  out.log(`loaded ${picture.path}: ${picture.description}, ${width} × ${height} pixels`);

  const backend = options.backend === "gpu" ? await openGpu() : cpu();
  try {
    const limit = capacity(backend);
    if (width * height > limit) {
      throw new InputError(
        `${picture.path}: the picture has ${width * height} pixels (${width} × ${height}); ` +
          `${backend.name} holds at most ${limit} float32 values in one storage binding`,
      );
    }
    const grey = await readGrey();
    out.log(`channel ${options.channel}; running on ${backend.kind} (${backend.name})`);
    await compute(backend, grey, [height, width], options, out);
  } finally {
    if (backend instanceof GpuBackend) backend.destroy();
  }
}

async function compute(
  backend: Backend,
  grey: Float32Array,
  shape: [number, number],
  options: Options,
  out: DemoOutput,
): Promise<void> {
  const unit = backend.kind === "cpu" ? "CPU" : "GPU";
  const timings: string[] = [];
  const step = async <T>(name: string, detail: string, work: () => T | Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await work();
    await finish(backend);
    const time = performance.now() - start;
    timings.push(`${name} ${ms(time)}`);
    out.log(`  ${name.padEnd(11)} ${detail.padEnd(38)} ${unit} ${ms(time)}`);
    return result;
  };

  const tensors: Tensor[] = [];
  const keep = <T extends Tensor>(t: T) => (tensors.push(t), t);
  try {
    const x = await step(
      "upload",
      `[${shape.join(", ")}]`,
      () => keep(backend.tensor(grey, shape)),
    );
    const dropped = await step(
      "dropout",
      `p = ${options.p}, seed = ${options.seed}`,
      () => keep(dropout(x, options.p, randomKey(options.seed))),
    );
    const vertical = await step(
      "vertical",
      "corr2d with [[1, -1]]",
      () => keep(corr2d(x, keep(backend.tensor([1, -1], [1, 2])))),
    );
    const horizontal = await step(
      "horizontal",
      "corr2d with [[1], [-1]]",
      () => keep(corr2d(x, keep(backend.tensor([1, -1], [2, 1])))),
    );
    const results = [x, dropped, vertical, horizontal];
    const values = await step(
      "read back",
      `${results.length} results`,
      () => Promise.all(results.map((t) => t.read())),
    );
    const note = backend.kind === "webgpu"
      ? " (each until the GPU finished: one wait for the device and the kernel's first compile)"
      : "";
    out.log(`${unit} time per step: ${timings.join(", ")}${note}`);

    const [gray, , vert, horiz] = values;
    const white = Math.max(1, maxOf(gray, (v) => v));
    const m = Math.max(maxOf(vert, Math.abs), maxOf(horiz, Math.abs));
    const outputs = [
      { name: "gray", caption: `grey (channel ${options.channel})` },
      { name: "dropout", caption: `dropout, p = ${options.p}` },
      { name: "vertical", caption: "vertical edges [[1, -1]]" },
      { name: "horizontal", caption: "horizontal edges [[1], [-1]]" },
    ].map((output, i) => ({
      ...output,
      picture: i < 2
        ? intensityPicture(values[i], results[i].shape, white)
        : signedPicture(values[i], results[i].shape, m),
    }));
    const files: [string, Uint8Array][] = [];
    for (const { name, picture } of outputs) {
      files.push([`${name}.png`, await encodeGreyPng(picture)]);
    }
    const cells = outputs.map(({ picture, caption }) => ({ ...picture, caption }));
    files.push(["panel.png", await encodePanel(cells)]);
    if (options.npy) {
      outputs.forEach(({ name }, i) =>
        files.push([`${name}.npy`, encodeNpy(values[i], results[i].shape)])
      );
    }
    await writeAll(options.out, files);
    out.log(`wrote ${options.out}/: ${files.map(([name]) => name).join(", ")}`);
    out.log(`  edges: zero is mid-grey, ±${m.toPrecision(4)} black/white`);
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

/**
 * Runs the image demo.
 *
 * @param args Command-line arguments (see `--help`).
 * @param out Where to print; the console by default.
 * @returns The exit status: 0 done, 1 a problem with the input, 2 a bad option.
 */
export async function main(
  args: string[],
  out: DemoOutput = { log: console.log, error: console.error },
): Promise<number> {
  try {
    const options = parseOptions(args);
    if (options === "help") {
      out.log(HELP);
      return 0;
    }
    await run(options, out);
    return 0;
  } catch (error) {
    if (!(error instanceof InputError) && !(error instanceof UsageError)) throw error;
    out.error(`error: ${error.message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
