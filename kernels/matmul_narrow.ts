/**
 * @file Matmul variant "narrow": for products with a narrow side (n ≤ 16 or m ≤ 16), as
 * training runs them — a convolution lowered to a product (LeNet's 12544×25×6), a
 * classifier layer (64×256×10 Bᵀ) and its weight gradient (10×64×256 Aᵀ). The tiled
 * variants spend most of a 32- to 128-wide tile on padding there. Here each thread owns
 * {@linkcode LINES} lines along C's long side (rows of C where n is narrow) and keeps
 * the narrow side's accumulators for them in vec4 registers: per step along k it reads
 * one value of the long operand per line and the narrow operand's values at that k, a
 * texel per four, shared by its lines. Where m is the narrow side, the same kernel runs
 * mirrored (Cᵀ = op(B)ᵀ·op(A)ᵀ, its lines C's columns), reading both operands in place.
 * Each output is a sequential sum over k, within γ(k)·Σ|ab|.
 *
 * Both operands are read from textures. On llvmpipe a storage buffer load at a computed
 * address runs one SIMD lane at a time (~20 ns a lane here: a first form of this kernel
 * reading the buffers took 65 ms for 12544×25×6, 8 ms without the narrow operand's
 * loads, 2 ms without either), where a texel load is a few vector instructions. The long
 * operand's texture is flat: texel t of a texture `w` texels wide, at (t mod w, t / w),
 * holds its elements 4t…4t+3 as stored, so a transpose or a batch stride is an index
 * expression; the plain path fills it by `copyBufferToTexture` of the stored bytes (rows
 * of 256 bytes or a power-of-two multiple: buffers are sized in 256-byte classes), a
 * copy of the operand. The narrow operand (k·16 values at most a matrix) is packed in
 * rows by a kernel reading it through loadA/loadB. With hooks (a fused program), or a
 * buffer too long for the flat texture, the long operand is packed flat the same way,
 * and the product stores through storeC. A batch takes a run of workgroups per matrix
 * ({@linkcode matmulMain}); each operand's matrices are stacked in its texture.
 *
 * Launch: packing, a thread per texel, {@linkcode THREADS} per workgroup; the product,
 * workgroups of {@linkcode THREADS} threads, one per THREADS·LINES lines of C.
 */
import { packUniforms, readOnlyStorageTextures } from "./_shared.ts";
import {
  batchOf,
  declareAccumulators,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  matmulMain,
  type MatmulParams,
  matmulUniforms,
  type MatmulVariant,
  packHead,
  pickWgsl,
  plainHooks,
  range,
  storeOperand,
  USE_EVERY_HOOK,
} from "./_matmul_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** The widest narrow side: four vec4 accumulators per line. */
export const NARROW_SIDE = 16;
const THREADS = 64;
/**
 * Lines of C per thread, THREADS apart: each texel of the narrow operand serves this
 * many lines. 12544×25×6 on llvmpipe, wall ms per product in a stream, one process: 6.1
 * with one line a thread and the narrow operand read a value a texel, 2.1 with four
 * lines and its texels packed in rows. Four consecutive lines a thread (which would let
 * C be stored as vec4s) read the long operand's texels farther apart: 64×256×10 Bᵀ took
 * 2.4–2.7 ms against 0.64–0.69, alternating processes.
 */
const LINES = 4;
/** Bytes of a texel (rgba32float), and of the shortest row `copyBufferToTexture` takes. */
const TEXEL_BYTES = 16;
const ROW_BYTES = 256;

/** Whether the product runs mirrored: m is its narrow side (the shorter, where both are). */
function mirrored({ m, n }: MatmulParams): boolean {
  return n > NARROW_SIDE || m < n;
}

/** The product's sides: its lines (C's long side), the narrow side, and the operands'. */
function sidesOf(params: MatmulParams) {
  const mirror = mirrored(params);
  return {
    mirror,
    lines: mirror ? params.n : params.m,
    narrow: mirror ? params.m : params.n,
    long: (mirror ? "b" : "a") as Operand,
    short: (mirror ? "a" : "b") as Operand,
  };
}

type Operand = "a" | "b";

/**
 * The width in texels (a power of two, at least a 256-byte row) of a flat texture of
 * `floats` values: the narrowest whose height fits `limit`, and, for a copy of a buffer
 * of `bufferBytes`, whose rows divide it (so whole rows stay inside it); null if none.
 */
function flatWidth(floats: number, limit: number, bufferBytes?: number): number | null {
  for (let width = ROW_BYTES / TEXEL_BYTES; width <= limit; width *= 2) {
    if (bufferBytes !== undefined && bufferBytes % (width * TEXEL_BYTES) !== 0) return null;
    if (Math.ceil(floats / (4 * width)) <= limit) return width;
  }
  return null;
}

/** A flat texture of `floats` values, `width` texels wide. */
function flatTexture(runtime: GpuRuntime, floats: number, width: number): GPUTexture {
  return runtime.scratchTexture("matmul", width, Math.max(1, Math.ceil(floats / (4 * width))));
}

/**
 * The flat texture of a stored operand, copied (the whole buffer's rows it covers); null
 * where its texture would be too tall.
 */
function copiedOperand(runtime: GpuRuntime, array: DeviceArray): GPUTexture | null {
  const floats = array.byteLength / 4;
  const limit = runtime.device.limits.maxTextureDimension2D;
  const width = flatWidth(floats, limit, array.buffer.size);
  if (width === null) return null;
  const texture = flatTexture(runtime, floats, width);
  runtime.copyToTexture("matmul", array, texture, width * TEXEL_BYTES, [width, texture.height]);
  return texture;
}

/**
 * How an operand is packed through the hooks: `flat`, op(A) as [m, k] or op(B) as
 * [k, n], row-major, four values a texel; `rows`, the narrow operand as one texel row
 * per step along k, texel (j, p) holding its values 4j…4j+3 at p (zeros past the side).
 */
type Packing = "flat" | "rows";

/**
 * WGSL packing `operand` of matrix `batchIndex` through the hooks (`params.tiles`
 * texels a matrix): flat, each matrix `params.tilesN` texels after the one before; in
 * rows, `params.tilesN` texels a row, each matrix k rows below the one before.
 */
function packWgsl(hooks: string, binding: number, operand: Operand, packing: Packing): string {
  const load = (i: string, j: string) =>
    operand === "a" ? `loadA(${i}, ${j})` : `loadB(${i}, ${j})`;
  const [rows, cols] = operand === "a" ? ["params.m", "params.k"] : ["params.k", "params.n"];
  const fill = packing === "flat"
    ? /* wgsl */ `let i = 4u * t + q;
    if (i < ${rows} * ${cols}) { v[q] = ${load(`i / ${cols}`, `i % ${cols}`)}; }`
    : /* wgsl */ `let p = t / params.tilesN;
    let s = 4u * (t % params.tilesN) + q;
    if (s < ${operand === "a" ? "params.m" : "params.n"}) { v[q] = ${
      operand === "a" ? load("s", "p") : load("p", "s")
    }; }`;
  const at = packing === "flat"
    ? `let at = batchIndex * params.tilesN + t;
  let width = textureDimensions(dst).x;
  let xy = vec2u(at & (width - 1u), at >> countTrailingZeros(width));`
    : "let xy = vec2u(t % params.tilesN, batchIndex * params.k + t / params.tilesN);";
  return /* wgsl */ `${packHead(hooks, binding, THREADS)}
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q++) {
    ${fill}
  }
  ${at}
  textureStore(dst, xy, v);
}
`;
}

/**
 * The shape of `operand` packed `packing`: texels a matrix, texels a row (in rows), the
 * matrices packed (one where it is broadcast), and the texture's width and height.
 */
function packedShape(params: MatmulParams, operand: Operand, packing: Packing, limit: number) {
  const { m, k, n } = params;
  const { batch, strideA, strideB } = batchOf(params);
  const count = (operand === "a" ? strideA : strideB) === 0 ? 1 : batch;
  if (packing === "rows") {
    const perRow = Math.ceil((operand === "a" ? m : n) / 4);
    return { texels: perRow * k, perRow, count, width: perRow, height: k * count };
  }
  const texels = Math.ceil((operand === "a" ? m * k : k * n) / 4);
  const width = flatWidth(4 * texels * count, limit) ?? limit + 1;
  return { texels, perRow: texels, count, width, height: Math.ceil(texels * count / width) };
}

/**
 * Packs `operand` of every matrix of the batch into a texture through `hooks`; returns
 * it with the stride between its matrices (in floats, flat; 0 where broadcast).
 */
function packedOperand(
  runtime: GpuRuntime,
  params: MatmulParams,
  hooks: MatmulHooks,
  operand: Operand,
  packing: Packing,
): { texture: GPUTexture; stride: number } {
  const { m, k, n } = params;
  const { strideA, strideB } = batchOf(params);
  const limit = runtime.device.limits.maxTextureDimension2D;
  const { texels, perRow, count, width, height } = packedShape(params, operand, packing, limit);
  const texture = runtime.scratchTexture("matmul", width, Math.max(1, height));
  runtime.dispatch({
    op: hooks.op ?? "matmul",
    key: `matmul/narrowPack/${operand}/${packing}/${hooks.key}`,
    wgsl: () => packWgsl(hooks.wgsl, hooks.buffers.length + 1, operand, packing),
    uniforms: packUniforms(
      [m, k, n, perRow, texels, count, strideA, strideB].map((u32) => ({ u32 })),
    ),
    buffers: [...hooks.buffers, texture.createView()],
    workgroups: Math.ceil(texels / THREADS) * count,
  });
  return { texture, stride: count === 1 ? 0 : 4 * texels };
}

/** How the product reads its textures and stores C. */
interface ProductLayout {
  /** The long operand is stored with k contiguous (flat index line·k + p). */
  readonly alongK: boolean;
  /** WGSL of C's binding and `storeC`, or the hooks. */
  readonly wgsl: string;
  /** The binding of the long operand's texture; the narrow one's is the next. */
  readonly textures: number;
  /** WGSL at the top of the kernel (the hooks' static use). */
  readonly head: string;
}

/**
 * WGSL of the product for `params`' sides. The uniform stride of the long operand is
 * its flat stride; the narrow operand's is nonzero where its matrices are stacked.
 */
function productWgsl(params: MatmulParams, storage: boolean, io: ProductLayout): string {
  const { mirror, narrow } = sidesOf(params);
  const texture = storage ? "texture_storage_2d<rgba32float, read>" : "texture_2d<f32>";
  const lod = storage ? "" : ", 0";
  const [lines, longStride, shortStride] = mirror
    ? ["params.n", "params.strideB", "params.strideA"]
    : ["params.m", "params.strideA", "params.strideB"];
  const blocks = Math.ceil(narrow / 4);
  const accumulators = range(LINES).flatMap((i) => range(blocks).map((j) => `acc${i}_${j}`));
  const index = (i: number) => io.alongK ? `l${i} * params.k + p` : `p * ${lines} + l${i}`;
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${io.wgsl}
@group(0) @binding(${io.textures}) var texLong: ${texture};
@group(0) @binding(${io.textures + 1}) var texNarrow: ${texture};
fn readLong(f: u32, width: u32, shift: u32) -> f32 {
  let t = f >> 2u;
  return textureLoad(texLong, vec2u(t & (width - 1u), t >> shift)${lod})[f & 3u];
}
${matmulMain(THREADS)}
  ${io.head}
  let first = tile * ${THREADS * LINES}u + li;
  if (first >= ${lines}) { return; }
  ${
    range(LINES).map((i) => `let l${i} = min(first + ${i * THREADS}u, ${lines} - 1u);`).join("\n  ")
  }
  let longBase = batchIndex * ${longStride};
  let narrowBase = select(0u, batchIndex * params.k, ${shortStride} != 0u);
  let width = textureDimensions(texLong).x;
  let shift = countTrailingZeros(width);
  ${declareAccumulators(LINES, blocks)}
  for (var p = 0u; p < params.k; p++) {
    ${
    range(blocks).map((j) =>
      `let b${j} = textureLoad(texNarrow, vec2u(${j}u, narrowBase + p)${lod});`
    ).join("\n    ")
  }
    ${
    range(LINES).map((i) => `let a${i} = readLong(longBase + ${index(i)}, width, shift);`).join(
      "\n    ",
    )
  }
    ${
    range(LINES).flatMap((i) => range(blocks).map((j) => `acc${i}_${j} += a${i} * b${j};`)).join(
      "\n    ",
    )
  }
  }
  // The bound is a constant: with the uniform m there, llvmpipe ran the mirrored store
  // loop ~40 ms a dispatch (15×64×16: 50 ms against 0.2 ms).
  for (var e = 0u; e < ${LINES * narrow}u; e++) {
    let s = e % ${narrow}u;
    let b = (e / ${narrow}u) * ${blocks}u + s / 4u;
    var v: vec4f;
    ${pickWgsl("b", "v", accumulators)}
    let line = first + (e / ${narrow}u) * ${THREADS}u;
    if (line < ${lines}) { ${
    mirror ? "storeC(s, line, v[s % 4u])" : "storeC(line, s, v[s % 4u])"
  }; }
  }
}
`;
}

/**
 * Dispatches the product of `[long, narrow]` textures; `params` carries the strides
 * (see {@linkcode productWgsl}), `layout` how the long one is stored and how C is.
 */
function product(
  runtime: GpuRuntime,
  params: MatmulParams,
  textures: readonly GPUTexture[],
  layout: ProductLayout & {
    key: string;
    op: string;
    buffers: readonly (DeviceArray | GPUTextureView)[];
  },
): void {
  const { mirror, narrow } = sidesOf(params);
  const storage = readOnlyStorageTextures();
  const lines = THREADS * LINES;
  const { uniforms, workgroups } = matmulUniforms(
    params,
    mirror ? NARROW_SIDE : lines,
    mirror ? lines : NARROW_SIDE,
  );
  const views = textures.map((t) => t.createView());
  runtime.dispatch({
    op: layout.op,
    key: `matmul/narrow${narrow}${mirror ? "M" : ""}/${+layout.alongK}${+storage}/${layout.key}`,
    wgsl: () => productWgsl(params, storage, layout),
    uniforms,
    buffers: layout.textures === 1 ? [...views, ...layout.buffers] : [...layout.buffers, ...views],
    workgroups,
  });
}

/**
 * The product with op(A) and op(B) read through `hooks` into textures, or, given
 * `long` (the long operand copied as stored, with `alongK` as {@linkcode ProductLayout}),
 * only the narrow one; C stored through `store` (the hooks, by default).
 */
function encodeWith(
  runtime: GpuRuntime,
  params: MatmulParams,
  hooks: MatmulHooks,
  long?: { texture: GPUTexture; alongK: boolean },
  store: { wgsl: string; buffers: readonly DeviceArray[] } | null = null,
): void {
  const sides = sidesOf(params);
  const narrow = packedOperand(runtime, params, hooks, sides.short, "rows");
  const packed = long ? null : packedOperand(runtime, params, hooks, sides.long, "flat");
  const { strideA, strideB } = batchOf(params);
  const longStride = packed ? packed.stride : sides.long === "a" ? strideA : strideB;
  const narrowStride = sides.short === "a" ? strideA : strideB;
  const strides = sides.mirror
    ? { batchStrideA: narrowStride, batchStrideB: longStride }
    : { batchStrideA: longStride, batchStrideB: narrowStride };
  product(runtime, { ...params, ...strides }, [long?.texture ?? packed!.texture, narrow.texture], {
    alongK: long ? long.alongK : !sides.mirror,
    wgsl: store ? store.wgsl : hooks.wgsl,
    textures: store ? 1 : hooks.buffers.length + 1,
    head: store ? "" : USE_EVERY_HOOK,
    key: store ? `plain/${+!!long}` : `hooked/${hooks.key}`,
    op: hooks.op ?? "matmul",
    buffers: store ? store.buffers : hooks.buffers,
  });
}

/**
 * The plain path: the long operand copied into a flat texture as stored (packed where
 * it cannot be), the narrow one packed in rows, C stored plainly.
 */
function encode(
  runtime: GpuRuntime,
  [a, b]: readonly DeviceArray[],
  c: DeviceArray,
  params: MatmulParams,
): void {
  const sides = sidesOf(params);
  const texture = copiedOperand(runtime, sides.long === "a" ? a : b);
  const alongK = sides.mirror ? params.transposeB : !params.transposeA;
  const hooks = plainHooks(params, a, b, c);
  const store = { wgsl: storeOperand(3, false), buffers: [c] };
  encodeWith(runtime, params, hooks, texture ? { texture, alongK } : undefined, store);
}

function encodeHooked(runtime: GpuRuntime, params: MatmulParams, hooks: MatmulHooks): void {
  encodeWith(runtime, params, hooks);
}

/**
 * The narrow variant: a thread per {@linkcode LINES} lines of C along its long side, the
 * narrow side's (n ≤ 16, or m ≤ 16 mirrored) accumulators in registers, the operands
 * read as texels.
 */
export const narrowVariant: MatmulVariant = {
  name: "narrow",
  supports(runtime, params) {
    const limit = runtime.device.limits.maxTextureDimension2D;
    const grid = runtime.maxWorkgroupsPerDimension ** 3;
    const sides = sidesOf(params);
    // The packed textures (the fallback of every path) and every grid must fit.
    const fits = ([[sides.long, "flat"], [sides.short, "rows"]] as const).every(
      ([operand, packing]) => {
        const { texels, count, width, height } = packedShape(params, operand, packing, limit);
        return width <= limit && height <= limit && Math.ceil(texels / THREADS) * count <= grid;
      },
    );
    const workgroups = Math.ceil(sides.lines / (THREADS * LINES)) * batchOf(params).batch;
    return sides.narrow <= NARROW_SIDE && fits && workgroups <= grid;
  },
  encode,
  encodeHooked,
};
