/**
 * @file What one device lets a kernel ask for: the largest storage binding (in float32
 * elements), the workgroup count per dispatch dimension (a larger count is folded into
 * y and z; kernels unfold it with `LINEAR_WORKGROUP`), and the size and spacing of a
 * dispatch's uniform block. Read once from `GPUDevice.limits` and kept apart from the
 * runtime's state, so that every check a dispatch passes before anything is encoded (or
 * captured) is in one place and costs no call into WebGPU.
 */
import type { KernelDispatch } from "./runtime.ts";

/**
 * Largest uniform block a kernel may use: 64 words, one alignment step of the arena on
 * every adapter (`minUniformBufferOffsetAlignment` is at most 256).
 */
export const MAX_UNIFORM_BYTES = 256;

/** A dispatch grid: workgroups along x, y and z. */
export type Grid = [number, number, number];

/** The limits of one device that kernels and the runtime's checks use. */
export class DeviceLimits {
  /** Largest workgroup count placed in one dispatch dimension. */
  readonly maxWorkgroupsPerDimension: number;
  /** Largest float32 element count one storage binding can hold. */
  readonly maxElements: number;
  /** Bytes between two dispatches' uniform blocks in one buffer (aligned offsets). */
  readonly uniformStride: number;

  /**
   * @param device The device whose limits are read.
   * @param maxWorkgroupsPerDimension A lower per-dimension limit than the device's
   * (tests use one to reach the folded grid at small sizes).
   */
  constructor(device: GPUDevice, maxWorkgroupsPerDimension = Infinity) {
    const limits = device.limits;
    this.maxWorkgroupsPerDimension = Math.min(
      maxWorkgroupsPerDimension,
      limits.maxComputeWorkgroupsPerDimension,
    );
    this.maxElements = Math.floor(
      Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4,
    );
    const alignment = limits.minUniformBufferOffsetAlignment;
    this.uniformStride = Math.ceil(MAX_UNIFORM_BYTES / alignment) * alignment;
  }

  /**
   * The dispatch grid for `workgroups` groups: x up to the per-dimension limit, then y,
   * then z. More than the cube of the limit is a `RangeError`.
   */
  grid(workgroups: number): Grid {
    const limit = this.maxWorkgroupsPerDimension;
    if (workgroups > limit ** 3) {
      throw new RangeError(`gpu: expected at most ${limit ** 3} workgroups, got ${workgroups}`);
    }
    const x = Math.max(1, Math.min(workgroups, limit));
    const rows = Math.ceil(workgroups / x);
    const y = Math.min(rows, limit);
    return [x, y, Math.ceil(rows / y)];
  }

  /**
   * The grid of a dispatch, after checking what it asks for: a uniform block of at most
   * {@linkcode MAX_UNIFORM_BYTES} and a workgroup count the grid can hold. Either failure
   * is a `RangeError` naming the dispatch's op.
   */
  dispatchGrid(dispatch: KernelDispatch): Grid {
    if (dispatch.uniforms.byteLength > MAX_UNIFORM_BYTES) {
      throw new RangeError(
        `${dispatch.op}: expected a uniform block of at most ${MAX_UNIFORM_BYTES} bytes, got ${dispatch.uniforms.byteLength}`,
      );
    }
    return this.grid(dispatch.workgroups);
  }
}
