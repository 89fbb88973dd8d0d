/**
 * @file The properties of the ops that move values without arithmetic — takeRows, pad2d,
 * reverse, reshape, transpose, slice, concat, broadcastTo, stopGradient, expandDims,
 * squeeze, stack, tile, pad — on tensors of
 * rank 0 to 4: the backend copies bit for bit what the reference copies, and the
 * reference puts each value where an independent index computation (written here, from
 * coordinates) says it goes.
 */
import fc from "fast-check";
import {
  type Backend,
  broadcastTo,
  concat,
  expandDims,
  pad,
  pad2d,
  reshape,
  reverse,
  slice,
  squeeze,
  stack,
  stopGradient,
  takeRows,
  type Tensor,
  tile,
  transpose,
} from "../mod.ts";
import {
  assertBitwise,
  assertEqualValues,
  assertShape,
  coordinates,
  dim,
  type Profile,
  profile,
  readFloat32,
  seed,
  size,
  values,
} from "./_numerics.ts";
import { type OpProperty, ref } from "./_properties.ts";

/** A matrix case of the 2-D layout ops: sides, paddings, values. */
export interface MatrixLayoutCase {
  h: number;
  w: number;
  ph: number;
  pw: number;
  profile: Profile;
  seed: number;
}

/** takeRows, pad2d and reverse: the backend copies exactly what the reference copies. */
export const matrixLayoutProperty: OpProperty<MatrixLayoutCase> = {
  name: "takeRows, pad2d, reverse: GPU copies exactly what the reference copies",
  cases: fc.record({
    h: dim(200),
    w: dim(50),
    ph: fc.nat(4),
    pw: fc.nat(4),
    profile,
    seed,
  }),
  numRuns: 40,
  async check(backend, { h, w, ph, pw, profile: kind, seed: s }) {
    const x = values(h * w, kind, s);
    const rows = Array.from({ length: 1 + (s % 40) }, (_, i) => (s + 7 * i) % h);
    using gx = backend.tensor(x, [h, w]);
    using rx = ref.tensor(x, [h, w]);
    using gt = takeRows(gx, rows);
    using rt = takeRows(rx, rows);
    assertBitwise(await gt.read(), await rt.read(), "takeRows");
    using gp = pad2d(gx, ph, pw);
    using rp = pad2d(rx, ph, pw);
    assertShape(gp.shape, [h + 2 * ph, w + 2 * pw], "pad2d");
    assertBitwise(await gp.read(), await rp.read(), "pad2d");
    using gr = reverse(gx);
    using rr = reverse(rx);
    assertBitwise(await gr.read(), await rr.read(), "reverse");
  },
};

/** Flat index of coordinates c. */
const flat = (c: readonly number[], shape: readonly number[]) =>
  c.reduce((i, x, d) => i * shape[d] + x, 0);

/** A shape of rank 0…4 with dimensions 1, primes and others, at most ~4000 elements. */
const shapes = fc.array(
  fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 13), fc.integer({ min: 1, max: 40 })),
  {
    maxLength: 4,
  },
).filter((s) => size(s) <= 4000);

/** Runs `op` on `backend` and on the reference; asserts bit-identical results, returns the reference's. */
async function same(
  backend: Backend,
  x: Float32Array,
  shape: readonly number[],
  op: (t: Tensor) => Tensor,
  what: string,
): Promise<{ values: Float32Array; shape: readonly number[] }> {
  using g = backend.tensor(x, shape);
  using out = op(g);
  using r = op(ref.tensor(x, shape));
  assertShape(out.shape, r.shape, what);
  const expected = await readFloat32(r);
  assertBitwise(await out.read(), expected, what);
  return { values: expected, shape: r.shape };
}

/** The values the reference should hold at each index of `shape`, from a source index. */
function placed(x: Float32Array, shape: readonly number[], source: (c: number[]) => number) {
  return Float32Array.from({ length: size(shape) }, (_, i) => x[source(coordinates(i, shape))]);
}

/** A case of the shape ops: a shape, values, and a number the other choices are drawn from. */
export interface ShapeCase {
  shape: number[];
  profile: Profile;
  seed: number;
  pick: number;
}

/** reshape, transpose, slice, broadcastTo and stopGradient, bit for bit, values where they go. */
export const shapeOpsProperty: OpProperty<ShapeCase> = {
  name:
    "reshape, transpose, slice, broadcastTo, stopGradient: GPU copies exactly what the reference places",
  cases: fc.record({ shape: shapes, profile, seed, pick: fc.nat() }),
  numRuns: 60,
  async check(backend, { shape, profile: kind, seed: s, pick }) {
    const x = values(size(shape), kind, s);
    const what = (op: string) => `${op} of [${shape}] seed=${s}`;
    // reshape: the same row-major values under a shape of equal size.
    const target = [...shape].reverse();
    const r = await same(backend, x, shape, (t) => reshape(t, target), what("reshape"));
    assertBitwise(r.values, x, what("reshape (reference)"));
    // transpose by a permutation drawn from `pick`.
    const perm = shape.map((_, d) => d).sort((a, b) => ((a * 7 + pick) % 5) - ((b * 7 + pick) % 5));
    const t = await same(
      backend,
      x,
      shape,
      (v) => transpose(v, perm),
      what(`transpose [${perm}]`),
    );
    const transposed = placed(x, t.shape, (c) => {
      const source = new Array<number>(shape.length);
      perm.forEach((p, d) => source[p] = c[d]);
      return flat(source, shape);
    });
    assertBitwise(t.values, transposed, `${what("transpose")} (reference)`);
    // slice: a block from a drawn start.
    const begin = shape.map((d, i) => (pick >> i) % d);
    const extent = shape.map((d, i) => 1 + ((pick >> (i + 3)) % (d - begin[i])));
    const sl = await same(
      backend,
      x,
      shape,
      (v) => slice(v, begin, extent),
      what(`slice ${begin}+${extent}`),
    );
    const block = placed(x, extent, (c) => flat(c.map((x, d) => x + begin[d]), shape));
    assertBitwise(sl.values, block, `${what("slice")} (reference)`);
    // broadcastTo: a leading dimension and every 1 stretched to 3.
    const wide = [2, ...shape.map((d) => (d === 1 ? 3 : d))];
    const b = await same(backend, x, shape, (v) => broadcastTo(v, wide), what("broadcastTo"));
    const stretched = placed(
      x,
      wide,
      (c) => flat(c.slice(1).map((x, d) => (shape[d] === 1 ? 0 : x)), shape),
    );
    assertBitwise(b.values, stretched, `${what("broadcastTo")} (reference)`);
    const sg = await same(backend, x, shape, stopGradient, what("stopGradient"));
    assertBitwise(sg.values, x, what("stopGradient (reference)"));
  },
};

/** A concat case: the output's shape, a number the axis and part sizes come from, a seed. */
export interface ConcatCase {
  shape: number[];
  pick: number;
  count: number;
  profile: Profile;
  seed: number;
}

/** concat along any axis, of 1 to 45 tensors, bit for bit, blocks in order. */
export const concatProperty: OpProperty<ConcatCase> = {
  name: "concat along any axis, of 1 to 45 tensors: GPU equals the reference, blocks in order",
  cases: fc.record({
    shape: shapes.filter((s) => s.length > 0),
    pick: fc.nat(),
    count: fc.integer({ min: 1, max: 45 }),
    profile,
    seed,
  }),
  numRuns: 40,
  async check(backend, { shape, pick, count, profile: kind, seed: s }) {
    const axis = pick % shape.length;
    const parts = Array.from({ length: count }, (_, k) => {
      const partShape = shape.map((d, i) => (i === axis ? 1 + ((pick + 3 * k) % 4) : d));
      return { shape: partShape, values: values(size(partShape), kind, s + k) };
    });
    const run = (on: Backend) => {
      const tensors = parts.map((p) => on.tensor(p.values, p.shape));
      const out = concat(tensors, { axis: axis - shape.length }); // a negative axis
      tensors.forEach((t) => t.dispose());
      return out;
    };
    using got = run(backend);
    using want = run(ref);
    const what = `concat of ${count} along ${axis} of [${shape}]`;
    assertShape(got.shape, want.shape, what);
    const expected = await want.read();
    assertBitwise(await got.read(), expected, what);
    // Independently: output coordinate c along the axis falls into part k at offset c − start.
    const blocks = Float32Array.from(expected, (_, i) => {
      const c = coordinates(i, want.shape);
      let k = 0, start = 0;
      while (c[axis] >= start + parts[k].shape[axis]) start += parts[k++].shape[axis];
      c[axis] -= start;
      return parts[k].values[flat(c, parts[k].shape)];
    });
    assertEqualValues(expected, blocks, `${what} (reference)`);
  },
};

/**
 * expandDims, squeeze, stack, tile, reverse along chosen axes and pad in its three modes:
 * the backend copies bit for bit what the reference copies, and each value is where an
 * index computation written here from NumPy's definitions (checked against NumPy) says.
 */
export const secondWaveLayoutProperty: OpProperty<ShapeCase> = {
  name:
    "expandDims, squeeze, stack, tile, reverse(x, axes), pad: GPU copies exactly what the reference places",
  cases: fc.record({ shape: shapes.filter((s) => size(s) <= 1000), profile, seed, pick: fc.nat() }),
  numRuns: 40,
  async check(backend, { shape, profile: kind, seed: s, pick }) {
    const x = values(size(shape), kind, s);
    const rank = shape.length;
    const what = (op: string) => `${op} of [${shape}] seed=${s} pick=${pick}`;
    // expandDims at a drawn place, negative half the time; squeeze of every 1 is the inverse.
    const at = pick % (rank + 1);
    const e = await same(
      backend,
      x,
      shape,
      (t) => expandDims(t, pick % 2 ? at - rank - 1 : at),
      what("expandDims"),
    );
    assertShape(e.shape, [...shape.slice(0, at), 1, ...shape.slice(at)], what("expandDims"));
    assertBitwise(e.values, x, what("expandDims (reference)"));
    const q = await same(backend, x, e.shape, (t) => squeeze(t, at), what("squeeze"));
    assertShape(q.shape, shape, what("squeeze"));
    const all = await same(backend, x, shape, (t) => squeeze(t), what("squeeze()"));
    assertShape(all.shape, shape.filter((d) => d !== 1), what("squeeze()"));
    assertBitwise(all.values, x, what("squeeze() (reference)"));
    // stack of 1 to 3 tensors of this shape along a drawn axis: part k at coordinate k.
    const count = 1 + (pick % 3);
    const parts = Array.from({ length: count }, (_, k) => values(size(shape), kind, s + k));
    const stacked = (on: Backend) => {
      const ts = parts.map((p) => on.tensor(p, shape));
      const out = stack(ts, { axis: at });
      ts.forEach((t) => t.dispose());
      return out;
    };
    using gs = stacked(backend);
    using rs = stacked(ref);
    assertShape(rs.shape, [...shape.slice(0, at), count, ...shape.slice(at)], what("stack"));
    const sv = await rs.read();
    assertBitwise(await gs.read(), sv, what("stack"));
    const layered = Float32Array.from({ length: size(rs.shape) }, (_, i) => {
      const c = coordinates(i, rs.shape);
      const [k] = c.splice(at, 1);
      return parts[k][flat(c, shape)];
    });
    assertBitwise(sv, layered, what("stack (reference)"));
    // tile by reps one longer, as long or one shorter than the rank (NumPy pads with 1s).
    const length = Math.max(0, rank - 1 + (pick % 3));
    const reps = Array.from({ length }, (_, i) => 1 + ((pick >> i) % 3));
    const tiled = await same(backend, x, shape, (t) => tile(t, reps), what(`tile [${reps}]`));
    const out = Math.max(rank, length);
    const dims = [...new Array(out - rank).fill(1), ...shape];
    const times = [...new Array(out - length).fill(1), ...reps];
    assertShape(tiled.shape, dims.map((d, i) => d * times[i]), what("tile"));
    const wrapped = placed(
      x,
      tiled.shape,
      (c) => flat(c.map((v, d) => v % dims[d]).slice(out - rank), shape),
    );
    assertBitwise(tiled.values, wrapped, what(`tile [${reps}] (reference)`));
    // reverse along the axes whose bit is set in `pick`.
    const axes = shape.flatMap((_, d) => ((pick >> d) & 1 ? [d] : []));
    const r = await same(backend, x, shape, (t) => reverse(t, axes), what(`reverse [${axes}]`));
    const flipped = placed(
      x,
      shape,
      (c) => flat(c.map((v, d) => (axes.includes(d) ? shape[d] - 1 - v : v)), shape),
    );
    assertBitwise(r.values, flipped, what(`reverse [${axes}] (reference)`));
    // pad in each mode; reflect's widths stay below each dimension, as it requires.
    const widths = shape.map((_, i) =>
      [(pick >> i) % 3, (pick >> (i + 2)) % 3] as [number, number]
    );
    for (const mode of ["constant", "edge", "reflect"] as const) {
      const w = mode === "reflect"
        ? widths.map(([b, a], i) => [b % shape[i], a % shape[i]] as [number, number])
        : widths;
      const options = mode === "constant" ? { value: (pick % 5) - 2 } : { mode };
      const p = await same(
        backend,
        x,
        shape,
        (t) => pad(t, w, options),
        what(`pad ${mode} [${w.join("|")}]`),
      );
      // NumPy's np.pad: before the axis, index −k reads k (reflect) or 0 (edge); after, mirrored.
      const source = (v: number, d: number) => {
        const n = shape[d], j = v - w[d][0];
        if (j >= 0 && j < n) return j;
        if (mode === "edge") return j < 0 ? 0 : n - 1;
        return j < 0 ? -j : 2 * (n - 1) - j;
      };
      const fill = Math.fround(mode === "constant" ? options.value! : 0);
      const filled = Float32Array.from({ length: size(p.shape) }, (_, i) => {
        const c = coordinates(i, p.shape);
        const inside = c.every((u, d) => u >= w[d][0] && u < w[d][0] + shape[d]);
        return mode === "constant" && !inside ? fill : x[flat(c.map(source), shape)];
      });
      assertBitwise(p.values, filled, what(`pad ${mode} [${w.join("|")}] (reference)`));
    }
  },
};
