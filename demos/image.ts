/**
 * @file `deno task demo:image`: section 3 of the study — dropout and edge detection on
 * one channel of a picture, computed with the library's ops (`dropout`, `corr2d`) on
 * the GPU, or on the CPU reference with `--backend cpu`.
 *
 * Everything that can be refused is refused before anything is written: options and
 * the output directory are checked first (`args.ts`, `_output.ts`: the demos' shared
 * errors and exit statuses), the picture's size is checked against the kernels and the
 * adapter's binding limit before its values are read, and the five pictures are
 * written all or nothing (see {@linkcode writeAll}). Each op is timed once, as the
 * median of several batches after a warm-up (`_op_timing.ts`). The channel and the
 * mapping to grey are shared with the web page (`_grey_mapping.ts`). `main` takes the
 * arguments and returns the exit status, so tests run the demo in-process.
 */
import {
  choiceOption,
  consoleIo,
  EXIT,
  integerOption,
  type Io,
  numberOption,
  parseOptions as parseCommandLine,
  withBackend,
} from "./args.ts";
import { writeAll } from "./_output.ts";
import { demoMain } from "./_main.ts";
import {
  captionLines,
  type Channel,
  CHANNELS,
  edgeLevel,
  imageCaptions,
  intensityLevels,
  signedLevels,
  whiteLevel,
} from "./_grey_mapping.ts";
import { describeTiming, formatMs, type OpTiming, timeOp } from "./_op_timing.ts";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import { type Backend, corr2d, dropout, GpuBackend, randomKey, type Tensor } from "../mod.ts";
import { encodeGreyPng, encodePanel, InputError, openPicture } from "./_image_io.ts";
import { encodeNpy } from "./_npy.ts";
import { D2L_OUTPUTS, learnKernel } from "./_learn_kernel.ts";

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
  --learn-iterations N  steps of learning the vertical edges' kernel back  [default: 10]
  --learn-lr R    their rate  [default: 0.03]
  --help          print this and exit

The grey image is the chosen channel: 8-bit values (PNG, JPEG, uint8 .npy) divided by 255, so
in [0, 1]; float32 .npy values as they are. Written to DIR:
  gray.png        the grey image, H × W
  dropout.png     dropout(grey, p): each pixel kept with probability 1 − p and scaled by
                  1/(1 − p), the others 0
  vertical.png    corr2d(grey, [[1, -1]]): vertical edges, H × (W − 1)
  horizontal.png  corr2d(grey, [[1], [-1]]): horizontal edges, (H − 1) × W
  panel.png       the four in a 2 × 2 grid, captioned with what they are and their mapping
  learn.json      d2l §7.2's last experiment: the 1×2 kernel learnt by gradient descent with
                  conv2d from the grey image and its vertical edges, from a random start,
                  on the summed squared error scaled by 42/M (M edge values; d2l's 6×8
                  picture has 42, so its run is d2l's): each step's loss and kernel

Mapping to 8-bit grey:
  gray, dropout         v → round(255 · v / s), clipped to [0, 255], with s = 1 (or the grey
                        image's largest value, if larger): 0 is black, s white; kept dropout
                        pixels are 1/(1 − p) brighter and clip at white
  vertical, horizontal  e → round(127.5 + 127.5 · e / m), with m = the largest |e| of the two:
                        zero is mid-grey (128), −m black, +m white

Each op is timed after a warm-up call (which compiles its kernel): the median of 5 batches
of 10 calls; on the GPU each batch ends with one wait, and a bare wait's time is subtracted.

Exit status: 0 done (or --help), 1 a problem with the input file or the GPU, 2 a bad option.`;

export type { Io } from "./args.ts";

interface Options {
  input: string;
  channel: Channel;
  p: number;
  seed: number;
  backend: "gpu" | "cpu";
  out: string;
  npy: boolean;
  learnIterations: number;
  learnLr: number;
}

/** Options that take a value, with their defaults (as typed on the command line). */
export const DEFAULTS = {
  input: DEFAULT_INPUT,
  channel: "r",
  p: "0.2",
  seed: "0",
  backend: "gpu",
  out: "out/image",
  "learn-iterations": "10",
  "learn-lr": "0.03",
};

function parseOptions(args: string[]): Options | "help" {
  const parsed = parseCommandLine(args, Object.keys(DEFAULTS), ["help", "npy"]);
  if (parsed.flags.has("help")) return "help";
  const values = { ...DEFAULTS, ...parsed.values };
  return {
    input: values.input,
    channel: choiceOption("channel", values.channel, CHANNELS),
    p: numberOption("p", values.p, "a probability in [0, 1]", (p) => p >= 0 && p <= 1),
    seed: integerOption("seed", values.seed, 0, 0xffffffff),
    backend: choiceOption("backend", values.backend, ["gpu", "cpu"]),
    out: values.out,
    npy: parsed.flags.has("npy"),
    learnIterations: integerOption("learn-iterations", values["learn-iterations"], 0, 100000),
    learnLr: numberOption("learn-lr", values["learn-lr"], "a rate > 0", (r) => r > 0),
  };
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

async function run(options: Options, out: Io): Promise<number> {
  const picture = await openPicture(options.input);
  const { height, width } = picture;
  if (width < 2 || height < 2) {
    throw new InputError(
      `${picture.path}: the picture is ${width} × ${height} pixels; the edge kernels [[1, -1]] ` +
        "and [[1], [-1]] need at least 2 × 2",
    );
  }
  const readGrey = picture.select(options.channel);
  out.out(`loaded ${picture.path}: ${picture.description}, ${width} × ${height} pixels`);

  return await withBackend(options.backend, async (backend) => {
    const limit = capacity(backend);
    if (width * height > limit) {
      throw new InputError(
        `${picture.path}: the picture has ${width * height} pixels (${width} × ${height}); ` +
          `${backend.name} holds at most ${limit} float32 values in one storage binding`,
      );
    }
    const grey = await readGrey();
    out.out(`channel ${options.channel}; running on ${backend.kind} (${backend.name})`);
    await compute(backend, grey, [height, width], options, out);
    return EXIT.ok;
  });
}

async function compute(
  backend: Backend,
  grey: Float32Array,
  shape: [number, number],
  options: Options,
  out: Io,
): Promise<void> {
  const unit = backend.kind === "cpu" ? "CPU" : "GPU";
  const tensors: Tensor[] = [];
  const keep = <T extends Tensor>(t: T) => (tensors.push(t), t);
  try {
    const x = keep(backend.tensor(grey, shape));
    const vertical = keep(backend.tensor([1, -1], [1, 2]));
    const horizontal = keep(backend.tensor([1, -1], [2, 1]));
    const ops = [
      {
        name: "dropout",
        detail: `p = ${options.p}, seed = ${options.seed}`,
        call: () => dropout(x, options.p, randomKey(options.seed)),
      },
      { name: "vertical", detail: "corr2d with [[1, -1]]", call: () => corr2d(x, vertical) },
      { name: "horizontal", detail: "corr2d with [[1], [-1]]", call: () => corr2d(x, horizontal) },
    ];
    const results = [x, ...ops.map((op) => keep(op.call()))];
    const values = await Promise.all(results.map(async (t) => Float32Array.from(await t.read())));
    const timings: OpTiming[] = [];
    for (const op of ops) {
      timings.push(await timeOp(() => op.call().dispose(), () => finish(backend)));
    }
    out.out(describeTiming(timings[0], unit));
    ops.forEach((op, i) =>
      out.out(`  ${op.name.padEnd(11)} ${op.detail.padEnd(26)} ${formatMs(timings[i].perCallMs)}`)
    );

    const [gray, , vert, horiz] = values;
    const white = whiteLevel(gray), edge = edgeLevel(vert, horiz);
    const captions = imageCaptions({ ...options, white, edge });
    const outputs = captions.map((caption, i) => ({
      caption,
      picture: {
        bytes: i < 2 ? intensityLevels(values[i], white) : signedLevels(values[i], edge),
        height: results[i].shape[0],
        width: results[i].shape[1],
      },
    }));
    const files: [string, Uint8Array][] = [];
    for (const { caption, picture } of outputs) {
      files.push([`${caption.name}.png`, await encodeGreyPng(picture)]);
    }
    const cells = outputs.map(({ picture, caption }) => ({
      ...picture,
      caption: captionLines(caption),
    }));
    files.push(["panel.png", await encodePanel(cells, 2)]);
    files.push(["learn.json", await learnEdges(backend, x, results[2], options, out)]);
    if (options.npy) {
      captions.forEach(({ name }, i) =>
        files.push([`${name}.npy`, encodeNpy(values[i], results[i].shape)])
      );
    }
    await writeAll(options.out, files);
    out.out(`wrote ${options.out}/: ${files.map(([name]) => name).join(", ")}`);
    out.out(`  edges: zero is mid-grey, ±${edge.toPrecision(4)} black/white`);
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

/**
 * Learns the vertical edges' kernel back (`_learn_kernel.ts`), printing each step, and
 * returns the run as learn.json's bytes.
 */
async function learnEdges(
  backend: Backend,
  x: Tensor,
  vertical: Tensor,
  options: Options,
  out: Io,
): Promise<Uint8Array> {
  const { learnIterations: iterations, learnLr: lr, seed } = options;
  out.out(
    `learning [[1, -1]] back from the grey image and its vertical edges (d2l §7.2): ` +
      `${iterations} steps at rate ${lr} on the summed squared error × ${D2L_OUTPUTS}/${vertical.size}`,
  );
  const fixed = (v: number) => v.toFixed(4).padStart(8);
  const run = await learnKernel(backend, x, vertical, { iterations, lr, seed }, (step) =>
    out.out(
      `  step ${String(step.iteration).padStart(3)}  loss ${
        step.loss.toPrecision(6).padStart(11)
      }` +
        `  kernel [${fixed(step.kernel[0])}, ${fixed(step.kernel[1])}]`,
    ));
  const learned = run.steps.at(-1)?.kernel ?? run.initial;
  const distance = Math.max(Math.abs(learned[0] - 1), Math.abs(learned[1] + 1));
  out.out(
    `  learned [${learned.map((v) => v.toFixed(4)).join(", ")}]; largest difference from [1, -1]: ${
      distance.toFixed(4)
    }`,
  );
  const json = {
    experiment: "d2l §7.2: learning a kernel",
    target: [1, -1],
    ...run,
    learned,
    distance,
  };
  return new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n");
}

/**
 * Runs the image demo.
 *
 * @param args Command-line arguments (see `--help`).
 * @param io Where to print; the console by default.
 * @returns The exit status: 0 done, 1 a problem with the input, 2 a bad option.
 */
export function main(args: string[], io: Io = consoleIo): Promise<number> {
  return demoMain({ name: "image", help: HELP, parse: parseOptions, run }, args, io);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
