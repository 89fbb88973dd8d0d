/**
 * @file `corr2d`'s kernel, chosen per adapter
 * (docs/architecture.md#kernels-chosen-per-adapter). On a GPU, the
 * image tile with its halo is staged in workgroup memory (`corr2d_staged.ts`); on a
 * software adapter (Mesa's llvmpipe, SwiftShader), where workgroup memory and barriers
 * are slow, each thread keeps a 2×16 block of outputs in registers
 * (`corr2d_registers.ts`): 4 ms against 131–280 ms for 1024², 3×3 on llvmpipe. Both
 * sum each output's kh·kw products in row-major tap order, so both have the error
 * bound γ(kh·kw)·Σ|x·k|, and both are tested against the reference.
 */
import { encodeCorr2dRegisters } from "./corr2d_registers.ts";
import { encodeCorr2dStaged } from "./corr2d_staged.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Image and kernel sizes of one correlation. */
export interface Corr2dParams {
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
}

/** The two kernels of `corr2d`. */
export const CORR2D_VARIANTS = {
  staged: encodeCorr2dStaged,
  registers: encodeCorr2dRegisters,
} as const;

/** A `corr2d` kernel's name. */
export type Corr2dVariant = keyof typeof CORR2D_VARIANTS;

const pinned = new WeakMap<GpuRuntime, Corr2dVariant>();

/** Makes every `corr2d` on `runtime` use `variant` (tests run both this way). */
export function pinCorr2dVariant(runtime: GpuRuntime, variant: Corr2dVariant): void {
  pinned.set(runtime, variant);
}

/** Whether the device is a software rasteriser rather than a GPU. */
function isSoftwareAdapter(device: GPUDevice): boolean {
  const info = device.adapterInfo;
  return Boolean(info?.isFallbackAdapter) ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${info?.description} ${info?.architecture}`);
}

/** The kernel `corr2d` uses on `runtime`: pinned, or chosen by the kind of adapter. */
function corr2dVariantFor(runtime: GpuRuntime): Corr2dVariant {
  return pinned.get(runtime) ?? (isSoftwareAdapter(runtime.device) ? "registers" : "staged");
}

/** Encodes the valid cross-correlation of `x` [h, w] with `k` [kh, kw] into `out`. */
export function encodeCorr2d(
  runtime: GpuRuntime,
  inputs: readonly DeviceArray[],
  out: DeviceArray,
  params: Corr2dParams,
): void {
  CORR2D_VARIANTS[corr2dVariantFor(runtime)](runtime, inputs, out, params);
}
