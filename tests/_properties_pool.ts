/**
 * @file The pooling properties: `maxPool2d` and `avgPool2d` and their gradients on a
 * backend against float64 computed here by direct loops over the padded windows
 * (PyTorch's `max_pool2d`/`avg_pool2d`: −Inf padding for max, counted zeros for avg).
 *
 * Bounds. max: exact — a comparison rounds nothing; a GPU that flushes subnormals (as
 * WGSL allows) compares them as zeros and may keep any value tied with the maximum once
 * flushed. avg: the generated reduction sums the kh·kw cells in R = reductionRoundings
 * roundings, then multiplies by fl(1/(kh·kw)) (two more): (γ(R + 2) + u)·Σ|x|/(kh·kw),
 * as `mean`'s. Gradients: each input element sums the gradients routed to it from the m
 * windows covering it (m ≤ ⌈kh/sh⌉·⌈kw/sw⌉) in m − 1 roundings — γ(m)·Σ|g| for max; for
 * avg that sum times fl(1/(kh·kw)): (γ(m + 2) + u)·Σ|g|/(kh·kw). Flushed subnormals add
 * at most MIN_NORMAL per term. maxPool2d's gradient goes to each window's first maximum
 * (row-major; the first NaN), or — flushed — to the first maximum of the flushed values.
 */
import fc from "fast-check";
import { avgPool2d, type Backend, maxPool2d, mul, sum, type Tensor, valueAndGrad } from "../mod.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import {
  assertShape,
  assertWithin,
  flushSubnormal,
  gamma,
  MIN_NORMAL,
  type Profile,
  profile,
  seed,
  U,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A pooling case: the images' shape, the window, values and a seed. */
export interface PoolCase {
  shape: [number, number, number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  profile: Profile;
  seed: number;
}

/** Windows of 1…5 with strides 1…4 (larger than the kernel too), padding ≤ half. */
const anyWindows: fc.Arbitrary<PoolCase> = fc.record({
  kh: fc.integer({ min: 1, max: 5 }),
  kw: fc.integer({ min: 1, max: 5 }),
  sh: fc.integer({ min: 1, max: 4 }),
  sw: fc.integer({ min: 1, max: 4 }),
}).chain(({ kh, kw, sh, sw }) =>
  fc.record({
    ph: fc.integer({ min: 0, max: Math.floor(kh / 2) }),
    pw: fc.integer({ min: 0, max: Math.floor(kw / 2) }),
  }).chain(({ ph, pw }) =>
    fc.record({
      shape: fc.tuple(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.oneof(
          fc.integer({ min: Math.max(1, kh - 2 * ph), max: 9 }),
          fc.integer({ min: Math.max(1, kh - 2 * ph), max: 40 }),
        ),
        fc.oneof(
          fc.integer({ min: Math.max(1, kw - 2 * pw), max: 9 }),
          fc.integer({ min: Math.max(1, kw - 2 * pw), max: 40 }),
        ),
      ),
      kernel: fc.constant<[number, number]>([kh, kw]),
      stride: fc.constant<[number, number]>([sh, sw]),
      padding: fc.constant<[number, number]>([ph, pw]),
      profile,
      seed,
    })
  )
);

/**
 * Windows that tile the image (stride = kernel, no padding, a whole number of windows,
 * as LeNet's 2×2 pooling): avgPool2d's gradient is then a term that `jit` fuses, not the
 * gradient kernel. Rare among {@linkcode anyWindows}, so drawn on their own.
 */
const tilingWindows: fc.Arbitrary<PoolCase> = fc.record({
  kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
  windows: fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 12 }),
  ),
  profile,
  seed,
}).map(({ kernel: [kh, kw], windows: [n, c, oh, ow], profile, seed }) => ({
  shape: [n, c, oh * kh, ow * kw],
  kernel: [kh, kw],
  stride: [kh, kw],
  padding: [0, 0],
  profile,
  seed,
}));

/** Pooling cases: any windows, or (one in four) windows that tile the image. */
export const poolCases: fc.Arbitrary<PoolCase> = fc.oneof(
  { arbitrary: anyWindows, weight: 3 },
  { arbitrary: tilingWindows, weight: 1 },
);

/** The output shape PyTorch gives (ceil_mode false). */
export function pooledShape(c: PoolCase): [number, number, number, number] {
  const [n, ch, h, w] = c.shape;
  return [
    n,
    ch,
    Math.floor((h + 2 * c.padding[0] - c.kernel[0]) / c.stride[0]) + 1,
    Math.floor((w + 2 * c.padding[1] - c.kernel[1]) / c.stride[1]) + 1,
  ];
}

/**
 * For every output (plane, oy, ox) in row-major order, the flat indices into the images
 * of its window's cells inside the image (padded rows oy·sh + i − ph, columns likewise).
 */
export function windowCells(c: PoolCase): number[][] {
  const [n, ch, h, w] = c.shape;
  const [, , oh, ow] = pooledShape(c);
  const windows: number[][] = [];
  for (let plane = 0; plane < n * ch; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells: number[] = [];
        for (let i = 0; i < c.kernel[0]; i++) {
          for (let j = 0; j < c.kernel[1]; j++) {
            const [r, col] = [
              oy * c.stride[0] + i - c.padding[0],
              ox * c.stride[1] + j - c.padding[1],
            ];
            if (r >= 0 && r < h && col >= 0 && col < w) cells.push(plane * h * w + r * w + col);
          }
        }
        windows.push(cells);
      }
    }
  }
  return windows;
}

/** The cell holding a window's first maximum of `view(x)`, NaN first: NumPy's argmax. */
function firstMaximum(x: Float32Array, cells: number[], view: (v: number) => number): number {
  let at = cells[0];
  for (const cell of cells.slice(1)) {
    const [v, best] = [view(x[cell]), view(x[at])];
    if (!Number.isNaN(best) && (Number.isNaN(v) || v > best)) at = cell;
  }
  return at;
}

/** The expected value nearer to `actual` at each element (either is a correct result). */
function nearer(actual: ArrayLike<number>, a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => {
    const same = (e: number) => Object.is(e, actual[i]) || e === actual[i];
    if (same(v) || same(b[i])) return same(v) ? v : b[i];
    return Math.abs(actual[i] - v) <= Math.abs(actual[i] - b[i]) ? v : b[i];
  });
}

/** Runs both poolings on `backend` and checks them against the loops above. */
async function checkPool(backend: Backend, c: PoolCase): Promise<void> {
  const x = values(c.shape.reduce((a, b) => a * b, 1), c.profile, c.seed);
  const windows = windowCells(c);
  const k = c.kernel[0] * c.kernel[1];
  const options = { kernel: c.kernel, stride: c.stride, padding: c.padding };
  const what = `${JSON.stringify(c)} on ${backend.kind}`;
  using gx = backend.tensor(x, c.shape);
  using mx = maxPool2d(gx, options);
  using av = avgPool2d(gx, options);
  assertShape(mx.shape, pooledShape(c), `maxPool2d ${what}`);
  assertShape(av.shape, pooledShape(c), `avgPool2d ${what}`);
  const best = Float64Array.from(windows, (cells) => x[firstMaximum(x, cells, (v) => v)]);
  // A flushing GPU may keep any value tied, once flushed, with the flushed maximum.
  const flushedBest = windows.map((cells) => x[firstMaximum(x, cells, flushSubnormal)]);
  const got = await mx.read();
  const tied = Float64Array.from(
    got,
    (v, o) => flushSubnormal(v) === flushSubnormal(flushedBest[o]) ? v : flushedBest[o],
  );
  assertWithin(got, best, () => 0, `maxPool2d ${what}`, tied);
  const sums = Float64Array.from(windows, (cells) => cells.reduce((s, i) => s + x[i], 0));
  const abs = Float64Array.from(windows, (cells) => cells.reduce((s, i) => s + Math.abs(x[i]), 0));
  const R = reductionRoundings(k, windows.length);
  assertWithin(
    await av.read(),
    sums.map((s) => s / k),
    (o) => ((gamma(R + 2) + U) * abs[o]) / k + k * MIN_NORMAL,
    `avgPool2d ${what}`,
  );
}

/** maxPool2d and avgPool2d on the backend and the reference against direct loops. */
export const poolProperty: OpProperty<PoolCase> = {
  name: "maxPool2d exact, avgPool2d within (γ(R + 2) + u)·Σ|x|/(kh·kw): GPU and reference vs loops",
  cases: poolCases,
  numRuns: 60,
  async check(backend, c) {
    await checkPool(backend, c);
    await checkPool(ref, c);
  },
};

/** The gradients of both poolings of `x` for the output gradient `g`, on `backend`. */
function poolGradients(backend: Backend, c: PoolCase, x: Float32Array, g: Float32Array) {
  const options = { kernel: c.kernel, stride: c.stride, padding: c.padding };
  using gx = backend.tensor(x, c.shape);
  using gg = backend.tensor(g, pooledShape(c));
  return [maxPool2d, avgPool2d].map((pool) => {
    const { value, grads: [dx] } = valueAndGrad((t: Tensor) => sum(mul(pool(t, options), gg)))(gx);
    value.dispose();
    return dx;
  });
}

/** Checks the gradients of both poolings on `backend` against routing done here. */
async function checkPoolGrad(backend: Backend, c: PoolCase): Promise<void> {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = values(n, c.profile, c.seed);
  const windows = windowCells(c);
  const g = values(windows.length, c.profile, c.seed + 1);
  const k = c.kernel[0] * c.kernel[1];
  // Each window's g goes to its first maximum: the routed sum, Σ|g| and the term count.
  const route = (view: (v: number) => number) => {
    const dx = new Float64Array(n), abs = new Float64Array(n), terms = new Float64Array(n);
    windows.forEach((cells, o) => {
      const at = firstMaximum(x, cells, view);
      dx[at] += g[o];
      abs[at] += Math.abs(g[o]);
      terms[at]++;
    });
    return { dx, abs, terms };
  };
  const spread = new Float64Array(n), abs = new Float64Array(n), terms = new Float64Array(n);
  windows.forEach((cells, o) =>
    cells.forEach((i) => {
      spread[i] += g[o] / k;
      abs[i] += Math.abs(g[o]);
      terms[i]++;
    })
  );
  const [dmax, davg] = poolGradients(backend, c, x, g);
  using _m = dmax;
  using _a = davg;
  const what = `${JSON.stringify(c)} on ${backend.kind}`;
  const got = await dmax.read();
  const [exact, flushed] = [route((v) => v), route(flushSubnormal)];
  const expected = nearer(got, exact.dx, flushed.dx);
  const routed = (i: number) => (Object.is(expected[i], exact.dx[i]) ? exact : flushed);
  assertWithin(
    got,
    expected,
    (i) => gamma(routed(i).terms[i]) * routed(i).abs[i] + routed(i).terms[i] * MIN_NORMAL,
    `maxPool2d's gradient ${what}`,
  );
  assertWithin(
    await davg.read(),
    spread,
    (i) => ((gamma(terms[i] + 2) + U) * abs[i]) / k + terms[i] * MIN_NORMAL,
    `avgPool2d's gradient ${what}`,
  );
}

/** Both poolings' gradients on the backend and the reference against direct loops. */
export const poolGradProperty: OpProperty<PoolCase> = {
  name:
    "maxPool2d's gradient routed to the first maximum within γ(m)·Σ|g|, avgPool2d's spread within (γ(m + 2) + u)·Σ|g|/(kh·kw)",
  cases: poolCases,
  numRuns: 40,
  async check(backend, c) {
    await checkPoolGrad(backend, c);
    await checkPoolGrad(ref, c);
  },
};
