/**
 * @file WGSL for `corr2d` on software adapters (see `corr2d.ts` for the choice):
 * register-blocked, with no workgroup memory and no barrier (both are slow on Mesa's
 * llvmpipe and on SwiftShader): each thread computes a 2×16 block of outputs. The kernel is walked four
 * taps of a row at a time: the four taps k[i][j…j+3] are read once, and for each of
 * the thread's output rows the 20 inputs x[y+i][x0+j … x0+j+19] (five vec4) give the
 * shifted windows of its four vec4 of outputs by constant swizzles. When the image
 * width is a multiple of 4 those are aligned vec4 loads; otherwise scalar loads. Taps
 * past the kernel's width add exact zeros (selected: 0·x would be NaN for an infinite x), rows and columns past the edge are clamped
 * for loads and skipped for stores, so any sizes work. Each output is a sequential
 * sum of its kh·kw products in row-major tap order (plus exact zeros), so its error is
 * at most γ(kh·kw)·Σ|x·k|.
 *
 * Measured at 1024², 3×3 on llvmpipe (timestamp queries, one run): the
 * workgroup-memory kernel (`corr2d_staged.ts`) took 131–280 ms, blocks of 4×4 17 ms, 4×8 10–15, 8×8 10–16,
 * 4×16 8–9, 2×16 7.5–12 (minimum 4.0). Wider blocks share more loads per output.
 *
 * Launch: workgroups of 8×8 threads, one per 16×128 tile of the output, folded into
 * more dimensions when needed.
 */
import { asBlocks, tiledMain } from "./_shared.ts";
import { CORR2D_PARAMS_WGSL, dispatchCorr2d } from "./_corr2d_shared.ts";
import type { Corr2dParams } from "./corr2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

const THREADS = 8;
/** Output rows per thread. */
const ROWS = [0, 1];
/** Output columns per thread, in vec4 groups. */
const GROUPS = [0, 1, 2, 3];
const TILE_Y = THREADS * ROWS.length;
const TILE_X = THREADS * 4 * GROUPS.length;

/** WGSL: the image binding and `load4(row, col)`, x[row][col … col+3] clamped to the row. */
const imageLoads = (aligned: boolean) =>
  aligned
    ? /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
fn load4(row: u32, col: u32) -> vec4f {
  return x[row * (params.w / 4u) + min(col, params.w - 4u) / 4u];
}`
    : /* wgsl */ `
@group(0) @binding(1) var<storage, read> x: array<f32>;
fn load1(row: u32, col: u32) -> f32 { return x[row * params.w + min(col, params.w - 1u)]; }
fn load4(row: u32, col: u32) -> vec4f {
  return vec4f(load1(row, col), load1(row, col + 1u), load1(row, col + 2u), load1(row, col + 3u));
}`;

const wgsl = (aligned: boolean) => /* wgsl */ `
${CORR2D_PARAMS_WGSL}
${imageLoads(aligned)}
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn tap(i: u32, j: u32) -> f32 { return select(0.0, k[i * params.kw + min(j, params.kw - 1u)], j < params.kw); }
${tiledMain(THREADS, THREADS)}
  if (tile >= params.tiles) { return; }
  let y0 = (tile / params.tilesX) * ${TILE_Y}u + lid.y * ${ROWS.length}u;
  let x0 = (tile % params.tilesX) * ${TILE_X}u + lid.x * ${4 * GROUPS.length}u;
  ${ROWS.flatMap((r) => GROUPS.map((g) => `var acc${r}_${g} = vec4f(0.0);`)).join("\n  ")}
  for (var i = 0u; i < params.kh; i++) {
    ${ROWS.map((r) => `let row${r} = min(y0 + ${r}u + i, params.h - 1u);`).join("\n    ")}
    for (var j = 0u; j < params.kw; j += 4u) {
      let kv = vec4f(tap(i, j), tap(i, j + 1u), tap(i, j + 2u), tap(i, j + 3u));
      // A tap past the kernel's width adds an exact zero, not 0·x (NaN where x is ±Inf).
      let live = vec4u(j) + vec4u(0u, 1u, 2u, 3u) < vec4u(params.kw);
      ${
  ROWS.map((r) =>
    `{
        ${
      [...GROUPS, GROUPS.length].map((g) => `let v${g} = load4(row${r}, x0 + j + ${4 * g}u);`)
        .join("\n        ")
    }
        ${
      GROUPS.map((g) =>
        [
          `acc${r}_${g} += kv.x * v${g};`,
          `acc${r}_${g} += select(vec4f(0.0), kv.y * vec4f(v${g}.yzw, v${g + 1}.x), live.y);`,
          `acc${r}_${g} += select(vec4f(0.0), kv.z * vec4f(v${g}.zw, v${g + 1}.xy), live.z);`,
          `acc${r}_${g} += select(vec4f(0.0), kv.w * vec4f(v${g}.w, v${g + 1}.xyz), live.w);`,
        ].join("\n        ")
      ).join("\n        ")
    }
      }`
  ).join("\n      ")
}
    }
  }
  ${
  ROWS.map((r) =>
    `if (y0 + ${r}u < params.oh) {
    ${
      GROUPS.map((g) =>
        `for (var q = 0u; q < 4u; q++) {
      let x = x0 + ${4 * g}u + q;
      if (x < params.ow) { out[(y0 + ${r}u) * params.ow + x] = acc${r}_${g}[q]; }
    }`
      ).join("\n    ")
    }
  }`
  ).join("\n  ")
}
}
`;

/** Encodes the valid cross-correlation of `x` [h, w] with `k` [kh, kw] into `out`. */
export function encodeCorr2dRegisters(
  runtime: GpuRuntime,
  [x, k]: readonly DeviceArray[],
  out: DeviceArray,
  params: Corr2dParams,
): void {
  const aligned = params.w % 4 === 0;
  const kernel = {
    key: `corr2d/registers${ROWS.length}x${4 * GROUPS.length}/${aligned ? "vec4" : "scalar"}`,
    tileRows: TILE_Y,
    tileCols: TILE_X,
    wgsl: () => wgsl(aligned),
  };
  dispatchCorr2d(runtime, kernel, [aligned ? asBlocks(x, 16) : x, k, out], params);
}
