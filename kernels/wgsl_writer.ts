/**
 * @file The one writer of generated WGSL: given a plan and its canonical terms when it
 * is made, it writes each term as a function of its flat index (`fn t3(i: u32) -> f32`)
 * on demand, numbers as literals (inline mode) or as words of the kernel's block
 * (uniform mode, each with a getter that reads it from a later plan of the same
 * structure), and collects the storage bindings the functions read. The map, reduce,
 * matmul-hooks and program kernels (`kernels/*_kernel.ts`, `kernels/matmul_hooks.ts`)
 * put its functions around their own `main`.
 */
import { computeWgsl, type DType, DTYPES } from "./dtype.ts";
import { type Expr, expressionWgsl, runtimeWords } from "./expression.ts";
import {
  type BindContext,
  bindContext,
  type Binding,
  type CanonicalTerms,
  type ConstantMode,
  type Getter,
  type KernelPlan,
  splatsBlocks,
} from "./kernel_plan.ts";
import { gathersBlocks, type StridedDim, type Term, termType, type View } from "./term.ts";

/**
 * Names of one phase of a program kernel: its functions are prefixed, its words follow
 * the earlier phases' words, and a buffer is read through the program's binding of it.
 */
export interface PhaseNaming {
  readonly prefix: string;
  readonly wordBase: number;
  readonly binding?: (source: number) => string;
}

/** Writes the WGSL of one kernel (or one phase of a program kernel), collecting the getters of its words. */
export class Writer {
  readonly getters: Getter[] = [];
  readonly bindings: Binding[] = [];
  readonly terms: readonly Term[];
  readonly index: Map<Term, number>;
  readonly #functions: string[] = [];
  readonly #emitted = new Set<string>();
  readonly #inputBindings = new Map<string, number>();
  /** The plan written, read by the getters as they are made (inline mode reads them at once). */
  readonly #context: BindContext;

  constructor(
    readonly plan: KernelPlan,
    canonical: CanonicalTerms,
    readonly mode: ConstantMode,
    /** Where words are read: the uniform block, or (matmul hooks) a storage array. */
    readonly words: "uniform" | "storage" = "uniform",
    /** How a program kernel's phase names its functions, words and buffers. */
    readonly phase: PhaseNaming = { prefix: "", wordBase: 0 },
  ) {
    this.terms = canonical.terms;
    this.index = canonical.index;
    this.#context = bindContext(this.terms, plan);
  }

  /** WGSL of a u32 constant: a literal, or a word of the block. */
  u32(get: (c: BindContext) => number): string {
    if (this.mode === "inline") return `${get(this.#context)}u`;
    return this.word((c) => ({ u32: get(c) }), "u32");
  }

  /** WGSL of an i32 constant. */
  i32(get: (c: BindContext) => number): string {
    if (this.mode === "inline") return `${get(this.#context)}i`;
    return `bitcast<i32>(${this.word((c) => ({ u32: get(c) >>> 0 }), "u32")})`;
  }

  /** WGSL reading a new word of the block. */
  word(get: Getter, type: "u32" | "f32"): string {
    const k = this.phase.wordBase + this.getters.length;
    this.getters.push(get);
    const read = this.words === "uniform" ? `params.w[${k >> 2}][${k & 3}]` : `hookWords[${k}]`;
    return type === "u32" ? read : `bitcast<f32>(${read})`;
  }

  /** The binding that reads buffer `source`, of `dtype` values, as scalars (or vec4). */
  input(source: number, vector: boolean, dtype: DType = "float32"): string {
    if (this.phase.binding) return this.phase.binding(source);
    if (source === this.plan.inPlace) return "out0";
    const key = `${source}/${vector}`;
    let binding = this.#inputBindings.get(key);
    if (binding === undefined) {
      this.bindings.push({ kind: "input", source, vector, dtype });
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
    const type = computeWgsl(termType(t), vector);
    const body = this.#body(t, k, vector);
    this.#functions.push(`fn ${name}(i: u32) -> ${type} {\n${body}\n}`);
    return name;
  }

  #body(t: Term, k: number, vector: boolean): string {
    switch (t.kind) {
      case "buffer":
        return `  return ${
          loadWgsl(t.dtype, vector, `${this.input(t.source, vector, t.dtype)}[i]`)
        };`;
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
          inputTypes: t.args.map(termType),
          word: (ordinal) => wordRefs[ordinal],
          index: "i",
          vector,
        });
        // A float16 value is rounded as an op's store rounds it, so a fused kernel gives
        // the values of the ops run one by one.
        const dtype = termType(t);
        return `  return ${loadWgsl(dtype, vector, storeWgsl(dtype, vector, code))};`;
      }
      case "view": {
        if (vector) {
          // A block of four: one value splatted where the view reads one, else the
          // four elements' values one by one (see vectorizable).
          const type = computeWgsl(termType(t), true);
          const scalar = this.fn(t, false);
          const reads = splatsBlocks(t) ? ["i * 4u"] : [0, 1, 2, 3].map((e) => `i * 4u + ${e}u`);
          return `  return ${type}(${reads.map((at) => `${scalar}(${at})`).join(", ")});`;
        }
        return t.view.kind === "gather" ? this.#gather(t, k, t.view) : this.#strided(t, k, t.view);
      }
    }
  }

  #gather(t: Term & { kind: "view" }, k: number, view: View & { kind: "gather" }): string {
    const rows = this.fn(view.rows, false);
    const source = this.fn(t.source, false);
    const rowSize = this.u32((c) => gatherOf(c, k).rowSize);
    const axisSize = this.u32((c) => gatherOf(c, k).axisSize);
    // The index of output i: of its position j along the axis, or (`along`) its own. A
    // negative index counts from the end of the axis (NumPy's `take`).
    const index =
      `  let r = i32(${rows}(j));\n  let row = u32(select(r, r + i32(${axisSize}), r < 0));`;
    if (!gathersBlocks(t)) {
      const j = view.along ? "i" : `i / ${rowSize}`;
      return `  let j = ${j};\n${index}\n  return ${source}(row * ${rowSize} + i % ${rowSize});`;
    }
    const count = this.u32((c) => gatherOf(c, k).count);
    return [
      `  let j = ${view.along ? "i" : `(i / ${rowSize}) % ${count}`};`,
      index,
      `  let block = i / (${rowSize} * ${count});`,
      `  return ${source}((block * ${axisSize} + row) * ${rowSize} + i % ${rowSize});`,
    ].join("\n");
  }

  #strided(
    t: Term & { kind: "view" },
    k: number,
    view: View & { kind: "strided" },
  ): string {
    const { lines, offset, inside } = this.decompose(
      "i",
      view.dims.length,
      (c, d) => stridedOf(c, k).dims[d],
      (c) => stridedOf(c, k).offset,
    );
    const read = `${this.fn(t.source, false)}(u32(${offset}))`;
    if (!inside) return `${lines}\n  return ${read};`;
    const outside = view.outside
      ? `${this.fn(view.outside, false)}(i)`
      : `${computeWgsl(termType(t), false)}()`;
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
      if (dim(this.#context, d).mask) {
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

function stridedOf(c: BindContext, k: number): View & { kind: "strided" } {
  return (c.terms[k] as Term & { kind: "view" }).view as View & { kind: "strided" };
}

function gatherOf(c: BindContext, k: number): View & { kind: "gather" } {
  return (c.terms[k] as Term & { kind: "view" }).view as View & { kind: "gather" };
}

/** The directive a kernel with float16 storage opens with (needs `shader-f16`). */
export const ENABLE_F16 = "enable f16;";

/**
 * WGSL that uses the word block even when no word is read (a kernel of constants only):
 * a pipeline's automatic layout leaves out bindings the shader never uses, and the
 * binding would then be refused.
 */
export const USE_PARAMS = "  _ = params.w[0].x;";

/**
 * WGSL declarations of a kernel's word block and storage bindings, after `enable f16;`
 * when a binding stores float16 or one of `terms` (the kernel's) is float16: a fused
 * float16 value is rounded through f16 even where no buffer holds one.
 */
export function declarations(
  words: number,
  bindings: readonly Binding[],
  terms: readonly Term[],
): string {
  const float16 = bindings.some((b) => b.dtype === "float16") ||
    terms.some((t) => termType(t) === "float16");
  const lines = [
    ...(float16 ? [ENABLE_F16] : []),
    `struct Params { w: array<vec4u, ${Math.max(1, Math.ceil(words / 4))}> }`,
    `@group(0) @binding(0) var<uniform> params: Params;`,
  ];
  return [...lines, ...bindings.map(bindingWgsl)].join("\n");
}

/**
 * WGSL declaring `b` as binding `i + 1`: `in{i + 1}` (read-only) or `out{index}`, an
 * array of its type's storage element (four to a vector).
 */
export function bindingWgsl(b: Binding, i: number): string {
  const element = DTYPES[b.dtype].storage;
  const type = b.vector ? `vec4<${element}>` : element;
  return b.kind === "input"
    ? `@group(0) @binding(${i + 1}) var<storage, read> in${i + 1}: array<${type}>;`
    : `@group(0) @binding(${i + 1}) var<storage, read_write> out${b.index}: array<${type}>;`;
}

/**
 * WGSL of a value of `dtype` loaded from storage as its compute type: float16 widened to
 * f32 (kernels compute floats in f32), every other type as stored.
 */
export function loadWgsl(dtype: DType, vector: boolean, text: string): string {
  return DTYPES[dtype].storage === DTYPES[dtype].compute
    ? text
    : `${computeWgsl(dtype, vector)}(${text})`;
}

/** WGSL of a compute-type value stored as `dtype`: f32 rounded once to f16 for float16. */
export function storeWgsl(dtype: DType, vector: boolean, text: string): string {
  const storage = DTYPES[dtype].storage;
  if (storage === DTYPES[dtype].compute) return text;
  return `${vector ? `vec4<${storage}>` : storage}(${text})`;
}

/** The expressions of a kernel's map terms (for their WGSL prelude). */
export function exprsOf(terms: readonly Term[]): Expr[] {
  return terms.flatMap((t) => (t.kind === "map" ? [t.expr] : []));
}
