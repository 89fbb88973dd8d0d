/**
 * @file What the matmul kernel variants share: the parameters, the variant interface,
 * the uniform block, the hooks through which a kernel reads op(A) and op(B) and stores
 * C (the plain ones read storage buffers with the transposes compiled into the index
 * expressions; a fused program brings its own), and the unrolled WGSL of a thread's
 * block of accumulators and its edge-checked store. Each variant (one file each) writes
 * only its own inner loop, once: its plain path is its hooked path with the plain hooks.
 *
 * Every variant computes each output as a sum of its k products in which no path has
 * more than k roundings (sequential sums, or a tree over strided partial sums), so
 * |gpu − exact| ≤ γ(k)·Σ|a·b| holds for all of them; padding adds exact zeros.
 */
import { asBlocks, LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import type { AdapterFields } from "./matmul_tuning.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** "software" for CPU-based adapters (llvmpipe, SwiftShader, WARP), else "gpu". */
export type AdapterClass = "software" | "gpu";

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|software|\bwarp\b|basic render/i;

/** The class of an adapter, from its `GPUAdapterInfo`; "gpu" where it says nothing. */
export function adapterClass(
  info: (AdapterFields & { readonly isFallbackAdapter?: boolean }) | undefined,
): AdapterClass {
  if (!info) return "gpu";
  if (info.isFallbackAdapter) return "software";
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ");
  return SOFTWARE_ADAPTER.test(text) ? "software" : "gpu";
}

const classes = new WeakMap<GpuRuntime, AdapterClass>();

/** Records the class of `runtime`'s adapter (matmul's configuration does). */
export function setAdapterClass(runtime: GpuRuntime, cls: AdapterClass): void {
  classes.set(runtime, cls);
}

/** The class of `runtime`'s adapter: as recorded, else from `device.adapterInfo`. */
export function adapterClassOf(runtime: GpuRuntime): AdapterClass {
  return classes.get(runtime) ?? adapterClass(runtime.device.adapterInfo);
}

/**
 * Dimensions of C = op(A)·op(B), with op(A) of shape [m, k] and op(B) of [k, n]; a
 * batched product computes `batch` of them, C's matrices one after another, A's and B's
 * `batchStrideA`/`batchStrideB` elements apart (0: one matrix broadcast to every batch).
 */
export interface MatmulParams {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** A is stored as [k, m]. */
  readonly transposeA: boolean;
  /** B is stored as [n, k]. */
  readonly transposeB: boolean;
  /** Products computed (default 1). */
  readonly batch?: number;
  /** Elements from one matrix of A to the next (default 0: A broadcast). */
  readonly batchStrideA?: number;
  /** Elements from one matrix of B to the next (default 0: B broadcast). */
  readonly batchStrideB?: number;
}

/** The batch of a product and its operands' strides, with their defaults. */
export function batchOf(
  { batch = 1, batchStrideA = 0, batchStrideB = 0 }: MatmulParams,
): { batch: number; strideA: number; strideB: number } {
  return { batch, strideA: batchStrideA, strideB: batchStrideB };
}

/** WGSL that replaces a matmul kernel's operand reads and its store (for fused programs). */
export interface MatmulHooks {
  /** Module-scope WGSL declaring `fn loadA(r: u32, p: u32) -> f32` (op(A)[r][p], transposes
   *  already applied), `fn loadB(p: u32, col: u32) -> f32` (op(B)[p][col]) and
   *  `fn storeC(row: u32, col: u32, v: f32)`, plus any bindings they use, numbered from
   *  `@binding(1)` on in @group(0) (binding 0 stays the variant's uniform block `params`,
   *  {@linkcode MATMUL_PARAMS_WGSL}, whose `m`, `k` and `n` the hooks may read). A kernel
   *  calls loadA and loadB only with indices in range (r < m, p < k, col < n) and storeC
   *  only for outputs in range, once each. */
  readonly wgsl: string;
  /** Resources for those bindings, in binding order from 1. */
  readonly buffers: readonly (DeviceArray | GPUTextureView)[];
  /** A string that identifies `wgsl` (for the pipeline cache key). */
  readonly key: string;
  /** The name errors give the dispatch (default `matmul`; `jit: matmul+add` when fused). */
  readonly op?: string;
}

/** One way of computing a matmul on the GPU. */
export interface MatmulVariant {
  /** The name a caller pins it by, e.g. `gpu({ matmulVariant: "texture8x8" })`. */
  readonly name: string;
  /** Whether this variant can run this shape within this device's limits. */
  supports(runtime: GpuRuntime, params: MatmulParams): boolean;
  /** Encodes C = op(A)·op(B) into the runtime's shared encoder. */
  encode(
    runtime: GpuRuntime,
    inputs: readonly DeviceArray[],
    c: DeviceArray,
    params: MatmulParams,
  ): void;
  /**
   * Encodes the product with `hooks` in place of the plain operand reads and store (a
   * fused program's gathers and epilogue): every variant takes hooks, so `jit` runs the
   * variant eager calls run, tuned alike.
   */
  encodeHooked(runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks): void;
}

/** "NN", "NT", "TN" or "TT": the transpose flags, for pipeline keys. */
export function transposeKey({ transposeA, transposeB }: MatmulParams): string {
  return `${transposeA ? "T" : "N"}${transposeB ? "T" : "N"}`;
}

/**
 * WGSL: the uniform block every variant reads (`tilesN` and `tiles` count one matrix
 * of C's tiles; `batch`, `strideA` and `strideB` are {@linkcode MatmulParams}' batch),
 * and `batchIndex`, the matrix of the batch a workgroup computes, which
 * {@linkcode matmulMain} sets and the plain hooks read.
 */
export const MATMUL_PARAMS_WGSL = /* wgsl */ `
struct Params { m: u32, k: u32, n: u32, tilesN: u32, tiles: u32, batch: u32, strideA: u32, strideB: u32 }
@group(0) @binding(0) var<uniform> params: Params;
var<private> batchIndex: u32;`;

/**
 * Packs {@linkcode MATMUL_PARAMS_WGSL} for C tiled in `tileRows`×`tileCols` tiles;
 * `workgroups` is a workgroup per tile of every matrix of the batch.
 */
export function matmulUniforms(
  params: MatmulParams,
  tileRows: number,
  tileCols: number,
): { uniforms: ArrayBuffer; tiles: number; workgroups: number } {
  const { m, k, n } = params;
  const { batch, strideA, strideB } = batchOf(params);
  const tilesN = Math.ceil(n / tileCols);
  const tiles = Math.ceil(m / tileRows) * tilesN;
  const words = [m, k, n, tilesN, tiles, batch, strideA, strideB].map((u32) => ({ u32 }));
  return { uniforms: packUniforms(words), tiles, workgroups: tiles * batch };
}

/**
 * WGSL: the head of a matmul kernel's entry point, as `tiledMain` of `_shared.ts` (the
 * same builtins, then `let tile`), for a dispatch of `perMatrix` workgroups (a WGSL
 * expression; C's tiles by default) per matrix of the batch: it sets `batchIndex` and
 * names the workgroup's `tile` within its matrix; workgroups past the batch return.
 */
export function matmulMain(x: number, y = 1, perMatrix = "params.tiles"): string {
  return /* wgsl */ `${LINEAR_WORKGROUP}
@compute @workgroup_size(${x}, ${y})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let folded = linearWorkgroup(wid, groups);
  let perMatrix = ${perMatrix};
  if (folded / perMatrix >= params.batch) { return; }
  batchIndex = folded / perMatrix;
  let tile = folded % perMatrix;`;
}

/** A kernel that reads op(A) and op(B) and stores C through hooks, one workgroup a tile of C. */
export interface HookedKernel {
  /** The variant's part of the pipeline key; the hooks' key follows it. */
  readonly key: string;
  /** Rows of C one workgroup computes. */
  readonly tileRows: number;
  /** Columns of C one workgroup computes. */
  readonly tileCols: number;
  /** The kernel's WGSL around the hooks' WGSL. */
  wgsl(hooks: string): string;
}

/** Dispatches `kernel` with `hooks` for C = op(A)·op(B) (`params`), a workgroup a tile. */
export function dispatchHooked(
  runtime: GpuRuntime,
  params: MatmulParams,
  hooks: MatmulHooks,
  kernel: HookedKernel,
): void {
  const { uniforms, workgroups } = matmulUniforms(params, kernel.tileRows, kernel.tileCols);
  runtime.dispatch({
    op: hooks.op ?? "matmul",
    key: `matmul/${kernel.key}/${hooks.key}`,
    wgsl: () => kernel.wgsl(hooks.wgsl),
    uniforms,
    buffers: hooks.buffers,
    workgroups,
  });
}

/**
 * WGSL that uses every hook statically, behind a test no workgroup passes: a hooked
 * kernel's layout is `"auto"`, which holds only the bindings its entry point uses, and
 * the hooks' buffers are bound whole (a kernel packing A would otherwise lack B's and C's).
 */
export const USE_EVERY_HOOK =
  "if (tile == 0xffffffffu) { storeC(0u, 0u, loadA(0u, 0u) + loadB(0u, 0u)); }";

/**
 * WGSL: the head of a kernel that packs an operand through `hooks` into the rgba32float
 * texture `dst` (binding `binding`), a thread per texel: `threads` a workgroup, each
 * matrix's `params.tiles` texels; it names the thread's texel `t` and returns past them.
 */
export function packHead(hooks: string, binding: number, threads: number): string {
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${hooks}
@group(0) @binding(${binding}) var dst: texture_storage_2d<rgba32float, write>;
${matmulMain(threads, 1, `(params.tiles + ${threads - 1}u) / ${threads}u`)}
  ${USE_EVERY_HOOK}
  let t = tile * ${threads}u + li;
  if (t >= params.tiles) { return; }`;
}

/** The `encode` of a variant whose plain path is its hooked path with the plain hooks. */
export function plainEncode(
  encodeHooked: MatmulVariant["encodeHooked"],
): MatmulVariant["encode"] {
  return (runtime, [a, b], c, params) => encodeHooked(runtime, params, plainHooks(params, a, b, c));
}

/**
 * Which operands the plain hooks bind as whole vec4 blocks, adding `loadA4`, `loadB4`
 * and `storeC4` beside the scalar hooks. Only where the stored rows are whole blocks
 * (see {@linkcode vectorOperands}).
 */
export interface VectorOperands {
  /**
   * `fn loadA4(r, p) -> vec4f`: the four stored values from op(A)[r][p] on along A's
   * contiguous axis: op(A)[r][p..p+3], or op(A)[r..r+3][p] when A is transposed.
   */
  readonly a: boolean;
  /**
   * `fn loadB4(p, col) -> vec4f`: op(B)[p][col..col+3], or op(B)[p..p+3][col] when B is
   * transposed.
   */
  readonly b: boolean;
  /** `fn storeC4(row, col, v: vec4f)`: C[row][col..col+3] = v (col a multiple of 4). */
  readonly c: boolean;
}

/**
 * The operands whose stored rows have a multiple of 4 elements, so that vec4 loads and
 * stores at multiples of 4 stay aligned and never straddle two rows.
 */
export function vectorOperands({ m, k, n, transposeA, transposeB }: MatmulParams): VectorOperands {
  return {
    a: (transposeA ? m : k) % 4 === 0,
    b: (transposeB ? k : n) % 4 === 0,
    c: n % 4 === 0,
  };
}

/** No vec4 hooks: the scalar loads and store only. */
export const SCALAR_OPERANDS: VectorOperands = { a: false, b: false, c: false };

/** WGSL: C[row][col] of matrix `batchIndex` in C's buffer (its matrices are contiguous). */
const C_INDEX = "(batchIndex * params.m + row) * params.n + col";

/** WGSL: `c` at `@binding(binding)` and `storeC` (and `storeC4` when `vector`). */
export function storeOperand(binding: number, vector: boolean): string {
  if (!vector) {
    return /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read_write> c: array<f32>;
fn storeC(row: u32, col: u32, v: f32) { c[${C_INDEX}] = v; }`;
  }
  return /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read_write> c: array<vec4f>;
fn storeC(row: u32, col: u32, v: f32) { let i = ${C_INDEX}; c[i / 4u][i % 4u] = v; }
fn storeC4(row: u32, col: u32, v: vec4f) { c[(${C_INDEX}) / 4u] = v; }`;
}

/**
 * The plain hooks: A, B and C in storage buffers at bindings 1–3, read with the
 * transposes in the index expressions; with `vector`, the operands it names are bound
 * as vec4 blocks and get their vec4 hooks too.
 */
export function plainHooks(
  params: MatmulParams,
  a: DeviceArray,
  b: DeviceArray,
  c: DeviceArray,
  vector: VectorOperands = SCALAR_OPERANDS,
): MatmulHooks {
  const { transposeA, transposeB } = params;
  const aIndex = `batchIndex * params.strideA + ${
    transposeA ? "p * params.m + r" : "r * params.k + p"
  }`;
  const bIndex = `batchIndex * params.strideB + ${
    transposeB ? "col * params.k + p" : "p * params.n + col"
  }`;
  const operand = (name: string, binding: number, index: string, args: string, v: boolean) =>
    v
      ? /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read> ${name}: array<vec4f>;
fn load${name.toUpperCase()}(${args}) -> f32 { let i = ${index}; return ${name}[i / 4u][i % 4u]; }
fn load${name.toUpperCase()}4(${args}) -> vec4f { return ${name}[(${index}) / 4u]; }`
      : /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn load${name.toUpperCase()}(${args}) -> f32 { return ${name}[${index}]; }`;
  const blocks = (array: DeviceArray, v: boolean) => v ? asBlocks(array, 16) : array;
  return {
    wgsl: operand("a", 1, aIndex, "r: u32, p: u32", vector.a) +
      operand("b", 2, bIndex, "p: u32, col: u32", vector.b) + storeOperand(3, vector.c),
    buffers: [blocks(a, vector.a), blocks(b, vector.b), blocks(c, vector.c)],
    key: `plain/${transposeKey(params)}/${+vector.a}${+vector.b}${+vector.c}`,
  };
}

/** `[0, 1, …, count − 1]`, for unrolling WGSL in TypeScript. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * WGSL statements that store a thread's block of `rows` × `blocks` vec4 accumulators
 * `acc{i}_{j}` at C[row(i)][col(j) + q] (q = 0…3; `row` and `col` take WGSL u32
 * expressions), skipping what lies past the edge of C. With `vector`, each vec4 in range
 * is stored at once (`storeC4`; n must be a multiple of 4, so that col(j) < n puts all
 * four in range), unrolled. Otherwise one `storeC` in a loop over the block, each
 * accumulator picked by {@linkcode pickWgsl}: a hooked store may be a long epilogue
 * (dropout's counter-based draws), and 64 unrolled copies of one made llvmpipe take
 * minutes to compile a fused texture8x8 kernel.
 */
export function storeBlock(
  rows: number,
  blocks: number,
  row: (i: string) => string,
  col: (j: string) => string,
  vector: boolean,
): string {
  if (!vector) {
    const accumulators = range(rows).flatMap((i) => range(blocks).map((j) => `acc${i}_${j}`));
    return /* wgsl */ `for (var e = 0u; e < ${4 * rows * blocks}u; e++) {
    let b = e / 4u;
    var v: vec4f;
    ${pickWgsl("b", "v", accumulators)}
    let r = ${row(`(b / ${blocks}u)`)};
    let col = ${col(`(b % ${blocks}u)`)} + e % 4u;
    if (r < params.m && col < params.n) { storeC(r, col, v[e % 4u]); }
  }`;
  }
  return range(rows).map((i) => {
    const stores = range(blocks).map((j) =>
      `if (${col(`${j}u`)} < params.n) { storeC4(r, ${col(`${j}u`)}, acc${i}_${j}); }`
    );
    return `if (${row(`${i}u`)} < params.m) {\n    let r = ${row(`${i}u`)};\n    ${
      stores.join("\n    ")
    }\n  }`;
  }).join("\n  ");
}

/**
 * WGSL that sets `target` to `values[index]` (`index` a u32 expression) through a binary
 * tree of ifs on constant bounds, so that no array is indexed at run time. The block
 * store used to copy the accumulators into an array indexed by the loop counter, which
 * llvmpipe compiles slowly: a cold process (Mesa's shader cache off) spent 0.9–1.0 CPU
 * seconds on a jitted texture8x8 matmul's first call against 0.5–0.6 with the tree, and
 * 8.0–8.8 against 4.7–5.3 on demo:mlp's first jitted step; the warm step is unchanged.
 * `lo` is the index that `values[0]` stands for (the tree's recursion sets it).
 */
export function pickWgsl(index: string, target: string, values: readonly string[], lo = 0): string {
  if (values.length === 1) return `${target} = ${values[0]};`;
  const half = values.length >> 1;
  const low = pickWgsl(index, target, values.slice(0, half), lo);
  const high = pickWgsl(index, target, values.slice(half), lo + half);
  return `if (${index} < ${lo + half}u) { ${low} } else { ${high} }`;
}

/**
 * WGSL of a kernel whose threads each compute a `rows`×`cols` block of C (cols a multiple
 * of 4) at consecutive rows and columns, in workgroups of `threads`×`threads` threads
 * (after `tiledMain` of `_shared.ts`, which names `tile` and `lid`): `head` returns past the
 * last tile, names the block's first row and column (`row0`, `col0`) and declares its
 * accumulators; `store` stores them (with `storeC4` when `vector`).
 */
export function threadBlock(
  threads: number,
  rows: number,
  cols: number,
  vector: boolean,
): { head: string; store: string } {
  return {
    head: /* wgsl */ `if (tile >= params.tiles) { return; }
  let row0 = (tile / params.tilesN) * ${threads * rows}u + lid.y * ${rows}u;
  let col0 = (tile % params.tilesN) * ${threads * cols}u + lid.x * ${cols}u;
  ${declareAccumulators(rows, cols / 4)}`,
    store: storeBlock(rows, cols / 4, (i) => `row0 + ${i}`, (j) => `col0 + 4u * ${j}`, vector),
  };
}

/** WGSL declarations of `rows` × `blocks` zeroed vec4 accumulators `acc{i}_{j}`. */
export function declareAccumulators(rows: number, blocks: number): string {
  return range(rows).flatMap((i) => range(blocks).map((j) => `var acc${i}_${j} = vec4f(0.0);`))
    .join("\n  ");
}
