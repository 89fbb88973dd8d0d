/**
 * @file How the image demo turns pictures into values and values into grey pictures,
 * shared by the command line (`image.ts`) and the web page (`web/app.ts`), so that both
 * take the same channel, map the same values to the same grey levels, and caption them
 * the same way. Plain TypeScript: no Deno, no DOM.
 *
 * Mapping to 8-bit grey:
 * - the grey image and dropout: v → round(255·v/s), clipped to [0, 255], with s = 1 (or
 *   the grey image's largest value, if larger): 0 is black, s white; kept dropout pixels
 *   are 1/(1 − p) brighter and clip at white;
 * - the two edge images: e → round(127.5 + 127.5·e/m), m the largest |e| of the two:
 *   zero is mid-grey (128), −m black, +m white.
 */

/** Which channel becomes the grey image. */
export type Channel = "r" | "g" | "b" | "luma";

/** The accepted values of {@linkcode Channel}. */
export const CHANNELS: readonly Channel[] = ["r", "g", "b", "luma"];

/** Weights of R, G, B in luma (ITU-R BT.601, as in PIL's `convert("L")`). */
export const LUMA: readonly number[] = [0.299, 0.587, 0.114];

/** A channel in words, for captions: `the red channel`. */
export function channelName(channel: Channel): string {
  return channel === "luma"
    ? "luma (0.299 R + 0.587 G + 0.114 B)"
    : `the ${{ r: "red", g: "green", b: "blue" }[channel]} channel`;
}

/**
 * Weights of a pixel's channels that give `choice`, or null if a pixel of `channels`
 * channels lacks it. A picture with fewer than three channels is its own luma.
 */
export function channelWeights(choice: Channel, channels: number): number[] | null {
  if (choice === "luma") return channels >= 3 ? [...LUMA] : [1];
  const index = CHANNELS.indexOf(choice);
  if (index >= channels) return null;
  return Array.from({ length: index + 1 }, (_, i) => i === index ? 1 : 0);
}

/**
 * One channel (a weighted sum of channels) of interleaved pixels, divided by `divisor`.
 *
 * @param pixels `count` pixels of `stride` values each (4 for RGBA).
 * @param count Pixels.
 * @param stride Values per pixel.
 * @param weights Weight of each of the first channels ({@linkcode channelWeights}).
 * @param divisor 255 for 8-bit values, 1 for values already in [0, 1].
 */
export function extractChannel(
  pixels: ArrayLike<number>,
  count: number,
  stride: number,
  weights: readonly number[],
  divisor: number,
): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let c = 0; c < weights.length; c++) {
      if (weights[c] !== 0) sum += weights[c] * pixels[i * stride + c];
    }
    out[i] = sum / divisor;
  }
  return out;
}

function largest(values: ArrayLike<number>, f: (v: number) => number): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, f(values[i]));
  return m;
}

/** The value shown as white in the grey and dropout images: 1, or the grey image's largest value if larger. */
export function whiteLevel(grey: ArrayLike<number>): number {
  return Math.max(1, largest(grey, (v) => v));
}

/** The |value| shown as black or white in the edge images: the largest |e| of them all (0 if all are 0). */
export function edgeLevel(...edges: ArrayLike<number>[]): number {
  return Math.max(0, ...edges.map((e) => largest(e, Math.abs)));
}

/** Intensities to grey levels: 0 black, `white` white, clipped. */
export function intensityLevels(values: ArrayLike<number>, white: number): Uint8Array {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bytes[i] = Math.round(255 * Math.min(1, Math.max(0, values[i] / white)));
  }
  return bytes;
}

/** Signed values to grey levels: zero mid-grey (128), −m black, +m white. */
export function signedLevels(values: ArrayLike<number>, m: number): Uint8Array {
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bytes[i] = Math.round(127.5 + 127.5 * (m === 0 ? 0 : values[i] / m));
  }
  return bytes;
}

/** What the four images are and how their values map to grey. */
export interface ImageCaption {
  /** Short file name: `gray`, `dropout`, `vertical`, `horizontal`. */
  readonly name: string;
  /** What it is: `vertical edges`. */
  readonly title: string;
  /** How it was made: `corr2d with [[1, −1]]`. */
  readonly detail: string;
  /** How values map to grey: `zero is mid-grey, −0.750 black, +0.750 white`. */
  readonly mapping: string;
}

const signed = (v: number) => `${v < 0 ? "−" : "+"}${Math.abs(v).toPrecision(3)}`;

/**
 * Captions of the grey image, dropout and the two edge images.
 *
 * @param settings The channel, dropout's p and seed, and the levels shown as white
 * ({@linkcode whiteLevel}) and as ±black/white in the edges ({@linkcode edgeLevel}).
 */
export function imageCaptions(
  { channel, p, seed, white, edge }: {
    channel: Channel;
    p: number;
    seed: number;
    white: number;
    edge: number;
  },
): ImageCaption[] {
  const intensity = `0 is black, ${Number(white.toPrecision(3))} white`;
  const edges = edge === 0
    ? "all zero: mid-grey"
    : `zero is mid-grey, ${signed(-edge)} black, ${signed(edge)} white`;
  const kept = p < 1
    ? `kept ones ×${Number((1 / (1 - p)).toPrecision(4))}, clipped at white`
    : "none kept";
  return [
    { name: "gray", title: "grey image", detail: channelName(channel), mapping: intensity },
    {
      name: "dropout",
      title: "dropout",
      detail: `p = ${p}, seed ${seed}`,
      mapping: `dropped pixels are 0 (black), ${kept}`,
    },
    { name: "vertical", title: "vertical edges", detail: "corr2d with [[1, −1]]", mapping: edges },
    {
      name: "horizontal",
      title: "horizontal edges",
      detail: "corr2d with [[1], [−1]]",
      mapping: edges,
    },
  ];
}

/** A caption as lines, the title first: title, detail, mapping. */
export function captionLines(caption: ImageCaption): string[] {
  return [caption.title, caption.detail, caption.mapping];
}
