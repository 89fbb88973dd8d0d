/**
 * @file The image demo in the browser: channel 0 of a picture as a grey image, then
 * dropout (p = 0.2) and the two edge images of `corr2d` (K = [[1, −1]] and [[1], [−1]]),
 * computed by the bundle (`dist/kernels.js`) on the browser's WebGPU, each with the time
 * it took. Pictures are decoded by the browser itself (`createImageBitmap`, a canvas).
 * The last run's values are kept in `globalThis.demo` for the browser test, which checks
 * them against the CPU reference.
 */
import { corr2d, dropout, gpu, type GpuBackend, randomKey, type Tensor } from "../../mod.ts";

/** Drop probability of the dropout image. */
const P = 0.2;
/** Seed of the dropout mask. */
const SEED = 0;
/** Longest side a picture is scaled down to. */
const MAX_SIDE = 1024;
/** Timed repetitions of each op after a first (compiling) run. */
const REPEATS = 5;

/** One computed image. */
export interface DemoImage {
  /** What it is, for the caption. */
  readonly title: string;
  /** `[height, width]`. */
  readonly shape: readonly [number, number];
  /** Row-major values. */
  readonly values: Float32Array;
  /** Whether the values are signed (zero is shown as mid-grey). */
  readonly signed: boolean;
  /** First run in milliseconds, shader compilation included; absent for the input. */
  readonly firstMs?: number;
  /** Median of the later runs in milliseconds (dispatch and read-back). */
  readonly medianMs?: number;
}

/** The demo's last run, for the browser test. */
export interface DemoRun {
  /** The WebGPU adapter's name. */
  readonly adapter: string;
  /** The grey input, then dropout and the two edge images. */
  readonly images: readonly DemoImage[];
}

const status = document.querySelector<HTMLParagraphElement>("#status")!;
const container = document.querySelector<HTMLDivElement>("#images")!;
const picker = document.querySelector<HTMLInputElement>("#picture")!;

/** Channel 0 of a picture, in [0, 1], scaled so its longest side is at most MAX_SIDE. */
async function greyChannel(source: Blob): Promise<{ values: Float32Array; h: number; w: number }> {
  const bitmap = await createImageBitmap(source);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale));
  const h = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext("2d")!;
  context.drawImage(bitmap, 0, 0, w, h);
  bitmap.close();
  const rgba = context.getImageData(0, 0, w, h).data;
  const values = new Float32Array(w * h);
  for (let i = 0; i < values.length; i++) values[i] = rgba[4 * i] / 255;
  return { values, h, w };
}

/** Runs `op` once (compiling its shader), then REPEATS times; returns the values and times. */
async function timed(op: () => Tensor) {
  const run = async () => {
    const start = performance.now();
    using out = op();
    const values = await out.read();
    return { values, ms: performance.now() - start, shape: out.shape as [number, number] };
  };
  const first = await run();
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) times.push((await run()).ms);
  times.sort((a, b) => a - b);
  return { ...first, firstMs: first.ms, medianMs: times[Math.floor(times.length / 2)] };
}

/** Computes the four images of the demo on `dev`. */
async function compute(dev: GpuBackend, source: Blob): Promise<DemoRun> {
  const { values, h, w } = await greyChannel(source);
  using grey = dev.tensor(values, [h, w]);
  using vertical = dev.tensor([1, -1], [1, 2]);
  using horizontal = dev.tensor([1, -1], [2, 1]);
  const dropped = await timed(() => dropout(grey, P, randomKey(SEED)));
  const vEdges = await timed(() => corr2d(grey, vertical));
  const hEdges = await timed(() => corr2d(grey, horizontal));
  return {
    adapter: dev.name,
    images: [
      { title: "grey image (channel 0)", shape: [h, w], values, signed: false },
      { title: `dropout, p = ${P}, key ${SEED}`, ...dropped, signed: false },
      { title: "corr2d with K = [[1, −1]]: vertical edges", ...vEdges, signed: true },
      { title: "corr2d with K = [[1], [−1]]: horizontal edges", ...hEdges, signed: true },
    ],
  };
}

/**
 * Draws values as grey levels: unsigned images map [0, max] to black…white, signed ones
 * map [−m, m] to black…white with m = max |v|, so zero is mid-grey.
 */
function draw(image: DemoImage): HTMLCanvasElement {
  const [h, w] = image.shape;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext("2d")!;
  const pixels = context.createImageData(w, h);
  const peak = image.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  image.values.forEach((v, i) => {
    const level = image.signed ? 127.5 + 127.5 * v / peak : 255 * v / peak;
    pixels.data.set([level, level, level, 255], 4 * i);
  });
  context.putImageData(pixels, 0, 0);
  return canvas;
}

function show(run: DemoRun): void {
  container.replaceChildren(...run.images.map((image) => {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    const time = image.firstMs === undefined ? "input" : `${image.medianMs!.toFixed(1)} ms ` +
      `(median of ${REPEATS}; first run ${image.firstMs.toFixed(1)} ms with shader compilation)`;
    caption.innerHTML = `<b></b> [${image.shape.join(" × ")}] <span class="time"></span>`;
    caption.querySelector("b")!.textContent = image.title;
    caption.querySelector(".time")!.textContent = time;
    figure.append(draw(image), caption);
    return figure;
  }));
}

function fail(message: string): void {
  status.textContent = message;
  status.className = "error";
  document.body.dataset.state = "error";
}

async function start(): Promise<void> {
  let dev: GpuBackend;
  try {
    dev = await gpu();
  } catch (error) {
    fail(`${error instanceof Error ? error.message : error}`);
    return;
  }
  const runOn = async (source: Blob, name: string) => {
    document.body.dataset.state = "running";
    status.className = "";
    status.textContent = `Computing on ${dev.name}…`;
    try {
      const run = await compute(dev, source);
      show(run);
      (globalThis as { demo?: DemoRun }).demo = run;
      status.textContent = `${name} on WebGPU adapter "${run.adapter}". Time per op: dispatch ` +
        `and read-back of the result.`;
      document.body.dataset.picture = name;
      document.body.dataset.state = "done";
    } catch (error) {
      fail(`${name}: ${error instanceof Error ? error.message : error}`);
    }
  };
  picker.addEventListener("change", () => {
    const file = picker.files?.[0];
    if (file) runOn(file, file.name);
  });
  const response = await fetch("../chelsea.png");
  if (!response.ok) {
    fail(`could not load the default picture ../chelsea.png: HTTP ${response.status}`);
    return;
  }
  await runOn(await response.blob(), "chelsea.png");
}

start();
