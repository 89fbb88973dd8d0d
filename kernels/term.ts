/**
 * @file The values a generated kernel computes, as a small DAG of terms. A term has a
 * shape and a value at every flat (row-major) index of it: a bound buffer, an
 * elementwise expression of terms of its own shape, a view of another term (an index
 * rewrite: broadcast, transpose, slice, pad, reverse, gather along an axis), or the kernel's
 * accumulated result (what a reduction or a matmul computed, for its epilogue).
 *
 * Views make reshape, broadcast, transpose and slice free: nothing is copied, the
 * consumer reads the source at a rewritten index (tinygrad's ShapeTracker, jax-js's
 * `shape.ts`). A strided view maps output coordinates c to the source index
 * `offset + Σ c_d·stride_d` (a stride of 0 broadcasts), optionally inside a mask of
 * per-dimension ranges outside of which another term (zero by default) is read: that is
 * padding and, chained, concatenation. Views are canonical: dimensions of size 1 are
 * dropped and neighbours that step together are merged, so a kernel's index arithmetic
 * is as short as the access allows and equal accesses give equal WGSL.
 *
 * Eager ops build a one-op term graph over their input buffers; `jit` builds a fused one
 * over many ops. Both go through the kernel generator (`kernels/kernel_plan.ts`).
 */
import type { DType } from "./dtype.ts";
import { type Expr, expressionType } from "./expression.ts";

/** A shape: dimensions ≥ 1, row-major; `[]` is a scalar. */
export type Shape = readonly number[];

/** A value of a generated kernel, at each flat index of its shape. */
export type Term =
  | BufferTerm
  | {
    readonly kind: "map";
    readonly shape: Shape;
    readonly expr: Expr;
    readonly args: readonly Term[];
    /** The expression's type given its arguments' (`expressionType`). */
    readonly dtype: DType;
  }
  | { readonly kind: "view"; readonly shape: Shape; readonly view: View; readonly source: Term }
  | { readonly kind: "result"; readonly shape: Shape; readonly dtype: DType };

/** A storage buffer the kernel reads; `source` tells the caller which one to bind. */
export interface BufferTerm {
  readonly kind: "buffer";
  readonly shape: Shape;
  /** Identifies the buffer for the caller (an input index, a graph node, …). */
  readonly source: number;
  /** The element type the buffer stores. */
  readonly dtype: DType;
}

/** One dimension of a strided view: output extent and source stride. */
export interface StridedDim {
  readonly size: number;
  readonly stride: number;
  /** Coordinates in [lo, hi) read the source; others read the view's `outside` term. */
  readonly mask?: readonly [number, number];
}

/** An index rewrite. */
export type View =
  | {
    readonly kind: "strided";
    /** Canonical: no size-1 dimension, no mergeable neighbours. */
    readonly dims: readonly StridedDim[];
    readonly offset: number;
    /** Read where a mask excludes the coordinate (zero when absent). */
    readonly outside?: Term;
  }
  | {
    /**
     * NumPy's `take` along an axis: the source viewed as `[outer, axisSize, rowSize]`,
     * the output as `[outer, count, rowSize]`; output `[a, j, k]` reads source
     * `[a, rows[j], k]` — or, `along` (NumPy's `take_along_axis`), `[a, rows[a, j, k], k]`
     * — a negative index counting from the end of the axis.
     */
    readonly kind: "gather";
    /**
     * Indices (int32: `ops/indices.ts` converts float32 ones; in [−axisSize, axisSize)):
     * `count` of them, or `along`, one per output element.
     */
    readonly rows: Term;
    /** Whether `rows` has the output's shape, read at the output's own index. */
    readonly along: boolean;
    /** Elements per row: the product of the source's dimensions after the axis. */
    readonly rowSize: number;
    /** Indices read: the size of `rows`. */
    readonly count: number;
    /** The source's extent along the axis. */
    readonly axisSize: number;
  };

/**
 * The terms `term` reads, in the order every walk over a term DAG visits them: a map's
 * arguments; a view's source, then the term read outside its mask or the gather's row
 * indices. Buffers and the accumulated result read no term.
 */
export function termChildren(term: Term): readonly Term[] {
  switch (term.kind) {
    case "map":
      return term.args;
    case "view": {
      const { view, source } = term;
      if (view.kind === "gather") return [source, view.rows];
      return view.outside ? [source, view.outside] : [source];
    }
    default:
      return [];
  }
}

/** Element count of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** A buffer of `dtype` values (float32 by default) read at its own index. */
export function bufferTerm(source: number, shape: Shape, dtype: DType = "float32"): BufferTerm {
  return { kind: "buffer", shape, source, dtype };
}

/** An elementwise expression of `args`, which all have `shape`. */
export function mapTerm(expr: Expr, args: readonly Term[], shape: Shape): Term {
  return { kind: "map", shape, expr, args, dtype: expressionType(expr, args.map(termType)) };
}

/**
 * The accumulated value of the kernel (a reduction's or a matmul's, of `dtype`: float32
 * by default), for its epilogue.
 */
export function resultTerm(shape: Shape, dtype: DType = "float32"): Term {
  return { kind: "result", shape, dtype };
}

/** The element type of a term's values: a view has its source's. */
export function termType(term: Term): DType {
  return term.kind === "view" ? termType(term.source) : term.dtype;
}

/**
 * The same values under another shape of equal size. Every term is evaluated at flat
 * indices (a view's index arithmetic was fixed when it was made), so only the label
 * changes.
 */
export function reshapeTerm(source: Term, shape: Shape): Term {
  return { ...source, shape };
}

/**
 * A strided view of `source` with output `shape`: output coordinate c reads source
 * index `offset + Σ c_d·strides[d]`, where `masks[d]` (if given) admits it, else
 * `outside` (zero when absent). An identity view returns `source` itself.
 */
export function stridedView(
  source: Term,
  shape: Shape,
  strides: readonly number[],
  offset: number,
  masks?: readonly ((readonly [number, number]) | undefined)[],
  outside?: Term,
): Term {
  const dims: StridedDim[] = [];
  shape.forEach((size, d) => {
    const mask = masks?.[d];
    const full = !mask || (mask[0] <= 0 && mask[1] >= size);
    if (size === 1 && full) return;
    const dim: StridedDim = full
      ? { size, stride: strides[d] }
      : { size, stride: strides[d], mask };
    const last = dims.at(-1);
    if (last && !last.mask && !dim.mask && last.stride === dim.stride * dim.size) {
      dims[dims.length - 1] = { size: last.size * dim.size, stride: dim.stride };
    } else dims.push(dim);
  });
  // Reading the source at the view's own flat index: no view at all.
  const identity = offset === 0 && dims.length <= 1 && !outside &&
    (dims.length === 0 ? sizeOf(source.shape) === 1 : !dims[0].mask && dims[0].stride === 1);
  if (identity) return reshapeTerm(source, shape);
  return {
    kind: "view",
    shape,
    view: { kind: "strided", dims, offset, ...(outside ? { outside } : {}) },
    source,
  };
}

/** NumPy broadcasting of `source` to `shape` (which it must broadcast to). */
export function broadcastView(source: Term, shape: Shape): Term {
  const from = source.shape;
  const strides = stridesOf(from);
  const lead = shape.length - from.length;
  return stridedView(
    source,
    shape,
    shape.map((_, d) => (d < lead || from[d - lead] === 1 ? 0 : strides[d - lead])),
    0,
  );
}

/** Output dimension d is source dimension `perm[d]`. */
export function transposeView(source: Term, perm: readonly number[]): Term {
  const strides = stridesOf(source.shape);
  return stridedView(source, perm.map((p) => source.shape[p]), perm.map((p) => strides[p]), 0);
}

/** The block of `size` starting at `begin` in each dimension. */
export function sliceView(source: Term, begin: readonly number[], size: Shape): Term {
  const strides = stridesOf(source.shape);
  const offset = begin.reduce((sum, b, d) => sum + b * strides[d], 0);
  return stridedView(source, size, strides, offset);
}

/**
 * `source` surrounded by `before[d]` and `after[d]` elements in each dimension, which
 * read `outside` (zero when absent).
 */
export function padView(
  source: Term,
  before: readonly number[],
  after: readonly number[],
  outside?: Term,
): Term {
  const strides = stridesOf(source.shape);
  const shape = source.shape.map((d, i) => d + before[i] + after[i]);
  const offset = -before.reduce((sum, b, d) => sum + b * strides[d], 0);
  const masks = source.shape.map((d, i) => [before[i], before[i] + d] as const);
  return stridedView(source, shape, strides, offset, masks, outside);
}

/**
 * `source` read backwards along `axes` (default every axis: the elements in reverse
 * row-major order).
 */
export function reverseView(source: Term, axes?: readonly number[]): Term {
  const flipped = (d: number) => axes === undefined || axes.includes(d);
  const strides = stridesOf(source.shape);
  const offset = source.shape.reduce(
    (sum, n, d) => sum + (flipped(d) ? (n - 1) * strides[d] : 0),
    0,
  );
  return stridedView(
    source,
    source.shape,
    strides.map((s, d) => (flipped(d) ? -s : s)),
    offset,
  );
}

/**
 * `source` taken along `axis` (default 0: rows) at the indices held by `rows` (a term of
 * whole numbers, any shape, negative counting from the end): output
 * `[...before axis, ...rows.shape, ...after axis]`, NumPy's `take`.
 */
export function gatherView(source: Term, rows: Term, axis = 0): Term {
  return {
    kind: "view",
    shape: [...source.shape.slice(0, axis), ...rows.shape, ...source.shape.slice(axis + 1)],
    view: {
      kind: "gather",
      rows,
      along: false,
      rowSize: sizeOf(source.shape.slice(axis + 1)),
      count: sizeOf(rows.shape),
      axisSize: source.shape[axis],
    },
    source,
  };
}

/**
 * `source` read along `axis` at the indices `rows` holds for each output element
 * (NumPy's `take_along_axis`): `rows` has the output's shape, which is `source`'s but
 * along `axis`.
 */
export function gatherAlongView(source: Term, rows: Term, axis: number): Term {
  return {
    kind: "view",
    shape: rows.shape,
    view: {
      kind: "gather",
      rows,
      along: true,
      rowSize: sizeOf(source.shape.slice(axis + 1)),
      count: rows.shape[axis],
      axisSize: source.shape[axis],
    },
    source,
  };
}

/** Whether a gather view repeats over dimensions before its axis (a structural fact). */
export function gathersBlocks(t: Term & { kind: "view" }): boolean {
  const view = t.view as View & { kind: "gather" };
  return sizeOf(t.shape) > view.count * view.rowSize;
}
