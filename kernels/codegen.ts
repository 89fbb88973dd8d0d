/**
 * @file The kernel generator: WGSL for a DAG of terms (`kernels/term.ts`), shared by the
 * eager ops (one op per kernel) and by `jit` (many ops fused into one). Four kernel
 * shapes exist:
 *
 * - **map**: one thread per output element (or per four, as vec4, when every read is at
 *   the element's own index or a constant one: on llvmpipe a storage access costs per
 *   access, not per byte), writing one or more terms of the same size;
 * - **reduce**: a reduction over some axes of a term (its prologue, fused), then an
 *   epilogue term of the reduced value, per output element: one thread per output for
 *   short reductions (a sequential sum), one workgroup per output for long ones (strided
 *   partial sums, then a tree in workgroup memory), two passes for very long ones with
 *   few outputs (chunks, then the chunks' results); {@linkcode reductionRoundings} gives
 *   the longest chain of roundings, which the error-bound tests use;
 * - **matmul hooks**: operand loads and an epilogue store that a matmul variant's own
 *   kernel calls (`kernels/_matmul_shared.ts`, `MatmulHooks`);
 * - **program**: one workgroup running maps, reductions and matmul loops as phases in
 *   order, a storage barrier between each (`jit`'s small programs, one dispatch each;
 *   {@linkcode generateProgram}).
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
 * writing WGSL again.
 */
import {
  type Expr,
  expressionPrelude,
  expressionSignature,
  expressionWgsl,
  isNaNWgsl,
  runtimeWords,
  type Word,
} from "./expression.ts";
import { LINEAR_WORKGROUP } from "./_shared.ts";
import { type Shape, sizeOf, type StridedDim, type Term, type View } from "./term.ts";

/** How a reduction combines values. */
export type Reducer = "sum" | "max" | "min" | "argmax";

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
   * Resources from binding 1 on: buffer sources (a term's `source`) read as f32 or as
   * vec4f blocks, then the outputs (`output` index), read-write.
   */
  readonly bindings: readonly Binding[];
  /** Workgroups to dispatch. */
  readonly workgroups: number;
}

/** One storage binding of a generated kernel. */
export type Binding =
  | { readonly kind: "input"; readonly source: number; readonly vector: boolean }
  | { readonly kind: "output"; readonly index: number; readonly vector: boolean };

/** Threads per workgroup of map kernels. */
const MAP_WORKGROUP = 256;
/**
 * Elements (or blocks of four) each map thread writes, strided by the workgroup: llvmpipe
 * pays a few microseconds per workgroup, so a workgroup should do thousands of elements.
 */
const MAP_ITEMS = 4;
/** Threads per workgroup reducing one output. */
const REDUCE_WORKGROUP = 64;
/** Reductions at most this long are one sequential loop per output. */
const SEQUENTIAL_MAX = 32;
/** Values one workgroup reduces in the first pass of a two-pass reduction. */
const CHUNK = 4096;
/** Two passes are used only below this many outputs (else there is parallelism enough). */
const SPLIT_OUTPUTS = 256;

/**
 * The longest chain of rounded operations from an input to one output of a `sum` of
 * `length` values with `outputs` outputs, as the generated reduction computes it: the
 * sum's error is at most γ(this)·Σ|terms|.
 */
export function reductionRoundings(length: number, outputs: number): number {
  const pass = (n: number) =>
    n <= SEQUENTIAL_MAX ? n - 1 : Math.ceil(n / REDUCE_WORKGROUP) - 1 + Math.log2(REDUCE_WORKGROUP);
  if (!splits(length, outputs)) return pass(length);
  return pass(CHUNK) + pass(Math.ceil(length / CHUNK));
}

function splits(length: number, outputs: number): boolean {
  return length > CHUNK && outputs < SPLIT_OUTPUTS;
}

/** Context of a word getter: a DAG of the same structure, in canonical order. */
interface BindContext {
  readonly terms: readonly Term[];
  readonly plan: KernelPlan;
  /** Runtime words of map term `index`, computed once per bind. */
  exprWords(index: number): Word[];
}

type Getter = (context: BindContext) => Word;

/** A cached generation: WGSL and how to fill its word block. */
interface Template {
  readonly wgsl: string;
  readonly getters: readonly Getter[];
  readonly bindings: readonly Binding[];
  readonly workgroups: (plan: KernelPlan) => number;
}

const templates = new Map<string, Template>();

/** Terms of a plan in canonical order (post-order from the roots) with their indices. */
function canonicalTerms(plan: KernelPlan): { terms: Term[]; index: Map<Term, number> } {
  const terms: Term[] = [];
  const index = new Map<Term, number>();
  const visit = (t: Term): void => {
    if (index.has(t)) return;
    if (t.kind === "map") t.args.forEach(visit);
    else if (t.kind === "view") {
      visit(t.source);
      if (t.view.kind === "strided" && t.view.outside) visit(t.view.outside);
      if (t.view.kind === "gather") visit(t.view.rows);
    }
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
function signatureOf(
  plan: KernelPlan,
  terms: readonly Term[],
  index: Map<Term, number>,
  mode: ConstantMode,
  vector: boolean,
): string {
  const ref = (t: Term) => index.get(t)!;
  const parts = terms.map((t) => {
    const size = mode === "inline" ? `#${sizeOf(t.shape)}` : "";
    switch (t.kind) {
      case "buffer":
        return `b${t.source}${size}`;
      case "result":
        return `r`;
      case "map":
        return `m(${expressionSignature(t.expr)})[${t.args.map(ref)}]${size}`;
      case "view":
        return t.view.kind === "gather"
          ? `g${ref(t.view.rows)}:${mode === "inline" ? t.view.rowSize : ""}[${ref(t.source)}]`
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
      mode === "inline" ? `:${plan.m}x${plan.k}x${plan.n}` : ""
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

/**
 * Whether a map kernel can work on four elements per thread: every buffer is read at
 * the element's own index or at a constant index, and nothing gathers.
 */
function vectorizable(outputs: readonly Term[]): boolean {
  const n = sizeOf(outputs[0].shape);
  if (n < 4) return false;
  const ok = (t: Term): boolean => {
    switch (t.kind) {
      case "buffer":
        return true;
      case "result":
        return false;
      case "map":
        return t.args.every(ok);
      case "view":
        // A constant read (every stride 0, no mask) splats a scalar.
        return t.view.kind === "strided" && !t.view.outside &&
          t.view.dims.every((d) => d.stride === 0 && !d.mask);
    }
  };
  return outputs.every(ok);
}

/**
 * Names of one phase of a program kernel: its functions are prefixed, its words follow
 * the earlier phases' words, and a buffer is read through the program's binding of it.
 */
interface PhaseNaming {
  readonly prefix: string;
  readonly wordBase: number;
  readonly binding?: (source: number) => string;
}

/** Writes the WGSL of one kernel, collecting the getters of its words. */
class Writer {
  readonly getters: Getter[] = [];
  readonly bindings: Binding[] = [];
  readonly #functions: string[] = [];
  readonly #emitted = new Set<string>();
  readonly #inputBindings = new Map<string, number>();

  constructor(
    readonly terms: readonly Term[],
    readonly index: Map<Term, number>,
    readonly mode: ConstantMode,
    /** Where words are read: the uniform block, or (matmul hooks) a storage array. */
    readonly words: "uniform" | "storage" = "uniform",
    /** How a program kernel's phase names its functions, words and buffers. */
    readonly phase: PhaseNaming = { prefix: "", wordBase: 0 },
  ) {}

  /** WGSL of a u32 constant: a literal, or a word of the block. */
  u32(get: (c: BindContext) => number): string {
    if (this.mode === "inline") return `${get(this.#context())}u`;
    return this.word((c) => ({ u32: get(c) }), "u32");
  }

  /** WGSL of an i32 constant. */
  i32(get: (c: BindContext) => number): string {
    if (this.mode === "inline") return `${get(this.#context())}i`;
    return `bitcast<i32>(${this.word((c) => ({ u32: get(c) >>> 0 }), "u32")})`;
  }

  /** WGSL reading a new word of the block. */
  word(get: Getter, type: "u32" | "f32"): string {
    const k = this.phase.wordBase + this.getters.length;
    this.getters.push(get);
    const read = this.words === "uniform" ? `params.w[${k >> 2}][${k & 3}]` : `hookWords[${k}]`;
    return type === "u32" ? read : `bitcast<f32>(${read})`;
  }

  #bindContext: BindContext | null = null;
  #context(): BindContext {
    return this.#bindContext ??= bindContext(this.terms, this.#plan!);
  }
  #plan: KernelPlan | null = null;
  setPlan(plan: KernelPlan): void {
    this.#plan = plan;
  }

  /** The binding that reads buffer `source` as f32 (or vec4f). */
  input(source: number, vector: boolean): string {
    if (this.phase.binding) return this.phase.binding(source);
    if (source === this.#plan?.inPlace) return "out0";
    const key = `${source}/${vector}`;
    let binding = this.#inputBindings.get(key);
    if (binding === undefined) {
      this.bindings.push({ kind: "input", source, vector });
      binding = this.bindings.length;
      this.#inputBindings.set(key, binding);
    }
    return `in${binding}`;
  }

  /** The name of term `t`'s function in scalar or vector form, emitting it if needed. */
  fn(t: Term, vector: boolean): string {
    const k = this.index.get(t)!;
    const name = `${this.phase.prefix}t${k}${vector ? "v" : ""}`;
    if (this.#emitted.has(name)) return name;
    this.#emitted.add(name);
    const type = vector ? "vec4f" : "f32";
    const body = this.#body(t, k, vector);
    this.#functions.push(`fn ${name}(i: u32) -> ${type} {\n${body}\n}`);
    return name;
  }

  #body(t: Term, k: number, vector: boolean): string {
    switch (t.kind) {
      case "buffer":
        return `  return ${this.input(t.source, vector)}[i];`;
      case "result":
        return `  return fusedResult;`;
      case "map": {
        const args = t.args.map((a) => this.fn(a, vector));
        const wordRefs: string[] = [];
        const words = runtimeWords(t.expr);
        words.forEach((w, ordinal) =>
          wordRefs.push(
            this.word((c) => c.exprWords(k)[ordinal], "u32" in w ? "u32" : "f32"),
          )
        );
        const code = expressionWgsl(t.expr, {
          input: (j) => `${args[j]}(i)`,
          word: (ordinal) => wordRefs[ordinal],
          index: "i",
          vector,
        });
        return `  return ${code};`;
      }
      case "view":
        return t.view.kind === "gather"
          ? this.#gather(t, k, t.view)
          : this.#strided(t, k, t.view, vector);
    }
  }

  #gather(t: Term & { kind: "view" }, k: number, view: View & { kind: "gather" }): string {
    const rows = this.fn(view.rows, false);
    const source = this.fn(t.source, false);
    const rowSize = this.u32((c) => gatherOf(c, k).rowSize);
    return `  let row = u32(${rows}(i / ${rowSize}));\n  return ${source}(row * ${rowSize} + i % ${rowSize});`;
  }

  #strided(
    t: Term & { kind: "view" },
    k: number,
    view: View & { kind: "strided" },
    vector: boolean,
  ): string {
    if (vector) {
      // Only constant reads are vectorised (see vectorizable): splat the scalar.
      const offset = this.u32((c) => stridedOf(c, k).offset);
      return `  return vec4f(${this.fn(t.source, false)}(${offset}));`;
    }
    const { lines, offset, inside } = this.decompose(
      "i",
      view.dims.length,
      (c, d) => stridedOf(c, k).dims[d],
      (c) => stridedOf(c, k).offset,
    );
    const read = `${this.fn(t.source, false)}(u32(${offset}))`;
    if (!inside) return `${lines}\n  return ${read};`;
    const outside = view.outside ? `${this.fn(view.outside, false)}(i)` : "0.0";
    return `${lines}\n  if (${inside}) { return ${read}; }\n  return ${outside};`;
  }

  /**
   * Statements computing an i32 source offset `offset + Σ c_d·stride_d` from the
   * coordinates of flat index `i` over `rank` canonical dimensions, and the mask test.
   */
  decompose(
    i: string,
    rank: number,
    dim: (c: BindContext, d: number) => StridedDim,
    offset: (c: BindContext) => number,
  ): { lines: string; offset: string; inside: string } {
    const lines: string[] = [];
    const tests: string[] = [];
    const sum = [this.i32(offset)];
    for (let d = 0; d < rank; d++) {
      // The first coordinate needs no modulo, the last no division.
      const size = d === 0 ? "" : this.u32((c) => dim(c, d).size);
      const after = d === rank - 1 ? "" : this.u32((c) => {
        let p = 1;
        for (let e = d + 1; e < rank; e++) p *= dim(c, e).size;
        return p;
      });
      const coordinate = d === 0
        ? (rank === 1 ? i : `${i} / ${after}`)
        : d === rank - 1
        ? `${i} % ${size}`
        : `(${i} / ${after}) % ${size}`;
      lines.push(`  let c${d} = ${coordinate};`);
      sum.push(`i32(c${d}) * ${this.i32((c) => dim(c, d).stride)}`);
      if (dim(this.#context(), d).mask) {
        const lo = this.u32((c) => dim(c, d).mask?.[0] ?? 0);
        const hi = this.u32((c) => dim(c, d).mask?.[1] ?? dim(c, d).size);
        tests.push(`c${d} >= ${lo} && c${d} < ${hi}`);
      }
    }
    return { lines: lines.join("\n"), offset: sum.join(" + "), inside: tests.join(" && ") };
  }

  /** The term functions written so far, in dependency order. */
  functions(): string {
    return this.#functions.join("\n");
  }
}

function bindContext(terms: readonly Term[], plan: KernelPlan): BindContext {
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

function stridedOf(c: BindContext, k: number): View & { kind: "strided" } {
  return (c.terms[k] as Term & { kind: "view" }).view as View & { kind: "strided" };
}

function gatherOf(c: BindContext, k: number): View & { kind: "gather" } {
  return (c.terms[k] as Term & { kind: "view" }).view as View & { kind: "gather" };
}

/**
 * WGSL that uses the word block even when no word is read (a kernel of constants only):
 * a pipeline's automatic layout leaves out bindings the shader never uses, and the
 * binding would then be refused.
 */
const USE_PARAMS = "  _ = params.w[0].x;";

/** WGSL declarations of a kernel's word block and storage bindings. */
function declarations(words: number, bindings: readonly Binding[]): string {
  const lines = [
    `struct Params { w: array<vec4u, ${Math.max(1, Math.ceil(words / 4))}> }`,
    `@group(0) @binding(0) var<uniform> params: Params;`,
  ];
  bindings.forEach((b, i) => {
    const type = b.vector ? "vec4f" : "f32";
    lines.push(
      b.kind === "input"
        ? `@group(0) @binding(${i + 1}) var<storage, read> in${i + 1}: array<${type}>;`
        : `@group(0) @binding(${i + 1}) var<storage, read_write> out${b.index}: array<${type}>;`,
    );
  });
  return lines.join("\n");
}

function exprsOf(terms: readonly Term[]): Expr[] {
  return terms.flatMap((t) => (t.kind === "map" ? [t.expr] : []));
}

/** Writes a map kernel. */
function writeMap(
  plan: KernelPlan & { kind: "map" },
  terms: readonly Term[],
  index: Map<Term, number>,
  mode: ConstantMode,
  vector: boolean,
): Template {
  const w = new Writer(terms, index, mode);
  w.setPlan(plan);
  const count = w.u32((c) => {
    const n = sizeOf((c.plan as KernelPlan & { kind: "map" }).outputs[0].shape);
    return vector ? Math.ceil(n / 4) : n;
  });
  const stores = plan.outputs.map((t, o) => `  out${o}[i] = ${w.fn(t, vector)}(i);`);
  plan.outputs.forEach((_, o) => w.bindings.push({ kind: "output", index: o, vector }));
  const wgsl = [
    declarations(w.getters.length, w.bindings),
    `var<private> fusedResult: f32;`,
    expressionPrelude(exprsOf(terms)),
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

/** Kept and reduced dimensions of a reduction, each canonical (merged where contiguous). */
function reductionDims(
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
 * WGSL of a reducer: its identity (±∞ come from a word: WGSL cannot write infinities as
 * constants), how two values combine, and the type combined.
 */
function reducerWgsl(
  reducer: Reducer,
  infinity: string,
): { type: string; identity: string; combine: string } {
  switch (reducer) {
    case "sum":
      return { type: "f32", identity: "0.0", combine: "return a + b;" };
    case "max":
      return {
        type: "f32",
        identity: `-${infinity}`,
        combine: `return select(b, a, ${isNaNWgsl("a")} || (a > b && !${isNaNWgsl("b")}));`,
      };
    case "min":
      return {
        type: "f32",
        identity: infinity,
        combine: `return select(b, a, ${isNaNWgsl("a")} || (a < b && !${isNaNWgsl("b")}));`,
      };
    case "argmax":
      // (value, index): the larger value, the smaller index on ties; the first NaN wins
      // (NumPy). NaN, found by its bits, decides before any comparison (max and min too).
      return {
        type: "vec2f",
        identity: `vec2f(-${infinity}, ${infinity})`,
        combine: `let aNaN = ${isNaNWgsl("a.x")};\n  let bNaN = ${isNaNWgsl("b.x")};\n` +
          "  let ordered = a.x > b.x || (a.x == b.x && a.y < b.y);\n" +
          "  let aWins = select(ordered, aNaN && (!bNaN || a.y < b.y), aNaN || bNaN);\n" +
          "  return select(b, a, aWins);",
      };
  }
}

/** The pieces of a reduction that a kernel loops over, written by one writer. */
interface ReductionParts {
  /** Functions `combine`, `oIndex` (output → base offset) and `rIndex`, prefixed. */
  readonly helpers: readonly string[];
  readonly combine: string;
  readonly oIndex: string;
  /** WGSL type of a partial value (`vec2f` for argmax: value and index). */
  readonly type: string;
  readonly identity: string;
  /** WGSL of the output count and the reduction's length. */
  readonly outputs: string;
  readonly length: string;
  /** WGSL of value `v` of the reduction of the output at offset `base`. */
  value(v: string): string;
  /** WGSL of the reduced value in accumulator `a` (argmax: its index). */
  result(a: string): string;
  /** Statements storing accumulator `a` as output `o` of `target`, through the epilogue. */
  finish(a: string, o: string, target: string): string;
}

/** Writes the functions of a reduction plan and returns how to use them. */
function reductionParts(w: Writer, plan: ReducePlan): ReductionParts {
  const dims = (c: BindContext) => {
    const p = c.plan as ReducePlan;
    return reductionDims(p.source.shape, p.axes);
  };
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  const outputs = w.u32((c) => sizeOf(dims(c).kept.map((d) => d.size)));
  const length = w.u32((c) => sizeOf(dims(c).reduced.map((d) => d.size)));
  const keptIndex = w.decompose("o", kept.length, (c, d) => dims(c).kept[d], () => 0);
  const reducedIndex = w.decompose("r", reduced.length, (c, d) => dims(c).reduced[d], () => 0);
  const source = w.fn(plan.source, false);
  const infinity = plan.reducer === "sum" ? "" : w.word(() => ({ f32: Infinity }), "f32");
  const r = reducerWgsl(plan.reducer, infinity);
  const isArg = plan.reducer === "argmax";
  const [combine, oIndex, rIndex] = ["combine", "oIndex", "rIndex"].map((f) =>
    `${w.phase.prefix}${f}`
  );
  const result = (a: string) => (isArg ? `${a}.y` : a);
  return {
    helpers: [
      `fn ${combine}(a: ${r.type}, b: ${r.type}) -> ${r.type} {\n  ${r.combine}\n}`,
      `fn ${oIndex}(o: u32) -> u32 {\n${keptIndex.lines}\n  return u32(${keptIndex.offset});\n}`,
      `fn ${rIndex}(r: u32) -> u32 {\n${reducedIndex.lines}\n  return u32(${reducedIndex.offset});\n}`,
    ],
    combine,
    oIndex,
    type: r.type,
    identity: r.identity,
    outputs,
    length,
    value: (v) =>
      isArg
        ? `vec2f(${source}(base + ${rIndex}(${v})), f32(${v}))`
        : `${source}(base + ${rIndex}(${v}))`,
    result,
    finish: (a, o, target) =>
      plan.epilogue
        ? `fusedResult = ${result(a)};\n  ${target}[${o}] = ${w.fn(plan.epilogue, false)}(${o});`
        : `${target}[${o}] = ${result(a)};`,
  };
}

/** Writes a reduce kernel (or the first pass of a two-pass one, `chunks` > 1). */
function writeReduce(
  plan: ReducePlan,
  terms: readonly Term[],
  index: Map<Term, number>,
  mode: ConstantMode,
  strategy: "sequential" | "workgroup",
  chunks: boolean,
): Template {
  const w = new Writer(terms, index, mode);
  w.setPlan(plan);
  const parts = reductionParts(w, plan);
  const { outputs, length, combine, value } = parts;
  const chunkCount = chunks
    ? w.u32((c) => {
      const p = c.plan as ReducePlan;
      return Math.ceil(
        sizeOf(reductionDims(p.source.shape, p.axes).reduced.map((d) => d.size)) / CHUNK,
      );
    })
    : "";
  const finish = chunks ? `out0[slot] = ${parts.result("a")};` : parts.finish("a", "o", "out0");
  w.bindings.push({ kind: "output", index: 0, vector: false });
  // Range of r this invocation reduces: all of it, or one chunk.
  const range = chunks
    ? `let first = chunk * ${CHUNK}u;\n  let end = min(first + ${CHUNK}u, ${length});`
    : `let first = 0u;\n  let end = ${length};`;
  const body = strategy === "sequential"
    ? [
      `  let o = linearWorkgroup(wid, groups) * ${REDUCE_WORKGROUP}u + lid;`,
      `  if (o >= ${outputs}) { return; }`,
      `  let base = ${parts.oIndex}(o);`,
      `  var a = ${parts.identity};`,
      `  for (var j = 0u; j < ${length}; j++) { a = ${combine}(a, ${value("j")}); }`,
      `  ${finish}`,
    ]
    : [
      `  let group = linearWorkgroup(wid, groups);`,
      `  let valid = group < ${outputs}${chunks ? ` * ${chunkCount}` : ""};`,
      chunks
        ? `  let o = group / ${chunkCount};\n  let chunk = group % ${chunkCount};\n  let slot = group;`
        : `  let o = group;`,
      `  let base = ${parts.oIndex}(min(o, ${outputs} - 1u));`,
      `  ${range}`,
      `  var a = ${parts.identity};`,
      `  for (var j = first + lid; j < end; j += ${REDUCE_WORKGROUP}u) { a = ${combine}(a, ${
        value("j")
      }); }`,
      `  partial[lid] = a;`,
      `  workgroupBarrier();`,
      `  for (var stride = ${REDUCE_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {`,
      `    if (lid < stride) { partial[lid] = ${combine}(partial[lid], partial[lid + stride]); }`,
      `    workgroupBarrier();`,
      `  }`,
      `  a = partial[0];`,
      `  if (lid == 0u && valid) {`,
      `  ${finish}`,
      `  }`,
    ];
  const wgsl = [
    declarations(w.getters.length, w.bindings),
    `var<private> fusedResult: f32;`,
    strategy === "workgroup"
      ? `var<workgroup> partial: array<${parts.type}, ${REDUCE_WORKGROUP}>;`
      : "",
    expressionPrelude(exprsOf(terms)),
    LINEAR_WORKGROUP,
    w.functions(),
    ...parts.helpers,
    `@compute @workgroup_size(${REDUCE_WORKGROUP})`,
    `fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,`,
    `        @builtin(local_invocation_index) lid: u32) {`,
    USE_PARAMS,
    ...body,
    `}`,
  ].join("\n");
  return {
    wgsl,
    getters: w.getters,
    bindings: w.bindings,
    workgroups: (p) => {
      const { kept, reduced } = reductionDims(
        (p as ReducePlan).source.shape,
        (p as ReducePlan).axes,
      );
      const n = sizeOf(kept.map((d) => d.size));
      if (strategy === "sequential") return Math.ceil(n / REDUCE_WORKGROUP);
      return chunks ? n * Math.ceil(sizeOf(reduced.map((d) => d.size)) / CHUNK) : n;
    },
  };
}

/**
 * Writes a matmul's operand reads and store with `w` (inline constants): functions
 * `loadA(r, p)`, `loadB(p, col)` and `storeC(row, col, v)`, prefixed, storing into
 * `target`.
 */
function hookFunctions(w: Writer, plan: HooksPlan, target: string): string[] {
  const { m, k, n, transposeA, transposeB } = plan;
  const a = w.fn(plan.a, false), b = w.fn(plan.b, false);
  const at = `row * ${n}u + col`;
  const store = plan.epilogue
    ? `fusedResult = v;\n  ${target}[${at}] = ${w.fn(plan.epilogue, false)}(${at});`
    : `${target}[${at}] = v;`;
  const prefix = w.phase.prefix;
  return [
    `fn ${prefix}loadA(r: u32, p: u32) -> f32 { return ${a}(${
      transposeA ? `p * ${m}u + r` : `r * ${k}u + p`
    }); }`,
    `fn ${prefix}loadB(p: u32, col: u32) -> f32 { return ${b}(${
      transposeB ? `col * ${k}u + p` : `p * ${n}u + col`
    }); }`,
    `fn ${prefix}storeC(row: u32, col: u32, v: f32) {\n  ${store}\n}`,
  ];
}

/** Writes the hooks of a matmul variant: bindings from 1, term functions, loadA/loadB/storeC. */
function writeHooks(plan: HooksPlan, terms: readonly Term[], index: Map<Term, number>): Template {
  const w = new Writer(terms, index, "inline", "storage");
  w.setPlan(plan);
  const hooks = hookFunctions(w, plan, "out0");
  w.bindings.push({ kind: "output", index: 0, vector: false });
  const storage = w.bindings.map((binding, i) => {
    const name = binding.kind === "input" ? `in${i + 1}` : `out${binding.index}`;
    const access = binding.kind === "input" ? "read" : "read_write";
    return `@group(0) @binding(${i + 1}) var<storage, ${access}> ${name}: array<f32>;`;
  });
  if (w.getters.length > 0) {
    storage.push(
      `@group(0) @binding(${w.bindings.length + 1}) var<storage, read> hookWords: array<u32>;`,
    );
  }
  const wgsl = [
    ...storage,
    `var<private> fusedResult: f32;`,
    expressionPrelude(exprsOf(terms)),
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
  return generate(plan, "inline");
}

/** The generated kernel for a plan, from the template cache or written now. */
function generate(
  plan: KernelPlan,
  mode: ConstantMode,
  variant: { strategy?: "sequential" | "workgroup"; chunks?: boolean } = {},
): GeneratedKernel {
  const { terms, index } = canonicalTerms(plan);
  const vector = plan.kind === "map" && vectorizable(plan.outputs);
  const key = `${signatureOf(plan, terms, index, mode, vector)}|${variant.strategy ?? ""}${
    variant.chunks ? "/chunks" : ""
  }`;
  let template = templates.get(key);
  if (!template) {
    template = plan.kind === "map"
      ? writeMap(plan, terms, index, mode, vector)
      : plan.kind === "hooks"
      ? writeHooks(plan, terms, index)
      : writeReduce(plan, terms, index, mode, variant.strategy!, variant.chunks ?? false);
    templates.set(key, template);
  }
  const context = bindContext(terms, plan);
  return {
    key,
    wgsl: template.wgsl,
    words: template.getters.map((get) => get(context)),
    bindings: template.bindings,
    workgroups: template.workgroups(plan),
  };
}

/** The map kernel writing `outputs` (terms of one size), output 0 maybe in place of an input. */
export function generateMap(
  outputs: readonly Term[],
  mode: ConstantMode,
  inPlace?: number,
): GeneratedKernel {
  return generate({ kind: "map", outputs, ...(inPlace === undefined ? {} : { inPlace }) }, mode);
}

/**
 * The kernels of a reduction: one, or (very long reductions with few outputs) two —
 * the first writes one partial result per chunk into a temporary the caller provides
 * (`output 0` of the first kernel, of {@linkcode ReduceKernels.partials} elements) and
 * the second reduces those partials (its input `source` −1) with the epilogue.
 */
export interface ReduceKernels {
  readonly kernels: readonly GeneratedKernel[];
  /** Elements of the temporary between two passes; 0 for one pass. */
  readonly partials: number;
}

/** The buffer source number that stands for the partials between two reduction passes. */
export const PARTIALS_SOURCE = -1;

/** Generates the kernel(s) of a reduction plan. */
export function generateReduce(plan: ReducePlan, mode: ConstantMode): ReduceKernels {
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  const outputs = sizeOf(kept.map((d) => d.size));
  const length = sizeOf(reduced.map((d) => d.size));
  if (!splits(length, outputs) || plan.reducer === "argmax") {
    const strategy = length <= SEQUENTIAL_MAX ? "sequential" : "workgroup";
    return { kernels: [generate(plan, mode, { strategy })], partials: 0 };
  }
  const chunks = Math.ceil(length / CHUNK);
  // The first pass writes the partials; only the second writes (maybe in place) the output.
  const first = generate({ ...plan, inPlace: undefined }, mode, {
    strategy: "workgroup",
    chunks: true,
  });
  const partials = { kind: "buffer", shape: [outputs, chunks], source: PARTIALS_SOURCE } as const;
  const second = generate(
    {
      kind: "reduce",
      reducer: plan.reducer,
      source: partials,
      axes: [1],
      epilogue: plan.epilogue,
      inPlace: plan.inPlace,
    },
    mode,
    { strategy: chunks <= SEQUENTIAL_MAX ? "sequential" : "workgroup" },
  );
  return { kernels: [first, second], partials: outputs * chunks };
}

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

/** A buffer of a program kernel: the buffer sources it holds, and whether a phase writes it. */
export interface ProgramBuffer {
  readonly sources: readonly number[];
  readonly writable: boolean;
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
      return plan.m * plan.k * plan.n;
    case "reduce": {
      const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
      const outputs = sizeOf(kept.map((d) => d.size));
      const length = sizeOf(reduced.map((d) => d.size));
      return splits(length, outputs) && plan.reducer !== "argmax" ? null : outputs * length;
    }
  }
}

/** A cached program kernel: WGSL and, per phase, the getters of its words. */
interface ProgramTemplate {
  readonly wgsl: string;
  readonly getters: readonly (readonly Getter[])[];
  readonly bindings: readonly Binding[];
}

const programTemplates = new Map<string, ProgramTemplate>();

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
  const layout = buffers.map((b) => `${b.writable ? "w" : "r"}${b.sources.join("+")}`);
  const key = `program|${layout.join(",")}|${
    phases.map((phase, p) => {
      const { terms, index } = canonical[p];
      return `${signatureOf(phase.plan, terms, index, "inline", false)}>${phase.writes}`;
    }).join("||")
  }`;
  let template = programTemplates.get(key);
  if (!template) {
    template = writeProgram(phases, buffers, canonical);
    programTemplates.set(key, template);
  }
  const words = template.getters.flatMap((getters, p) => {
    const context = bindContext(canonical[p].terms, phases[p].plan);
    return getters.map((get) => get(context));
  });
  return { key, wgsl: template.wgsl, words, bindings: template.bindings, workgroups: 1 };
}

function writeProgram(
  phases: readonly ProgramPhase[],
  buffers: readonly ProgramBuffer[],
  canonical: readonly { terms: Term[]; index: Map<Term, number> }[],
): ProgramTemplate {
  const bindings: Binding[] = [];
  const nameOf = new Map<number, string>();
  let outputs = 0;
  for (const buffer of buffers) {
    const name = buffer.writable ? `out${outputs}` : `in${bindings.length + 1}`;
    bindings.push(
      buffer.writable
        ? { kind: "output", index: outputs++, vector: false }
        : { kind: "input", source: buffer.sources[0], vector: false },
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
    const { terms, index } = canonical[p];
    const w = new Writer(terms, index, "inline", "uniform", {
      prefix: `p${p}_`,
      wordBase: words,
      binding,
    });
    w.setPlan(phase.plan);
    const body = writePhase(w, phase, binding, partials);
    functions.push(w.functions(), ...body.functions);
    bodies.push(body.code);
    getters.push(w.getters);
    words += w.getters.length;
  });
  const wgsl = [
    declarations(words, bindings),
    `var<private> fusedResult: f32;`,
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
        `${binding(phase.writes[o])}[i] = ${w.fn(t, false)}(i);`
      );
      return { functions: [], code: loop(`${sizeOf(plan.outputs[0].shape)}u`, "i", stores) };
    }
    case "hooks": {
      const functions = hookFunctions(w, plan, binding(phase.writes[0]));
      const prefix = w.phase.prefix;
      return {
        functions,
        code: loop(`${plan.m * plan.n}u`, "at", [
          `let row = at / ${plan.n}u;`,
          `let col = at % ${plan.n}u;`,
          `var acc = 0.0;`,
          `for (var p = 0u; p < ${plan.k}u; p++) { acc += ${prefix}loadA(row, p) * ${prefix}loadB(p, col); }`,
          `${prefix}storeC(row, col, acc);`,
        ]),
      };
    }
    case "reduce": {
      const parts = reductionParts(w, plan);
      const { combine, outputs, length, value, identity, type } = parts;
      const target = binding(phase.writes[0]);
      const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
      const count = sizeOf(kept.map((d) => d.size));
      const functions = [...parts.helpers];
      if (sizeOf(reduced.map((d) => d.size)) <= SEQUENTIAL_MAX) {
        return {
          functions,
          code: loop(outputs, "o", [
            `let base = ${parts.oIndex}(o);`,
            `var a = ${identity};`,
            `for (var j = 0u; j < ${length}; j++) { a = ${combine}(a, ${value("j")}); }`,
            parts.finish("a", "o", target),
          ]),
        };
      }
      const lanes = REDUCE_WORKGROUP;
      if (count >= PROGRAM_THREAD_TREES) {
        // One thread per output: the lanes' partial sums in order, then the same tree.
        return {
          functions,
          code: loop(outputs, "o", [
            `let base = ${parts.oIndex}(o);`,
            `var lane: array<${type}, ${lanes}>;`,
            `for (var l = 0u; l < ${lanes}u; l++) {`,
            `  var a = ${identity};`,
            `  for (var j = l; j < ${length}; j += ${lanes}u) { a = ${combine}(a, ${
              value("j")
            }); }`,
            `  lane[l] = a;`,
            `}`,
            `for (var stride = ${lanes / 2}u; stride > 0u; stride >>= 1u) {`,
            `  for (var l = 0u; l < stride; l++) { lane[l] = ${combine}(lane[l], lane[l + stride]); }`,
            `}`,
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
          `    for (var j = lane; j < ${length}; j += ${lanes}u) { a = ${combine}(a, ${
            value("j")
          }); }`,
          `    ${partial}[lid] = a;`,
          `    workgroupBarrier();`,
          `    for (var stride = ${lanes / 2}u; stride > 0u; stride >>= 1u) {`,
          `      if (lane < stride) { ${partial}[lid] = ${combine}(${partial}[lid], ${partial}[lid + stride]); }`,
          `      workgroupBarrier();`,
          `    }`,
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
