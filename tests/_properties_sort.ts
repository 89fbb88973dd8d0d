/**
 * @file The sorts' properties: `sort`, `argsort` and `topK` on the backend and the
 * reference, checked against the definition of a stable sort written here, not against
 * the library's reference: the indices are a permutation of each line; the values are
 * the input's bits at those indices (a sort moves values, so it is exact, NaN payloads and
 * −0 included); consecutive places are in order (NumPy's: NaN last; descending, JAX's:
 * NaN first; −0 = +0) and equal values keep their original order. A stable sort is
 * unique, so these pin the result; GPU and reference are also compared bit for bit.
 * Lines run past the rank sort's 64 values and over several radix chunks of 4,096
 * (`kernels/sort.ts`); values include every special kind and, in half the cases, come from
 * a pool of eight (±0, ±1, ±Inf, two NaNs), so that ties are the rule.
 */
import fc from "fast-check";
import { argsort, type Backend, sort, topK } from "../mod.ts";
import {
  assertBitwise,
  assertShape,
  type Profile,
  profile,
  readFloat32,
  readInt32,
  seed,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A sort's case: a shape, the axis and how it is given, the order, the values. */
export interface SortCase {
  shape: number[];
  axis: number;
  negative: boolean;
  descending: boolean;
  ties: boolean;
  k: number;
  profile: Profile;
  seed: number;
}

const sortCases: fc.Arbitrary<SortCase> = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(1, 2, 3, 7, 64, 65), fc.integer({ min: 1, max: 40 })), {
    minLength: 1,
    maxLength: 3,
  }).filter((s) => s.reduce((a, b) => a * b, 1) <= 20_000),
  // Long lines (the radix sort), of one line or a few, along either axis; at most 20,000
  // values, so that a rank sort along the other axis fits the folded device's grid.
  fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.oneof(fc.integer({ min: 65, max: 13_000 }), fc.constantFrom(4_096, 4_097, 8_192, 12_289)),
  ).filter(([a, b]) => a * b <= 20_000),
  fc.tuple(fc.integer({ min: 65, max: 6_600 }), fc.integer({ min: 1, max: 3 })),
).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: 0, max: shape.length - 1 }),
    negative: fc.boolean(),
    descending: fc.boolean(),
    ties: fc.boolean(),
    k: fc.integer({ min: 1, max: shape[shape.length - 1] }),
    profile,
    seed,
  })
);

/** Eight values by their bits: ±0, ±1, ±Inf, a quiet NaN and a negative one with a payload. */
const POOL = new Float32Array(
  new Uint32Array([
    0,
    0x80000000,
    0x3f800000,
    0xbf800000,
    0x7f800000,
    0xff800000,
    0x7fc00000,
    0xffc00001,
  ])
    .buffer,
);

/** The case's values: the profile's, or drawn from {@linkcode POOL} (ties). */
export function sortValues(c: SortCase): Float32Array {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = values(n, c.profile, c.seed);
  if (!c.ties) return x;
  const picks = values(n, "unit", c.seed + 1);
  return x.map((_, i) => POOL[Math.floor((picks[i] + 1) * 4) % 8]);
}

/**
 * The order's comparison: negative when `a` comes first, 0 when equal for order (−0 and
 * +0, two NaNs). NumPy's ascending order has NaN last, JAX's descending one NaN first.
 */
function order(a: number, b: number, descending: boolean): number {
  const nan = Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  if (nan !== 0 || Number.isNaN(a)) return descending ? -nan : nan;
  const ascending = a < b ? -1 : a > b ? 1 : 0;
  return descending ? -ascending : ascending;
}

/**
 * Asserts that `indices` sort `x` stably along lines (`n` long, `inner` apart) and that
 * `sorted` holds `x`'s bits at them (see the file's comment). `k` places of each line of
 * `x` were kept (topK): the first k of its sort.
 */
function assertStableSort(
  x: Float32Array,
  sorted: Float32Array,
  indices: Int32Array,
  line: { n: number; inner: number; k: number },
  descending: boolean,
  what: string,
): void {
  const { n, inner, k } = line;
  const bits = new Uint32Array(x.buffer), sortedBits = new Uint32Array(sorted.buffer);
  const lines = x.length / n;
  for (let l = 0; l < lines; l++) {
    const base = Math.floor(l / inner) * n * inner + (l % inner);
    const outBase = Math.floor(l / inner) * k * inner + (l % inner);
    const seen = new Uint8Array(n);
    for (let p = 0; p < k; p++) {
      const i = indices[outBase + p * inner];
      if (!Number.isInteger(i) || i < 0 || i >= n || seen[i]) {
        throw new Error(`${what}: line ${l} place ${p}: index ${i} is not a new position`);
      }
      seen[i] = 1;
      const from = base + i * inner, at = outBase + p * inner;
      if (sortedBits[at] !== bits[from]) {
        throw new Error(
          `${what}: line ${l} place ${p}: value ${sorted[at]} is not x[${i}] = ${x[from]}`,
        );
      }
      if (p > 0) {
        const previous = indices[outBase + (p - 1) * inner];
        const o = order(x[base + previous * inner], x[from], descending);
        if (o > 0 || (o === 0 && previous > i)) {
          throw new Error(
            `${what}: line ${l} places ${p - 1}, ${p}: x[${previous}] = ${
              x[base + previous * inner]
            } then x[${i}] = ${x[from]} is out of ${o === 0 ? "stable " : ""}order`,
          );
        }
      }
    }
    // topK: nothing left out comes before the last kept value.
    if (k < n) {
      const last = indices[outBase + (k - 1) * inner];
      for (let i = 0; i < n; i++) {
        if (seen[i]) continue;
        const o = order(x[base + i * inner], x[base + last * inner], descending);
        if (o < 0 || (o === 0 && i < last)) {
          throw new Error(`${what}: line ${l}: x[${i}] = ${x[base + i * inner]} was left out`);
        }
      }
    }
  }
}

/** The case's call and its description. */
function describeCase(c: SortCase) {
  const axis = c.negative ? c.axis - c.shape.length : c.axis;
  const options = { axis, descending: c.descending };
  return {
    options,
    what: `[${c.shape}] ${JSON.stringify(options)} ${c.ties ? "ties" : c.profile} seed=${c.seed}`,
  };
}

/** sort and argsort: a stable sort, exact, the same bits on the backend and the reference. */
export const sortProperty: OpProperty<SortCase> = {
  name: "sort, argsort along an axis (descending): a stable sort, bit for bit, NaN last " +
    "(first descending)",
  cases: sortCases,
  numRuns: 40,
  async check(backend, c) {
    const { options, what } = describeCase(c);
    const x = sortValues(c);
    const n = c.shape[c.axis];
    const inner = c.shape.slice(c.axis + 1).reduce((a, b) => a * b, 1);
    const results: (Float32Array | Int32Array)[] = [];
    for (const t of [backend, ref] as Backend[]) {
      using input = t.tensor(x, c.shape);
      using sorted = sort(input, options);
      using indices = argsort(input, options);
      assertShape(sorted.shape, c.shape, `sort ${what}`);
      assertShape(indices.shape, c.shape, `argsort ${what}`);
      const [s, i] = [await readFloat32(sorted), await readInt32(indices)];
      assertStableSort(x, s, i, { n, inner, k: n }, c.descending, `sort ${what} on ${t.kind}`);
      results.push(s, i);
    }
    assertBitwise(results[0], results[2], `sort ${what}: backend vs reference`);
    assertBitwise(results[1], results[3], `argsort ${what}: backend vs reference`);
  },
};

/** topK: the first k places of a stable descending sort of the last axis. */
export const topKProperty: OpProperty<SortCase> = {
  name: "topK of the last axis: the first k of a stable descending sort, bit for bit",
  cases: sortCases,
  numRuns: 30,
  async check(backend, c) {
    const x = sortValues(c);
    const n = c.shape[c.shape.length - 1];
    const what = `topK [${c.shape}] k=${c.k} ${c.ties ? "ties" : c.profile} seed=${c.seed}`;
    const expectedShape = [...c.shape.slice(0, -1), c.k];
    for (const t of [backend, ref] as Backend[]) {
      using input = t.tensor(x, c.shape);
      const top = topK(input, c.k);
      using v = top.values, i = top.indices;
      assertShape(v.shape, expectedShape, what);
      assertShape(i.shape, expectedShape, what);
      assertStableSort(
        x,
        await readFloat32(v),
        await readInt32(i),
        { n, inner: 1, k: c.k },
        true,
        what,
      );
    }
  },
};
