/**
 * @file Checks of plain arguments shared by every public function: how many arguments
 * it was given, the keys of an options object, numbers, integers, flags and element
 * counts. Each throws a `TypeError` or `RangeError` whose message names the function,
 * what was expected and what was given, so that no argument is silently ignored. They
 * sit at the bottom of the import graph so that the runtime (`new GpuRuntime(device,
 * options)`, its allocations) checks its input with the same code as the ops; `ops/_validate.ts` re-exports them beside the checks of
 * tensors, and the library imports them from there.
 */

/**
 * A short description of a value's type for error messages. A tensor is known by its own
 * frozen `shape` (this file sits below the tensor type), read without calling a getter.
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const shape = Object.getOwnPropertyDescriptor(value, "shape")?.value;
    if (Array.isArray(shape) && Object.isFrozen(shape)) {
      return `a tensor of shape [${shape.join(", ")}]`;
    }
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name ? name : "an object";
  }
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${value}`;
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  return typeof value;
}

/**
 * Checks that a function was given at most `max` arguments: pass it `arguments`. An
 * argument past the last parameter would otherwise be ignored without a word
 * (`sum(x, 1)` summing everything).
 */
export function checkArity(op: string, args: ArrayLike<unknown>, max: number): void {
  if (args.length > max) {
    const expected = max === 0 ? "no arguments" : `at most ${max} argument${max === 1 ? "" : "s"}`;
    throw new TypeError(`${op}: expected ${expected}, got ${args.length}`);
  }
}

/**
 * Checks that an options argument is a plain object (or undefined, if allowed) and,
 * when `keys` is given, that it names no other option: a misspelt option is an error,
 * never silently ignored.
 */
export function checkOptions(
  op: string,
  value: unknown,
  required: boolean,
  keys?: readonly string[],
): Record<string, unknown> {
  if (value === undefined && !required) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${op}: expected an options object, got ${describeValue(value)}`);
  }
  if (keys) {
    const unknown = Object.keys(value).find((k) => !keys.includes(k));
    if (unknown !== undefined) {
      throw new TypeError(
        `${op}: expected options among ${keys.join(", ")}, got an unknown option "${unknown}"`,
      );
    }
  }
  return value as Record<string, unknown>;
}

/** Checks that a scalar is a finite number within [min, max] (inclusive). */
export function checkNumber(
  op: string,
  name: string,
  value: unknown,
  range: { min?: number; max?: number } = {},
): number {
  if (typeof value !== "number") {
    throw new TypeError(`${op}: expected ${name} to be a number, got ${describeValue(value)}`);
  }
  const { min = -Infinity, max = Infinity } = range;
  if (!Number.isFinite(value) || value < min || value > max) {
    const wanted = min === -Infinity && max === Infinity
      ? "a finite number"
      : max === Infinity
      ? `a finite number ≥ ${min}`
      : `a number in [${min}, ${max}]`;
    throw new RangeError(`${op}: expected ${name} to be ${wanted}, got ${value}`);
  }
  return value;
}

/** Checks an optional boolean flag. */
export function checkFlag(op: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`${op}: expected ${name} to be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks that a count or index is an integer within [min, max] (inclusive). */
export function checkInteger(
  op: string,
  name: string,
  value: unknown,
  range: { min: number; max?: number },
): number {
  if (typeof value !== "number") {
    throw new TypeError(`${op}: expected ${name} to be an integer, got ${describeValue(value)}`);
  }
  const { min, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isInteger(value) || value < min || value > max) {
    const wanted = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${op}: expected ${name} to be an integer ${wanted}, got ${value}`);
  }
  return value;
}

/**
 * Checks an element count for one storage buffer: an integer in [1, `limit`]; else a
 * `RangeError` naming `op` and the limit. Shared by both backends' size checks.
 */
export function checkElementCount(op: string, elements: number, limit: number): void {
  if (!Number.isInteger(elements) || elements < 1 || elements > limit) {
    throw new RangeError(
      `${op}: expected a tensor of at most ${limit} elements (the backend's largest buffer), got ${elements}`,
    );
  }
}
