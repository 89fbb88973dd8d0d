/**
 * @file Matmul variant "texture": A and B are first packed into rgba32float textures,
 * four consecutive values of a row per texel (op(A) along k, op(B) along n), with the
 * transposes applied and the edges padded with zeros by the packing kernel. The
 * product then reads whole texels: on Mesa's llvmpipe a texel fetch is one vectorised
 * load, where storage-buffer loads at computed addresses run one lane at a time, so
 * this is the fastest variant there. Each thread keeps a rows×cols block of C in vec4
 * registers; each output is a sequential sum over k plus exact zeros.
 *
 * The textures are scratch ({@linkcode GpuRuntime.scratchTexture}), reused after the
 * submit; their sides must fit `maxTextureDimension2D`.
 *
 * Launch: packing, one thread per texel, 64 per workgroup; the product, workgroups of
 * 8×8 threads, one per (8·rows)×(8·cols) tile of C.
 */
import { LINEAR_WORKGROUP, packUniforms } from "./_shared.ts";
import {
  declareAccumulators,
  MATMUL_PARAMS_WGSL,
  matmulUniforms,
  type MatmulVariant,
  range,
  storeBlock,
} from "./_matmul_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 8;
const PACK_THREADS = 64;

/** Packs a logical rows×cols matrix, stored row-major or transposed, into texels. */
const packWgsl = (transposed: boolean) => /* wgsl */ `
struct Pack { rows: u32, cols: u32, width: u32, height: u32 }
@group(0) @binding(0) var<uniform> pk: Pack;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(${PACK_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let t = linearWorkgroup(wid, groups) * ${PACK_THREADS}u + lid;
  if (t >= pk.width * pk.height) { return; }
  let x = t % pk.width;
  let r = t / pk.width;
  var v = vec4f(0.0);
  for (var q = 0u; q < 4u; q++) {
    let col = x * 4u + q;
    if (r < pk.rows && col < pk.cols) {
      v[q] = src[${transposed ? "col * pk.rows + r" : "r * pk.cols + col"}];
    }
  }
  textureStore(dst, vec2u(x, r), v);
}
`;

function pack(
  runtime: GpuRuntime,
  src: DeviceArray,
  transposed: boolean,
  [rows, cols]: [number, number],
  [width, height]: [number, number],
): GPUTexture {
  const texture = runtime.scratchTexture("matmul", width, height);
  runtime.dispatch({
    op: "matmul",
    key: `matmul/texturePack/${transposed ? "T" : "N"}`,
    wgsl: () => packWgsl(transposed),
    uniforms: packUniforms([rows, cols, width, height].map((u32) => ({ u32 }))),
    buffers: [src, texture.createView()],
    workgroups: Math.ceil((width * height) / PACK_THREADS),
  });
  return texture;
}

function wgsl(rows: number, cols: number): string {
  const aLoads = range(rows).map((i) => `let a${i} = textureLoad(ta, vec2u(p, row0 + ${i}u), 0);`);
  const bLoads = range(4).flatMap((q) =>
    range(cols / 4).map((j) =>
      `let b${q}_${j} = textureLoad(tb, vec2u(bx + ${j}u, 4u * p + ${q}u), 0);`
    )
  );
  const fmas = range(4).flatMap((q) =>
    range(rows).flatMap((i) =>
      range(cols / 4).map((j) => `acc${i}_${j} += a${i}[${q}] * b${q}_${j};`)
    )
  );
  return /* wgsl */ `
${MATMUL_PARAMS_WGSL}
@group(0) @binding(1) var ta: texture_2d<f32>;
@group(0) @binding(2) var tb: texture_2d<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
${LINEAR_WORKGROUP}
@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let tile = linearWorkgroup(wid, groups);
  if (tile >= params.tiles) { return; }
  let row0 = (tile / params.tilesN) * ${THREADS * rows}u + lid.y * ${rows}u;
  let col0 = (tile % params.tilesN) * ${THREADS * cols}u + lid.x * ${cols}u;
  let bx = col0 / 4u;
  ${declareAccumulators(rows, cols)}
  for (var p = 0u; p < (params.k + 3u) / 4u; p++) {
    ${[...aLoads, ...bLoads, ...fmas].join("\n    ")}
  }
  ${storeBlock(rows, cols)}
}
`;
}

/** The texture-fed variant with a `rows`×`cols` block per thread (cols a multiple of 4). */
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
  return {
    name,
    supports(runtime, params) {
      const limit = runtime.device.limits.maxTextureDimension2D;
      const { a, b } = sides(params);
      return Math.max(...a, ...b) <= limit;
    },
    encode(runtime, [a, b], c, params) {
      const { m, k, n, transposeA, transposeB } = params;
      const side = sides(params);
      const ta = pack(runtime, a, transposeA, [m, k], side.a);
      const tb = pack(runtime, b, transposeB, [k, n], side.b);
      const { uniforms, tiles } = matmulUniforms(params, tileRows, tileCols);
      runtime.dispatch({
        op: "matmul",
        key: `matmul/${name}`,
        wgsl: () => wgsl(rows, cols),
        uniforms,
        buffers: [ta.createView(), tb.createView(), c],
        workgroups: tiles,
      });
    },
  };
}
