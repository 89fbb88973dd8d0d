/**
 * @file Ops that move values without arithmetic, on the index-map kernels of
 * `kernels/gather.ts`: `takeRows` (minibatches), and `pad2d` and `reverse`, which give
 * `corr2d` its input gradient (a full correlation with the kernel turned by 180°); and
 * `concat`, buffer copies that gather scalars (losses) into one read.
 * Being copies, they are exact on every backend. `takeRows` `pad2d` and `concat`
 * are not differentiable (training differentiates neither data selection nor the
 * gradient nor its logging).
 */
import { encodeIndexMap, encodeTakeRows } from "../kernels/gather.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkInteger, checkRank, checkResultSize, checkTensors } from "./_validate.ts";
import { describe, type Tensor } from "./tensor.ts";

const takeRowsOp: OpDefinition<{ rows: Uint32Array<ArrayBuffer>; columns: number }> = {
  name: "takeRows",
  reference([x], { rows, columns }) {
    const out = new Float32Array(rows.length * columns);
    rows.forEach((r, i) => out.set(x.subarray(r * columns, (r + 1) * columns), i * columns));
    return out;
  },
  kernel: encodeTakeRows,
};

/**
 * Checks row indices for a tensor of `n` rows: a non-empty array-like of integers in
 * [0, n); returns them as a `Uint32Array`.
 */
export function checkRows(op: string, rows: unknown, n: number): Uint32Array<ArrayBuffer> {
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
  return Uint32Array.from({ length: list.length }, (_, i) => {
    const r = list[i];
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= n) {
      throw new RangeError(
        `${op}: expected row indices in [0, ${n}), got ${
          typeof r === "number" ? r : describe(r)
        } at position ${i}`,
      );
    }
    return r;
  });
}

/**
 * The rows of a 2-D tensor at the given indices, in that order (a minibatch).
 *
 * @param x A `[n, c]` tensor.
 * @param rows Row indices, integers in [0, n); repeats allowed.
 * @returns A new `[rows.length, c]` tensor.
 * @example
 * ```ts
 * import { cpu, takeRows } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6], [3, 2]);
 * using batch = takeRows(x, [2, 0]);
 * console.log(await batch.read()); // Float32Array [5, 6, 1, 2]
 * ```
 */
export function takeRows(x: Tensor, rows: ArrayLike<number>): Tensor {
  const op = "takeRows";
  const [input] = checkTensors(op, { x });
  checkRank(op, "x", input, 2);
  const [n, columns] = input.shape;
  const indices = checkRows(op, rows, n);
  checkResultSize(op, input.backend, [indices.length, columns]);
  return runOp(takeRowsOp, [input], { rows: indices, columns }, [indices.length, columns]);
}

const padOp: OpDefinition<{ h: number; w: number; ph: number; pw: number }> = {
  name: "pad2d",
  reference([x], { h, w, ph, pw }) {
    const ow = w + 2 * pw;
    const out = new Float32Array((h + 2 * ph) * ow);
    for (let r = 0; r < h; r++) out.set(x.subarray(r * w, (r + 1) * w), (r + ph) * ow + pw);
    return out;
  },
  kernel(runtime, inputs, output, params) {
    encodeIndexMap(runtime, inputs, output, {
      op: "pad2d",
      source: `select(-1, i32((i / (params.w + 2u * params.pw) - params.ph) * params.w +
        i % (params.w + 2u * params.pw) - params.pw),
        i / (params.w + 2u * params.pw) - params.ph < params.h &&
        i % (params.w + 2u * params.pw) - params.pw < params.w)`,
      params,
    });
  },
};

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
  const op = "pad2d";
  const [input] = checkTensors(op, { x });
  checkRank(op, "x", input, 2);
  checkInteger(op, "ph", ph, { min: 0 });
  checkInteger(op, "pw", pw, { min: 0 });
  const [h, w] = input.shape;
  return runOp(padOp, [input], { h, w, ph, pw }, [h + 2 * ph, w + 2 * pw]);
}

const reverseOp: OpDefinition<void> = {
  name: "reverse",
  reference: ([x]) => x.slice().reverse(),
  kernel(runtime, inputs, output) {
    encodeIndexMap(runtime, inputs, output, {
      op: "reverse",
      source: "i32(params.last - i)",
      params: { last: output.byteLength / 4 - 1 },
    });
  },
  vjp: (g) => [reverse(g)],
};

/**
 * The elements in reverse row-major order; for a 2-D tensor, a turn by 180°.
 *
 * @param x A tensor.
 * @returns A new tensor of `x`'s shape.
 * @example
 * ```ts
 * import { cpu, reverse } from "@deno-gpu/kernels";
 * using turned = reverse(cpu().tensor([1, 2, 3, 4], [2, 2]));
 * console.log(await turned.read()); // Float32Array [4, 3, 2, 1]
 * ```
 */
export function reverse(x: Tensor): Tensor {
  const [input] = checkTensors("reverse", { x });
  return runOp(reverseOp, [input], undefined, input.shape);
}

const concatOp: OpDefinition<void> = {
  name: "concat",
  reference(inputs) {
    const out = new Float32Array(inputs.reduce((n, x) => n + x.length, 0));
    let offset = 0;
    for (const x of inputs) {
      out.set(x, offset);
      offset += x.length;
    }
    return out;
  },
  kernel(runtime, inputs, output) {
    let offset = 0;
    for (const x of inputs) {
      runtime.copy("concat", x, output, offset);
      offset += x.byteLength / 4;
    }
  },
};

/**
 * The elements of several tensors, in order, as one 1-D tensor: a way to read many
 * small results (losses, say) with one wait.
 *
 * @param tensors Tensors of one backend, any shapes.
 * @returns A new `[total size]` tensor.
 * @example
 * ```ts
 * import { concat, cpu } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using both = concat([ref.tensor([1], []), ref.tensor([2, 3])]);
 * console.log(await both.read()); // Float32Array [1, 2, 3]
 * ```
 */
export function concat(tensors: readonly Tensor[]): Tensor {
  const op = "concat";
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(`${op}: expected a non-empty array of tensors, got ${describe(tensors)}`);
  }
  // Array.from, not map: a hole in a sparse array is checked as `undefined`.
  const inputs = checkTensors(
    op,
    Object.fromEntries(Array.from(tensors, (t, i) => [`tensors[${i}]`, t])),
  );
  return runOp(concatOp, inputs, undefined, [inputs.reduce((n, t) => n + t.size, 0)]);
}
