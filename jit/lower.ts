/**
 * @file From planned kernels to kernel functions: each planned kernel becomes a step
 * that, given where every stored node lives, issues its work to the runtime — a
 * generated map or reduction (`kernels/codegen.ts` in inline mode: shapes are constants
 * of the program, runtime values are words), a matmul variant with fused operand loads
 * and epilogue, or an op's own eager kernel. Steps rebuild their terms from the graph
 * they are given, so the same steps serve the recording a program was compiled from and
 * every later recording of the same static key (with new runtime values).
 */
import { generateMap, generateReduce, PARTIALS_SOURCE } from "../kernels/codegen.ts";
import { dispatchGenerated, type OpForm } from "../kernels/forms.ts";
import type { DeviceArray, GpuRuntime } from "../kernels/runtime.ts";
import { bufferTerm, resultTerm, type Term } from "../kernels/term.ts";
import { encodeOp } from "../ops/_op.ts";
import type { FusionPlan, PlannedKernel } from "./fusion.ts";
import { type Graph, type GraphNode, shapesOf } from "./graph.ts";

/** Where the stored nodes of the current call live. */
export interface StepEnvironment {
  /** The recording whose runtime values this call uses. */
  readonly graph: Graph;
  /** The storage of a stored node. */
  array(node: number): DeviceArray;
}

/** One kernel of a compiled program. */
export interface Step {
  /** The node it writes. */
  readonly writes: number;
  /** The op names it computes, for errors (`jit: matmul+add+sgdStep`). */
  readonly label: string;
  /** Issues its work. */
  run(runtime: GpuRuntime, env: StepEnvironment): void;
}

type OpNode = GraphNode & { kind: "op" };

function formOf(graph: Graph, id: number): OpForm {
  const node = graph.nodes[id] as OpNode;
  return node.op.form!(node.params, shapesOf(graph, node));
}

/**
 * The term computing node `root`: its op's term over its inputs' terms, each a buffer if
 * stored, else inlined the same way (memoised, so a value read twice is one WGSL
 * function). `overrides` replaces nodes by terms (an anchor by its accumulated result).
 */
function rootTerm(
  graph: Graph,
  stored: ReadonlySet<number>,
  root: number,
  overrides: ReadonlyMap<number, Term> = new Map(),
): Term {
  const memo = new Map<number, Term>(overrides);
  const build = (id: number): Term => {
    const node = graph.nodes[id] as OpNode;
    const form = formOf(graph, id);
    if (form.kind !== "term") throw new Error(`jit: ${node.op.name} cannot be inlined`);
    return form.build(node.inputs.map(termOf));
  };
  const termOf = (id: number): Term => {
    let term = memo.get(id);
    if (term) return term;
    const node = graph.nodes[id];
    term = stored.has(id) || node.kind !== "op" ? bufferTerm(id, node.shape) : build(id);
    memo.set(id, term);
    return term;
  };
  return memo.get(root) ?? build(root);
}

/** The term of node `id` as its reader sees it: a buffer if stored, else inlined. */
function inputTerm(graph: Graph, stored: ReadonlySet<number>, id: number): Term {
  const node = graph.nodes[id];
  return stored.has(id) || node.kind !== "op"
    ? bufferTerm(id, node.shape)
    : rootTerm(graph, stored, id);
}

/** The epilogue of an anchor: its form's own, then each fused reader's, over the result. */
function epilogueTerm(
  graph: Graph,
  stored: ReadonlySet<number>,
  kernel: PlannedKernel & { kind: "reduce" | "matmul" },
  own: ((result: Term) => Term) | undefined,
): Term | undefined {
  if (!own && kernel.epilogue.length === 0) return undefined;
  const anchor = graph.nodes[kernel.anchor];
  const result = resultTerm(anchor.shape);
  const value = own ? own(result) : result;
  return rootTerm(graph, stored, kernel.writes, new Map([[kernel.anchor, value]]));
}

/**
 * The steps of a fusion plan; `inPlace` maps results written over a donated argument to
 * that argument's node (`jit/donation.ts`).
 */
export function lower(
  graph: Graph,
  plan: FusionPlan,
  inPlace: ReadonlyMap<number, number> = new Map(),
): Step[] {
  const stored = plan.materialized;
  return plan.kernels.map((kernel): Step => {
    const writes = kernel.writes;
    const names = (ids: number[]) =>
      `jit: ${ids.map((i) => (graph.nodes[i] as OpNode).op.name).join("+")}`;
    switch (kernel.kind) {
      case "map":
        return {
          writes,
          label: names([writes]),
          run(runtime, env) {
            const generated = generateMap(
              [rootTerm(env.graph, stored, writes)],
              "inline",
              inPlace.get(writes),
            );
            dispatchGenerated(runtime, this.label, generated, (s) => env.array(s), [
              env.array(writes),
            ]);
          },
        };
      case "reduce":
        return {
          writes,
          label: names([kernel.anchor, ...kernel.epilogue]),
          run(runtime, env) {
            const form = formOf(env.graph, kernel.anchor) as OpForm & { kind: "reduce" };
            const anchor = env.graph.nodes[kernel.anchor] as OpNode;
            const input = inputTerm(env.graph, stored, anchor.inputs[0]);
            const { kernels, partials } = generateReduce({
              kind: "reduce",
              reducer: form.reducer,
              source: form.prologue ? form.prologue(input) : input,
              axes: form.axes,
              epilogue: epilogueTerm(env.graph, stored, kernel, form.epilogue?.bind(form)),
              inPlace: inPlace.get(writes),
            }, "inline");
            const output = env.array(writes);
            if (partials === 0) {
              dispatchGenerated(runtime, this.label, kernels[0], (s) => env.array(s), [output]);
              return;
            }
            const temporary = runtime.allocate(this.label, partials);
            dispatchGenerated(runtime, this.label, kernels[0], (s) => env.array(s), [temporary]);
            dispatchGenerated(
              runtime,
              this.label,
              kernels[1],
              (s) => (s === PARTIALS_SOURCE ? temporary : env.array(s)),
              [output],
            );
            runtime.release(temporary);
          },
        };
      case "matmul":
        throw new Error("jit: fused matmuls need a hookable variant");
      case "opaque":
        return {
          writes,
          label: names([writes]),
          run(runtime, env) {
            const node = env.graph.nodes[writes] as OpNode;
            encodeOp(
              runtime,
              node.op,
              node.inputs.map((i) => env.array(i)),
              env.array(writes),
              node.params,
              shapesOf(env.graph, node),
            );
          },
        };
    }
  });
}
