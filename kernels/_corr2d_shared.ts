/**
 * @file What the two `corr2d` kernels share (`corr2d_staged.ts`, `corr2d_registers.ts`):
 * the uniform block of sizes and tiles they both read, and their dispatch over tiles of
 * the output. Each kernel file writes only its own WGSL and its tile's size.
 */
import { packUniforms } from "./_shared.ts";
import type { Corr2dParams } from "./corr2d.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** WGSL: the uniform block both kernels read (`tilesX` and `tiles` count the output's tiles). */
export const CORR2D_PARAMS_WGSL = /* wgsl */ `
struct Params { h: u32, w: u32, kh: u32, kw: u32, oh: u32, ow: u32, tilesX: u32, tiles: u32 }
@group(0) @binding(0) var<uniform> params: Params;`;

/** One `corr2d` kernel, as {@linkcode dispatchCorr2d} dispatches it. */
export interface Corr2dKernel {
  /** The pipeline key. */
  readonly key: string;
  /** Rows of the output one workgroup computes. */
  readonly tileRows: number;
  /** Columns of the output one workgroup computes. */
  readonly tileCols: number;
  /** The kernel's WGSL, which opens with {@linkcode CORR2D_PARAMS_WGSL}. */
  wgsl(): string;
}

/**
 * Dispatches `kernel` for the valid cross-correlation of an [h, w] image with a [kh, kw]
 * kernel (`params`), a workgroup a tile of the [h − kh + 1, w − kw + 1] output, with
 * `buffers` (image, kernel, output) at bindings 1–3.
 */
export function dispatchCorr2d(
  runtime: GpuRuntime,
  kernel: Corr2dKernel,
  buffers: readonly DeviceArray[],
  { h, w, kh, kw }: Corr2dParams,
): void {
  const oh = h - kh + 1, ow = w - kw + 1;
  const tilesX = Math.ceil(ow / kernel.tileCols);
  const tiles = tilesX * Math.ceil(oh / kernel.tileRows);
  runtime.dispatch({
    op: "corr2d",
    key: kernel.key,
    wgsl: kernel.wgsl,
    uniforms: packUniforms([h, w, kh, kw, oh, ow, tilesX, tiles].map((u32) => ({ u32 }))),
    buffers,
    workgroups: tiles,
  });
}
