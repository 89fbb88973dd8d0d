/**
 * @file Scoped disposal of intermediates, after TensorFlow.js's `tidy`.
 *
 * Every tensor made while a scope runs is recorded in it. When the block returns,
 * every recorded tensor that is not part of the returned value is disposed, and the
 * returned tensors move to the enclosing scope. Blocks must be synchronous: an `await`
 * inside one would let tensors of unrelated code land in the wrong scope. While a
 * function is being differentiated, tensors its recorded gradients will read are kept
 * too (moved to the enclosing scope, which `valueAndGrad` frees after the backward pass).
 */
import { checkArity } from "../kernels/_checks.ts";
import { activeTape } from "./_tape.ts";

/**
 * Anything that owns a resource that {@linkcode scope} may dispose.
 *
 * @example
 * ```ts
 * import { cpu, type Disposable } from "@deno-gpu/kernels";
 * const resource: Disposable = cpu().tensor([1]);
 * resource.dispose();
 * resource.dispose(); // a second call does nothing
 * ```
 */
export interface Disposable {
  /** Frees the resource; a second call does nothing. */
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

/** Records a new tensor in the innermost running scope, if any. */
export function trackInScope(value: Disposable): void {
  scopes.at(-1)?.add(value);
}

function collect(value: unknown, into: Set<unknown>, seen: Set<unknown>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  into.add(value);
  if (Array.isArray(value)) value.forEach((v) => collect(v, into, seen));
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    Object.values(value).forEach((v) => collect(v, into, seen));
  }
}

/**
 * Runs `block` and disposes every tensor it made except those it returns (alone, or
 * inside arrays and plain objects). Returned tensors belong to the enclosing scope.
 *
 * @param block A synchronous function; returning a promise is a `TypeError`.
 * @returns What `block` returned.
 * @example
 * ```ts
 * import { cpu, scope, sgdStep, type Tensor } from "@deno-gpu/kernels";
 * const ref = cpu();
 * let w: Tensor = ref.tensor([1, 2, 3]);
 * const g = ref.tensor([1, 1, 1]);
 * const next = scope(() => sgdStep(sgdStep(w, g, { lr: 0.5 }), g, { lr: 0.5 }));
 * w.dispose();
 * w = next; // the intermediate step was disposed by the scope
 * console.log(await w.read()); // Float32Array [0, 1, 2]
 * ```
 */
export function scope<T>(block: () => T): T {
  checkArity("scope", arguments, 1);
  if (typeof block !== "function") {
    throw new TypeError(`scope: expected a function, got ${typeof block}`);
  }
  const made = new Set<Disposable>();
  scopes.push(made);
  let result: T;
  try {
    result = block();
  } catch (error) {
    scopes.pop();
    made.forEach((t) => t.dispose());
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    made.forEach((t) => t.dispose());
    throw new TypeError(
      "scope: expected a synchronous function, got one that returned a promise; " +
        "await outside the scope instead",
    );
  }
  const kept = new Set<unknown>();
  collect(result, kept, new Set());
  const tape = activeTape();
  for (const value of made) {
    if (kept.has(value) || (tape?.referenced as Set<unknown> | undefined)?.has(value)) {
      trackInScope(value);
    } else value.dispose();
  }
  return result;
}
