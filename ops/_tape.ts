/**
 * @file The tape that reverse-mode differentiation records on. While a tape is active
 * (inside `valueAndGrad`), {@linkcode runOp} appends every op whose inputs depend on a
 * watched tensor, with the op's vector-Jacobian product; `train/autodiff.ts` walks it
 * backwards. Ops on tensors that do not depend on a watched one are not recorded, so
 * no gradient is computed for data.
 */
import type { Tensor } from "./tensor.ts";

/**
 * Gradients of an op's inputs given the gradient `g` of its output; `null` for an input
 * whose gradient is not `needed`.
 */
export type VectorJacobianProduct = (g: Tensor, needed: readonly boolean[]) => (Tensor | null)[];

/** One recorded op application. */
export interface TapeEntry {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly vjp: VectorJacobianProduct;
}

/** The tensors being differentiated and the ops that depend on them, in order. */
export class Tape {
  /** Tensors whose gradient flows: the watched inputs and what was computed from them. */
  readonly tracked = new Set<Tensor>();
  /**
   * Every tensor a recorded vector-Jacobian product may read: a `scope` inside the
   * differentiated function keeps these alive (the differentiating scope frees them).
   */
  readonly referenced = new Set<Tensor>();
  /** The recorded ops, in the order they ran. */
  readonly entries: TapeEntry[] = [];
}

let active: Tape | null = null;

/** The tape being recorded, if any. */
export function activeTape(): Tape | null {
  return active;
}

/** Runs `block` with `tape` recording (not re-entrant: nested differentiation is refused). */
export function recordOn<T>(tape: Tape, block: () => T): T {
  if (active) {
    throw new TypeError("valueAndGrad: nested differentiation is not supported");
  }
  active = tape;
  try {
    return block();
  } finally {
    active = null;
  }
}
