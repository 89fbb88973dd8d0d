/**
 * @file The hook through which `jit` records ops instead of running them. While a
 * recorder is active for a backend, {@linkcode runOp} hands every op on that backend to
 * it, and the backend's `tensor()` (and the creation ops) make recorded constants; the
 * results are symbolic tensors: shapes without storage, which the library's validation
 * accepts like any tensor, so `f` runs unchanged — forward, `valueAndGrad`'s backward
 * pass and the optimiser alike. The recorder lives in `jit/`; this file only defines
 * what `ops/` needs of it, so `ops/` never imports `jit/`.
 */
import type { DType, StorageArray } from "./dtype.ts";
import type { OpDefinition } from "./_op.ts";
import { type Backend, brandTensor, Tensor } from "./tensor.ts";

/** Records op applications on one backend (implemented by `jit/`). */
export interface Recorder {
  /** The backend whose ops are recorded. */
  readonly backend: Backend;
  /** Records an application of `op` and returns its symbolic result. */
  record<P>(
    op: OpDefinition<P>,
    inputs: readonly Tensor[],
    params: P,
    shape: readonly number[],
    dtype: DType,
  ): Tensor;
  /** Records a tensor made from values (of their array's type) while recording. */
  constant(values: StorageArray, shape: readonly number[]): Tensor;
}

let active: Recorder | null = null;

/** The recorder of `backend`, if one is active. */
export function recorderFor(backend: Backend): Recorder | null {
  return active !== null && active.backend === backend ? active : null;
}

/** Whether any recorder is active. */
export function recording(): boolean {
  return active !== null;
}

/** Runs `block` with `recorder` active (not re-entrant: a jitted `f` cannot call `jit`). */
export function recordWith<T>(recorder: Recorder, block: () => T): T {
  if (active) {
    throw new TypeError("jit: a jitted function cannot call another jitted function");
  }
  active = recorder;
  try {
    return block();
  } finally {
    active = null;
  }
}

/**
 * A tensor being recorded: a shape and a place in the recording, no storage. It cannot
 * be read (a jitted function is pure) and exists only while its function is recorded.
 */
export class SymbolicTensor extends Tensor {
  readonly #backend: Backend;
  /** The recorder's handle for this value. */
  readonly node: number;

  /** A recorded value of `backend` (made by recorders, not by users). */
  constructor(backend: Backend, shape: readonly number[], dtype: DType, node: number) {
    super(shape, dtype);
    this.#backend = backend;
    this.node = node;
    brandTensor(this, "traced");
  }

  /** The backend being recorded. */
  get backend(): Backend {
    return this.#backend;
  }

  /**
   * Refused, at once (a jitted function is synchronous and must not wait for values): a
   * `TypeError` naming `jit`.
   */
  read(): Promise<Float32Array> {
    throw new TypeError(
      "jit: expected f to be pure, but it called read() on a traced tensor; read results after the call",
    );
  }

  /** Nothing to free: the compiled program owns the storage. */
  protected free(): void {}
}
