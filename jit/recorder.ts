/**
 * @file Recording a jitted function: `f` runs with symbolic tensors in place of its
 * tensor arguments while this recorder is active (`ops/_trace.ts`), so every op it
 * applies — forward, `valueAndGrad`'s backward pass, the optimiser — becomes a node of
 * a {@linkcode Graph} instead of GPU work. Recording costs JavaScript time only: nothing
 * is allocated on the device, so a recording that throws leaves nothing behind.
 * Tensors `f` closes over become externals (bound by reference on every call, checked
 * to be alive), tensors it makes from values become constants (uploaded when they
 * change).
 */
import { type DType, dtypeOfArray, type StorageArray } from "../ops/dtype.ts";
import type { OpDefinition } from "../ops/_op.ts";
import { type Recorder, SymbolicTensor } from "../ops/_trace.ts";
import type { GpuBackend } from "../ops/gpu_backend.ts";
import type { Tensor } from "../ops/tensor.ts";
import type { GraphNode } from "./graph.ts";

/** Records the ops of one call of a jitted function on one backend. */
export class GraphRecorder implements Recorder {
  readonly nodes: GraphNode[] = [];
  readonly #symbols = new Map<SymbolicTensor, number>();
  readonly #externals = new Map<Tensor, number>();

  constructor(readonly backend: GpuBackend) {}

  /** A symbolic tensor for tensor argument `leaf`. */
  argument(leaf: number, shape: readonly number[], dtype: DType): SymbolicTensor {
    return this.#add({ kind: "argument", leaf, shape, dtype });
  }

  #add(node: GraphNode): SymbolicTensor {
    const symbol = new SymbolicTensor(this.backend, node.shape, node.dtype, this.nodes.length);
    this.#symbols.set(symbol, this.nodes.length);
    this.nodes.push(node);
    return symbol;
  }

  /** The node of a tensor `f` used: its own symbol, or an external (made once per tensor). */
  nodeOf(tensor: Tensor): number {
    if (tensor instanceof SymbolicTensor) {
      const id = this.#symbols.get(tensor);
      if (id === undefined) {
        throw new TypeError(
          "jit: f used a traced tensor of another call (a value kept from an earlier call of a jitted function)",
        );
      }
      return id;
    }
    let id = this.#externals.get(tensor);
    if (id === undefined) {
      id = this.nodes.length;
      this.nodes.push({ kind: "external", tensor, shape: tensor.shape, dtype: tensor.dtype });
      this.#externals.set(tensor, id);
    }
    return id;
  }

  record<P>(
    op: OpDefinition<P>,
    inputs: readonly Tensor[],
    params: P,
    shape: readonly number[],
    dtype: DType,
  ): Tensor {
    const ids = inputs.map((t) => this.nodeOf(t));
    return this.#add({ kind: "op", op, params, inputs: ids, shape: [...shape], dtype });
  }

  constant(values: StorageArray, shape: readonly number[]): Tensor {
    const dtype = dtypeOfArray(values)!;
    return this.#add({ kind: "constant", values: values.slice(), shape: [...shape], dtype });
  }
}
