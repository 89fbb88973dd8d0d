/**
 * @file Ops that move values without arithmetic, as views (`kernels/term.ts`): `takeRows`
 * (minibatches: a gather of rows, by a list or by a tensor of indices), `slice`,
 * `pad2d` and `pad` (a constant border is one view; a reflected or repeated edge is a
 * concat of sliced, reversed or broadcast borders, axis by axis), `reverse` along chosen
 * axes, and `concat` along an axis. Eagerly each is one copy kernel (`pad`'s reflect and
 * edge modes a few); under `jit` none is a kernel of its own — its consumer reads
 * through the rewritten index (a minibatch is gathered inside the matmul that uses it).
 * Being copies they are exact on every backend, and each is differentiable: the
 * gradient of a view is the opposite view (a gather's is a one-hot matmul, which sums
 * repeated rows).
 */
import { scalar } from "../kernels/expression.ts";
import {
  gatherView,
  mapTerm,
  padView,
  reverseView,
  sliceView,
  type Term,
} from "../kernels/term.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { activeTape } from "./_tape.ts";
import {
  checkArity,
  checkAxes,
  checkInteger,
  checkNumber,
  checkOptions,
  checkRank,
  checkResultSize,
  checkTensors,
} from "./_validate.ts";
import { broadcastTo } from "./broadcast.ts";
import { equal } from "./compare.ts";
import { iota } from "./creation.ts";
import { matmul } from "./matmul.ts";
import { scope } from "./scope.ts";
import { reshape } from "./shape.ts";
import { describe, describeShape, formatShape, isTensor, type Tensor } from "./tensor.ts";

/** Indices held in float32 are exact below this. */
const MAX_INDEX = 2 ** 24;

/**
 * Inputs one concat kernel joins: each is a storage binding (WebGPU guarantees 8 per
 * stage, one of them the output) and a padded view whose offset, sizes, strides and
 * mask take up to 15 words of the 64-word uniform block. More inputs are joined in a
 * tree of concats.
 */
const CONCAT_INPUTS = 4;

const takeRowsOp: OpDefinition<void> = {
  name: "takeRows",
  // The rows' type, whatever the indices' (float32 whole numbers for now).
  returns: ([x]) => x,
  reference([x, rows], _params, shapes) {
    const n = shapes.inputs[0][0];
    const rowSize = x.length / n;
    const out = new Float32Array(rows.length * rowSize);
    rows.forEach((r, i) => {
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        throw new RangeError(
          `takeRows: expected row indices in [0, ${n}), got ${r} at position ${i}`,
        );
      }
      out.set(x.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    });
    return out;
  },
  form: () => ({ kind: "term", build: ([x, rows]) => gatherView(x, rows) }),
  // Row j of dx sums the rows of g taken from j: a one-hot matrix, transposed, times g.
  vjp(g, [x, rows], _params, needed) {
    if (!needed[0]) return [null, null];
    const n = x.shape[0];
    const hits = equal(reshape(rows, [rows.size, 1]), iota(x.backend, n));
    const flat = matmul(hits, reshape(g, [rows.size, g.size / rows.size]), { transposeA: true });
    return [reshape(flat, x.shape), null];
  },
};

/**
 * Checks row indices for a tensor of `n` rows: a non-empty array-like of integers in
 * [0, n); returns them as float32 (exact: each below 2²⁴).
 */
export function checkRows(op: string, rows: unknown, n: number): Float32Array<ArrayBuffer> {
  const list = rows as ArrayLike<unknown>;
  if (
    list === null || typeof list !== "object" || !Number.isInteger(list.length) ||
    list.length < 1
  ) {
    throw new TypeError(`${op}: expected a non-empty array of row indices, got ${describe(rows)}`);
  }
  // Before the indices are copied: an array-like may claim any length.
  if (list.length > 2 ** 31) {
    throw new RangeError(`${op}: expected at most 2147483648 row indices, got ${list.length}`);
  }
  const limit = Math.min(n, MAX_INDEX);
  return Float32Array.from({ length: list.length }, (_, i) => {
    const r = list[i];
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= limit) {
      throw new RangeError(
        `${op}: expected row indices in [0, ${limit}), got ${
          typeof r === "number" ? r : describe(r)
        } at position ${i}${n > MAX_INDEX ? " (indices are float32, exact below 2^24)" : ""}`,
      );
    }
    return r;
  });
}

/**
 * Rows of a tensor (its leading dimension) at the given indices, in that order: a
 * minibatch. The indices are a list, or a 1-D tensor of whole numbers on the same
 * backend (the fastest way under `jit`, where a new index tensor replays the compiled
 * program without running the function again). Indices in a tensor are checked on the
 * CPU backend; on the GPU an index out of range reads an unspecified row.
 *
 * @param x A tensor `[n, …]`.
 * @param rows Row indices in [0, n), repeats allowed: an array, or a tensor `[r]`.
 * @returns A new tensor `[r, …]`.
 * @example
 * ```ts
 * import { cpu, takeRows } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6], [3, 2]);
 * using batch = takeRows(x, [2, 0]);
 * console.log(await batch.read()); // Float32Array [5, 6, 1, 2]
 * ```
 */
export function takeRows(x: Tensor, rows: ArrayLike<number> | Tensor): Tensor {
  checkArity("takeRows", arguments, 2);
  const op = "takeRows";
  const [input] = checkTensors(op, { x });
  if (input.shape.length < 1) {
    throw new RangeError(`${op}: expected x to have at least one dimension, got a scalar`);
  }
  const [n, ...rest] = input.shape;
  if (isTensor(rows)) {
    const [, indices] = checkTensors(op, { x, rows });
    checkRank(op, "rows", indices, 1);
    checkResultSize(op, input.backend, [indices.size, ...rest]);
    return runOp(takeRowsOp, [input, indices], undefined, [indices.size, ...rest]);
  }
  const values = checkRows(op, rows, n);
  checkResultSize(op, input.backend, [values.length, ...rest]);
  const indices = input.backend.tensor(values);
  try {
    return runOp(takeRowsOp, [input, indices], undefined, [values.length, ...rest]);
  } finally {
    // A gradient taken later needs the indices: then the differentiating scope frees them.
    if (!activeTape()?.tracked.has(input)) indices.dispose();
  }
}

/** Constant padding: `before[d]` and `after[d]` elements of `value` around dimension d. */
interface PadParams {
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly value: number;
}

const padOp: OpDefinition<PadParams> = {
  name: "pad",
  reference([x], { before, value }, shapes) {
    const [from, to] = [shapes.inputs[0], shapes.output];
    const out = new Float32Array(to.reduce((a, b) => a * b, 1)).fill(value);
    const coordinate = new Array<number>(from.length).fill(0);
    for (let i = 0; i < x.length; i++) {
      let o = 0;
      for (let d = 0; d < to.length; d++) o = o * to[d] + coordinate[d] + before[d];
      out[o] = x[i];
      for (let d = from.length - 1; d >= 0 && ++coordinate[d] === from[d]; d--) coordinate[d] = 0;
    }
    return out;
  },
  // A value other than zero is read outside the mask; it is a runtime word (`scalar`).
  form: ({ before, after, value }, shapes) => ({
    kind: "term",
    build: ([x]) =>
      padView(
        x,
        before,
        after,
        Object.is(value, 0) ? undefined : mapTerm(scalar(value), [], shapes.output),
      ),
  }),
  staticKey: ({ before, after, value }) => `${before}|${after}|${Object.is(value, 0)}`,
  vjp: (g, [x], { before }) => [slice(g, before, x.shape)],
};

/** `x` surrounded by `value`: an op of its own for `pad`, `pad2d` and `slice`'s gradient. */
function padConstant(
  x: Tensor,
  before: readonly number[],
  after: readonly number[],
  value = 0,
): Tensor {
  const shape = x.shape.map((d, i) => d + before[i] + after[i]);
  checkResultSize("pad", x.backend, shape);
  return runOp(padOp, [x], { before, after, value }, shape);
}

/**
 * Surrounds a 2-D tensor with zeros: `ph` rows above and below, `pw` columns on each side.
 *
 * @param x A `[h, w]` tensor.
 * @param ph Rows of zeros above and below, an integer ≥ 0.
 * @param pw Columns of zeros left and right, an integer ≥ 0.
 * @returns A new `[h + 2ph, w + 2pw]` tensor.
 * @example
 * ```ts
 * import { cpu, pad2d } from "@deno-gpu/kernels";
 * using padded = pad2d(cpu().tensor([1, 2], [1, 2]), 1, 0);
 * console.log(padded.shape, await padded.read()); // [3, 2] Float32Array [0, 0, 1, 2, 0, 0]
 * ```
 */
export function pad2d(x: Tensor, ph: number, pw: number): Tensor {
  checkArity("pad2d", arguments, 3);
  const op = "pad2d";
  const [input] = checkTensors(op, { x });
  checkRank(op, "x", input, 2);
  checkInteger(op, "ph", ph, { min: 0 });
  checkInteger(op, "pw", pw, { min: 0 });
  const [h, w] = input.shape;
  checkResultSize(op, input.backend, [h + 2 * ph, w + 2 * pw]);
  return padConstant(input, [ph, pw], [ph, pw]);
}

/** How {@linkcode pad} fills the border (NumPy's `np.pad` modes). */
export interface PadOptions {
  /**
   * `"constant"` (default): `value`; `"reflect"`: the values mirrored about the edge,
   * the edge itself not repeated (`[1, 2, 3]` → `3 2 | 1 2 3 | 2 1`); `"edge"`: the edge
   * value repeated.
   */
  readonly mode?: "constant" | "reflect" | "edge";
  /** The border's value in `"constant"` mode, a finite number (default 0). */
  readonly value?: number;
}

/**
 * Pads a tensor along every axis (NumPy's `np.pad`): `widths[d] = [before, after]`
 * elements go before and after dimension d. `"reflect"` needs both widths of an axis
 * below its size (as PyTorch's and TensorFlow's reflect padding; NumPy's goes on
 * reflecting beyond, which this refuses), and within that range it is NumPy's.
 *
 * @param x A tensor of rank r.
 * @param widths r pairs `[before, after]` of integers ≥ 0.
 * @param options {@linkcode PadOptions}: `mode` and, for `"constant"`, `value`.
 * @returns A new tensor, dimension d of size `before + x.shape[d] + after`.
 * @example
 * ```ts
 * import { cpu, pad } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3]);
 * using mirrored = pad(x, [[2, 1]], { mode: "reflect" });
 * using filled = pad(x, [[1, 0]], { value: 9 });
 * console.log(await mirrored.read(), await filled.read()); // Float32Array [3, 2, 1, 2, 3, 2] Float32Array [9, 1, 2, 3]
 * ```
 */
export function pad(
  x: Tensor,
  widths: readonly (readonly [number, number])[],
  options?: PadOptions,
): Tensor {
  checkArity("pad", arguments, 3);
  const op = "pad";
  const [input] = checkTensors(op, { x });
  const rank = input.shape.length;
  if (
    !Array.isArray(widths) || widths.length !== rank ||
    !Array.from(widths).every((w) => Array.isArray(w) && w.length === 2)
  ) {
    throw new TypeError(
      `${op}: expected widths to be ${rank} pairs [before, after] for shape ${
        formatShape(input.shape)
      }, got ${describe(widths)}`,
    );
  }
  const o = checkOptions(op, options, false, ["mode", "value"]);
  const mode = o.mode === undefined ? "constant" : o.mode;
  if (mode !== "constant" && mode !== "reflect" && mode !== "edge") {
    throw new TypeError(
      `${op}: expected mode to be "constant", "reflect" or "edge", got ${describe(o.mode)}`,
    );
  }
  if (mode !== "constant" && o.value !== undefined) {
    throw new TypeError(`${op}: expected no value in mode "${mode}" (only "constant" fills one)`);
  }
  const value = o.value === undefined ? 0 : checkNumber(op, "value", o.value);
  const [before, after] = [0, 1].map((side) =>
    input.shape.map((d, i) => {
      const max = mode === "reflect" ? d - 1 : undefined;
      const name = `widths[${i}][${side}]`;
      if (max !== undefined && typeof widths[i][side] === "number" && widths[i][side] > max) {
        throw new RangeError(
          `${op}: expected ${name} below the axis's size ${d} in mode "reflect", got ${
            widths[i][side]
          }`,
        );
      }
      return checkInteger(op, name, widths[i][side], { min: 0 });
    })
  );
  checkResultSize(op, input.backend, input.shape.map((d, i) => d + before[i] + after[i]));
  if (mode === "constant") return padConstant(input, before, after, value);
  return scope(() =>
    input.shape.reduce((t, d, axis) => {
      if (before[axis] === 0 && after[axis] === 0) return t;
      const block = (start: number, length: number) =>
        slice(
          t,
          t.shape.map((_, k) => (k === axis ? start : 0)),
          t.shape.map((n, k) => (k === axis ? length : n)),
        );
      const border = (start: number, width: number) =>
        mode === "edge"
          ? broadcastTo(block(start, 1), t.shape.map((n, k) => (k === axis ? width : n)))
          : reverse(block(start === 0 ? 1 : d - 1 - width, width), axis);
      const parts = [
        ...(before[axis] ? [border(0, before[axis])] : []),
        t,
        ...(after[axis] ? [border(d - 1, after[axis])] : []),
      ];
      return concat(parts, { axis });
    }, input)
  );
}

const sliceOp: OpDefinition<{ begin: readonly number[] }> = {
  name: "slice",
  reference([x], { begin }, shapes) {
    const [from, to] = [shapes.inputs[0], shapes.output];
    const out = new Float32Array(to.reduce((a, b) => a * b, 1));
    const coordinate = new Array<number>(to.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let source = 0;
      for (let d = 0; d < from.length; d++) source = source * from[d] + coordinate[d] + begin[d];
      out[i] = x[source];
      for (let d = to.length - 1; d >= 0 && ++coordinate[d] === to[d]; d--) coordinate[d] = 0;
    }
    return out;
  },
  form: ({ begin }, shapes) => ({
    kind: "term",
    build: ([x]) => sliceView(x, begin, shapes.output),
  }),
  vjp: (g, [x], { begin }) => [
    padConstant(g, begin, x.shape.map((d, i) => d - begin[i] - g.shape[i])),
  ],
};

/**
 * The block of `size` starting at `begin` (NumPy's `x[b0:b0+s0, b1:b1+s1, …]`).
 *
 * @param x A tensor.
 * @param begin The first index in each dimension, integers ≥ 0.
 * @param size The extent in each dimension, integers ≥ 1 (−1: to the end).
 * @returns A new tensor of `size`.
 * @example
 * ```ts
 * import { cpu, slice } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using s = slice(x, [0, 1], [2, 2]);
 * console.log(await s.read()); // Float32Array [2, 3, 5, 6]
 * ```
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  checkArity("slice", arguments, 3);
  const op = "slice";
  const [input] = checkTensors(op, { x });
  const rank = input.shape.length;
  for (const [name, list] of [["begin", begin], ["size", size]] as const) {
    if (!Array.isArray(list) || list.length !== rank) {
      throw new TypeError(
        `${op}: expected ${name} to be an array of ${rank} integers for shape ${
          formatShape(input.shape)
        }, got ${describeShape(list)}`,
      );
    }
  }
  const start = input.shape.map((d, i) =>
    checkInteger(op, `begin[${i}]`, begin[i], { min: 0, max: d - 1 })
  );
  const extent = input.shape.map((d, i) =>
    size[i] === -1
      ? d - start[i]
      : checkInteger(op, `size[${i}]`, size[i], { min: 1, max: d - start[i] })
  );
  return runOp(sliceOp, [input], { begin: start }, extent);
}

const reverseOp: OpDefinition<{ axes: readonly number[] }> = {
  name: "reverse",
  reference([x], { axes }, shapes) {
    const shape = shapes.output;
    const out = new Float32Array(x.length);
    const coordinate = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < out.length; i++) {
      let source = 0;
      for (let d = 0; d < shape.length; d++) {
        source = source * shape[d] +
          (axes.includes(d) ? shape[d] - 1 - coordinate[d] : coordinate[d]);
      }
      out[i] = x[source];
      for (let d = shape.length - 1; d >= 0 && ++coordinate[d] === shape[d]; d--) coordinate[d] = 0;
    }
    return out;
  },
  form: ({ axes }) => ({ kind: "term", build: ([x]) => reverseView(x, axes) }),
  vjp: (g, _inputs, { axes }) => [reverse(g, axes)],
};

/**
 * `x` read backwards along `axes` (NumPy's `flip`); with no axes, along every axis: the
 * elements in reverse row-major order, for a 2-D tensor a turn by 180°.
 *
 * @param x A tensor.
 * @param axes An axis or a list of distinct axes (negative counts from the end); absent:
 *   every axis.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, reverse } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4], [2, 2]);
 * using turned = reverse(x);
 * using mirrored = reverse(x, -1);
 * console.log(await turned.read(), await mirrored.read()); // Float32Array [4, 3, 2, 1] Float32Array [2, 1, 4, 3]
 * ```
 */
export function reverse(x: Tensor, axes?: number | readonly number[]): Tensor {
  checkArity("reverse", arguments, 2);
  const [input] = checkTensors("reverse", { x });
  const flipped = checkAxes("reverse", axes, input.shape.length);
  return runOp(reverseOp, [input], { axes: flipped }, input.shape);
}

const concatOp: OpDefinition<{ axis: number }> = {
  name: "concat",
  reference(inputs, { axis }, shapes) {
    const to = shapes.output;
    const outer = to.slice(0, axis).reduce((a, b) => a * b, 1);
    const out = new Float32Array(to.reduce((a, b) => a * b, 1));
    let offset = 0;
    for (let o = 0; o < outer; o++) {
      for (const x of inputs) {
        const block = x.length / outer;
        out.set(x.subarray(o * block, (o + 1) * block), offset);
        offset += block;
      }
    }
    return out;
  },
  // Each input is the output padded along the axis; outside it, the next input is read.
  form: ({ axis }, shapes) => ({
    kind: "term",
    build: (inputs) => {
      const total = shapes.output[axis];
      let start = total;
      let term: Term | undefined;
      for (let k = inputs.length - 1; k >= 0; k--) {
        start -= shapes.inputs[k][axis];
        const around = (after: number) => shapes.output.map((_, d) => (d === axis ? after : 0));
        term = padView(
          inputs[k],
          around(start),
          around(total - start - shapes.inputs[k][axis]),
          term,
        );
      }
      return term!;
    },
  }),
  vjp(g, inputs, { axis }, needed) {
    let start = 0;
    return inputs.map((x, k) => {
      const begin = g.shape.map((_, d) => (d === axis ? start : 0));
      start += x.shape[axis];
      return needed[k] ? slice(g, begin, x.shape) : null;
    });
  },
};

/**
 * Joins tensors along an existing axis (NumPy's `concatenate`): all have the same rank
 * and agree in every other dimension.
 *
 * @param tensors Tensors of one backend.
 * @param options `axis` (default 0; negative counts from the end).
 * @returns A new tensor whose `axis` is the sum of theirs.
 * @example
 * ```ts
 * import { concat, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using rows = concat([ref.tensor([1, 2], [1, 2]), ref.tensor([3, 4, 5, 6], [2, 2])]);
 * using both = concat([ref.tensor([1], [1]), ref.tensor([2, 3])]);
 * console.log(rows.shape, await both.read()); // [3, 2] Float32Array [1, 2, 3]
 * ```
 */
export function concat(tensors: readonly Tensor[], options?: { readonly axis?: number }): Tensor {
  checkArity("concat", arguments, 2);
  const op = "concat";
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${op}: expected a non-empty array of tensors, got ${describe(tensors)}`);
  }
  // Array.from, not map: a hole in a sparse array is checked as `undefined`.
  const inputs = checkTensors(
    op,
    Object.fromEntries(Array.from(tensors, (t, i) => [`tensors[${i}]`, t])),
  );
  const rank = inputs[0].shape.length;
  if (rank === 0) {
    throw new RangeError(
      `${op}: expected tensors of at least one dimension, got scalars (reshape them to [1])`,
    );
  }
  const o = checkOptions(op, options, false, ["axis"]);
  const axis = o.axis === undefined
    ? 0
    : checkInteger(op, "axis", o.axis, { min: -rank, max: rank - 1 });
  const a = axis < 0 ? axis + rank : axis;
  inputs.forEach((t, k) => {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== inputs[0].shape[i])) {
      throw new RangeError(
        `${op}: expected shapes that agree except along axis ${a}, got ${
          formatShape(inputs[0].shape)
        } and ${formatShape(t.shape)} (tensors[${k}])`,
      );
    }
  });
  const total = inputs.reduce((n, t) => n + t.shape[a], 0);
  const shape = inputs[0].shape.map((d, i) => (i === a ? total : d));
  checkResultSize(op, inputs[0].backend, shape);
  if (inputs.length > CONCAT_INPUTS) {
    return scope(() => {
      const groups = [];
      for (let k = 0; k < inputs.length; k += CONCAT_INPUTS) {
        const group = inputs.slice(k, k + CONCAT_INPUTS);
        groups.push(group.length === 1 ? group[0] : concat(group, { axis: a }));
      }
      return concat(groups, { axis: a });
    });
  }
  return runOp(concatOp, inputs, { axis: a }, shape);
}
