/**
 * @file Validation at the public boundary, shared by every op. Each check throws a
 * `TypeError` or `RangeError` whose message names the op, what was expected and what
 * was given, before any GPU work is encoded. The checks of plain arguments — how many
 * there are, option keys, numbers, integers, flags — live in `kernels/_checks.ts` (the
 * runtime uses them too) and are re-exported here, so the library imports every check
 * from this file.
 */
import { checkElementCount } from "../kernels/_checks.ts";
import { recorderFor } from "./_trace.ts";
import { describeTypes, type DType, FLOAT_TYPES } from "./dtype.ts";
import {
  type Backend,
  describe,
  formatShape,
  isBackend,
  isTensor,
  type Tensor,
  tensorOrigin,
} from "./tensor.ts";

export {
  checkArity,
  checkFlag,
  checkInteger,
  checkNumber,
  checkOptions,
} from "../kernels/_checks.ts";

/** Checks that `value` is a backend from `cpu()` or `gpu()`. */
export function checkBackend(op: string, value: unknown): Backend {
  if (!isBackend(value)) {
    throw new TypeError(`${op}: expected a backend from cpu() or gpu(), got ${describe(value)}`);
  }
  return value;
}

/** Checks that `value` is a live tensor. */
export function checkTensor(op: string, name: string, value: unknown): Tensor {
  if (!isTensor(value)) {
    throw new TypeError(`${op}: expected ${name} to be a tensor, got ${describe(value)}`);
  }
  if (value.disposed) {
    throw new TypeError(`${op}: expected ${name} to be a live tensor, got a disposed one`);
  }
  const origin = tensorOrigin(value);
  if (origin === "traced") {
    if (!recorderFor(value.backend)) {
      throw new TypeError(
        `${op}: expected ${name} to be a tensor, got a traced tensor of a jitted function outside that function`,
      );
    }
    return value;
  }
  if (origin !== "stored") {
    throw new TypeError(
      `${op}: expected ${name} to be a tensor made by cpu() or gpu(), got a ${value.constructor.name}`,
    );
  }
  return value;
}

/**
 * Checks that named tensors are live, share one backend and have types `op` takes
 * (`takes`: the float types unless given, as most ops take); returns them in order.
 */
export function checkTensors(
  op: string,
  named: Record<string, unknown>,
  takes: readonly DType[] = FLOAT_TYPES,
): Tensor[] {
  const entries = Object.entries(named).map(([name, v]) =>
    [name, checkTensor(op, name, v)] as const
  );
  for (const [name, t] of entries) checkType(op, name, t, takes);
  const [firstName, first] = entries[0];
  for (const [name, t] of entries.slice(1)) {
    if (t.backend !== first.backend) {
      throw new TypeError(
        `${op}: expected ${firstName} and ${name} on the same backend, got ${first.backend.kind} ` +
          `(${first.backend.name}) and ${t.backend.kind} (${t.backend.name})`,
      );
    }
  }
  return entries.map(([, t]) => t);
}

/** Checks that tensor `t`, argument `name` of `op`, has one of the types `takes`. */
export function checkType(op: string, name: string, t: Tensor, takes: readonly DType[]): void {
  if (!takes.includes(t.dtype)) {
    throw new TypeError(`${op}: expected ${name} to be ${describeTypes(takes)}, got ${t.dtype}`);
  }
}

/**
 * Checks that `tensors` (arguments of `op` that are joined into one tensor: concat's,
 * stack's) have one element type; returns them.
 */
export function checkOneType(op: string, tensors: Tensor[]): Tensor[] {
  const other = tensors.find((t) => t.dtype !== tensors[0].dtype);
  if (other) {
    throw new TypeError(
      `${op}: expected tensors of one type, got ${tensors[0].dtype} and ${other.dtype}`,
    );
  }
  return tensors;
}

/**
 * Checks that a result of `shape` fits one tensor of `backend` ({@linkcode Backend.maxElements});
 * else a `RangeError` naming `op` and the limit. Returns the element count.
 */
export function checkResultSize(op: string, backend: Backend, shape: readonly number[]): number {
  const size = shape.reduce((a, b) => a * b, 1);
  checkElementCount(op, size, backend.maxElements);
  return size;
}

/** Checks that a tensor has `rank` dimensions. */
export function checkRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) {
    throw new RangeError(
      `${op}: expected ${name} to have ${rank} dimensions, got shape ${formatShape(t.shape)}`,
    );
  }
}

/** Checks that two tensors have the same shape. */
export function checkSameShape(op: string, names: [string, string], a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(
      `${op}: expected ${names[0]} and ${names[1]} to have the same shape, got ${
        formatShape(a.shape)
      } and ${formatShape(b.shape)}`,
    );
  }
}

/**
 * Checks an `axis` option for a tensor of `rank` dimensions: an integer or a list of
 * distinct integers in [−rank, rank) (negative counts from the end); `undefined` means
 * every axis. Returns the axes, non-negative and ascending.
 */
export function checkAxes(op: string, axis: unknown, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, d) => d);
  const list = typeof axis === "number" ? [axis] : axis;
  if (!Array.isArray(list)) {
    throw new TypeError(
      `${op}: expected axis to be an integer or an array of integers, got ${describe(axis)}`,
    );
  }
  const axes = Array.from(list, (a) => {
    if (typeof a !== "number" || !Number.isInteger(a) || a < -rank || a >= rank) {
      throw new RangeError(
        `${op}: expected axes to be integers in [${-rank}, ${rank}) for a tensor of ${rank} dimensions, got ${
          typeof a === "number" ? a : describe(a)
        }`,
      );
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(axes).size !== axes.length) {
    throw new RangeError(`${op}: expected distinct axes, got [${list.join(", ")}]`);
  }
  return axes.sort((a, b) => a - b);
}
