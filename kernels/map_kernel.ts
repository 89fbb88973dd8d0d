/**
 * @file The map kernel: one thread per output element, or per four as vec4 where it reads
 * no reduction's result — contiguous reads as vec4 loads, views once per block where
 * the block shares one value (a constant, a bias broadcast over pixels), else element by
 * element: on llvmpipe a storage access costs per access, not per byte. Each thread
 * writes one or more terms of the same size.
 * Eager elementwise ops and views are one map each; under `jit` a map is a fused chain
 * of them.
 */
import { LINEAR_WORKGROUP } from "./_shared.ts";
import { expressionPrelude } from "./expression.ts";
import {
  type CanonicalTerms,
  type ConstantMode,
  type GeneratedKernel,
  generateKernel,
  type KernelPlan,
  type Template,
} from "./kernel_plan.ts";
import { sizeOf, type Term, termType } from "./term.ts";
import { declarations, exprsOf, storeWgsl, USE_PARAMS, Writer } from "./wgsl_writer.ts";

/** Threads per workgroup of map kernels. */
const MAP_WORKGROUP = 256;
/**
 * Elements (or blocks of four) each map thread writes, strided by the workgroup: llvmpipe
 * pays a few microseconds per workgroup, so a workgroup should do thousands of elements.
 */
const MAP_ITEMS = 4;

/** The map kernel writing `outputs` (terms of one size), output 0 maybe in place of an input. */
export function generateMap(
  outputs: readonly Term[],
  mode: ConstantMode,
  inPlace?: number,
): GeneratedKernel {
  const plan = { kind: "map", outputs, ...(inPlace === undefined ? {} : { inPlace }) } as const;
  return generateKernel(
    plan,
    mode,
    "",
    (canonical, vector) => writeMap(plan, canonical, mode, vector),
  );
}

/** Writes a map kernel. */
function writeMap(
  plan: KernelPlan & { kind: "map" },
  canonical: CanonicalTerms,
  mode: ConstantMode,
  vector: boolean,
): Template {
  const w = new Writer(plan, canonical, mode);
  const count = w.u32((c) => {
    const n = sizeOf((c.plan as KernelPlan & { kind: "map" }).outputs[0].shape);
    return vector ? Math.ceil(n / 4) : n;
  });
  const stores = plan.outputs.map((t, o) =>
    `  out${o}[i] = ${storeWgsl(termType(t), vector, `${w.fn(t, vector)}(i)`)};`
  );
  plan.outputs.forEach((t, o) =>
    w.bindings.push({ kind: "output", index: o, vector, dtype: termType(t) })
  );
  const wgsl = [
    declarations(w.getters.length, w.bindings, w.terms),
    `var<private> fusedResult: f32;`,
    expressionPrelude(exprsOf(canonical.terms)),
    LINEAR_WORKGROUP,
    w.functions(),
    `@compute @workgroup_size(${MAP_WORKGROUP})`,
    `fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,`,
    `        @builtin(local_invocation_index) lid: u32) {`,
    USE_PARAMS,
    `  let first = linearWorkgroup(wid, groups) * ${MAP_WORKGROUP * MAP_ITEMS}u + lid;`,
    `  for (var item = 0u; item < ${MAP_ITEMS}u; item++) {`,
    `    let i = first + item * ${MAP_WORKGROUP}u;`,
    `    if (i >= ${count}) { return; }`,
    ...stores.map((line) => `  ${line}`),
    `  }`,
    `}`,
  ].join("\n");
  return {
    wgsl,
    getters: w.getters,
    bindings: w.bindings,
    workgroups: (p) => {
      const n = sizeOf((p as KernelPlan & { kind: "map" }).outputs[0].shape);
      return Math.ceil((vector ? Math.ceil(n / 4) : n) / (MAP_WORKGROUP * MAP_ITEMS));
    },
  };
}
