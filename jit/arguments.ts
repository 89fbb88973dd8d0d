/**
 * @file What a jitted function is called with, and what it returns, flattened: a
 * structure string (nesting, keys, tensor shapes and types, which tensors are the same one) that
 * is the call's signature, plus the leaves — tensors, and numbers (random keys are
 * plain objects of numbers, so their words are numbers too). A new signature compiles
 * again; new leaf values replay. Anything else is a `TypeError` naming `jit`.
 */
import { describe, isTensor, type Tensor } from "../ops/tensor.ts";

/** The leaves and signature of a call's arguments. */
export interface FlatArguments {
  /** Nesting, object keys, tensor shapes and types, aliasing: equal strings, equal programs. */
  readonly structure: string;
  /** Tensor leaves, in order. */
  readonly tensors: readonly Tensor[];
  /** Number leaves, in order (random keys' words included). */
  readonly numbers: readonly number[];
  /** For each tensor leaf, the positional argument it is in. */
  readonly positions: readonly number[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Flattens a call's positional arguments; errors name the position ("argument 2[1]"). */
export function flattenArguments(args: readonly unknown[]): FlatArguments {
  const tensors: Tensor[] = [];
  const numbers: number[] = [];
  const positions: number[] = [];
  const seen = new Set<unknown>();
  let position = 0;
  const visit = (value: unknown, path: string): string => {
    if (isTensor(value)) {
      const alias = tensors.indexOf(value);
      tensors.push(value);
      positions.push(position);
      return alias >= 0 ? `T=${alias}` : `T[${value.shape}]${value.dtype}`;
    }
    if (typeof value === "number") {
      numbers.push(value);
      return "N";
    }
    if (Array.isArray(value) || isPlainObject(value)) {
      if (seen.has(value)) {
        throw new TypeError(`jit: expected arguments without cycles, got one at ${path}`);
      }
      seen.add(value);
      const inner = Array.isArray(value)
        ? `[${Array.from(value, (v, i) => visit(v, `${path}[${i}]`)).join(",")}]`
        : `{${
          Object.keys(value).map((k) => `${JSON.stringify(k)}:${visit(value[k], `${path}.${k}`)}`)
            .join(",")
        }}`;
      seen.delete(value);
      return inner;
    }
    throw new TypeError(
      `jit: expected arguments of tensors, numbers, random keys, arrays and plain objects, got ${
        describe(value)
      } at ${path}`,
    );
  };
  const structure = args.map((a, i) => {
    position = i;
    return visit(a, `argument ${i}`);
  }).join(";");
  return { structure, tensors, numbers, positions };
}

/** `args` with each tensor leaf replaced, in order, by `replace(i)`. */
export function replaceTensors(
  args: readonly unknown[],
  replace: (i: number) => Tensor,
): unknown[] {
  let next = 0;
  const visit = (value: unknown): unknown => {
    if (isTensor(value)) return replace(next++);
    if (Array.isArray(value)) return value.map(visit);
    if (isPlainObject(value)) {
      return Object.fromEntries(Object.keys(value).map((k) => [k, visit(value[k])]));
    }
    return value;
  };
  return args.map(visit);
}

/**
 * The tensors of a result (a tensor, or arrays and plain objects of tensors) and its
 * structure; anything else is a `TypeError` naming `jit`.
 */
export function flattenResult(result: unknown): { structure: string; tensors: Tensor[] } {
  const tensors: Tensor[] = [];
  const visit = (value: unknown, path: string): string => {
    if (isTensor(value)) {
      tensors.push(value);
      return "T";
    }
    if (Array.isArray(value)) {
      return `[${Array.from(value, (v, i) => visit(v, `${path}[${i}]`)).join(",")}]`;
    }
    if (isPlainObject(value)) {
      return `{${
        Object.keys(value).map((k) => `${JSON.stringify(k)}:${visit(value[k], `${path}.${k}`)}`)
          .join(",")
      }}`;
    }
    throw new TypeError(
      `jit: expected f to return tensors (alone, or in arrays and plain objects), got ${
        describe(value)
      } at ${path}`,
    );
  };
  const structure = visit(result, "the result");
  return { structure, tensors };
}

/** Rebuilds a result of `structure`'s shape from `result`'s, with tensors replaced in order. */
export function rebuildResult(template: unknown, replace: (i: number) => Tensor): unknown {
  return replaceTensors([template], replace)[0];
}
