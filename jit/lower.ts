/**
 * @file From planned kernels to kernel functions: each planned kernel becomes a step
 * that, given where every stored node lives, issues its work to the runtime — a
 * generated map or reduction (`kernels/*_kernel.ts` in inline mode: shapes are constants
 * of the program, runtime values are words), a matmul variant with fused operand loads
 * and epilogue, or an op's own eager kernel. Steps rebuild their terms from the graph
 * they are given, so the same steps serve the recording a program was compiled from and
 * every later recording of the same static key (with new runtime values). They stay
 * functions rather than a data description of the kernels, since a recording with new
 * runtime values must be issued again either way: its words live in the terms built from
 * it, and an op's own kernel shows what it encodes (uniforms, uploads) only by encoding.
 * A small program's steps may instead run together as the phases of one program kernel
 * ({@linkcode fitsOneProgram}, {@linkcode runAsOneProgram}).
 */
import { generateMap } from "../kernels/map_kernel.ts";
import { generateMatmulHooks } from "../kernels/matmul_hooks.ts";
import { generateProgram, phaseWork, type ProgramPhase } from "../kernels/program_kernel.ts";
import { accumulatedType, generateReduce, PARTIALS_SOURCE } from "../kernels/reduce_kernel.ts";
import { type DType, DTYPES } from "../kernels/dtype.ts";
import { dispatchGenerated } from "../kernels/forms.ts";
import { matmulVariantFor } from "../kernels/matmul.ts";
import { packUniforms } from "../kernels/_shared.ts";
import { type DeviceArray, type GpuRuntime, MAX_UNIFORM_BYTES } from "../kernels/runtime.ts";
import { bufferTerm, resultTerm, type Term, termChildren, termType } from "../kernels/term.ts";
import { reductionType } from "../kernels/kernel_plan.ts";
import { encodeOp } from "../ops/_op.ts";
import { formOf, type FusionPlan, type PlannedKernel } from "./fusion_plan.ts";
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
  /** Its work as a phase of a program kernel, over `graph`'s values (not an op's own kernel). */
  phase?(graph: Graph): ProgramPhase;
}

type OpNode = GraphNode & { kind: "op" };

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
    if (form?.kind !== "term") throw new Error(`jit: ${node.op.name} cannot be inlined`);
    return form.build(node.inputs.map(termOf));
  };
  const termOf = (id: number): Term => {
    let term = memo.get(id);
    if (term) return term;
    const node = graph.nodes[id];
    term = stored.has(id) || node.kind !== "op"
      ? bufferTerm(id, node.shape, node.dtype)
      : build(id);
    memo.set(id, term);
    return term;
  };
  return memo.get(root) ?? build(root);
}

/** The term of node `id` as its reader sees it: a buffer if stored, else inlined. */
function inputTerm(graph: Graph, stored: ReadonlySet<number>, id: number): Term {
  const node = graph.nodes[id];
  return stored.has(id) || node.kind !== "op"
    ? bufferTerm(id, node.shape, node.dtype)
    : rootTerm(graph, stored, id);
}

/** The epilogue of an anchor: its form's own, then each fused reader's, over the result. */
function epilogueTerm(
  graph: Graph,
  stored: ReadonlySet<number>,
  kernel: PlannedKernel & { kind: "reduce" | "matmul" },
  own: ((result: Term) => Term) | undefined,
  resultType: DType,
): Term | undefined {
  if (!own && kernel.epilogue.length === 0) return undefined;
  const result = resultTerm(graph.nodes[kernel.anchor].shape, resultType);
  const value = own ? own(result) : result;
  return rootTerm(graph, stored, kernel.writes, new Map([[kernel.anchor, value]]));
}

/** The kernel plan of a planned map, reduction or (hooked) matmul over `graph`'s values. */
function kernelPlan(
  graph: Graph,
  stored: ReadonlySet<number>,
  kernel: PlannedKernel & { kind: "map" | "reduce" | "matmul" },
  inPlace: number | undefined,
): ProgramPhase["plan"] {
  const own = inPlace === undefined ? {} : { inPlace };
  if (kernel.kind === "map") {
    return { kind: "map", outputs: [rootTerm(graph, stored, kernel.writes)], ...own };
  }
  const form = formOf(graph, kernel.anchor)!;
  const anchor = graph.nodes[kernel.anchor] as OpNode;
  const inputs = anchor.inputs.map((i) => inputTerm(graph, stored, i));
  if (form.kind === "matmul") {
    return {
      kind: "hooks",
      a: inputs[0],
      b: inputs[1],
      epilogue: epilogueTerm(graph, stored, kernel, undefined, "float32"),
      ...form.params,
      ...own,
    };
  }
  if (form.kind !== "reduce") throw new Error(`jit: ${anchor.op.name} cannot anchor a kernel`);
  const source = form.prologue ? form.prologue(inputs[0]) : inputs[0];
  // The result term has the accumulated type (argmax's of floats: a float position).
  const accumulated = reductionType(form.reducer, termType(source));
  return {
    kind: "reduce",
    reducer: form.reducer,
    source,
    axes: form.axes,
    epilogue: epilogueTerm(graph, stored, kernel, form.epilogue?.bind(form), accumulated),
    ...own,
  };
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
    const names = (ids: number[]) => ids.map((i) => (graph.nodes[i] as OpNode).op.name).join("+");
    if (kernel.kind === "opaque") {
      return {
        writes,
        label: `jit: ${names([writes])}`,
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
    const label = `jit: ${
      names(kernel.kind === "map" ? [writes] : [kernel.anchor, ...kernel.epilogue])
    }`;
    return {
      writes,
      label,
      phase: (graph) => ({ plan: kernelPlan(graph, stored, kernel, undefined), writes: [writes] }),
      run(runtime, env) {
        const planned = kernelPlan(env.graph, stored, kernel, inPlace.get(writes));
        const inputFor = (s: number) => env.array(s);
        const output = env.array(writes);
        if (planned.kind === "map") {
          const generated = generateMap(planned.outputs, "inline", planned.inPlace);
          dispatchGenerated(runtime, label, generated, inputFor, [output]);
          return;
        }
        if (planned.kind === "hooks") {
          const { m, k, n, transposeA, transposeB, batch, batchStrideA, batchStrideB } = planned;
          const params = { m, k, n, transposeA, transposeB, batch, batchStrideA, batchStrideB };
          const hooks = generateMatmulHooks(planned);
          const buffers = hooks.bindings.map((
            b,
          ) => (b.kind === "input" ? inputFor(b.source) : output));
          if (hooks.words.length > 0) {
            // The epilogue's runtime words, as the storage array the hooks read.
            buffers.push(runtime.upload(label, new Uint32Array(packUniforms(hooks.words))));
          }
          matmulVariantFor(runtime, params).encodeHooked(runtime, params, {
            wgsl: hooks.wgsl,
            buffers,
            key: hooks.key,
            op: label,
          });
          return;
        }
        const { kernels, partials, partialType } = generateReduce(planned, "inline");
        if (partials === 0) {
          dispatchGenerated(runtime, label, kernels[0], inputFor, [output]);
          return;
        }
        const temporary = runtime.allocate(label, partials, partialType);
        dispatchGenerated(runtime, label, kernels[0], inputFor, [temporary]);
        const partialsFor = (s: number) => (s === PARTIALS_SOURCE ? temporary : env.array(s));
        dispatchGenerated(runtime, label, kernels[1], partialsFor, [output]);
        runtime.release(temporary);
      },
    };
  });
}

/**
 * Work (values computed, reduced or multiplied) up to which `kernels: "auto"` runs a
 * whole program as one program kernel: one workgroup, so one core of llvmpipe or one
 * compute unit of a GPU, where every dispatch saved is worth tens of microseconds. On
 * llvmpipe (`bench/jit_bench.ts`, a two-layer SGD step) one kernel took 0.62× the fused
 * kernels' time at 20,000 of work, 0.79× at 70,000 and 1.01× at 270,000.
 */
export const PROGRAM_WORK = 1 << 17;

/** The buffer sources the phases read (through buffer terms) and write, in order of first use. */
function phaseSources(phases: readonly ProgramPhase[]): { reads: number[]; writes: number[] } {
  const reads = new Set<number>();
  const visit = (t: Term): void => {
    if (t.kind === "buffer") reads.add(t.source);
    else termChildren(t).forEach(visit);
  };
  for (const { plan } of phases) {
    if (plan.kind === "map") plan.outputs.forEach(visit);
    else if (plan.kind === "hooks") [plan.a, plan.b, plan.epilogue].forEach((t) => t && visit(t));
    else [plan.source, plan.epilogue].forEach((t) => t && visit(t));
  }
  return { reads: [...reads], writes: phases.flatMap((p) => [...p.writes]) };
}

/**
 * Whether `steps` can run as one program kernel (`kernels/program_kernel.ts`,
 * {@linkcode generateProgram}) on `device`: every step is a phase (no op's own kernel,
 * no two-pass reduction), their work is at most `maxWork`, their buffers fit the
 * device's storage bindings and their runtime words one uniform block.
 */
export function fitsOneProgram(
  graph: Graph,
  steps: readonly Step[],
  device: GPUDevice,
  maxWork: number,
): boolean {
  if (!steps.every((s) => s.phase)) return false;
  const phases = steps.map((s) => s.phase!(graph));
  // The program kernel's reductions accumulate in f32 (its one `fusedResult`); integer
  // reductions run as kernels of their own.
  const integer = (plan: ProgramPhase["plan"]) =>
    plan.kind === "reduce" && DTYPES[accumulatedType(plan)].compute !== "f32";
  if (phases.some(({ plan }) => integer(plan))) return false;
  let work = 0;
  for (const { plan } of phases) {
    const w = phaseWork(plan);
    if (w === null) return false;
    work += w;
  }
  if (work > maxWork) return false;
  const { reads, writes } = phaseSources(phases);
  const sources = new Set([...reads, ...writes]);
  if (sources.size > device.limits.maxStorageBuffersPerShaderStage) return false;
  const buffers = [...sources].map((s) => ({
    sources: [s],
    writable: writes.includes(s),
    dtype: graph.nodes[s].dtype,
  }));
  return generateProgram(phases, buffers).words.length * 4 <= MAX_UNIFORM_BYTES;
}

/**
 * Issues `steps` as one program kernel (see {@linkcode fitsOneProgram}). Values that
 * share a buffer (an output written over a donated argument, intermediates whose
 * lifetimes do not overlap, an argument given twice) share its binding, which spans the
 * largest of them: bound at the first one's length, a larger value sharing the buffer
 * would be written and read out of bounds, which WGSL discards and reads as zeros.
 */
export function runAsOneProgram(
  runtime: GpuRuntime,
  steps: readonly Step[],
  env: StepEnvironment,
): void {
  const phases = steps.map((s) => s.phase!(env.graph));
  const { reads, writes } = phaseSources(phases);
  const byBuffer = new Map<GPUBuffer, { sources: number[]; writable: boolean; dtype: DType }>();
  for (const source of [...reads, ...writes]) {
    const buffer = env.array(source).buffer;
    let entry = byBuffer.get(buffer);
    if (!entry) {
      byBuffer.set(
        buffer,
        entry = { sources: [], writable: false, dtype: env.graph.nodes[source].dtype },
      );
    }
    if (!entry.sources.includes(source)) entry.sources.push(source);
    if (writes.includes(source)) entry.writable = true;
  }
  const buffers = [...byBuffer.values()];
  const kernel = generateProgram(phases, buffers);
  const label = `jit: ${steps.map((s) => s.label.slice("jit: ".length)).join(", ")}`;
  const bound = ({ sources }: { sources: readonly number[] }): DeviceArray => ({
    buffer: env.array(sources[0]).buffer,
    byteLength: Math.max(...sources.map((s) => env.array(s).byteLength)),
  });
  dispatchGenerated(
    runtime,
    label,
    kernel,
    (s) => bound(byBuffer.get(env.array(s).buffer)!),
    buffers.filter((b) => b.writable).map(bound),
  );
}
