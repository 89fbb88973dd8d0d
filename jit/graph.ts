/**
 * @file The recorded graph of a jitted function: one node per value — an argument
 * tensor, a tensor `f` captured from outside (an "external"), a constant `f` made from
 * values, or an application of an op definition (the same `OpDefinition` eager code
 * runs, never a copy of it) — in the order `f` made them, which is a topological order.
 *
 * Its static key is what a compiled program is specialised to: the ops, how they are
 * wired, the shapes, and each op's `staticKey` of its parameters. Everything else —
 * argument and external tensors, constants' values, the runtime part of each op's
 * parameters (a learning rate, a key, row indices) — is bound per call. Two recordings
 * with the same static key run the same program (Burn's fusion caches plans by op
 * sequence the same way).
 */
import type { OpDefinition } from "../ops/_op.ts";
import type { DType, StorageArray } from "../ops/dtype.ts";
import type { OpShapes } from "../ops/_op.ts";
import type { Tensor } from "../ops/tensor.ts";
import { objectIds } from "./object_ids.ts";

/** Where a node's value comes from. */
export type NodeSource =
  | { readonly kind: "argument"; readonly leaf: number }
  | { readonly kind: "external"; readonly tensor: Tensor }
  | { readonly kind: "constant"; readonly values: StorageArray }
  | {
    readonly kind: "op";
    // deno-lint-ignore no-explicit-any
    readonly op: OpDefinition<any>;
    readonly params: unknown;
    readonly inputs: readonly number[];
  };

/** A value of the recorded graph: where it comes from, its shape and its element type. */
export type GraphNode = NodeSource & { readonly shape: readonly number[]; readonly dtype: DType };

/** A recorded function: its nodes, and which of them it returned, in order. */
export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly outputs: readonly number[];
  /** The shape of the result (tensors as `T`). */
  readonly resultStructure: string;
}

/** A number identifying an op definition (names are shared by an op and its helpers). */
const opId: (op: object) => number = objectIds();

/** The part of a graph a compiled program is specialised to. */
export function staticKey(graph: Graph): string {
  const parts = graph.nodes.map((node) => {
    const shape = `[${node.shape}]${node.dtype}`;
    switch (node.kind) {
      case "argument":
        return `a${node.leaf}${shape}`;
      case "external":
        return `e${shape}`;
      case "constant":
        return `c${shape}`;
      case "op":
        return `${opId(node.op)}${node.op.name}(${node.inputs})${shape}${
          node.op.staticKey ? node.op.staticKey(node.params) : JSON.stringify(node.params)
        }`;
    }
  });
  return `${parts.join(";")}|${graph.outputs}|${graph.resultStructure}`;
}

/** The shapes and element types of an op node's inputs and output. */
export function shapesOf(graph: Graph, node: GraphNode & { kind: "op" }): OpShapes {
  return {
    inputs: node.inputs.map((i) => graph.nodes[i].shape),
    output: node.shape,
    inputTypes: node.inputs.map((i) => graph.nodes[i].dtype),
    outputType: node.dtype,
  };
}

/** Nodes the outputs depend on (others are dead code: never computed). */
export function liveNodes(graph: Graph): Set<number> {
  const live = new Set<number>();
  const stack = [...graph.outputs];
  while (stack.length) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    const node = graph.nodes[id];
    if (node.kind === "op") stack.push(...node.inputs);
  }
  return live;
}
