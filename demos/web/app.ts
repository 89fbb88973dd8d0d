/**
 * @file The image demo in the browser: one channel of a picture as a grey image, then
 * dropout and the two edge images of `corr2d` (K = [[1, −1]] and [[1], [−1]]), computed
 * by the bundle (`dist/kernels.js`) on the browser's WebGPU and on the CPU reference,
 * compared value for value, and timed on both.
 *
 * The page shares with the command-line demo what makes them agree: the channel and the
 * mapping of values to grey levels, with their captions (`../_grey_mapping.ts`), and how
 * an op is timed (`../_op_timing.ts`: a warm-up call, then the median of batches). The
 * controls (picture, channel, p, seed) recompute on change, one computation at a time;
 * an error clears the pictures, so nothing stale is shown under it. The last run is kept
 * in `globalThis.demo` for the browser test, which checks it against the CPU reference.
 */
import {
  type Backend,
  corr2d,
  cpu,
  dropout,
  gpu,
  type GpuBackend,
  randomKey,
  type Tensor,
} from "../../mod.ts";
import {
  type Channel,
  channelWeights,
  edgeLevel,
  extractChannel,
  imageCaptions,
  intensityLevels,
  signedLevels,
  whiteLevel,
} from "../_grey_mapping.ts";
import { describeTiming, formatMs, type OpTiming, timeOp, type TimingPlan } from "../_op_timing.ts";

/** Longest side a picture is scaled down to. */
const MAX_SIDE = 1024;
/**
 * How each op is timed: fewer calls per batch than the command line's 10, so that a
 * change of a control answers within a second or two even on a software GPU.
 */
const TIMING: TimingPlan = { batches: 5, calls: 3 };

/** The settings of a run, as the controls give them. */
export interface DemoSettings {
  /** The channel that becomes the grey image. */
  readonly channel: Channel;
  /** Dropout's probability. */
  readonly p: number;
  /** Dropout's seed. */
  readonly seed: number;
}

/** One computed image. */
export interface DemoImage {
  /** `gray`, `dropout`, `vertical` or `horizontal`. */
  readonly name: string;
  /** What it is, for the caption: `vertical edges`. */
  readonly title: string;
  /** How it was made: `corr2d with [[1, −1]]`. */
  readonly detail: string;
  /** How its values map to grey. */
  readonly mapping: string;
  /** `[height, width]`. */
  readonly shape: readonly [number, number];
  /** Row-major values, as the GPU computed them. */
  readonly values: Float32Array;
  /** The grey levels drawn. */
  readonly levels: Uint8Array;
  /** Time per call on the GPU; absent for the input. */
  readonly gpu?: OpTiming;
  /** Time per call on the CPU reference; absent for the input. */
  readonly cpu?: OpTiming;
  /** Values where the GPU and the CPU reference differ, and the largest difference. */
  readonly difference?: { readonly count: number; readonly max: number };
}

/** The demo's last run, for the browser test. */
export interface DemoRun {
  /** The WebGPU adapter's name. */
  readonly adapter: string;
  /** The picture's name. */
  readonly picture: string;
  /** The settings it ran with. */
  readonly settings: DemoSettings;
  /** The grey input, then dropout and the two edge images. */
  readonly images: readonly DemoImage[];
}

/** A decoded picture: RGBA bytes. */
interface Decoded {
  readonly name: string;
  readonly rgba: Uint8ClampedArray;
  readonly height: number;
  readonly width: number;
}

const status = document.querySelector<HTMLParagraphElement>("#status")!;
const container = document.querySelector<HTMLDivElement>("#images")!;
const picker = document.querySelector<HTMLInputElement>("#picture")!;
const channelInput = document.querySelector<HTMLSelectElement>("#channel")!;
const pInput = document.querySelector<HTMLInputElement>("#p")!;
const seedInput = document.querySelector<HTMLInputElement>("#seed")!;

/** Decodes a picture, scaled so its longest side is at most MAX_SIDE. */
async function decode(source: Blob, name: string): Promise<Decoded> {
  const bitmap = await createImageBitmap(source);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  if (width < 2 || height < 2) {
    throw new Error(
      `the picture is ${width} × ${height} pixels; the edge kernels need at least 2 × 2`,
    );
  }
  return { name, rgba: context.getImageData(0, 0, width, height).data, height, width };
}

/** The controls' values, checked as the command line checks its options. */
function readSettings(): DemoSettings {
  const p = Number(pInput.value);
  if (pInput.value.trim() === "" || !(p >= 0 && p <= 1)) {
    throw new Error(`p: expected a probability in [0, 1], got "${pInput.value}"`);
  }
  const seed = Number(seedInput.value);
  if (!/^\d+$/.test(seedInput.value.trim()) || seed > 0xffffffff) {
    throw new Error(`seed: expected an integer in [0, 4294967295], got "${seedInput.value}"`);
  }
  return { channel: channelInput.value as Channel, p, seed };
}

/** The three ops on one backend, reading from `x`; their tensors are disposed by `dispose`. */
function opsOn(backend: Backend, grey: Float32Array, shape: [number, number], s: DemoSettings) {
  const x = backend.tensor(grey, shape);
  const vertical = backend.tensor([1, -1], [1, 2]);
  const horizontal = backend.tensor([1, -1], [2, 1]);
  return {
    ops: [
      () => dropout(x, s.p, randomKey(s.seed)),
      () => corr2d(x, vertical),
      () => corr2d(x, horizontal),
    ],
    dispose: () => [x, vertical, horizontal].forEach((t) => t.dispose()),
  };
}

/** Values of each op, then its time per call (see `_op_timing.ts`). */
async function runOps(
  backend: Backend,
  wait: () => Promise<void>,
  grey: Float32Array,
  shape: [number, number],
  settings: DemoSettings,
): Promise<{ values: Float32Array[]; shapes: [number, number][]; timings: OpTiming[] }> {
  const { ops, dispose } = opsOn(backend, grey, shape, settings);
  try {
    const values: Float32Array[] = [], shapes: [number, number][] = [];
    for (const op of ops) {
      using out: Tensor = op();
      const read = await out.read();
      // The demo's ops are float32 ones (dropout, corr2d): read() gives their Float32Array.
      if (!(read instanceof Float32Array)) {
        throw new TypeError(`expected float32, got ${out.dtype}`);
      }
      values.push(read);
      shapes.push(out.shape as [number, number]);
    }
    const timings = [];
    for (const op of ops) timings.push(await timeOp(() => op().dispose(), wait, TIMING));
    return { values, shapes, timings };
  } finally {
    dispose();
  }
}

function difference(a: Float32Array, b: Float32Array): { count: number; max: number } {
  let count = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      count++;
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
  }
  return { count, max };
}

/** Computes the four images of the demo on `dev`, and again on the CPU reference. */
async function compute(dev: GpuBackend, picture: Decoded, s: DemoSettings): Promise<DemoRun> {
  const { rgba, height: h, width: w } = picture;
  const grey = extractChannel(rgba, h * w, 4, channelWeights(s.channel, 3)!, 255);
  const shape: [number, number] = [h, w];
  const onGpu = await runOps(dev, () => dev.sync(), grey, shape, s);
  const onCpu = await runOps(cpu(), () => Promise.resolve(), grey, shape, s);
  const values = [grey, ...onGpu.values];
  const white = whiteLevel(grey), edge = edgeLevel(values[2], values[3]);
  const captions = imageCaptions({ ...s, white, edge });
  return {
    adapter: dev.name,
    picture: picture.name,
    settings: s,
    images: captions.map((caption, i) => ({
      ...caption,
      shape: i === 0 ? shape : onGpu.shapes[i - 1],
      values: values[i],
      levels: i < 2 ? intensityLevels(values[i], white) : signedLevels(values[i], edge),
      ...(i === 0 ? {} : {
        gpu: onGpu.timings[i - 1],
        cpu: onCpu.timings[i - 1],
        difference: difference(values[i], onCpu.values[i - 1]),
      }),
    })),
  };
}

function draw(image: DemoImage): HTMLCanvasElement {
  const [h, w] = image.shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext("2d")!;
  const pixels = context.createImageData(w, h);
  image.levels.forEach((level, i) => pixels.data.set([level, level, level, 255], 4 * i));
  context.putImageData(pixels, 0, 0);
  return canvas;
}

function line(className: string, text: string): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

function show(run: DemoRun): void {
  container.replaceChildren(...run.images.map((image) => {
    const figure = document.createElement("figure");
    figure.dataset.name = image.name;
    const caption = document.createElement("figcaption");
    caption.append(
      line("title", image.title),
      line("detail", image.detail),
      line("mapping", `${image.shape[1]} × ${image.shape[0]} pixels; ${image.mapping}`),
    );
    if (image.gpu && image.cpu && image.difference) {
      caption.append(
        line(
          "time",
          `GPU ${formatMs(image.gpu.perCallMs)} · CPU reference ${
            formatMs(image.cpu.perCallMs)
          } per call`,
        ),
      );
      const { count, max } = image.difference;
      const check = line(
        count === 0 ? "check" : "check differs",
        count === 0
          ? "✓ the same values as the CPU reference"
          : `differs from the CPU reference in ${count} values (at most ${max.toPrecision(3)})`,
      );
      caption.append(check);
    } else {
      caption.append(line("time", `input: ${run.picture}, decoded by the browser`));
    }
    figure.append(draw(image), caption);
    return figure;
  }));
}

/** Shows an error and clears the pictures and the test's handle: nothing stale stays. */
function fail(message: string): void {
  container.replaceChildren();
  delete (globalThis as { demo?: DemoRun }).demo;
  status.textContent = message;
  status.className = "error";
  document.body.dataset.state = "error";
}

async function start(): Promise<void> {
  let dev: GpuBackend;
  try {
    dev = await gpu();
  } catch (error) {
    fail(`No WebGPU here: ${error instanceof Error ? error.message : error}`);
    return;
  }
  let picture: Decoded | null = null;
  let source: Promise<Decoded> | null = null;
  let running = false, again = false;

  /** Recomputes with the current controls, one run at a time; the last request wins. */
  const recompute = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        document.body.dataset.state = "running";
        status.className = "";
        status.textContent = `Computing on ${dev.name}…`;
        container.classList.add("busy");
        try {
          const settings = readSettings();
          picture = await source!;
          const run = await compute(dev, picture, settings);
          if (again) continue;
          show(run);
          (globalThis as { demo?: DemoRun }).demo = run;
          status.replaceChildren(
            line(
              "what",
              `${picture.name}, ${picture.width} × ${picture.height} pixels, on the WebGPU ` +
                `adapter "${run.adapter}".`,
            ),
            line(
              "timing",
              `${describeTiming(run.images[1].gpu!, "GPU")} The CPU reference is timed the ` +
                "same way, without the wait.",
            ),
          );
          document.body.dataset.picture = picture.name;
          document.body.dataset.state = "done";
          document.body.dataset.run = String(Number(document.body.dataset.run) + 1);
        } catch (error) {
          const where = picture ? `${picture.name}: ` : "";
          fail(`${where}${error instanceof Error ? error.message : error}`);
        }
      } while (again);
    } finally {
      running = false;
      container.classList.remove("busy");
    }
  };
  const load = (blob: Blob, name: string) => {
    picture = null;
    source = decode(blob, name);
    source.catch(() => {}); // reported by recompute
    recompute();
  };

  picker.addEventListener("change", () => {
    const file = picker.files?.[0];
    if (file) load(file, file.name);
  });
  for (const input of [channelInput, pInput, seedInput]) {
    input.addEventListener("change", recompute);
  }
  const response = await fetch("../chelsea.png");
  if (!response.ok) {
    fail(`could not load the default picture ../chelsea.png: HTTP ${response.status}`);
    return;
  }
  load(await response.blob(), "chelsea.png");
}

start();
