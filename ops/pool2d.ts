/**
 * @file `maxPool2d` and `avgPool2d` over NCHW images, with PyTorch's semantics
 * (`torch.nn.functional.max_pool2d`, `avg_pool2d`; `ceil_mode` false, no dilation):
 * output OH = ⌊(H + 2·ph − kh)/sh⌋ + 1, likewise OW; the stride defaults to the
 * kernel; padding adds ph rows above and below (pw columns left and right), at most
 * half the kernel, so every window holds an element of the image. `maxPool2d` pads
 * with −Inf and a NaN in a window gives NaN; `avgPool2d` pads with zeros and counts
 * them (`count_include_pad`): every window divides by kh·kw.
 *
 * On the GPU the forward pass is a generated reduction — max, or a sum times
 * fl(1/(kh·kw)) — over a strided view [N, C, OH, OW, kh, kw] of the padded image, so it
 * copies nothing and `jit` fuses the ops before and after it. The gradients are a
 * kernel of their own (`kernels/pool2d_grad.ts`), except avgPool2d's where the windows
 * tile the image, a fusable term (see `tiles`): `avgPool2d` spreads a window's
 * gradient evenly over its kh·kw cells, `maxPool2d` routes it to the window's first
 * maximum in row-major order (PyTorch's tie rule; the first NaN where there is one).
 */
import { call, input, scalar } from "../kernels/expression.ts";
import { encodePool2dGrad, type Pool2dWindow, type PoolMode } from "../kernels/pool2d_grad.ts";
import {
  mapTerm,
  padView,
  reshapeTerm,
  stridedView,
  stridesOf,
  type Term,
} from "../kernels/term.ts";
import type { OpForm, OpShapes } from "../kernels/forms.ts";
import { type OpDefinition, runOp } from "./_op.ts";
import { checkArity, checkInteger, checkOptions, checkTensors } from "./_validate.ts";
import { describe, formatShape, type Tensor } from "./tensor.ts";

/** A pooling's validated parameters: its mode and window. */
interface PoolParams extends Pool2dWindow {
  readonly mode: PoolMode;
}

/** The output's height and width for an [H, W] image. */
function outputSize(h: number, w: number, p: Pool2dWindow): [number, number] {
  return [
    Math.floor((h + 2 * p.ph - p.kh) / p.sh) + 1,
    Math.floor((w + 2 * p.pw - p.kw) / p.sw) + 1,
  ];
}

/**
 * The windows of `x` [N, C, H, W] as a view [N, C, OH, OW, kh, kw] of it padded with
 * `outside` (zero when absent): window (oh, ow), cell (r, c) reads padded row
 * oh·sh + r, column ow·sw + c.
 */
function windowsView(x: Term, p: Pool2dWindow, output: readonly number[], outside?: Term): Term {
  const [n, c] = x.shape;
  const padded = padView(x, [0, 0, p.ph, p.pw], [0, 0, p.ph, p.pw], outside);
  const [ns, cs, rs] = stridesOf(padded.shape);
  return stridedView(
    padded,
    [n, c, output[2], output[3], p.kh, p.kw],
    [ns, cs, p.sh * rs, p.sw, rs, 1],
    0,
  );
}

/**
 * Visits every window of an NCHW image of `shape` pooled to `output`, in row-major
 * order: `visit(plane, o, cells)` with the image plane (n·C + c), the window's flat
 * output index in its plane, and the flat indices in the plane of the window's cells
 * that lie inside the image, row-major.
 */
function forEachWindow(
  shape: readonly number[],
  output: readonly number[],
  p: Pool2dWindow,
  visit: (plane: number, o: number, cells: readonly number[]) => void,
): void {
  const [n, c, h, w] = shape;
  const [oh, ow] = [output[2], output[3]];
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells: number[] = [];
        for (let r = oy * p.sh - p.ph; r < oy * p.sh - p.ph + p.kh; r++) {
          for (let col = ox * p.sw - p.pw; col < ox * p.sw - p.pw + p.kw; col++) {
            if (r >= 0 && r < h && col >= 0 && col < w) cells.push(r * w + col);
          }
        }
        visit(plane, oy * ow + ox, cells);
      }
    }
  }
}

/** The first of `cells` (offset by `base` in `x`) holding their maximum; a NaN, the first one. */
function firstMaximum(x: ArrayLike<number>, base: number, cells: readonly number[]): number {
  let at = cells[0];
  for (const cell of cells) {
    const v = x[base + cell], best = x[base + at];
    if (!Number.isNaN(best) && (Number.isNaN(v) || v > best)) at = cell;
  }
  return at;
}

/** The forward pooling of `mode`: the reference's loops, the generated reduction, the vjp. */
function poolOp(mode: PoolMode): OpDefinition<PoolParams> {
  return {
    name: `${mode}Pool2d`,
    reference([x], p, { inputs: [shape], output }) {
      const out = new Float32Array(output.reduce((a, b) => a * b, 1));
      const [planeIn, planeOut] = [shape[2] * shape[3], output[2] * output[3]];
      forEachWindow(shape, output, p, (plane, o, cells) => {
        const base = plane * planeIn;
        let sum = 0; // float64; the padded zeros add nothing but count in kh·kw
        for (const cell of cells) sum += x[base + cell];
        out[plane * planeOut + o] = mode === "max"
          ? x[base + firstMaximum(x, base, cells)]
          : sum / (p.kh * p.kw);
      });
      return out;
    },
    form(p, { inputs: [shape], output }) {
      const padded = [shape[0], shape[1], shape[2] + 2 * p.ph, shape[3] + 2 * p.pw];
      return mode === "max"
        ? {
          kind: "reduce",
          reducer: "max",
          axes: [4, 5],
          prologue: (x) => windowsView(x, p, output, mapTerm(scalar(-Infinity), [], padded)),
        }
        : {
          kind: "reduce",
          reducer: "sum",
          axes: [4, 5],
          prologue: (x) => windowsView(x, p, output),
          epilogue: (r) => mapTerm(call("mul", input(0), scalar(1 / (p.kh * p.kw))), [r], r.shape),
        };
    },
    vjp(g, [x], p) {
      if (mode === "max") return [runOp(maxPoolGradOp, [x, g], p, x.shape)];
      return [runOp(tiles(x.shape, p) ? avgPoolTileGradOp : avgPoolGradOp, [g], p, x.shape)];
    },
  };
}

/**
 * Whether the windows tile an image of `shape` exactly: stride = kernel, no padding, the
 * image a whole number of windows (LeNet's 2×2 pooling of even sizes). Each cell is then
 * in one window, and avgPool2d's gradient at it is that window's over kh·kw.
 */
function tiles(shape: readonly number[], p: Pool2dWindow): boolean {
  return p.sh === p.kh && p.sw === p.kw && p.ph === 0 && p.pw === 0 &&
    shape[2] % p.kh === 0 && shape[3] % p.kw === 0;
}

/**
 * The input gradient of a pooling of `mode`: inputs (x, g) for max, (g) for avg. With
 * `tiled` (avg only, windows that {@linkcode tiles}), a term instead of the kernel: g
 * broadcast over each window's cells, times fl(1/(kh·kw)) as the kernel scales it, so
 * `jit` fuses it into the gradient that consumes it.
 */
function poolGradOp(mode: PoolMode, tiled = false): OpDefinition<PoolParams> {
  return {
    name: `${mode}Pool2dGrad`,
    reference(inputs, p, { inputs: shapes, output: shape }) {
      const g = inputs[inputs.length - 1], x = inputs[0];
      const gShape = shapes[shapes.length - 1];
      const dx = new Float64Array(shape.reduce((a, b) => a * b, 1));
      const [planeIn, planeOut] = [shape[2] * shape[3], gShape[2] * gShape[3]];
      forEachWindow(shape, gShape, p, (plane, o, cells) => {
        const base = plane * planeIn, go = g[plane * planeOut + o];
        if (mode === "max") dx[base + firstMaximum(x, base, cells)] += go;
        else for (const cell of cells) dx[base + cell] += go / (p.kh * p.kw);
      });
      return Float32Array.from(dx);
    },
    ...(tiled
      ? {
        form: (p: PoolParams, { inputs: [[n, c, oh, ow]], output: shape }: OpShapes): OpForm => ({
          kind: "term",
          build: ([g]) => {
            const spread = stridedView(g, [n, c, oh, p.kh, ow, p.kw], [
              c * oh * ow,
              oh * ow,
              ow,
              0,
              1,
              0,
            ], 0);
            const scale = call("mul", input(0), scalar(1 / (p.kh * p.kw)));
            return mapTerm(scale, [reshapeTerm(spread, shape)], shape);
          },
        }),
      }
      : {
        kernel(runtime, inputs, output, p, { inputs: shapes, output: shape }) {
          const gShape = shapes[shapes.length - 1];
          encodePool2dGrad(
            runtime,
            inputs,
            output,
            p,
            [shape[2], shape[3]],
            [gShape[2], gShape[3]],
          );
        },
      }),
    // avgPool2d's gradient is linear in g, and its adjoint is avgPool2d itself; maxPool2d's
    // has no vjp (a second derivative of maxPool2d is an error naming it).
    ...(mode === "avg"
      ? {
        vjp: (
          gg: Tensor,
          [g]: readonly Tensor[],
          p: PoolParams,
        ) => [runOp(avgPoolOp, [gg], p, g.shape)],
      }
      : {}),
  };
}

const maxPoolOp = poolOp("max");
const avgPoolOp = poolOp("avg");
const maxPoolGradOp = poolGradOp("max");
const avgPoolGradOp = poolGradOp("avg");
const avgPoolTileGradOp = poolGradOp("avg", true);

/** A pooling's options. */
export interface Pool2dOptions {
  /** The window: kh = kw = n, or [kh, kw]. */
  readonly kernel: number | readonly [number, number];
  /** The step between windows: n or [sh, sw]; the kernel by default. */
  readonly stride?: number | readonly [number, number];
  /** Rows added above and below, columns left and right: n or [ph, pw], at most half the kernel; 0 by default. */
  readonly padding?: number | readonly [number, number];
}

/** Checks `n | [a, b]` of integers ≥ `min` and returns the pair. */
function checkPair(op: string, name: string, value: unknown, min: number): [number, number] {
  if (typeof value === "number") {
    const v = checkInteger(op, name, value, { min });
    return [v, v];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(
      `${op}: expected ${name} to be an integer or a pair of integers, got ${describe(value)}${
        Array.isArray(value) ? ` of length ${value.length}` : ""
      }`,
    );
  }
  return [
    checkInteger(op, `${name}[0]`, value[0], { min }),
    checkInteger(op, `${name}[1]`, value[1], { min }),
  ];
}

/** Validates a pooling's input and options and runs it. */
function pool(mode: PoolMode, x: unknown, options: unknown): Tensor {
  const op = `${mode}Pool2d`;
  const [image] = checkTensors(op, { x });
  if (image.shape.length !== 4) {
    throw new RangeError(
      `${op}: expected x to be [N, C, H, W] (4 dimensions), got shape ${formatShape(image.shape)}`,
    );
  }
  const o = checkOptions(op, options, true, ["kernel", "stride", "padding"]);
  const [kh, kw] = checkPair(op, "kernel", o.kernel, 1);
  const [sh, sw] = o.stride === undefined ? [kh, kw] : checkPair(op, "stride", o.stride, 1);
  const [ph, pw] = o.padding === undefined ? [0, 0] : checkPair(op, "padding", o.padding, 0);
  if (2 * ph > kh || 2 * pw > kw) {
    throw new RangeError(
      `${op}: expected padding at most half the kernel, got padding [${ph}, ${pw}] for kernel [${kh}, ${kw}]`,
    );
  }
  const [n, c, h, w] = image.shape;
  if (kh > h + 2 * ph || kw > w + 2 * pw) {
    throw new RangeError(
      `${op}: expected a kernel no larger than the padded image, got kernel [${kh}, ${kw}] for image ${
        formatShape([h, w])
      } padded to [${h + 2 * ph}, ${w + 2 * pw}]`,
    );
  }
  const params: PoolParams = { mode, kh, kw, sh, sw, ph, pw };
  const [oh, ow] = outputSize(h, w, params);
  return runOp(mode === "max" ? maxPoolOp : avgPoolOp, [image], params, [n, c, oh, ow]);
}

/**
 * 2-D max pooling of NCHW images, as PyTorch's `max_pool2d`: each output is the maximum
 * of a kh×kw window, windows `stride` apart over the image padded with −Inf; a NaN in a
 * window gives NaN. Its gradient goes to each window's first maximum (row-major).
 *
 * @param x The images, `[N, C, H, W]`.
 * @param options `kernel`, `stride` (default: the kernel), `padding` (default 0, at most
 * half the kernel): each a number or a `[rows, columns]` pair.
 * @returns A new `[N, C, ⌊(H + 2·ph − kh)/sh⌋ + 1, ⌊(W + 2·pw − kw)/sw⌋ + 1]` tensor.
 * @example
 * ```ts
 * import { cpu, maxPool2d } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
 * using y = maxPool2d(x, { kernel: 2 });
 * console.log(y.shape, await y.read()); // [1, 1, 2, 2] Float32Array [6, 8, 14, 16]
 * ```
 */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  checkArity("maxPool2d", arguments, 2);
  return pool("max", x, options);
}

/**
 * 2-D average pooling of NCHW images, as PyTorch's `avg_pool2d` with its defaults: each
 * output is the mean of a kh×kw window, windows `stride` apart over the image padded
 * with zeros, which count (`count_include_pad`): every window divides by kh·kw. Its
 * gradient spreads each window's evenly over its kh·kw cells.
 *
 * @param x The images, `[N, C, H, W]`.
 * @param options `kernel`, `stride` (default: the kernel), `padding` (default 0, at most
 * half the kernel): each a number or a `[rows, columns]` pair.
 * @returns A new `[N, C, ⌊(H + 2·ph − kh)/sh⌋ + 1, ⌊(W + 2·pw − kw)/sw⌋ + 1]` tensor.
 * @example
 * ```ts
 * import { avgPool2d, cpu } from "@deno-gpu/kernels";
 * using x = cpu().tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
 * using y = avgPool2d(x, { kernel: 2, stride: 1 });
 * console.log(y.shape, await y.read()); // [1, 1, 2, 2] Float32Array [3, 4, 6, 7]
 * ```
 */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  checkArity("avgPool2d", arguments, 2);
  return pool("avg", x, options);
}
