/**
 * @file The plan fusion makes (`jit/fusion.ts`) and what the later stages read of it:
 * the kernels in execution order, each with the node it writes, the stored nodes it
 * reads and the op nodes it inlines, computed once here — the memory plan
 * (`jit/program.ts`), donation (`jit/donation.ts`) and lowering read them from the plan
 * instead of walking the graph again. Also the questions fusion and donation ask of an
 * op node: its form, its own term over placeholder inputs, and whether a term reads a
 * value only at the element it writes.
 */
import type { OpForm } from "../kernels/forms.ts";
import { resultTerm, type Term, termChildren } from "../kernels/term.ts";
import { type Graph, type GraphNode, shapesOf } from "./graph.ts";

/** How a planned kernel computes the node it writes. */
export type KernelShape =
  | { readonly kind: "map" }
  | {
    readonly kind: "reduce" | "matmul";
    readonly anchor: number;
    /** The epilogue, anchor excluded, in order; the last is written (or the anchor). */
    readonly epilogue: readonly number[];
  }
  | { readonly kind: "opaque" };

/** The nodes a kernel computing `root` touches, found by one walk of its inlined inputs. */
export interface KernelAccess {
  /** Stored nodes it reads (sources and values other kernels write), in order of first use. */
  readonly reads: readonly number[];
  /** Op nodes it computes without storing them, beneath its root, in pre-order. */
  readonly inlined: readonly number[];
}

/** One kernel of a compiled program, writing one node. */
export type PlannedKernel = KernelShape & KernelAccess & { readonly writes: number };

/** The fusion decisions for a graph. */
export interface FusionPlan {
  /** Kernels in execution order. */
  readonly kernels: readonly PlannedKernel[];
  /** Nodes with storage: arguments, externals, constants, and what kernels write. */
  readonly materialized: ReadonlySet<number>;
  /** Live nodes. */
  readonly live: ReadonlySet<number>;
}

/**
 * What a kernel computing `root` reads and inlines when `stored` are the nodes with
 * storage: the walk goes down through op nodes without storage (the root's own storage
 * aside) and stops at stored nodes and sources, which it reads.
 */
export function kernelAccess(
  graph: Graph,
  stored: ReadonlySet<number>,
  root: number,
): KernelAccess {
  const reads: number[] = [];
  const inlined: number[] = [];
  const seen = new Set<number>();
  const visit = (id: number, top: boolean): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const node = graph.nodes[id];
    if (!top && (stored.has(id) || node.kind !== "op")) {
      reads.push(id);
      return;
    }
    if (!top) inlined.push(id);
    if (node.kind === "op") node.inputs.forEach((i) => visit(i, false));
  };
  visit(root, true);
  return { reads, inlined };
}

type OpNode = GraphNode & { kind: "op" };

/**
 * The form of op node `id` (how its op fuses), or null for an op without one (or one that
 * runs unfused).
 */
export function formOf(graph: Graph, id: number): OpForm | null {
  const node = graph.nodes[id] as OpNode;
  const shapes = shapesOf(graph, node);
  const form = node.op.form ? node.op.form(node.params, shapes) : null;
  // Reductions and matmuls on float16 run as their own kernels, widened to float32
  // (`kernels/float16_widening.ts`); only maps fuse float16 loads and stores.
  const float16 = [...shapes.inputTypes, shapes.outputType].includes("float16");
  return form && float16 && form.kind !== "term" ? null : form;
}

/** An op node's own term over placeholder terms for its inputs. */
export interface OwnTerm {
  readonly term: Term;
  /** One `result` term per input, of its shape: find them in `term` to see how it is read. */
  readonly inputs: readonly Term[];
}

/**
 * The term of op node `id` over placeholder terms for its inputs, to ask how it reads
 * them; null for a node whose form is not a term. `form` saves computing it again.
 */
export function ownTerm(
  graph: Graph,
  id: number,
  form: OpForm | null = graph.nodes[id].kind === "op" ? formOf(graph, id) : null,
): OwnTerm | null {
  if (form?.kind !== "term") return null;
  const node = graph.nodes[id] as OpNode;
  const inputs = node.inputs.map((i) => resultTerm(graph.nodes[i].shape, graph.nodes[i].dtype));
  return { term: form.build(inputs), inputs };
}

/** Whether `term` reads `target` only at its own index (through expressions, no view). */
export function readsAtOwnIndex(term: Term, target: Term): boolean {
  const contains = (t: Term): boolean => t === target || termChildren(t).some(contains);
  const ok = (t: Term): boolean => {
    if (t === target) return true;
    if (t.kind === "map") return t.args.every(ok);
    if (t.kind === "view") return !contains(t);
    return true;
  };
  return ok(term);
}
