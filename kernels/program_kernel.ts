/**
 * @file The program kernel (`jit`'s small programs, inline constants): one workgroup
 * runs maps, reductions and matmul loops as phases in order, a storage barrier between
 * each, so a small program is one dispatch instead of one per phase (on llvmpipe a
 * dispatch costs tens of microseconds whatever it does). Each phase computes what its
 * own fused kernel would, with the same roundings: a map element by element, a matmul's
 * dot products in order through its hooks (`kernels/matmul_hooks.ts`), a reduction with
 * the reduce kernel's parts and the one reduction tree (`kernels/reduction_tree.ts`).
 */
import type { DType } from "./dtype.ts";
import { expressionPrelude } from "./expression.ts";
import {
  bindContext,
  type Binding,
  type CanonicalTerms,
  canonicalTerms,
  type GeneratedKernel,
  type Getter,
  type HooksPlan,
  type KernelPlan,
  type ReducePlan,
  reductionDims,
  signatureOf,
} from "./kernel_plan.ts";
import { LruCache } from "./lru_cache.ts";
import { hookFunctions } from "./matmul_hooks.ts";
import {
  REDUCE_WORKGROUP,
  reducesSequentially,
  reductionParts,
  takesTwoPasses,
} from "./reduce_kernel.ts";
import { foldLanes } from "./reduction_tree.ts";
import { sizeOf, termType } from "./term.ts";
import { declarations, exprsOf, storeWgsl, USE_PARAMS, Writer } from "./wgsl_writer.ts";

/** Threads of a program kernel's one workgroup. */
const PROGRAM_WORKGROUP = 256;
/** Outputs a program kernel's reduction tree handles per round (its lanes share the workgroup). */
const PROGRAM_TREES = PROGRAM_WORKGROUP / REDUCE_WORKGROUP;
/**
 * From this many outputs on, each thread of a program kernel reduces whole outputs
 * alone, in the same order as a workgroup's lanes and tree would (so with the same
 * roundings); below, the lanes share each output.
 */
const PROGRAM_THREAD_TREES = REDUCE_WORKGROUP;

/** A phase of a program kernel: a map, a reduction or a matmul's loop. */
export interface ProgramPhase {
  readonly plan: (KernelPlan & { kind: "map" }) | ReducePlan | HooksPlan;
  /** The buffer source written: one per output of a map, else one. */
  readonly writes: readonly number[];
}

/**
 * A buffer of a program kernel: the buffer sources it holds (all of its one element
 * type), and whether a phase writes it.
 */
export interface ProgramBuffer {
  readonly sources: readonly number[];
  readonly writable: boolean;
  readonly dtype: DType;
}

/**
 * The work of a phase (elements, values reduced or multiply-adds), or `null` when a
 * program kernel cannot run it: a reduction long enough to take two passes.
 */
export function phaseWork(plan: ProgramPhase["plan"]): number | null {
  switch (plan.kind) {
    case "map":
      return sizeOf(plan.outputs[0].shape) * plan.outputs.length;
    case "hooks":
      return plan.m * plan.k * plan.n * (plan.batch ?? 1);
    case "reduce": {
      if (takesTwoPasses(plan)) return null;
      const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
      return sizeOf(kept.map((d) => d.size)) * sizeOf(reduced.map((d) => d.size));
    }
  }
}

/** A cached program kernel: WGSL and, per phase, the getters of its words. */
interface ProgramTemplate {
  readonly wgsl: string;
  readonly getters: readonly (readonly Getter[])[];
  readonly bindings: readonly Binding[];
}

/**
 * Program kernels kept by {@linkcode generateProgram}. A program kernel is specialised
 * to its program's shapes and buffer sharing, one per jitted program (and one more that
 * `jit` writes to measure its word block), and its WGSL runs to tens of kilobytes; 64
 * holds every small program of a process that jits a few functions at a few shapes
 * each, and one forgotten costs only writing its WGSL again.
 */
export const PROGRAM_TEMPLATE_CAPACITY = 64;

const programTemplates = new LruCache<string, ProgramTemplate>(PROGRAM_TEMPLATE_CAPACITY);

/**
 * How many program kernels the generator holds now, at most
 * {@linkcode PROGRAM_TEMPLATE_CAPACITY} (module-global, like the kernel templates).
 */
export function programTemplateCount(): number {
  return programTemplates.size;
}

/**
 * A **program kernel** (inline constants: `jit` only): one workgroup runs `phases` in
 * order, a storage barrier between each, so a small program is one dispatch instead of
 * one per phase (on llvmpipe a dispatch costs tens of microseconds whatever it does).
 * Each phase computes what its own kernel would, with the same roundings. `buffers`
 * are the distinct buffers the phases read and write: values sharing a buffer (an
 * output over a donated input, intermediates whose lifetimes do not overlap) share its
 * binding, since a dispatch may not bind one buffer twice when either is writable.
 * Bindings: read-only buffers as inputs (by their first source), written ones as
 * outputs, in `buffers` order.
 */
export function generateProgram(
  phases: readonly ProgramPhase[],
  buffers: readonly ProgramBuffer[],
): GeneratedKernel {
  const canonical = phases.map((phase) => canonicalTerms(phase.plan));
  const layout = buffers.map((b) => `${b.writable ? "w" : "r"}${b.dtype}${b.sources.join("+")}`);
  const key = `program|${layout.join(",")}|${
    phases.map((phase, p) =>
      `${signatureOf(phase.plan, canonical[p], "inline", false)}>${phase.writes}`
    ).join("||")
  }`;
  const template = programTemplates.getOrCreate(
    key,
    () => writeProgram(phases, buffers, canonical),
  );
  const words = template.getters.flatMap((getters, p) => {
    const context = bindContext(canonical[p].terms, phases[p].plan);
    return getters.map((get) => get(context));
  });
  return { key, wgsl: template.wgsl, words, bindings: template.bindings, workgroups: 1 };
}

function writeProgram(
  phases: readonly ProgramPhase[],
  buffers: readonly ProgramBuffer[],
  canonical: readonly CanonicalTerms[],
): ProgramTemplate {
  const bindings: Binding[] = [];
  const nameOf = new Map<number, string>();
  let outputs = 0;
  for (const buffer of buffers) {
    const name = buffer.writable ? `out${outputs}` : `in${bindings.length + 1}`;
    bindings.push(
      buffer.writable
        ? { kind: "output", index: outputs++, vector: false, dtype: buffer.dtype }
        : { kind: "input", source: buffer.sources[0], vector: false, dtype: buffer.dtype },
    );
    for (const source of buffer.sources) nameOf.set(source, name);
  }
  const binding = (source: number) => {
    const name = nameOf.get(source);
    if (!name) throw new Error(`generateProgram: buffer source ${source} has no buffer`);
    return name;
  };
  const getters: Getter[][] = [];
  const functions: string[] = [];
  const bodies: string[] = [];
  const partials = new Set<string>();
  let words = 0;
  phases.forEach((phase, p) => {
    const w = new Writer(phase.plan, canonical[p], "inline", "uniform", {
      prefix: `p${p}_`,
      wordBase: words,
      binding,
    });
    const body = writePhase(w, phase, binding, partials);
    functions.push(w.functions(), ...body.functions);
    bodies.push(body.code);
    getters.push(w.getters);
    words += w.getters.length;
  });
  const wgsl = [
    declarations(words, bindings, canonical.flatMap((c) => c.terms)),
    `var<private> fusedResult: f32;`,
    `var<private> batchIndex: u32;`,
    ...[...partials].map((type) =>
      `var<workgroup> partial_${type}: array<${type}, ${PROGRAM_WORKGROUP}>;`
    ),
    expressionPrelude(canonical.flatMap(({ terms }) => exprsOf(terms))),
    ...functions,
    `@compute @workgroup_size(${PROGRAM_WORKGROUP})`,
    `fn main(@builtin(local_invocation_index) lid: u32) {`,
    USE_PARAMS,
    bodies.join("\n  storageBarrier();\n"),
    `}`,
  ].join("\n");
  return { wgsl, getters, bindings };
}

/** The functions and the statements (a block of `main`) of one phase of a program kernel. */
function writePhase(
  w: Writer,
  phase: ProgramPhase,
  binding: (source: number) => string,
  partials: Set<string>,
): { functions: string[]; code: string } {
  const plan = phase.plan;
  const loop = (count: number | string, variable: string, lines: readonly string[]) =>
    [
      `  for (var ${variable} = lid; ${variable} < ${count}; ${variable} += ${PROGRAM_WORKGROUP}u) {`,
      ...lines.map((line) => `    ${line}`),
      `  }`,
    ].join("\n");
  switch (plan.kind) {
    case "map": {
      const stores = plan.outputs.map((t, o) =>
        `${binding(phase.writes[o])}[i] = ${storeWgsl(termType(t), false, `${w.fn(t, false)}(i)`)};`
      );
      return { functions: [], code: loop(`${sizeOf(plan.outputs[0].shape)}u`, "i", stores) };
    }
    case "hooks": {
      const functions = hookFunctions(w, plan, binding(phase.writes[0]));
      const prefix = w.phase.prefix;
      return {
        functions,
        code: loop(`${plan.m * plan.n * (plan.batch ?? 1)}u`, "at", [
          // A batch's matrices one after another (batchIndex: see hookFunctions).
          ...((plan.batch ?? 1) > 1 ? [`batchIndex = at / ${plan.m * plan.n}u;`] : []),
          `let row = at / ${plan.n}u${(plan.batch ?? 1) > 1 ? ` % ${plan.m}u` : ""};`,
          `let col = at % ${plan.n}u;`,
          `var acc = 0.0;`,
          `for (var p = 0u; p < ${plan.k}u; p++) { acc += ${prefix}loadA(row, p) * ${prefix}loadB(p, col); }`,
          `${prefix}storeC(row, col, acc);`,
        ]),
      };
    }
    case "reduce": {
      const parts = reductionParts(w, plan);
      const { combine, outputs, length, identity, type } = parts;
      const target = binding(phase.writes[0]);
      const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
      const count = sizeOf(kept.map((d) => d.size));
      const functions = [...parts.helpers];
      if (reducesSequentially(sizeOf(reduced.map((d) => d.size)), count)) {
        return {
          functions,
          code: loop(outputs, "o", [
            `let base = ${parts.oIndex}(o);`,
            `var a = ${identity};`,
            parts.accumulate("0u", length),
            parts.finish("a", "o", target),
          ]),
        };
      }
      const lanes = REDUCE_WORKGROUP;
      if (count >= PROGRAM_THREAD_TREES) {
        // One thread per output: the lanes' partial values in order, then the same tree.
        return {
          functions,
          code: loop(outputs, "o", [
            `let base = ${parts.oIndex}(o);`,
            `var lane: array<${type}, ${lanes}>;`,
            `for (var l = 0u; l < ${lanes}u; l++) {`,
            `  var a = ${identity};`,
            `  ${parts.accumulate("l", length, lanes)}`,
            `  lane[l] = a;`,
            `}`,
            ...foldLanes({ array: "lane", lanes, combine }),
            `let a = lane[0];`,
            parts.finish("a", "o", target),
          ]),
        };
      }
      // Few outputs: each round, every group of lanes reduces one output as a workgroup would.
      partials.add(type);
      const partial = `partial_${type}`;
      return {
        functions,
        code: [
          `  for (var round = 0u; round < ${outputs}; round += ${PROGRAM_TREES}u) {`,
          `    let lane = lid % ${lanes}u;`,
          `    let o = round + lid / ${lanes}u;`,
          `    let base = ${parts.oIndex}(min(o, ${outputs} - 1u));`,
          `    var a = ${identity};`,
          `    ${parts.accumulate("lane", length, lanes)}`,
          `    ${partial}[lid] = a;`,
          `    workgroupBarrier();`,
          ...foldLanes({
            array: partial,
            lanes,
            combine,
            shared: { lane: "lane", slot: "lid" },
          }).map((line) => `    ${line}`),
          `    if (lane == 0u && o < ${outputs}) {`,
          `      a = ${partial}[lid];`,
          `      ${parts.finish("a", "o", target)}`,
          `    }`,
          `    workgroupBarrier();`,
          `  }`,
        ].join("\n"),
      };
    }
  }
}
