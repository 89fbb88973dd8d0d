/**
 * @file `demo:lenet`'s pictures besides its curves: the first convolution's six 5×5
 * kernels of each run, and test images with their true and predicted classes — both as
 * captioned grey panels (`_image_io.ts`'s `encodePanel`), each pixel enlarged to a
 * square so that a 5×5 kernel or a 28×28 image can be seen.
 */
import { encodePanel, type GreyPicture } from "./_image_io.ts";
import { intensityLevels, signedLevels } from "./_grey_mapping.ts";
import { className, PIXELS, SIDE } from "./fashion_mnist.ts";

/** A kernel's pixel, enlarged to this many pixels a side. */
const KERNEL_ZOOM = 16;
/** An image's pixel, enlarged to this many pixels a side. */
const IMAGE_ZOOM = 4;

/** `bytes` (`width` × `height`) with each pixel a `zoom` × `zoom` square. */
function enlarge(bytes: Uint8Array, width: number, height: number, zoom: number): GreyPicture {
  const out = new Uint8Array(width * zoom * height * zoom);
  for (let y = 0; y < height * zoom; y++) {
    for (let x = 0; x < width * zoom; x++) {
      out[y * width * zoom + x] = bytes[Math.floor(y / zoom) * width + Math.floor(x / zoom)];
    }
  }
  return { bytes: out, width: width * zoom, height: height * zoom };
}

/**
 * The first layer's kernels of each run, a row a run: zero mid-grey, the run's largest
 * |weight| black (negative) or white (positive).
 *
 * @param runs Each run's name and its first convolution's weights `[6, 1, 5, 5]`, flat.
 * @param kernel The side of a kernel (5).
 */
export function kernelsPanel(
  runs: readonly { name: string; weights: Float32Array }[],
  kernel: number,
): Promise<Uint8Array> {
  const area = kernel * kernel;
  const cells = runs.flatMap(({ name, weights }) => {
    const m = weights.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    return Array.from({ length: weights.length / area }, (_, k) => ({
      ...enlarge(
        signedLevels(weights.subarray(k * area, (k + 1) * area), m),
        kernel,
        kernel,
        KERNEL_ZOOM,
      ),
      caption: [`${name} ${k + 1}`, `±${m.toPrecision(3)}`],
    }));
  });
  return encodePanel(cells, cells.length / runs.length);
}

/**
 * Test images with their true class (the title) and each run's prediction, marked `×`
 * where it is wrong.
 *
 * @param images The images, {@linkcode PIXELS} values in [0, 1] each, flat.
 * @param labels Their true classes.
 * @param predictions Each run's name and its predicted class per image.
 * @param columns Images per row.
 */
export function predictionsPanel(
  images: Float32Array,
  labels: readonly number[],
  predictions: readonly { name: string; classes: readonly number[] }[],
  columns: number,
): Promise<Uint8Array> {
  const cells = labels.map((label, i) => ({
    ...enlarge(
      intensityLevels(images.subarray(i * PIXELS, (i + 1) * PIXELS), 1),
      SIDE,
      SIDE,
      IMAGE_ZOOM,
    ),
    caption: [
      className(label),
      ...predictions.map(({ name, classes }) =>
        `${name}: ${className(classes[i])}${classes[i] === label ? "" : " ×"}`
      ),
    ],
  }));
  return encodePanel(cells, columns);
}
