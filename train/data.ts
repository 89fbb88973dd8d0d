/**
 * @file Data for training: the study's synthetic linear data `y = Xw + b + ε`, made on
 * the backend that trains on it, and minibatches that reshuffle every epoch from a key
 * (as PyTorch's `DataLoader(shuffle=True)`), so a run is reproducible from its seed.
 */
import {
  checkArity,
  checkInteger,
  checkNumber,
  checkOptions,
  checkRank,
  checkResultSize,
  checkTensor,
  checkTensors,
} from "../ops/_validate.ts";
import { add } from "../ops/arithmetic.ts";
import { takeRows } from "../ops/layout.ts";
import { checkIndexList } from "../ops/indices.ts";
import { matmul } from "../ops/matmul.ts";
import { checkKey, foldIn, philox4x32, type RandomKey, splitKey } from "../ops/random.ts";
import { randomNormal } from "../ops/random_normal.ts";
import { scope } from "../ops/scope.ts";
import { type Backend, formatShape, type Tensor } from "../ops/tensor.ts";

/** Features and targets: `X` is `[n, d]`, `y` is `[n, 1]`. */
export interface Dataset {
  /** The features, one example per row. */
  readonly X: Tensor;
  /** The targets, a column. */
  readonly y: Tensor;
}

/** Options of {@linkcode syntheticData}. */
export interface SyntheticDataOptions {
  /** The true weights, `[d, 1]`. */
  readonly w: Tensor;
  /** The true bias. */
  readonly b: number;
  /** Number of examples, an integer ≥ 1. */
  readonly n: number;
  /** The key the features and the noise are drawn from. */
  readonly key: RandomKey;
  /** Standard deviation of the noise ε (default 0.01, as in the study). */
  readonly noise?: number;
}

/**
 * `y = Xw + b + ε` with `X ~ N(0, 1)` and `ε ~ N(0, noise²)`, made on `w`'s backend:
 * the study's `synthetic_data`.
 *
 * @param options See {@linkcode SyntheticDataOptions}.
 * @returns `{ X: [n, d], y: [n, 1] }`.
 * @example
 * ```ts
 * import { cpu, randomKey, syntheticData } from "@deno-gpu/kernels";
 * using w = cpu().tensor(new Float32Array(200).fill(0.01), [200, 1]);
 * const { X, y } = syntheticData({ w, b: 0.05, n: 20, key: randomKey(0) });
 * console.log(X.shape, y.shape); // [20, 200] [20, 1]
 * X.dispose();
 * y.dispose();
 * ```
 */
export function syntheticData(options: SyntheticDataOptions): Dataset {
  checkArity("syntheticData", arguments, 1);
  const op = "syntheticData";
  const o = checkOptions(op, options, true, ["w", "b", "n", "key", "noise"]);
  const w = checkTensor(op, "w", o.w);
  if (w.shape.length !== 2 || w.shape[1] !== 1) {
    throw new RangeError(`${op}: expected w of shape [d, 1], got [${w.shape.join(", ")}]`);
  }
  const b = checkNumber(op, "b", o.b);
  const n = checkInteger(op, "n", o.n, { min: 1 });
  const noise = o.noise === undefined ? 0.01 : checkNumber(op, "noise", o.noise, { min: 0 });
  const [featureKey, noiseKey] = splitKey(checkKey(op, o.key));
  const backend: Backend = w.backend;
  checkResultSize(op, backend, [n, w.shape[0]]);
  return scope(() => {
    const X = randomNormal(backend, [n, w.shape[0]], featureKey);
    const clean = add(matmul(X, w), backend.tensor([b], []));
    const y = add(clean, randomNormal(backend, [n, 1], noiseKey, { std: noise }));
    return { X, y };
  });
}

const SHUFFLE_STREAM = 4;
/** Most examples {@linkcode minibatchRows} orders (2²⁶): beyond that a row list is gigabytes. */
const MAX_ROWS = 2 ** 26;

/**
 * Row indices of the minibatches of one epoch: a permutation of `0 … n−1` drawn from
 * `foldIn(key, epoch)` (Fisher–Yates on Philox words), cut into batches of `batchSize`
 * (the last may be shorter). Without a key, the rows in order.
 *
 * @param n Number of examples, an integer in [1, 2²⁶].
 * @param batchSize Examples per batch, an integer ≥ 1.
 * @param shuffle The key and epoch (an integer in [0, 2³²)) to shuffle with; omit for
 * the rows in order.
 * @returns The batches' row indices.
 * @example
 * ```ts
 * import { minibatchRows, randomKey } from "@deno-gpu/kernels";
 * console.log(minibatchRows(5, 2)); // [[0, 1], [2, 3], [4]]
 * console.log(minibatchRows(5, 5, { key: randomKey(1), epoch: 0 })[0].length); // 5
 * ```
 */
export function minibatchRows(
  n: number,
  batchSize: number,
  shuffle?: { readonly key: RandomKey; readonly epoch: number },
): number[][] {
  checkArity("minibatchRows", arguments, 3);
  const op = "minibatchRows";
  checkInteger(op, "n", n, { min: 1, max: MAX_ROWS });
  checkInteger(op, "batchSize", batchSize, { min: 1 });
  const s = shuffle === undefined ? undefined : checkOptions(op, shuffle, true, ["key", "epoch"]);
  const key = s && checkKey(op, s.key);
  const epoch = s && checkInteger(op, "epoch", s.epoch, { min: 0, max: 0xffffffff });
  const order = Array.from({ length: n }, (_, i) => i);
  if (key) {
    const { words } = foldIn(key, epoch!);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor((philox4x32([i, 0, 0, SHUFFLE_STREAM], words)[0] / 2 ** 32) * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) {
    batches.push(order.slice(start, start + batchSize));
  }
  return batches;
}

/** Checks a {@linkcode Dataset}: live `X` `[n, d]` and `y` `[n, 1]` on one backend. */
export function checkDataset(op: string, data: unknown): Dataset {
  const d = checkOptions(op, data, true, ["X", "y"]);
  const [X, y] = checkTensors(op, { "data.X": d.X, "data.y": d.y });
  checkRank(op, "data.X", X, 2);
  if (y.shape.length !== 2 || y.shape[0] !== X.shape[0] || y.shape[1] !== 1) {
    throw new RangeError(
      `${op}: expected data.y of shape [${X.shape[0]}, 1] for data.X ${formatShape(X.shape)}, got ${
        formatShape(y.shape)
      }`,
    );
  }
  return { X, y };
}

/**
 * The examples of a dataset at the given rows.
 *
 * @param data The dataset.
 * @param rows Row indices, e.g. one batch of {@linkcode minibatchRows}.
 * @returns A new dataset of `rows.length` examples.
 * @example
 * ```ts
 * import { cpu, minibatch } from "@deno-gpu/kernels";
 * const ref = cpu();
 * const data = { X: ref.tensor([1, 2, 3, 4], [2, 2]), y: ref.tensor([5, 6], [2, 1]) };
 * const batch = minibatch(data, [1]);
 * console.log(await batch.X.read(), await batch.y.read()); // Float32Array [3, 4] Float32Array [6]
 * ```
 */
export function minibatch(data: Dataset, rows: readonly number[]): Dataset {
  checkArity("minibatch", arguments, 2);
  const { X, y } = checkDataset("minibatch", data);
  checkIndexList("minibatch", "row indices", rows, X.shape[0]);
  return { X: takeRows(X, rows), y: takeRows(y, rows) };
}
