/**
 * @file What the kernel generator is asked for, and the cache of what it wrote: the
 * plans (a map, a reduction, a matmul's hooks), a plan's canonical terms and its
 * signature, and the bounded cache of templates keyed by signature. Generated kernels
 * are shared by the eager ops (one op per kernel) and by `jit` (many ops fused into
 * one); the writers are `kernels/map_kernel.ts`, `kernels/reduce_kernel.ts`,
 * `kernels/matmul_hooks.ts` and `kernels/program_kernel.ts`, all with the one
 * `Writer` of `kernels/wgsl_writer.ts`.
 *
 * Every term becomes one WGSL function of its flat index (`fn t3(i: u32) -> f32`), so a
 * consumer reads a view by calling its function at a rewritten index and a value with two
 * consumers is one function called twice. Numbers come in two kinds. Runtime words (a
 * learning rate, a dropout key) always travel in the kernel's word block. Shapes,
 * strides and sizes travel there too in **uniform** mode (eager ops: one pipeline per
 * structure, whatever the shape) or are written into the WGSL in **inline** mode (`jit`:
 * a compiled program is specialised to its shapes anyway, and constants fold).
 *
 * A kernel is generated in two steps. Its signature — the structure without the words —
 * is computed on every call and keys a cache of templates: the WGSL text and, for each
 * word, a getter that reads it from a new term DAG of the same structure. So an eager op
 * on new values, or a replay with a new learning rate, fills in a word block without
 * writing WGSL again. In inline mode the signature holds the shapes, so the cache is
 * bounded ({@linkcode TEMPLATE_CAPACITY}): a process meeting ever new shapes forgets
 * the templates used longest ago, and meeting one again only writes its WGSL again.
 */
import { type DType, DTYPES } from "./dtype.ts";
import { expressionSignature, runtimeWords, type Word } from "./expression.ts";
import { LruCache } from "./lru_cache.ts";
import {
  gathersBlocks,
  type Shape,
  sizeOf,
  type StridedDim,
  type Term,
  termChildren,
} from "./term.ts";

/** How a reduction combines values (the arg reducers keep the value's index too). */
export type Reducer = "sum" | "prod" | "max" | "min" | "argmax" | "argmin";

/**
 * The type a reduction accumulates and its result term has: the source's type, bool
 * summed as int32; argmax and argmin of floats keep a float32 position beside the value,
 * of integers one of the integer's type (their epilogue stores it as int32). Floats
 * accumulate in f32 whatever their storage.
 */
export function reductionType(reducer: Reducer, source: DType): DType {
  if (source === "bool") return "int32";
  const arg = reducer === "argmax" || reducer === "argmin";
  return arg && DTYPES[source].float ? "float32" : source;
}

/** A kernel to generate. */
export type KernelPlan =
  | {
    readonly kind: "map";
    /** The values written, one output each; all of one size. */
    readonly outputs: readonly Term[];
    /** The buffer source that output 0 overwrites in place (see {@linkcode InPlace}). */
    readonly inPlace?: number;
  }
  | ReducePlan
  | HooksPlan;

/**
 * Output 0 may overwrite an input buffer (a donated argument under `jit`): WebGPU does
 * not let one dispatch bind a buffer both read-only and writable, so reads of that
 * source go through the output's binding. The caller guarantees each thread reads the
 * input only at the element it writes.
 */
export interface InPlace {
  /** The buffer source that output 0 overwrites. */
  readonly inPlace?: number;
}

/**
 * The operand reads and the store of a matmul variant's kernel: op(A)[r][p] is term `a`
 * (of A's stored shape) at its index, likewise `b`; the store writes `epilogue` (over
 * the `result` term, the accumulated dot product) at C's index, or the product itself.
 * A batched product (`batch` > 1) reads matrix `batchIndex` of each operand at its
 * batch stride (0: broadcast) and writes C's matrix `batchIndex`.
 */
export interface HooksPlan extends InPlace {
  readonly kind: "hooks";
  readonly a: Term;
  readonly b: Term;
  readonly epilogue?: Term;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly batch?: number;
  readonly batchStrideA?: number;
  readonly batchStrideB?: number;
}

/** A reduction of `source` over `axes`, then `epilogue` (over the `result` term) per output. */
export interface ReducePlan extends InPlace {
  readonly kind: "reduce";
  readonly reducer: Reducer;
  /** The values reduced (the prologue), of the reduction's input shape. */
  readonly source: Term;
  /** Reduced axes of `source.shape`, ascending. */
  readonly axes: readonly number[];
  /** Of the kept shape; reads the reduced value through `result` terms. Absent: the value. */
  readonly epilogue?: Term;
}

/** Where the generator puts numbers that are not runtime words. */
export type ConstantMode = "uniform" | "inline";

/** A generated kernel: its WGSL and what to bind. */
export interface GeneratedKernel {
  /** Equal keys mean equal WGSL. */
  readonly key: string;
  readonly wgsl: string;
  /** The word block, bound as the uniform at binding 0. */
  readonly words: readonly Word[];
  /**
   * Resources from binding 1 on: buffer sources (a term's `source`) read as elements of
   * their type or as vec4 blocks, then the outputs (`output` index), read-write.
   */
  readonly bindings: readonly Binding[];
  /** Workgroups to dispatch. */
  readonly workgroups: number;
}

/** One storage binding of a generated kernel. */
export type Binding =
  | {
    readonly kind: "input";
    readonly source: number;
    readonly vector: boolean;
    readonly dtype: DType;
  }
  | {
    readonly kind: "output";
    readonly index: number;
    readonly vector: boolean;
    readonly dtype: DType;
  };

/** Context of a word getter: a DAG of the same structure, in canonical order. */
export interface BindContext {
  readonly terms: readonly Term[];
  readonly plan: KernelPlan;
  /** Runtime words of map term `index`, computed once per bind. */
  exprWords(index: number): Word[];
}

/** Reads one word of a kernel's word block from a plan of the template's structure. */
export type Getter = (context: BindContext) => Word;

/** A cached generation: WGSL and how to fill its word block. */
export interface Template {
  readonly wgsl: string;
  readonly getters: readonly Getter[];
  readonly bindings: readonly Binding[];
  readonly workgroups: (plan: KernelPlan) => number;
}

/** A plan's terms in canonical order (post-order from the roots) with their indices. */
export interface CanonicalTerms {
  readonly terms: Term[];
  readonly index: Map<Term, number>;
}

/**
 * Templates kept by {@linkcode generateKernel}. An eager program meets a few dozen
 * structures (uniform mode: one template each, whatever the shapes) and a jitted
 * program one template per fused kernel and shape; 256 holds several programs' kernels
 * at a few kilobytes of WGSL each, and a template forgotten costs only writing its WGSL
 * again (the runtime caches the pipeline by its text).
 */
export const TEMPLATE_CAPACITY = 256;

const templates = new LruCache<string, Template>(TEMPLATE_CAPACITY);

/**
 * How many kernel templates the generator holds now, at most
 * {@linkcode TEMPLATE_CAPACITY}. The cache is module-global: every backend of the
 * process shares it (a template is WGSL text, valid on any device).
 */
export function templateCount(): number {
  return templates.size;
}

/** Terms of a plan in canonical order (post-order from the roots) with their indices. */
export function canonicalTerms(plan: KernelPlan): CanonicalTerms {
  const terms: Term[] = [];
  const index = new Map<Term, number>();
  const visit = (t: Term): void => {
    if (index.has(t)) return;
    termChildren(t).forEach(visit);
    index.set(t, terms.length);
    terms.push(t);
  };
  if (plan.kind === "map") plan.outputs.forEach(visit);
  else if (plan.kind === "hooks") {
    visit(plan.a);
    visit(plan.b);
    if (plan.epilogue) visit(plan.epilogue);
  } else {
    visit(plan.source);
    if (plan.epilogue) visit(plan.epilogue);
  }
  return { terms, index };
}

function dimsSignature(dims: readonly StridedDim[], mode: ConstantMode): string {
  return dims.map((d) =>
    mode === "inline" ? `${d.size}:${d.stride}${d.mask ? `[${d.mask}]` : ""}` : d.mask ? "m" : "d"
  ).join(",");
}

/** The structural key of a plan: equal keys give equal WGSL and equal word layouts. */
export function signatureOf(
  plan: KernelPlan,
  { terms, index }: CanonicalTerms,
  mode: ConstantMode,
  vector: boolean,
): string {
  const ref = (t: Term) => index.get(t)!;
  const parts = terms.map((t) => {
    const size = mode === "inline" ? `#${sizeOf(t.shape)}` : "";
    switch (t.kind) {
      case "buffer":
        return `b${t.source}${t.dtype}${size}`;
      case "result":
        return `r${t.dtype}`;
      case "map":
        return `m(${expressionSignature(t.expr)})[${t.args.map(ref)}]${size}`;
      case "view":
        return t.view.kind === "gather"
          ? `g${ref(t.view.rows)}:${gathersBlocks(t) ? "b" : ""}${t.view.along ? "a" : ""}${
            mode === "inline" ? `${t.view.rowSize}/${t.view.count}/${t.view.axisSize}` : ""
          }[${ref(t.source)}]`
          : `v(${dimsSignature(t.view.dims, mode)}${mode === "inline" ? `@${t.view.offset}` : ""})${
            t.view.outside ? `o${ref(t.view.outside)}` : ""
          }[${ref(t.source)}]${size}`;
    }
  });
  const epilogue = "epilogue" in plan && plan.epilogue ? `,${ref(plan.epilogue)}` : "";
  const head = plan.kind === "map"
    ? `map${vector ? "4" : ""}[${plan.outputs.map(ref)}]`
    : plan.kind === "hooks"
    ? `hooks:${+plan.transposeA}${+plan.transposeB}${
      mode === "inline"
        ? `:${plan.m}x${plan.k}x${plan.n}` +
          ((plan.batch ?? 1) > 1 ? `x${plan.batch}/${plan.batchStrideA}/${plan.batchStrideB}` : "")
        : ""
    }[${ref(plan.a)},${ref(plan.b)}${epilogue}]`
    : `reduce:${plan.reducer}:${reductionSignature(plan, mode)}[${ref(plan.source)}${
      plan.epilogue ? `,${ref(plan.epilogue)}` : ""
    }]`;
  const inPlace = plan.inPlace === undefined ? "" : `|in place of b${plan.inPlace}`;
  return `${mode}|${head}|${parts.join(";")}${inPlace}`;
}

/** The index structure of a reduction: its canonical kept and reduced dimensions. */
function reductionSignature(plan: ReducePlan, mode: ConstantMode): string {
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  return mode === "inline"
    ? `${dimsSignature(kept, mode)}/${dimsSignature(reduced, mode)}`
    : `${kept.length}/${reduced.length}`;
}

/** Kept and reduced dimensions of a reduction, each canonical (merged where contiguous). */
export function reductionDims(
  shape: Shape,
  axes: readonly number[],
): { kept: StridedDim[]; reduced: StridedDim[] } {
  const strides: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  const kept: StridedDim[] = [], reduced: StridedDim[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const list = axes.includes(d) ? reduced : kept;
    const last = list.at(-1);
    if (last && last.stride === strides[d] * size) {
      list[list.length - 1] = { size: last.size * size, stride: strides[d] };
    } else list.push({ size, stride: strides[d] });
  });
  return { kept, reduced };
}

/**
 * Whether a map kernel can work on four elements per thread: every buffer is read at
 * the element's own index (a vec4 load) or through a view, which reads one value for
 * the block where it {@linkcode splatsBlocks} and the four elements one by one where not
 * (as many reads as a scalar kernel makes, the contiguous loads four times fewer).
 */
export function vectorizable(outputs: readonly Term[]): boolean {
  const n = sizeOf(outputs[0].shape);
  if (n < 4) return false;
  const ok = (t: Term): boolean => {
    switch (t.kind) {
      case "buffer":
      case "view":
        return true;
      case "result":
        return false;
      case "map":
        return t.args.every(ok);
    }
  };
  return outputs.every(ok);
}

/**
 * Whether a view reads one value for each aligned block of four elements: a strided
 * view whose trailing dimensions of stride 0 and no mask span a multiple of four (a
 * constant, or a bias broadcast over an image's pixels).
 */
export function splatsBlocks(t: Term & { kind: "view" }): boolean {
  if (t.view.kind !== "strided") return false;
  const dims = t.view.dims;
  let span = 1;
  for (let d = dims.length - 1; d >= 0 && dims[d].stride === 0 && !dims[d].mask; d--) {
    span *= dims[d].size;
  }
  return span % 4 === 0;
}

/**
 * Which views of `terms` splat a block of four ("s") and which read its elements ("e"),
 * in order: it shapes a vectorised kernel's WGSL but depends on sizes, which a uniform
 * kernel's signature leaves out, so it joins the template's key.
 */
function blockReads(terms: readonly Term[]): string {
  return terms.map((t) => (t.kind === "view" ? (splatsBlocks(t) ? "s" : "e") : "")).join("");
}

/** The context that word getters read a plan's words from. */
export function bindContext(terms: readonly Term[], plan: KernelPlan): BindContext {
  const cache = new Map<number, Word[]>();
  return {
    terms,
    plan,
    exprWords(index) {
      let words = cache.get(index);
      if (!words) {
        words = runtimeWords((terms[index] as Term & { kind: "map" }).expr);
        cache.set(index, words);
      }
      return words;
    },
  };
}

/**
 * The generated kernel for `plan`: its template from the cache (keyed by the plan's
 * signature and `variant`, what else shapes the WGSL), or written now by `write` (given
 * the canonical terms and whether a map works on four elements per thread), with the
 * plan's words filled in.
 */
export function generateKernel(
  plan: KernelPlan,
  mode: ConstantMode,
  variant: string,
  write: (canonical: CanonicalTerms, vector: boolean) => Template,
): GeneratedKernel {
  const canonical = canonicalTerms(plan);
  const vector = plan.kind === "map" && vectorizable(plan.outputs);
  const key = `${signatureOf(plan, canonical, mode, vector)}|${variant}|${
    blockReads(canonical.terms)
  }`;
  const template = templates.getOrCreate(key, () => write(canonical, vector));
  const context = bindContext(canonical.terms, plan);
  return {
    key,
    wgsl: template.wgsl,
    words: template.getters.map((get) => get(context)),
    bindings: template.bindings,
    workgroups: template.workgroups(plan),
  };
}
