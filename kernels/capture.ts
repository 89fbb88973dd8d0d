/**
 * @file Capturing kernels instead of running them, for `jit`'s replay (CubeCL and CUDA
 * graphs work the same way). While {@linkcode GpuRuntime.capture} runs a block, the
 * runtime's encoder (`kernels/encoder.ts`) is a {@linkcode Capture}: it records the
 * commands a kernel function issues — dispatches with their uniform bytes, buffer copies
 * and clears, copies into textures, uploads — rather than encoding them, and hands out
 * temporaries and scratch textures from {@linkcode CaptureResources}: the same ones, in
 * the same order, every time the same kernels are captured. So a compiled program
 * captures its kernels once to build pipelines and bind groups, and again whenever its
 * runtime values change, to learn the new uniform bytes and uploads; the kernel code
 * (hand-written or generated) is never forked for replay.
 */
import type { HostWords } from "./dtype.ts";
import type { KernelEncoder } from "./encoder.ts";
import type { DeviceArray, KernelDispatch } from "./runtime.ts";

/** One command a captured kernel function issued. */
export type CapturedCommand =
  | { readonly kind: "dispatch"; readonly dispatch: KernelDispatch }
  | {
    readonly kind: "copy";
    readonly op: string;
    readonly from: DeviceArray;
    readonly to: DeviceArray;
    /** Element offset in `to`. */
    readonly offset: number;
  }
  | { readonly kind: "clear"; readonly op: string; readonly array: DeviceArray }
  | {
    readonly kind: "copyToTexture";
    readonly op: string;
    readonly from: DeviceArray;
    readonly texture: GPUTexture;
    readonly bytesPerRow: number;
    readonly size: readonly [number, number];
  }
  | {
    readonly kind: "upload";
    readonly op: string;
    readonly array: DeviceArray;
    readonly data: HostWords;
  };

/** How the resources get real storage (the runtime's own allocators). */
export interface CaptureAllocators {
  /** A storage buffer of `bytes` (a multiple of 4). */
  allocate(op: string, bytes: number): DeviceArray;
  /** Returns a buffer from `allocate`. */
  release(array: DeviceArray): void;
  /** A scratch rgba32float texture. */
  texture(width: number, height: number): GPUTexture;
}

/**
 * Temporaries and scratch textures that captured kernels use, owned by a compiled
 * program: the i-th request of a capture gets the i-th resource (made on first need,
 * remade if a later capture needs a larger one), so every capture of the same kernels
 * binds the same storage. Freed by {@linkcode CaptureResources.dispose}.
 */
export class CaptureResources {
  readonly #temporaries: DeviceArray[] = [];
  readonly #textures: GPUTexture[] = [];
  #nextTemporary = 0;
  #nextTexture = 0;
  #allocators: CaptureAllocators | null = null;

  /** Starts a capture: requests count from the first resource again. */
  begin(allocators: CaptureAllocators): void {
    this.#allocators = allocators;
    this.#nextTemporary = 0;
    this.#nextTexture = 0;
  }

  /** The next temporary of at least `bytes`. */
  temporary(op: string, bytes: number): DeviceArray {
    const i = this.#nextTemporary++;
    const existing = this.#temporaries[i];
    if (existing && existing.buffer.size >= bytes) {
      return { buffer: existing.buffer, byteLength: bytes };
    }
    if (existing) this.#allocators!.release(existing);
    const made = this.#allocators!.allocate(op, bytes);
    this.#temporaries[i] = made;
    return made;
  }

  /** Whether `array` is one of these temporaries (releasing it is then a no-op). */
  owns(array: DeviceArray): boolean {
    return this.#temporaries.some((t) => t.buffer === array.buffer);
  }

  /** The next scratch texture of this size. */
  texture(width: number, height: number): GPUTexture {
    const i = this.#nextTexture++;
    const existing = this.#textures[i];
    if (existing && existing.width === width && existing.height === height) return existing;
    existing?.destroy();
    const made = this.#allocators!.texture(width, height);
    this.#textures[i] = made;
    return made;
  }

  /** Buffers held: temporaries. */
  get buffers(): number {
    return this.#temporaries.length;
  }

  /** The temporaries themselves. */
  get temporaries(): readonly DeviceArray[] {
    return this.#temporaries;
  }

  /** Frees every temporary and texture. */
  dispose(): void {
    for (const t of this.#temporaries) this.#allocators?.release(t);
    for (const t of this.#textures) t.destroy();
    this.#temporaries.length = 0;
    this.#textures.length = 0;
  }
}

/**
 * The commands of one capture, recorded as the runtime receives them: the runtime's
 * encoder while {@linkcode GpuRuntime.capture} runs its block.
 */
export class Capture implements KernelEncoder {
  readonly commands: CapturedCommand[] = [];

  /**
   * @param resources Where temporaries and scratch textures come from (begun already).
   * @param outer The encoder the capture replaced, which takes back storage that is not
   * one of the capture's temporaries.
   */
  constructor(readonly resources: CaptureResources, readonly outer: KernelEncoder) {}

  allocate(op: string, bytes: number): DeviceArray {
    return this.resources.temporary(op, bytes);
  }

  release(array: DeviceArray): void {
    if (!this.resources.owns(array)) this.outer.release(array);
  }

  scratchTexture(_op: string, width: number, height: number): GPUTexture {
    return this.resources.texture(width, height);
  }

  dispatch(dispatch: KernelDispatch): void {
    this.commands.push({ kind: "dispatch", dispatch });
  }

  upload(op: string, values: HostWords): DeviceArray {
    const array = this.resources.temporary(op, values.byteLength);
    this.commands.push({ kind: "upload", op, array, data: values.slice() });
    return array;
  }

  copy(op: string, from: DeviceArray, to: DeviceArray, offset: number): void {
    this.commands.push({ kind: "copy", op, from, to, offset });
  }

  clear(op: string, array: DeviceArray): void {
    this.commands.push({ kind: "clear", op, array });
  }

  copyToTexture(
    op: string,
    from: DeviceArray,
    texture: GPUTexture,
    bytesPerRow: number,
    size: [number, number],
  ): void {
    this.commands.push({ kind: "copyToTexture", op, from, texture, bytesPerRow, size });
  }
}
