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
 *   Philox: each expression's cost is in its table, `kernels/expression.ts`), so
 *   recomputing would cost more than a store and a load;
 * - a kernel would need more storage bindings than the device allows.
 *
 * An anchor then extends forward over its epilogue: while its value has exactly one
 * reader, an elementwise op that reads it at the element being written (same size, no
 * view in between), that op joins the kernel and the anchor's value never leaves
 * registers — `sgdStep` after the gradient's matmul or reduction, a bias after a matmul,
 * a scale after a sum.
 *
 * {@linkcode planFusion} runs these rules as named passes in order over one
 * {@linkcode Fusion} state — classify the nodes, store what must exist, store what
 * kernels must read from memory, attach epilogues, split kernels over the device's
 * limits, list the kernels — and returns a `FusionPlan` (`jit/fusion_plan.ts`) that
 * carries what each kernel reads and writes. Modelled on jax-js's `jit` fusion rules and
 * Burn's fusers, with the rules written down here rather than in the code generator.
 */
import { expressionCost, runtimeWords } from "../kernels/expression.ts";
import { sizeOf } from "../kernels/term.ts";
import {
  formOf,
  type FusionPlan,
  kernelAccess,
  type OwnTerm,
  ownTerm,
  type PlannedKernel,
  readsAtOwnIndex,
} from "./fusion_plan.ts";
import type { Graph } from "./graph.ts";

/** What fusion needs to know of the device and the options. */
export interface FusionOptions {
  /** Fuse (false: every op a kernel of its own, as eagerly). */
  readonly fuse: boolean;
  /** Storage buffers one kernel may bind (the device's `maxStorageBuffersPerShaderStage`). */
  readonly maxStorageBuffers: number;
}

/**
 * Runtime words one generated kernel may read: its uniform block holds 64, and the
 * reductions' identities and the block's first word take a few.
 */
const WORD_BUDGET = 56;

/**
 * How recomputing a value for each further reader compares with a store and a load: a
 * value read by `r` ops is stored when `(r − 1) · cost > SHARED_COST`.
 */
const SHARED_COST = 8;

/** What a live node is to fusion. */
type NodeKind = "source" | "term" | "reduce" | "matmul" | "opaque";

/** The state fusion's passes refine, from the classified graph to the stored set. */
interface Fusion {
  readonly graph: Graph;
  readonly live: ReadonlySet<number>;
  /** Live nodes in recording order, a topological order: kernels run in it. */
  readonly order: readonly number[];
  readonly outputs: ReadonlySet<number>;
  /** The live op nodes that read each node. */
  readonly readers: ReadonlyMap<number, ReadonlySet<number>>;
  readonly kinds: ReadonlyMap<number, NodeKind>;
  /** The own term of each term node (over placeholder inputs). */
  readonly terms: ReadonlyMap<number, OwnTerm>;
  /** Nodes with storage so far. */
  readonly stored: Set<number>;
  /** Each anchor that took an epilogue: its epilogue nodes, in order. */
  readonly epilogues: Map<number, number[]>;
  /** Each epilogue node: its anchor. */
  readonly absorbed: Map<number, number>;
}

/** Plans the kernels of a graph: the passes below, in order. */
export function planFusion(
  graph: Graph,
  live: ReadonlySet<number>,
  options: FusionOptions,
): FusionPlan {
  const fusion = classifyNodes(graph, live, options);
  storeRequiredValues(fusion);
  storeKernelOperands(fusion);
  attachEpilogues(fusion);
  splitOversizedKernels(fusion, options.maxStorageBuffers - 2);
  return listKernels(fusion);
}

/**
 * Pass 1: what each live node is — a source (argument, external, constant), a term (an
 * elementwise or view op, its own term built once), a reduction, a matmul (every
 * variant takes hooks: its operand views and epilogue), or opaque — and which ops read it.
 */
function classifyNodes(graph: Graph, live: ReadonlySet<number>, options: FusionOptions): Fusion {
  const order = [...live].sort((a, b) => a - b);
  const readers = new Map<number, Set<number>>();
  const kinds = new Map<number, NodeKind>();
  const terms = new Map<number, OwnTerm>();
  for (const id of order) {
    const node = graph.nodes[id];
    if (node.kind !== "op") {
      kinds.set(id, "source");
      continue;
    }
    for (const input of node.inputs) {
      if (!readers.has(input)) readers.set(input, new Set());
      readers.get(input)!.add(id);
    }
    const form = options.fuse ? formOf(graph, id) : null;
    kinds.set(id, form ? form.kind : "opaque");
    if (form?.kind === "term") terms.set(id, ownTerm(graph, id, form)!);
  }
  return {
    graph,
    live,
    order,
    outputs: new Set(graph.outputs),
    readers,
    kinds,
    terms,
    stored: new Set(),
    epilogues: new Map(),
    absorbed: new Map(),
  };
}

/** Pass 2: store what must exist: sources, what anchors and opaque ops write, results. */
function storeRequiredValues({ order, kinds, outputs, stored }: Fusion): void {
  for (const id of order) {
    if (kinds.get(id) !== "term" || outputs.has(id)) stored.add(id);
  }
}

/**
 * Pass 3, in recording order: store what kernels must read from memory — an opaque op's
 * inputs, a matmul's operands that are more than views of stored values (a view is
 * folded into the matmul's loads, arithmetic is not) — and a value costly to recompute
 * for each of several readers.
 */
function storeKernelOperands({ graph, order, kinds, terms, readers, stored }: Fusion): void {
  const storeOperand = (id: number): void => {
    if (stored.has(id)) return;
    if (terms.get(id)!.term.kind === "map") {
      stored.add(id);
      return;
    }
    (graph.nodes[id] as { inputs: readonly number[] }).inputs.forEach(storeOperand);
  };
  for (const id of order) {
    const node = graph.nodes[id];
    if (node.kind !== "op") continue;
    const kind = kinds.get(id);
    if (kind === "opaque") node.inputs.forEach((i) => stored.add(i));
    if (kind === "matmul") node.inputs.forEach(storeOperand);
    if (kind === "term") {
      const count = readers.get(id)?.size ?? 0;
      if (count > 1 && (count - 1) * termCost(terms.get(id)!) > SHARED_COST) stored.add(id);
    }
  }
}

/** Relative cost of recomputing a term node's own term, per element. */
function termCost({ term }: OwnTerm): number {
  return term.kind === "map" ? expressionCost(term.expr) : 0;
}

/** Runtime words a term node's own term reads (0 for a view). */
function termWords({ term }: OwnTerm): number {
  return term.kind === "map" ? runtimeWords(term.expr).length : 0;
}

/**
 * Pass 4: each reduction and matmul takes its epilogue — forward, while its value is no
 * result and has one reader, a term op of the same size that reads it at its own index,
 * not yet in another anchor's epilogue, whose runtime words still fit the kernel's
 * uniform block, and which neither reads nor makes a float16 value. The anchor and the
 * epilogue's inner values are then not stored.
 */
function attachEpilogues(fusion: Fusion): void {
  const { graph, order, kinds, terms, readers, outputs, stored, epilogues, absorbed } = fusion;
  for (const id of order) {
    const kind = kinds.get(id);
    if (kind !== "reduce" && kind !== "matmul") continue;
    const size = sizeOf(graph.nodes[id].shape);
    const chain: number[] = [];
    let end = id;
    let words = 0;
    for (;;) {
      if (outputs.has(end)) break;
      const next = readers.get(end);
      if (!next || next.size !== 1) break;
      const [reader] = next;
      // A value joins one kernel's epilogue at most (two anchors may feed it).
      if (kinds.get(reader) !== "term" || absorbed.has(reader)) break;
      if (sizeOf(graph.nodes[reader].shape) !== size) break;
      // Reduction and matmul kernels bind f32 (their float16 forms run widened, unfused).
      const node = graph.nodes[reader] as { dtype: string; inputs: readonly number[] };
      if ([node, ...node.inputs.map((i) => graph.nodes[i])].some((n) => n.dtype === "float16")) {
        break;
      }
      const own = terms.get(reader)!;
      const position = (graph.nodes[reader] as { inputs: readonly number[] }).inputs.indexOf(end);
      if (!readsAtOwnIndex(own.term, own.inputs[position])) break;
      // The epilogue's runtime words share the kernel's uniform block.
      words += termWords(own);
      if (words > WORD_BUDGET) break;
      chain.push(reader);
      end = reader;
    }
    if (chain.length === 0) continue;
    epilogues.set(id, chain);
    stored.delete(id);
    for (const c of chain.slice(0, -1)) stored.delete(c);
    stored.add(end);
    chain.forEach((c) => absorbed.set(c, id));
  }
}

/**
 * Pass 5: a kernel binds every stored value it reads, its output, and (a fused matmul)
 * its words, and its uniform block holds {@linkcode WORD_BUDGET} runtime words. While a
 * kernel would bind more than `budget` values or read more words, store the inlined
 * value beneath it that carries the most reads (or words) that one kernel can still
 * take, so that few kernels share the work; else the largest. Anchors and epilogues
 * stay as they are. Storing a value makes a kernel of its own, which may itself bind too
 * much: repeat until every kernel fits.
 */
function splitOversizedKernels(fusion: Fusion, budget: number): void {
  const { graph, order, kinds, terms, epilogues, absorbed, stored } = fusion;
  const fixed = new Set([...epilogues.keys(), ...absorbed.keys()]);
  const access = (root: number) => kernelAccess(graph, stored, root);
  /** Runtime words of the values a kernel computing `root` evaluates. */
  const wordsOf = (root: number): number =>
    [root, ...access(root).inlined].reduce((n, id) => {
      const own = kinds.get(id) === "term" ? terms.get(id)! : null;
      return n + (own ? termWords(own) : 0);
    }, 0);
  const fits = (id: number) =>
    access(id).reads.length <= budget && (kinds.get(id) === "matmul" || wordsOf(id) <= WORD_BUDGET);
  for (let changed = true; changed;) {
    changed = false;
    for (const id of order) {
      if (!stored.has(id) || kinds.get(id) === "source") continue;
      while (!fits(id)) {
        const byReads = access(id).reads.length > budget;
        const [total, limit] = byReads
          ? [access(id).reads.length, budget]
          : [wordsOf(id), WORD_BUDGET];
        let best = -1, bestScore = 0, bestFits = false;
        for (const candidate of access(id).inlined) {
          if (fixed.has(candidate)) continue;
          const score = byReads ? access(candidate).reads.length : wordsOf(candidate);
          if (score === 0 || score >= total) continue;
          const fitsOne = score <= limit;
          const better = fitsOne !== bestFits ? fitsOne : score > bestScore;
          if (best < 0 || better) [best, bestScore, bestFits] = [candidate, score, fitsOne];
        }
        if (best < 0) break;
        stored.add(best);
        changed = true;
      }
    }
  }
}

/**
 * Pass 6: one kernel per stored op node, in recording order — a map, a reduction or a
 * matmul with its epilogue (written by its last node), or an opaque op — each with what
 * it reads and inlines, computed once for every later stage.
 */
function listKernels(
  { graph, live, order, kinds, epilogues, absorbed, stored }: Fusion,
): FusionPlan {
  const kernels: PlannedKernel[] = [];
  for (const id of order) {
    const kind = kinds.get(id)!;
    if (!stored.has(id) || kind === "source") continue;
    const access = { ...kernelAccess(graph, stored, id), writes: id };
    const anchor = absorbed.get(id);
    if (anchor !== undefined) {
      const anchorKind = kinds.get(anchor) as "reduce" | "matmul";
      kernels.push({ kind: anchorKind, anchor, epilogue: epilogues.get(anchor)!, ...access });
    } else if (kind === "reduce" || kind === "matmul") {
      kernels.push({ kind, anchor: id, epilogue: [], ...access });
    } else if (kind === "term") kernels.push({ kind: "map", ...access });
    else kernels.push({ kind: "opaque", ...access });
  }
  return { kernels, materialized: stored, live };
}
