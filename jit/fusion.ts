/**
 * @file Which ops share a kernel. Each live op node is one of: an elementwise or view op
 * (its form is a term), a reduction, a matmul, or an opaque op (a hand-written kernel
 * with no form). Reductions and matmuls anchor kernels; opaque ops are kernels of their
 * own. Elementwise and view ops are inlined into whatever reads them — recomputed per
 * read, never stored — unless their value must exist in memory:
 *
 * - it is a result of the function;
 * - an opaque op reads it (a hand-written kernel reads buffers);
 * - a matmul reads it and it is more than a view (the matmul's loads run in its inner
 *   loop: a gather or a transpose is folded in, arithmetic is not);
 * - several ops read it and it is costly to recompute (transcendentals, dropout's
 *   Philox), so recomputing would cost more than a store and a load;
 * - a kernel would need more storage bindings than the device allows.
 *
 * An anchor then extends forward over its epilogue: while its value has exactly one
 * reader, an elementwise op that reads it at the element being written (same size, no
 * view in between), that op joins the kernel and the anchor's value never leaves
 * registers — `sgdStep` after the gradient's matmul or reduction, a bias after a matmul,
 * a scale after a sum. Modelled on jax-js's `jit` fusion rules and Burn's fusers, with
 * the rules written down here rather than in the code generator.
 */
import type { MatmulParams } from "../kernels/_matmul_shared.ts";
import { type Expr, runtimeWords } from "../kernels/expression.ts";
import type { Term } from "../kernels/term.ts";
import type { Graph, GraphNode } from "./graph.ts";
import { shapesOf } from "./graph.ts";
import type { OpForm } from "../ops/_op.ts";

/** One kernel of a compiled program, writing one node. */
export type PlannedKernel =
  | { readonly kind: "map"; readonly writes: number }
  | {
    readonly kind: "reduce" | "matmul";
    readonly anchor: number;
    /** The epilogue, anchor excluded, in order; the last is written (or the anchor). */
    readonly epilogue: readonly number[];
    readonly writes: number;
  }
  | { readonly kind: "opaque"; readonly writes: number };

/** The fusion decisions for a graph. */
export interface FusionPlan {
  /** Kernels in execution order. */
  readonly kernels: readonly PlannedKernel[];
  /** Nodes with storage: arguments, externals, constants, and what kernels write. */
  readonly materialized: ReadonlySet<number>;
  /** Live nodes. */
  readonly live: ReadonlySet<number>;
}

/** What fusion needs to know of the device and the options. */
export interface FusionOptions {
  /** Fuse (false: every op a kernel of its own, as eagerly). */
  readonly fuse: boolean;
  /** Whether a matmul of these dimensions takes operand views and an epilogue. */
  readonly fusesMatmul: (params: MatmulParams) => boolean;
  /** Storage buffers one kernel may bind (the device's `maxStorageBuffersPerShaderStage`). */
  readonly maxStorageBuffers: number;
}

/** Relative cost of recomputing an expression, per element. */
function exprCost(term: Term): number {
  if (term.kind !== "map") return 0;
  const costOf = (e: Expr): number => {
    switch (e.kind) {
      case "call": {
        const own = ["exp", "log", "sqrt", "pow", "sigmoid", "tanh"].includes(e.fn) ? 4 : 1;
        return own + e.args.reduce((n, a) => n + costOf(a), 0);
      }
      case "keep":
        return 20;
      default:
        return 0;
    }
  };
  return costOf(term.expr);
}

/** Whether `term` reads `target` only at its own index (through expressions, no view). */
export function readsAtOwnIndex(term: Term, target: Term): boolean {
  const contains = (t: Term): boolean =>
    t === target ||
    (t.kind === "map" && t.args.some(contains)) ||
    (t.kind === "view" &&
      (contains(t.source) ||
        (t.view.kind === "strided" && !!t.view.outside && contains(t.view.outside)) ||
        (t.view.kind === "gather" && contains(t.view.rows))));
  const ok = (t: Term): boolean => {
    if (t === target) return true;
    if (t.kind === "map") return t.args.every(ok);
    if (t.kind === "view") return !contains(t);
    return true;
  };
  return ok(term);
}

/**
 * The term of op node `id` over placeholder terms for its inputs (`result` terms of the
 * inputs' shapes), to ask how it reads them; null for a node whose form is not a term.
 */
export function ownTerm(graph: Graph, id: number): { term: Term; inputs: Term[] } | null {
  const node = graph.nodes[id];
  if (node.kind !== "op" || !node.op.form) return null;
  const form = node.op.form(node.params, shapesOf(graph, node));
  if (form.kind !== "term") return null;
  const inputs = node.inputs.map((i) => ({ kind: "result", shape: graph.nodes[i].shape }) as Term);
  return { term: form.build(inputs), inputs };
}

/**
 * Runtime words one generated kernel may read: its uniform block holds 64, and the
 * reductions' identities and the block's first word take a few.
 */
const WORD_BUDGET = 56;

/** Plans the kernels of a graph. */
export function planFusion(
  graph: Graph,
  live: ReadonlySet<number>,
  options: FusionOptions,
): FusionPlan {
  const nodes = graph.nodes;
  const outputs = new Set(graph.outputs);
  // Recording order is a topological order: kernels run in it.
  const order = [...live].sort((a, b) => a - b);
  const readers = new Map<number, Set<number>>();
  for (const id of order) {
    const node = nodes[id];
    if (node.kind !== "op") continue;
    for (const input of node.inputs) {
      if (!readers.has(input)) readers.set(input, new Set());
      readers.get(input)!.add(id);
    }
  }
  const forms = new Map<number, OpForm | null>();
  const formOf = (id: number): OpForm | null => {
    if (!forms.has(id)) {
      const node = nodes[id] as GraphNode & { kind: "op" };
      forms.set(
        id,
        options.fuse && node.op.form ? node.op.form(node.params, shapesOf(graph, node)) : null,
      );
    }
    return forms.get(id)!;
  };
  const kindOf = (id: number): "source" | "term" | "reduce" | "matmul" | "opaque" => {
    const node = nodes[id];
    if (node.kind !== "op") return "source";
    const form = formOf(id);
    if (!form) return "opaque";
    if (form.kind === "matmul" && !options.fusesMatmul(form.params)) return "opaque";
    return form.kind;
  };
  /** A term node's own term over placeholder inputs: to tell views from arithmetic. */
  const ownTerm = (id: number): { term: Term; inputs: Term[] } => {
    const node = nodes[id] as GraphNode & { kind: "op" };
    const inputs = node.inputs.map((i) => ({ kind: "result", shape: nodes[i].shape }) as Term);
    const form = formOf(id) as OpForm & { kind: "term" };
    return { term: form.build(inputs), inputs };
  };

  const materialized = new Set<number>();
  for (const id of order) {
    const kind = kindOf(id);
    if (kind === "source" || kind === "opaque" || kind === "reduce" || kind === "matmul") {
      materialized.add(id);
    }
    if (outputs.has(id)) materialized.add(id);
  }
  // Values read by kernels that need buffers, or costly to recompute for several readers.
  const operandOf = (id: number): void => {
    if (materialized.has(id)) return;
    const { term } = ownTerm(id);
    if (term.kind === "map") {
      materialized.add(id);
      return;
    }
    (nodes[id] as GraphNode & { kind: "op" }).inputs.forEach(operandOf);
  };
  for (const id of order) {
    const kind = kindOf(id);
    const node = nodes[id];
    if (node.kind !== "op") continue;
    if (kind === "opaque") node.inputs.forEach((i) => materialized.add(i));
    if (kind === "matmul") node.inputs.forEach(operandOf);
    if (kind === "term") {
      const count = readers.get(id)?.size ?? 0;
      if (count > 1 && (count - 1) * exprCost(ownTerm(id).term) > 8) materialized.add(id);
    }
  }

  // Epilogues: forward from each anchor while its value has one reader that reads it in place.
  const absorbed = new Map<number, number>();
  const chains = new Map<number, number[]>();
  for (const id of order) {
    const kind = kindOf(id);
    if (kind !== "reduce" && kind !== "matmul") continue;
    const size = nodes[id].shape.reduce((a, b) => a * b, 1);
    const chain: number[] = [];
    let end = id;
    let words = 0;
    for (;;) {
      if (outputs.has(end)) break;
      const next = readers.get(end);
      if (!next || next.size !== 1) break;
      const [reader] = next;
      // A value joins one kernel's epilogue at most (two anchors may feed it).
      if (kindOf(reader) !== "term" || absorbed.has(reader)) break;
      if (nodes[reader].shape.reduce((a, b) => a * b, 1) !== size) break;
      const { term, inputs } = ownTerm(reader);
      const position = (nodes[reader] as GraphNode & { kind: "op" }).inputs.indexOf(end);
      if (!readsAtOwnIndex(term, inputs[position])) break;
      // The epilogue's runtime words share the kernel's uniform block.
      words += term.kind === "map" ? runtimeWords(term.expr).length : 0;
      if (words > WORD_BUDGET) break;
      chain.push(reader);
      end = reader;
    }
    if (chain.length === 0) continue;
    chains.set(id, chain);
    materialized.delete(id);
    for (const c of chain.slice(0, -1)) materialized.delete(c);
    materialized.add(end);
    chain.forEach((c) => absorbed.set(c, id));
  }

  /** Inlined op nodes beneath a kernel's written node (its epilogue and prologue included). */
  const inlinedBeneath = (root: number): number[] => {
    const found: number[] = [];
    const seen = new Set<number>();
    const visit = (id: number, top: boolean): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = nodes[id];
      if (!top && (materialized.has(id) || node.kind !== "op")) return;
      if (!top) found.push(id);
      if (node.kind === "op") node.inputs.forEach((i) => visit(i, false));
    };
    visit(root, true);
    return found;
  };
  /** Stored values a kernel writing `root` (or an inlined value) reads. */
  const storedReads = (root: number): Set<number> => {
    const reads = new Set<number>();
    const seen = new Set<number>();
    const visit = (id: number, top: boolean): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const node = nodes[id];
      if (!top && (materialized.has(id) || node.kind !== "op")) {
        reads.add(id);
        return;
      }
      if (node.kind === "op") node.inputs.forEach((i) => visit(i, false));
    };
    visit(root, true);
    return reads;
  };

  // A kernel binds every stored value it reads, its output, and (a fused matmul) its
  // words: while one would bind more than the device allows, store the inlined value
  // beneath it that reads the most stored values, so that two kernels share the reads.
  const budget = options.maxStorageBuffers - 2;
  const protectedNodes = new Set([...chains.keys(), ...absorbed.keys()]);
  /** Runtime words (a kernel's uniform block holds 64) of the values a kernel computes. */
  const wordsOf = (root: number): number =>
    [root, ...inlinedBeneath(root)].reduce((n, id) => {
      const own = kindOf(id) === "term" ? ownTerm(id) : null;
      return n + (own?.term.kind === "map" ? runtimeWords(own.term.expr).length : 0);
    }, 0);
  const fits = (id: number) =>
    storedReads(id).size <= budget && (kindOf(id) === "matmul" || wordsOf(id) <= WORD_BUDGET);
  // Storing a value makes a kernel of its own, which may itself bind too much: repeat.
  for (let changed = true; changed;) {
    changed = false;
    for (const id of order) {
      if (!materialized.has(id) || kindOf(id) === "source") continue;
      while (!fits(id)) {
        // Store the inlined value beneath that carries the most reads (or words) that one
        // kernel can still take, so that few kernels share the work; else the largest.
        const byReads = storedReads(id).size > budget;
        const [total, limit] = byReads
          ? [storedReads(id).size, budget]
          : [wordsOf(id), WORD_BUDGET];
        let best = -1, bestScore = 0, bestFits = false;
        for (const candidate of inlinedBeneath(id)) {
          if (protectedNodes.has(candidate)) continue;
          const score = byReads ? storedReads(candidate).size : wordsOf(candidate);
          if (score === 0 || score >= total) continue;
          const fitsOne = score <= limit;
          const better = fitsOne !== bestFits ? fitsOne : score > bestScore;
          if (best < 0 || better) [best, bestScore, bestFits] = [candidate, score, fitsOne];
        }
        if (best < 0) break;
        materialized.add(best);
        changed = true;
      }
    }
  }

  const kernels: PlannedKernel[] = [];
  for (const id of order) {
    if (!materialized.has(id)) continue;
    const kind = kindOf(id);
    if (kind === "source") continue;
    const anchor = absorbed.get(id);
    if (anchor !== undefined) {
      kernels.push({
        kind: kindOf(anchor) as "reduce" | "matmul",
        anchor,
        epilogue: chains.get(anchor)!,
        writes: id,
      });
    } else if (kind === "reduce" || kind === "matmul") {
      kernels.push({ kind, anchor: id, epilogue: [], writes: id });
    } else if (kind === "term") kernels.push({ kind: "map", writes: id });
    else kernels.push({ kind: "opaque", writes: id });
  }
  return { kernels, materialized, live };
}
