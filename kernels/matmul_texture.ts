/**
 * @file Matmul variant "texture": op(A) and op(B) are first put into rgba32float
 * textures, four consecutive values of a row per texel (op(A) along k, op(B) along n),
 * then the product reads whole texels. This is the variant for software adapters: on
 * Mesa's llvmpipe a texel load is a handful of vector instructions, where a storage
 * buffer load at a computed address runs one SIMD lane at a time, and a load from a
 * read-only storage texture (WGSL's `readonly_and_readwrite_storage_textures`, used
 * where the platform has it) costs a fraction of a sampled texture's `textureLoad`
 * (2.3 against 11 ns per 8-lane vec4 load, in a loop of 1024 loads per thread; a
 * 16×12 block at 1024³: 37.7 → 48.7 GFLOP/s, same run). Each thread keeps a rows×cols
 * block of C in vec4 registers and updates each accumulator with its four products in
 * a row (33.0 → 37.4 GFLOP/s at 1024³ against all accumulators per k, same run); each
 * output is a sequential sum over k plus exact zeros. Together with the copies below,
 * kernel-only on llvmpipe, one quiet run: 32.7 → 55.2 GFLOP/s at 1024³ (the old
 * 16×12 kernel against this 16×16 one), 36.0 → 56.8 at 2048³ (old 20×12).
 *
 * Getting the operands into textures: where an operand's stored rows are already the
 * texel rows and 64-float aligned (A untransposed with k % 64 = 0, B untransposed with
 * n % 64 = 0 and k % 4 = 0) it is copied by `copyBufferToTexture` (0.6 ms for 4 MiB
 * here, against ~3 ms for the packing kernel); otherwise a packing kernel writes every
 * texel, padding with zeros, reading vec4 blocks where the stored rows allow. A copied
 * texture's padding rows and columns keep old values: they meet only outputs past the
 * edge of C, which are never stored (k is never padded on that path).
 *
 * A batch stacks each operand's matrices in one texture, one below the other (one
 * matrix where the operand is broadcast), copied or packed at once where each matrix
 * fills whole texture rows, else through the plain hooks. On llvmpipe, loaded
 * (`bench:report --only matmulBatched`, kernel-only), [64, 128, 128]·[64, 128, 128] ran
 * at 11.6 GFLOP/s beside 6.2 for one 1024×128×1024 product of the same flops in the same
 * run; packing every matrix through the hooks, an earlier run had 1.5 beside 4.8.
 *
 * The textures are scratch ({@linkcode GpuRuntime.scratchTexture}), reused after the
 * submit; their sides must fit `maxTextureDimension2D`.
 *
 * Launch: packing, one thread per texel (or per 4×4 block of a transposed operand), 64
 * per workgroup; the product, workgroups of 8×8 threads, one per (8·rows)×(8·cols)
 * tile of C.
 */
import { asBlocks, packUniforms, readOnlyStorageTextures, tiledMain } from "./_shared.ts";
import {
  batchOf,
  MATMUL_PARAMS_WGSL,
  type MatmulHooks,
  matmulMain,
  type MatmulParams,
  matmulUniforms,
  type MatmulVariant,
  packHead,
  plainHooks,
  range,
  storeOperand,
  threadBlock,
  USE_EVERY_HOOK,
} from "./_matmul_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 8;
const PACK_THREADS = 64;
/** `copyBufferToTexture` needs rows of a multiple of 256 bytes: 64 floats. */
const COPY_ROW_FLOATS = 64;

/**
 * How a packing kernel reads its source: one float at a time; one vec4 per texel (the
 * stored rows are the texel rows, a multiple of 4 long); or a 4×4 block per thread
 * from four stored rows (a transposed source whose stored rows are a multiple of 4).
 */
type PackMode = "scalar" | "vec4" | "block";

/** Packs a logical rows×cols matrix, stored row-major or transposed, into texels. */
function packWgsl(mode: PackMode, transposed: boolean): string {
  const header = /* wgsl */ `
struct Pack { rows: u32, cols: u32, width: u32, height: u32 }
@group(0) @binding(0) var<uniform> pk: Pack;
@group(0) @binding(1) var<storage, read> src: array<${mode === "scalar" ? "f32" : "vec4f"}>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;
${tiledMain(PACK_THREADS)}
  let t = tile * ${PACK_THREADS}u + li;`;
  if (mode === "block") {
    // Texels (x, 4y … 4y + 3): logical rows 4y…4y+3, columns 4x…4x+3, i.e. stored rows
    // 4x…4x+3 (one per column), elements 4y…4y+3 of each, one vec4 read each.
    return /* wgsl */ `${header}
  let blocksY = pk.height / 4u;
  if (t >= pk.width * blocksY) { return; }
  let x = t / blocksY;
  let y = t % blocksY;
  var v: array<vec4f, 4>;
  for (var q = 0u; q < 4u; q++) {
    let col = x * 4u + q;
    if (col < pk.cols && y * 4u < pk.rows) { v[q] = src[col * (pk.rows / 4u) + y]; }
  }
  for (var i = 0u; i < 4u; i++) {
    textureStore(dst, vec2u(x, y * 4u + i), vec4f(v[0][i], v[1][i], v[2][i], v[3][i]));
  }
}
`;
  }
  const read = mode === "vec4"
    ? /* wgsl */ `if (r < pk.rows && x * 4u < pk.cols) { v = src[r * (pk.cols / 4u) + x]; }`
    : /* wgsl */ `for (var q = 0u; q < 4u; q++) {
    let col = x * 4u + q;
    if (r < pk.rows && col < pk.cols) {
      v[q] = src[${transposed ? "col * pk.rows + r" : "r * pk.cols + col"}];
    }
  }`;
  return /* wgsl */ `${header}
  if (t >= pk.width * pk.height) { return; }
  let x = t % pk.width;
  let r = t / pk.width;
  var v = vec4f(0.0);
  ${read}
  textureStore(dst, vec2u(x, r), v);
}
`;
}

/**
 * A texture of `width`×`height` texels holding the logical `rows`×`cols` matrix stored
 * in `src` (transposed when `transposed`), four values of a row per texel: copied when
 * `copyable` (the stored rows are the texel rows, 64-float aligned), else packed.
 */
function operandTexture(
  runtime: GpuRuntime,
  src: DeviceArray,
  transposed: boolean,
  [rows, cols]: [number, number],
  [width, height]: [number, number],
  copyable: boolean,
): GPUTexture {
  const texture = runtime.scratchTexture("matmul", width, height);
  if (copyable) {
    runtime.copyToTexture("matmul", src, texture, cols * 4, [cols / 4, rows]);
    return texture;
  }
  const storedRow = transposed ? rows : cols;
  const mode: PackMode = storedRow % 4 !== 0 ? "scalar" : transposed ? "block" : "vec4";
  const threads = mode === "block" ? width * height / 4 : width * height;
  runtime.dispatch({
    op: "matmul",
    key: `matmul/texturePack/${mode}/${transposed ? "T" : "N"}`,
    wgsl: () => packWgsl(mode, transposed),
    uniforms: packUniforms([rows, cols, width, height].map((u32) => ({ u32 }))),
    buffers: [mode === "scalar" ? src : asBlocks(src, 16), texture.createView()],
    workgroups: Math.ceil(threads / PACK_THREADS),
  });
  return texture;
}

/**
 * Packs op(A) (`operand` "a": texel (x, y) holds op(A)[y][4x…4x+3], y < m) or op(B)
 * ("b": op(B)[y][4x…4x+3], y < k rounded up to 4, the rows past k zeros) into texels
 * through the hooks. `params.tilesN` and `params.tiles` count its texels: per row, in all,
 * for one matrix; `params.batch` counts the matrices packed, matrix i `height` texel rows
 * below matrix i − 1 (a WGSL expression).
 */
function hookedPackWgsl(
  hooks: string,
  binding: number,
  operand: "a" | "b",
  height: string,
): string {
  const value = (q: number) =>
    operand === "a"
      ? `select(0.0, loadA(y, min(4u * x + ${q}u, params.k - 1u)), 4u * x + ${q}u < params.k)`
      : `select(0.0, loadB(min(y, params.k - 1u), min(4u * x + ${q}u, params.n - 1u)), ` +
        `y < params.k && 4u * x + ${q}u < params.n)`;
  return /* wgsl */ `${packHead(hooks, binding, PACK_THREADS)}
  let x = t % params.tilesN;
  let y = t / params.tilesN;
  textureStore(dst, vec2u(x, batchIndex * (${height}) + y), vec4f(${
    range(4).map(value).join(", ")
  }));
}
`;
}

/** How the product kernel binds its textures and stores C: plainly, or through hooks. */
interface ProductIo {
  /** WGSL of C's binding and `storeC` (and `storeC4` when `vectorStore`), or the hooks. */
  readonly wgsl: string;
  /** The binding of op(A)'s texture; op(B)'s is the next. */
  readonly textures: number;
  readonly vectorStore: boolean;
  /** WGSL at the top of the kernel (the hooks' static use). */
  readonly head: string;
}

/**
 * WGSL: the texel rows of one matrix of op(A)'s texture (m rounded up to the tile's
 * rows) and of op(B)'s (k rounded up to 4); a batch's matrices are stacked at these.
 */
const TEXTURE_HEIGHT = {
  a: (tileRows: number) => `(params.m + ${tileRows - 1}u) / ${tileRows}u * ${tileRows}u`,
  b: "(params.k + 3u) / 4u * 4u",
};

function wgsl(rows: number, cols: number, storage: boolean, io: ProductIo): string {
  const { vectorStore } = io;
  const texture = storage ? "texture_storage_2d<rgba32float, read>" : "texture_2d<f32>";
  const load = (t: string, x: string, y: string) =>
    `textureLoad(${t}, vec2u(${x}, ${y})${storage ? "" : ", 0"})`;
  const aLoads = range(rows).map((i) => `let a${i} = ${load("ta", "p", `aBase + row0 + ${i}u`)};`);
  const bLoads = range(4).flatMap((q) =>
    range(cols / 4).map((j) =>
      `let b${q}_${j} = ${load("tb", `bx + ${j}u`, `bBase + 4u * p + ${q}u`)};`
    )
  );
  // Each accumulator takes its four products in a row (faster on llvmpipe than all
  // accumulators per k); the order of the sum over k is the same.
  const fmas = range(rows).flatMap((i) =>
    range(cols / 4).flatMap((j) => range(4).map((q) => `acc${i}_${j} += a${i}[${q}] * b${q}_${j};`))
  );
  const block = threadBlock(THREADS, rows, cols, vectorStore);
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
${io.wgsl}
@group(0) @binding(${io.textures}) var ta: ${texture};
@group(0) @binding(${io.textures + 1}) var tb: ${texture};
${matmulMain(THREADS, THREADS)}
  ${io.head}
  ${block.head}
  let aBase = select(0u, batchIndex * (${TEXTURE_HEIGHT.a(THREADS * rows)}), params.strideA != 0u);
  let bBase = select(0u, batchIndex * (${TEXTURE_HEIGHT.b}), params.strideB != 0u);
  let bx = col0 / 4u;
  for (var p = 0u; p < (params.k + 3u) / 4u; p++) {
    ${[...aLoads, ...bLoads, ...fmas].join("\n    ")}
  }
  ${block.store}
}
`;
}

/**
 * The texture-fed variant with a `rows`×`cols` block per thread (cols a multiple of 4).
 * With hooks (a fused program), the packing kernels read op(A) and op(B) through
 * loadA/loadB and the product stores through storeC: the same product kernel as the
 * plain path, its operand gathers in the packing and its epilogue in the store.
 */
export function textureVariant(rows: number, cols: number): MatmulVariant {
  const name = `texture${rows}x${cols}`;
  const tileRows = THREADS * rows, tileCols = THREADS * cols;
  const sides = ({ m, k, n }: { m: number; k: number; n: number }) => {
    const texels = Math.ceil(k / 4);
    return {
      a: [texels, Math.ceil(m / tileRows) * tileRows] as [number, number],
      b: [Math.ceil(n / tileCols) * tileCols / 4, texels * 4] as [number, number],
    };
  };
  /** Dispatches the product of the textures `ta` and `tb`, storing through `io`. */
  const product = (
    runtime: GpuRuntime,
    params: MatmulParams,
    [ta, tb]: [GPUTexture, GPUTexture],
    io: ProductIo & { key: string; op: string; buffers: readonly (DeviceArray | GPUTextureView)[] },
  ) => {
    const storage = readOnlyStorageTextures();
    const { uniforms, workgroups } = matmulUniforms(params, tileRows, tileCols);
    const textures = [ta.createView(), tb.createView()];
    runtime.dispatch({
      op: io.op,
      key: `matmul/${name}/${storage ? "storage" : "sampled"}/${io.key}`,
      wgsl: () => wgsl(rows, cols, storage, io),
      uniforms,
      buffers: io.textures === 1 ? [...textures, ...io.buffers] : [...io.buffers, ...textures],
      workgroups,
    });
  };
  /** How many matrices of A and of B the textures hold: one where it is broadcast. */
  const stacked = (params: MatmulParams) => {
    const { batch, strideA, strideB } = batchOf(params);
    return { a: strideA === 0 ? 1 : batch, b: strideB === 0 ? 1 : batch };
  };
  /**
   * A texture of op(A) (`operand` "a") or op(B) read through `hooks`, each matrix of the
   * batch (one where that operand is broadcast) below the one before.
   */
  const packHooked = (
    runtime: GpuRuntime,
    params: MatmulParams,
    hooks: MatmulHooks,
    operand: "a" | "b",
  ): GPUTexture => {
    const side = sides(params);
    const [width, height] = side[operand];
    const count = stacked(params)[operand];
    const { strideA, strideB } = batchOf(params);
    const texture = runtime.scratchTexture("matmul", width, height * count);
    const [texelsPerRow, usedRows] = operand === "a"
      ? [side.a[0], params.m]
      : [Math.ceil(params.n / 4), height];
    const texels = texelsPerRow * usedRows;
    runtime.dispatch({
      op: hooks.op ?? "matmul",
      key: `matmul/texturePack/hooked/${operand}/${hooks.key}`,
      wgsl: () =>
        hookedPackWgsl(
          hooks.wgsl,
          hooks.buffers.length + 1,
          operand,
          operand === "a" ? TEXTURE_HEIGHT.a(tileRows) : TEXTURE_HEIGHT.b,
        ),
      uniforms: packUniforms(
        [params.m, params.k, params.n, texelsPerRow, texels, count, strideA, strideB]
          .map((u32) => ({ u32 })),
      ),
      buffers: [...hooks.buffers, texture.createView()],
      workgroups: Math.ceil(texels / PACK_THREADS) * count,
    });
    return texture;
  };
  return {
    name,
    supports(runtime, params) {
      const limit = runtime.device.limits.maxTextureDimension2D;
      const { a, b } = sides(params);
      const count = stacked(params);
      a[1] *= count.a;
      b[1] *= count.b;
      // A packing kernel's thread per texel (at most) must fit the dispatch grid too.
      const packs = Math.ceil(Math.max(a[0] * a[1], b[0] * b[1]) / PACK_THREADS);
      return Math.max(...a, ...b) <= limit && packs <= runtime.maxWorkgroupsPerDimension ** 3;
    },
    encode(runtime, [a, b], c, params) {
      const { m, k, n, transposeA, transposeB } = params;
      const side = sides(params);
      const count = stacked(params);
      // A batch's matrices, one below the other, are one matrix of the texture's rows
      // where each fills whole rows of its own (A untransposed with m a multiple of the
      // tile's rows, B untransposed with k a multiple of 4): packed or copied at once.
      // Otherwise that operand is packed through the plain hooks, a matrix at a time.
      const stackA = count.a === 1 || (!transposeA && m % tileRows === 0);
      const stackB = count.b === 1 || (!transposeB && k % 4 === 0);
      const hooks = () => plainHooks(params, a, b, c);
      const copyA = !transposeA && k % COPY_ROW_FLOATS === 0;
      const copyB = !transposeB && n % COPY_ROW_FLOATS === 0 && k % 4 === 0;
      const ta = stackA
        ? operandTexture(runtime, a, transposeA, [m * count.a, k], [
          side.a[0],
          side.a[1] * count.a,
        ], copyA)
        : packHooked(runtime, params, hooks(), "a");
      const tb = stackB
        ? operandTexture(runtime, b, transposeB, [k * count.b, n], [
          side.b[0],
          side.b[1] * count.b,
        ], copyB)
        : packHooked(runtime, params, hooks(), "b");
      const vectorStore = n % 4 === 0;
      product(runtime, params, [ta, tb], {
        wgsl: storeOperand(3, vectorStore),
        textures: 1,
        vectorStore,
        head: "",
        key: `${+vectorStore}`,
        op: "matmul",
        buffers: [vectorStore ? asBlocks(c, 16) : c],
      });
    },
    encodeHooked(runtime, params, hooks: MatmulHooks) {
      const ta = packHooked(runtime, params, hooks, "a");
      const tb = packHooked(runtime, params, hooks, "b");
      const binding = hooks.buffers.length + 1;
      const op = hooks.op ?? "matmul";
      product(runtime, params, [ta, tb], {
        wgsl: hooks.wgsl,
        textures: binding,
        vectorStore: false,
        head: USE_EVERY_HOOK,
        key: `hooked/${hooks.key}`,
        op,
        buffers: hooks.buffers,
      });
    },
  };
}
