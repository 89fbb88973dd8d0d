/**
 * @file The reduce kernel: a reduction over some axes of a term (its prologue, fused),
 * then an epilogue term of the reduced value, per output element. One thread per output
 * for short reductions (a sequential loop), one workgroup per output for long ones
 * (strided partial values, then the tree of `kernels/reduction_tree.ts` in workgroup
 * memory), two passes for very long ones with few outputs (chunks, then the chunks'
 * results); {@linkcode reductionRoundings} gives the longest chain of roundings, which
 * the error-bound tests use. {@linkcode reductionParts} — the reducer, the indexing and
 * the epilogue of a plan — serves the program kernel's reductions too.
 */
import { LINEAR_WORKGROUP } from "./_shared.ts";
import { expressionPrelude } from "./expression.ts";
import { isNaNWgsl } from "./special_wgsl.ts";
import {
  type BindContext,
  type ConstantMode,
  type GeneratedKernel,
  generateKernel,
  type ReducePlan,
  type Reducer,
  reductionDims,
  reductionType,
  type Template,
  vectorizable,
} from "./kernel_plan.ts";
import { foldLanes } from "./reduction_tree.ts";
import { bufferTerm, sizeOf, termType } from "./term.ts";
import { computeWgsl, type DType, DTYPES } from "./dtype.ts";
import { castWgsl } from "./typed_calls.ts";
import { declarations, exprsOf, USE_PARAMS, Writer } from "./wgsl_writer.ts";

/** Threads per workgroup reducing one output: the lanes of its reduction tree. */
export const REDUCE_WORKGROUP = 64;
/** Reductions at most this long are one sequential loop per output. */
const SEQUENTIAL_MAX = 32;
/**
 * Reductions at most this long are one sequential loop per output too where there are
 * {@linkcode SEQUENTIAL_MIN_OUTPUTS} outputs or more: a thread per output is then
 * parallelism enough, and a workgroup's tree costs barriers that llvmpipe pays dearly
 * for (demo:mlp's bias gradients, 256 sums of 64 rows fused with SGD's update: 1.06 ms
 * a workgroup per output, 0.28 ms a thread per output, in a jitted step on llvmpipe).
 * The work is then at most 256 values a thread, so a GPU loses little.
 */
const SEQUENTIAL_LONG_MAX = 256;
/** Outputs from which reductions up to {@linkcode SEQUENTIAL_LONG_MAX} long are sequential. */
const SEQUENTIAL_MIN_OUTPUTS = 256;

/**
 * Whether a reduction of `length` values to each of `outputs` outputs is one sequential
 * loop per output (a chain of length − 1 roundings), rather than a workgroup's lanes and
 * tree: the rule of the reduce kernel and of the program kernel's reductions alike.
 */
export function reducesSequentially(length: number, outputs: number): boolean {
  return length <= SEQUENTIAL_MAX ||
    (length <= SEQUENTIAL_LONG_MAX && outputs >= SEQUENTIAL_MIN_OUTPUTS);
}
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
  const pass = (n: number, m: number) =>
    reducesSequentially(n, m)
      ? n - 1
      : Math.ceil(n / REDUCE_WORKGROUP) - 1 + Math.log2(REDUCE_WORKGROUP);
  if (!splits(length, outputs)) return pass(length, outputs);
  // The first pass's chunks are workgroups (a chunk is longer than any sequential loop).
  return pass(CHUNK, outputs) + pass(Math.ceil(length / CHUNK), outputs);
}

function splits(length: number, outputs: number): boolean {
  return length > CHUNK && outputs < SPLIT_OUTPUTS;
}

/** Outputs and length of a reduction plan. */
function reductionSizes(plan: ReducePlan): { outputs: number; length: number } {
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  return {
    outputs: sizeOf(kept.map((d) => d.size)),
    length: sizeOf(reduced.map((d) => d.size)),
  };
}

/** Whether a reducer keeps (value, index) pairs and gives the index. */
function isArgReducer(reducer: Reducer): boolean {
  return reducer === "argmax" || reducer === "argmin";
}

/**
 * Whether a reduction plan takes two kernels (a long sum, product, max or min with few
 * outputs; an arg reducer's partials would lose their indices, so it never splits).
 */
export function takesTwoPasses(plan: ReducePlan): boolean {
  const { outputs, length } = reductionSizes(plan);
  return splits(length, outputs) && !isArgReducer(plan.reducer);
}

/**
 * WGSL combining (value, index) pairs `a` and `b`: the one `before` puts first (the
 * smaller index on ties); the first NaN wins (NumPy). NaN, found by its bits, decides
 * before any comparison (max and min too).
 */
function argCombine(before: ">" | "<"): string {
  return `let aNaN = ${isNaNWgsl("a.x")};\n  let bNaN = ${isNaNWgsl("b.x")};\n` +
    `  let ordered = a.x ${before} b.x || (a.x == b.x && a.y < b.y);\n` +
    "  let aWins = select(ordered, aNaN && (!bNaN || a.y < b.y), aNaN || bNaN);\n" +
    "  return select(b, a, aWins);";
}

/**
 * WGSL of a reducer: its identity (±∞ come from a word: WGSL cannot write infinities as
 * constants), how two values combine, and the type combined.
 */
function reducerWgsl(
  reducer: Reducer,
  infinity: string,
  accumulated: DType,
): { type: string; identity: string; combine: string } {
  const T = DTYPES[accumulated].compute;
  if (T !== "f32") {
    // Integers: wrapping sums and products (associative, so any tree gives the same
    // result), exact extremes from the type's own bounds; arg pairs (value, position) of
    // the type, whose identity's position loses every tie.
    const [lowest, highest] = T === "i32"
      ? ["i32(-2147483648)", "2147483647i"]
      : ["0u", "4294967295u"];
    switch (reducer) {
      case "sum":
        return { type: T, identity: `${T}(0)`, combine: "return a + b;" };
      case "prod":
        return { type: T, identity: `${T}(1)`, combine: "return a * b;" };
      case "max":
        return { type: T, identity: lowest, combine: "return max(a, b);" };
      case "min":
        return { type: T, identity: highest, combine: "return min(a, b);" };
      case "argmax":
      case "argmin": {
        const [first, before] = reducer === "argmax" ? [lowest, ">"] : [highest, "<"];
        return {
          type: `vec2<${T}>`,
          identity: `vec2<${T}>(${first}, ${highest})`,
          combine: `return select(b, a, a.x ${before} b.x || (a.x == b.x && a.y < b.y));`,
        };
      }
    }
  }
  switch (reducer) {
    case "sum":
      return { type: "f32", identity: "0.0", combine: "return a + b;" };
    case "prod":
      return { type: "f32", identity: "1.0", combine: "return a * b;" };
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
      return {
        type: "vec2f",
        identity: `vec2f(-${infinity}, ${infinity})`,
        combine: argCombine(">"),
      };
    case "argmin":
      return {
        type: "vec2f",
        identity: `vec2f(${infinity}, ${infinity})`,
        combine: argCombine("<"),
      };
  }
}

/** The type a plan accumulates (`reductionType`): what its partials and result hold. */
export function accumulatedType(plan: ReducePlan): DType {
  return reductionType(plan.reducer, termType(plan.source));
}

/** The pieces of a reduction that a kernel loops over, written by one writer. */
export interface ReductionParts {
  /** Functions `combine`, `oIndex` (output → base offset) and `rIndex`, prefixed. */
  readonly helpers: readonly string[];
  /** WGSL combining partial values `a` and `b`. */
  combine(a: string, b: string): string;
  readonly oIndex: string;
  /** WGSL type of a partial value (a `vec2` for argmax and argmin: value and index). */
  readonly type: string;
  readonly identity: string;
  /** WGSL of the output count and the reduction's length. */
  readonly outputs: string;
  readonly length: string;
  /**
   * A loop combining into accumulator `a` the values `j` = `first`, `first` + `step`, …
   * below `end` (`step` absent: 1) of the reduction of the output at offset `base`.
   */
  accumulate(first: string, end: string, step?: number): string;
  /**
   * As `accumulate`, a vec4 of four consecutive values at a time (only where
   * {@linkcode readsBlocks} holds): blocks `q` = `first`, `first` + `step`, … below `end`,
   * each combined into `a` in order.
   */
  accumulateBlocks(first: string, end: string, step: number): string;
  /** WGSL of the reduced value in accumulator `a` (argmax, argmin: its index). */
  result(a: string): string;
  /** Statements storing accumulator `a` as output `o` of `target`, through the epilogue. */
  finish(a: string, o: string, target: string): string;
}

/** Writes the functions of a reduction plan and returns how to use them. */
export function reductionParts(w: Writer, plan: ReducePlan): ReductionParts {
  const dims = (c: BindContext) => {
    const p = c.plan as ReducePlan;
    return reductionDims(p.source.shape, p.axes);
  };
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  const outputs = w.u32((c) => sizeOf(dims(c).kept.map((d) => d.size)));
  const length = w.u32((c) => sizeOf(dims(c).reduced.map((d) => d.size)));
  const keptIndex = w.decompose("o", kept.length, (c, d) => dims(c).kept[d], () => 0);
  const reducedIndex = w.decompose("r", reduced.length, (c, d) => dims(c).reduced[d], () => 0);
  const finite = plan.reducer === "sum" || plan.reducer === "prod";
  const infinity = finite ? "" : w.word(() => ({ f32: Infinity }), "f32");
  const accumulated = accumulatedType(plan);
  const r = reducerWgsl(plan.reducer, infinity, accumulated);
  const isArg = isArgReducer(plan.reducer);
  const [combine, oIndex, rIndex] = ["combine", "oIndex", "rIndex"].map((f) =>
    `${w.phase.prefix}${f}`
  );
  const result = (a: string) => (isArg ? `${a}.y` : a);
  // A bool source (u32 0/1) is summed as i32. The source's function is written when a
  // loop reads it, so a kernel that reads blocks binds no scalar view of its buffers.
  const read = (v: string) =>
    castWgsl(
      termType(plan.source),
      accumulated,
      `${w.fn(plan.source, false)}(base + ${rIndex}(${v}))`,
      false,
    );
  // Arg reducers pair the value with its position, of the same WGSL type.
  const position = DTYPES[accumulated].compute;
  const value = (v: string) => (isArg ? `${r.type}(${read(v)}, ${position}(${v}))` : read(v));
  return {
    helpers: [
      `fn ${combine}(a: ${r.type}, b: ${r.type}) -> ${r.type} {\n  ${r.combine}\n}`,
      `fn ${oIndex}(o: u32) -> u32 {\n${keptIndex.lines}\n  return u32(${keptIndex.offset});\n}`,
      `fn ${rIndex}(r: u32) -> u32 {\n${reducedIndex.lines}\n  return u32(${reducedIndex.offset});\n}`,
    ],
    combine: (a, b) => `${combine}(${a}, ${b})`,
    oIndex,
    type: r.type,
    identity: r.identity,
    outputs,
    length,
    accumulate: (first, end, step) =>
      `for (var j = ${first}; j < ${end}; j${
        step === undefined ? "++" : ` += ${step}u`
      }) { a = ${combine}(a, ${value("j")}); }`,
    accumulateBlocks: (first, end, step) => {
      const v = `${w.fn(plan.source, true)}((base + ${rIndex}(q * 4u)) / 4u)`;
      const fold = ["x", "y", "z", "w"].reduce((acc, lane) => `${combine}(${acc}, v.${lane})`, "a");
      return `for (var q = ${first}; q < ${end}; q += ${step}u) {\n    let v = ${v};\n    a = ${fold};\n  }`;
    },
    result,
    finish: (a, o, target) =>
      plan.epilogue
        ? `fusedResult = ${result(a)};\n  ${target}[${o}] = ${w.fn(plan.epilogue, false)}(${o});`
        : `${target}[${o}] = ${result(a)};`,
  };
}

/**
 * Whether a reduction can read its values four at a time as vec4: a float32 sum,
 * product, max or min whose innermost reduced dimension is contiguous and a multiple of
 * four long, every other stride a multiple of four (so each block of four is aligned),
 * and whose source reads like a vectorised map's. A lane then combines the same number
 * of values, in the same order within each block, so the rounding chain is as long.
 */
function readsBlocks(plan: ReducePlan): boolean {
  if (termType(plan.source) !== "float32" || isArgReducer(plan.reducer)) return false;
  const { kept, reduced } = reductionDims(plan.source.shape, plan.axes);
  const inner = reduced.at(-1);
  return inner !== undefined && inner.stride === 1 && inner.size % 4 === 0 &&
    [...kept, ...reduced.slice(0, -1)].every((d) => d.stride % 4 === 0) &&
    vectorizable([plan.source]);
}

/**
 * Writes a reduce kernel (or the first pass of a two-pass one, `chunks` > 1; where it
 * {@linkcode readsBlocks}, `blocks` reads four values at a time).
 */
function writeReduce(
  w: Writer,
  plan: ReducePlan,
  strategy: "sequential" | "workgroup",
  chunks: boolean,
  blocks = false,
): Template {
  const parts = reductionParts(w, plan);
  const { outputs, length } = parts;
  const chunkCount = chunks
    ? w.u32((c) => Math.ceil(reductionSizes(c.plan as ReducePlan).length / CHUNK))
    : "";
  const finish = chunks ? `out0[slot] = ${parts.result("a")};` : parts.finish("a", "o", "out0");
  // A first pass writes partials of the accumulated type; the last the epilogue's
  // (argmax: int32) or, without one, the accumulated type.
  const accumulated = accumulatedType(plan);
  const dtype = !chunks && plan.epilogue ? termType(plan.epilogue) : accumulated;
  w.bindings.push({ kind: "output", index: 0, vector: false, dtype });
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
      `  ${parts.accumulate("0u", length)}`,
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
      blocks
        ? `  ${parts.accumulateBlocks("first / 4u + lid", "end / 4u", REDUCE_WORKGROUP)}`
        : `  ${parts.accumulate("first + lid", "end", REDUCE_WORKGROUP)}`,
      `  partial[lid] = a;`,
      `  workgroupBarrier();`,
      ...foldLanes({
        array: "partial",
        lanes: REDUCE_WORKGROUP,
        combine: parts.combine,
        shared: { lane: "lid", slot: "lid" },
      }).map((line) => `  ${line}`),
      `  a = partial[0];`,
      `  if (lid == 0u && valid) {`,
      `  ${finish}`,
      `  }`,
    ];
  const wgsl = [
    declarations(w.getters.length, w.bindings, w.terms),
    `var<private> fusedResult: ${computeWgsl(accumulated, false)};`,
    strategy === "workgroup"
      ? `var<workgroup> partial: array<${parts.type}, ${REDUCE_WORKGROUP}>;`
      : "",
    expressionPrelude(exprsOf(w.terms)),
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
      const { outputs, length } = reductionSizes(p as ReducePlan);
      if (strategy === "sequential") return Math.ceil(outputs / REDUCE_WORKGROUP);
      return chunks ? outputs * Math.ceil(length / CHUNK) : outputs;
    },
  };
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
  /** The type of those elements (`reductionType`). */
  readonly partialType: DType;
}

/** The buffer source number that stands for the partials between two reduction passes. */
export const PARTIALS_SOURCE = -1;

/** The generated kernel of one pass of a reduction plan. */
function generatePass(
  plan: ReducePlan,
  mode: ConstantMode,
  strategy: "sequential" | "workgroup",
  chunks = false,
): GeneratedKernel {
  // Only a first pass reads blocks: its chunks are multiples of 4 × the lanes, so a lane
  // combines at most CHUNK / REDUCE_WORKGROUP values, as reductionRoundings counts.
  const blocks = chunks && readsBlocks(plan);
  return generateKernel(
    plan,
    mode,
    `${strategy}${chunks ? "/chunks" : ""}${blocks ? "/blocks" : ""}`,
    (canonical) => writeReduce(new Writer(plan, canonical, mode), plan, strategy, chunks, blocks),
  );
}

/** Generates the kernel(s) of a reduction plan. */
export function generateReduce(plan: ReducePlan, mode: ConstantMode): ReduceKernels {
  const { outputs, length } = reductionSizes(plan);
  if (!takesTwoPasses(plan)) {
    const strategy = reducesSequentially(length, outputs) ? "sequential" : "workgroup";
    return {
      kernels: [generatePass(plan, mode, strategy)],
      partials: 0,
      partialType: accumulatedType(plan),
    };
  }
  const chunks = Math.ceil(length / CHUNK);
  // The first pass writes the partials; only the second writes (maybe in place) the output.
  const first = generatePass({ ...plan, inPlace: undefined }, mode, "workgroup", true);
  const partials = bufferTerm(PARTIALS_SOURCE, [outputs, chunks], accumulatedType(plan));
  const second = generatePass(
    {
      kind: "reduce",
      reducer: plan.reducer,
      source: partials,
      axes: [1],
      epilogue: plan.epilogue,
      inPlace: plan.inPlace,
    },
    mode,
    reducesSequentially(chunks, outputs) ? "sequential" : "workgroup",
  );
  return { kernels: [first, second], partials: outputs * chunks, partialType: partials.dtype };
}
