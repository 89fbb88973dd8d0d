/**
 * @file `deno task docs:pictures`: the pictures of the demos' output in `docs/images/`,
 * made again from the demos themselves, run with their defaults (only `--out`, and
 * `--npy` for the values, are given), so that what the README and the docs show is what
 * the demos make.
 *
 * - `decay.png`: the decay demo's figure, as it writes it.
 * - `mlp.png`: the MLP demo's figure, as it writes it (its full 30 epochs: under a
 *   minute on llvmpipe).
 * - `image-panel.png`: the image demo's four pictures, each halved (2 × 2 pixels
 *   averaged), captioned as the demo captions its panel (`_grey_mapping.ts`); the
 *   full-size panel is four photographs, several hundred kilobytes.
 *
 * Each picture must stay under {@linkcode LIMIT} bytes, or the task fails.
 */
import { Jimp } from "jimp";
import { join } from "node:path";
import { main as decayDemo } from "../demos/decay.ts";
import { main as mlpDemo } from "../demos/mlp.ts";
import { DEFAULTS, main as imageDemo } from "../demos/image.ts";
import { encodePanel, type GreyPicture } from "../demos/_image_io.ts";
import { decodeNpy } from "../demos/_npy.ts";
import {
  captionLines,
  type Channel,
  edgeLevel,
  imageCaptions,
  whiteLevel,
} from "../demos/_grey_mapping.ts";

/** Largest size of a committed picture, in bytes. */
const LIMIT = 200 * 1024;
const DOCS = new URL("../docs/images/", import.meta.url).pathname;

async function run(name: string, demo: (args: string[]) => Promise<number>, args: string[]) {
  console.log(`docs:pictures: deno task demo:${name} ${args.join(" ")}`);
  const code = await demo(args);
  if (code !== 0) throw new Error(`demo:${name} exited with ${code}`);
}

async function readGrey(path: string): Promise<GreyPicture> {
  const image = await Jimp.read((await Deno.readFile(path)).buffer as ArrayBuffer);
  const { width, height, data } = image.bitmap;
  return {
    width,
    height,
    bytes: Uint8Array.from({ length: width * height }, (_, i) => data[4 * i]),
  };
}

/** Half the size: each output pixel the mean of a 2 × 2 block (an odd last row or column is dropped). */
function halve({ bytes, width, height }: GreyPicture): GreyPicture {
  const [w, h] = [width >> 1, height >> 1];
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = (dy: number, dx: number) => bytes[(2 * y + dy) * width + 2 * x + dx];
      out[y * w + x] = Math.round((at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4);
    }
  }
  return { bytes: out, width: w, height: h };
}

async function save(name: string, bytes: Uint8Array): Promise<void> {
  if (bytes.length > LIMIT) {
    throw new Error(`docs/images/${name} would be ${bytes.length} bytes, over ${LIMIT}`);
  }
  await Deno.writeFile(join(DOCS, name), bytes);
  console.log(`docs:pictures: wrote docs/images/${name} (${(bytes.length / 1024).toFixed(0)} KiB)`);
}

const work = await Deno.makeTempDir({ prefix: "docs-pictures-" });
try {
  await Deno.mkdir(DOCS, { recursive: true });
  await run("decay", decayDemo, ["--out", join(work, "decay")]);
  await save("decay.png", await Deno.readFile(join(work, "decay", "decay.png")));

  await run("mlp", mlpDemo, ["--out", join(work, "mlp")]);
  await save("mlp.png", await Deno.readFile(join(work, "mlp", "mlp.png")));

  const out = join(work, "image");
  await run("image", imageDemo, ["--out", out, "--npy"]);
  const values = async (name: string) =>
    decodeNpy(await Deno.readFile(join(out, `${name}.npy`))).values as Float32Array;
  const captions = imageCaptions({
    channel: DEFAULTS.channel as Channel,
    p: Number(DEFAULTS.p),
    seed: Number(DEFAULTS.seed),
    white: whiteLevel(await values("gray")),
    edge: edgeLevel(await values("vertical"), await values("horizontal")),
  });
  const cells = [];
  for (const caption of captions) {
    const picture = halve(await readGrey(join(out, `${caption.name}.png`)));
    cells.push({ ...picture, caption: captionLines(caption) });
  }
  await save("image-panel.png", await encodePanel(cells, 2));
} finally {
  await Deno.remove(work, { recursive: true });
}
