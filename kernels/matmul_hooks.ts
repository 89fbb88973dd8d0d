/**
 * @file The hooks of a fused matmul: a matmul's operand reads (`loadA`, `loadB`) and its
 * store (`storeC`, through the fused epilogue) as WGSL functions of the plan's terms.
 * A hookable matmul variant (`kernels/_matmul_shared.ts`, `MatmulHooks`) puts them in
 * its own kernel; a program kernel's matmul phase calls them from its own loop.
 */
import { expressionPrelude } from "./expression.ts";
import {
  type GeneratedKernel,
  generateKernel,
  type HooksPlan,
  type Template,
} from "./kernel_plan.ts";
import { termType } from "./term.ts";
import { bindingWgsl, exprsOf, Writer } from "./wgsl_writer.ts";

/**
 * Writes a matmul's operand reads and store with `w` (inline constants): functions
 * `loadA(r, p)`, `loadB(p, col)` and `storeC(row, col, v)`, prefixed, storing into
 * `target`; a batched product's read and write matrix `batchIndex` (a module-scope
 * `var<private>` that its kernel declares and sets).
 */
export function hookFunctions(w: Writer, plan: HooksPlan, target: string): string[] {
  const { m, k, n, transposeA, transposeB, batch = 1 } = plan;
  const a = w.fn(plan.a, false), b = w.fn(plan.b, false);
  const offset = (stride = 0) => (batch > 1 && stride > 0 ? `batchIndex * ${stride}u + ` : "");
  const at = batch > 1 ? `(batchIndex * ${m}u + row) * ${n}u + col` : `row * ${n}u + col`;
  const store = plan.epilogue
    ? `fusedResult = v;\n  ${target}[${at}] = ${w.fn(plan.epilogue, false)}(${at});`
    : `${target}[${at}] = v;`;
  const prefix = w.phase.prefix;
  return [
    `fn ${prefix}loadA(r: u32, p: u32) -> f32 { return ${a}(${offset(plan.batchStrideA)}${
      transposeA ? `p * ${m}u + r` : `r * ${k}u + p`
    }); }`,
    `fn ${prefix}loadB(p: u32, col: u32) -> f32 { return ${b}(${offset(plan.batchStrideB)}${
      transposeB ? `col * ${k}u + p` : `p * ${n}u + col`
    }); }`,
    `fn ${prefix}storeC(row: u32, col: u32, v: f32) {\n  ${store}\n}`,
  ];
}

/** Writes the hooks of a matmul variant: bindings from 1, term functions, loadA/loadB/storeC. */
function writeHooks(w: Writer, plan: HooksPlan): Template {
  const hooks = hookFunctions(w, plan, "out0");
  // Every binding of its own type: an int32 operand of the epilogue (labels), a bool
  // result of one (a comparison).
  const dtype = plan.epilogue ? termType(plan.epilogue) : "float32";
  w.bindings.push({ kind: "output", index: 0, vector: false, dtype });
  const storage = w.bindings.map(bindingWgsl);
  if (w.getters.length > 0) {
    storage.push(
      `@group(0) @binding(${w.bindings.length + 1}) var<storage, read> hookWords: array<u32>;`,
    );
  }
  const wgsl = [
    ...storage,
    `var<private> fusedResult: f32;`,
    expressionPrelude(exprsOf(w.terms)),
    w.functions(),
    ...hooks,
  ].join("\n");
  return { wgsl, getters: w.getters, bindings: w.bindings, workgroups: () => 0 };
}

/**
 * The hooks of a fused matmul (inline constants: `jit` only): WGSL that a hookable
 * matmul variant puts in its kernel. Its storage bindings start at 1 (inputs, then the
 * output); when it reads runtime words, they come last as a storage array of
 * {@linkcode GeneratedKernel.words} (the variant's uniform block is its own).
 */
export function generateMatmulHooks(plan: HooksPlan): GeneratedKernel {
  return generateKernel(
    plan,
    "inline",
    "",
    (canonical) => writeHooks(new Writer(plan, canonical, "inline", "storage"), plan),
  );
}
