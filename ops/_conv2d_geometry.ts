/**
 * @file The geometry of a 2-D window sliding over an NCHW image, checked at the public
 * boundary: strides and dilations (`n | [sh, sw]`), padding (`n | [ph, pw] |
 * [[top, bottom], [left, right]] | "valid" | "same"`) and the output size, all with
 * PyTorch's semantics (`torch.nn.functional.conv2d`): the output has
 * ⌊(H + top + bottom − dilation·(k − 1) − 1) / stride⌋ + 1 rows, and `"same"` (stride 1
 * only) pads dilation·(k − 1) in all, the odd one below and to the right.
 */
import { describeValue } from "../kernels/_checks.ts";
import { checkInteger } from "./_validate.ts";

/** A size per spatial dimension: one for both, or `[rows, columns]`. */
export type Size2d = number | readonly [number, number];

/** Padding2d: one for every side, `[rows, columns]`, per side, or by name. */
export type Padding2d =
  | number
  | readonly [number, number]
  | readonly [readonly [number, number], readonly [number, number]]
  | "valid"
  | "same";

/**
 * The largest stride, dilation or padding: far past any image a tensor holds, and small
 * enough that the kernels' index arithmetic (padded image sizes in i32) cannot overflow.
 */
export const MAX_GEOMETRY = 2 ** 24;

/** Zero rows and columns added to each side, `[top, bottom, left, right]`. */
export type Sides = readonly [number, number, number, number];

/** Checks a stride or dilation: an integer ≥ 1 or a pair of them; returns `[rows, columns]`. */
export function checkPair(op: string, name: string, value: unknown): [number, number] {
  if (typeof value === "number") {
    checkInteger(op, name, value, { min: 1, max: MAX_GEOMETRY });
    return [value, value];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new TypeError(
      `${op}: expected ${name} to be an integer in [1, ${MAX_GEOMETRY}] or a pair [rows, columns] of them, got ${
        describeValue(value)
      }`,
    );
  }
  return [
    checkInteger(op, `${name}[0]`, value[0], { min: 1, max: MAX_GEOMETRY }),
    checkInteger(op, `${name}[1]`, value[1], { min: 1, max: MAX_GEOMETRY }),
  ];
}

/**
 * Checks `padding` for a window of `extent` (dilation·(k − 1) + 1 per dimension) moved by
 * `stride`; returns its sides.
 */
export function checkPadding(
  op: string,
  value: unknown,
  extent: readonly [number, number],
  stride: readonly [number, number],
): Sides {
  if (value === "valid") return [0, 0, 0, 0];
  if (value === "same") {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw new RangeError(
        `${op}: expected stride 1 with padding "same", got stride [${stride.join(", ")}]`,
      );
    }
    const [top, left] = extent.map((e) => Math.floor((e - 1) / 2));
    return [top, extent[0] - 1 - top, left, extent[1] - 1 - left];
  }
  const side = (name: string, v: unknown) =>
    checkInteger(op, name, v, { min: 0, max: MAX_GEOMETRY });
  if (typeof value === "number") {
    const p = side("padding", value);
    return [p, p, p, p];
  }
  if (Array.isArray(value) && value.length === 2) {
    if (Array.isArray(value[0]) && Array.isArray(value[1])) {
      const [[t, b], [l, r]] = value;
      if (value[0].length === 2 && value[1].length === 2) {
        return [
          side("padding[0][0]", t),
          side("padding[0][1]", b),
          side("padding[1][0]", l),
          side("padding[1][1]", r),
        ];
      }
    } else {
      const ph = side("padding[0]", value[0]), pw = side("padding[1]", value[1]);
      return [ph, ph, pw, pw];
    }
  }
  throw new TypeError(
    `${op}: expected padding to be an integer in [0, ${MAX_GEOMETRY}], [rows, columns], [[top, bottom], [left, right]], "valid" or "same", got ${
      describeValue(value)
    }`,
  );
}

/**
 * The output's size along one dimension, or a `RangeError` naming `op` when the window
 * (of `extent`) is larger than the padded image.
 */
export function slidingSize(
  op: string,
  what: string,
  size: number,
  extent: number,
  before: number,
  after: number,
  stride: number,
): number {
  const padded = size + before + after;
  if (extent > padded) {
    throw new RangeError(
      `${op}: expected a kernel no larger than the padded image, got a kernel ${what} of ${extent} (dilated) for a padded ${what} of ${padded}`,
    );
  }
  return Math.floor((padded - extent) / stride) + 1;
}
