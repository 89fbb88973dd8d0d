/**
 * @file Whether the device can still take work, and the errors that say why not.
 *
 * WebGPU reports errors asynchronously: error scopes surround each pipeline's creation
 * (a WGSL error names its op), each new buffer (out of memory names its op), each bind
 * group a compiled program keeps, and each batch's submit (an invalid command names its
 * op through the label of its bind group). What a scope catches is kept and thrown by
 * the next call or read. A lost device makes every later call throw at once and every
 * pending read reject, rather than hang. Kept apart from the runtime because every other
 * room (pipelines, buffers, the live batch) reports through it and none of them needs to
 * know how a failure surfaces.
 */
import { checkArity } from "./_checks.ts";

/**
 * An error raised by WebGPU for an op's dispatch, or by a lost device.
 *
 * @example
 * ```ts
 * import { GpuError } from "@deno-gpu/kernels";
 * const error = new GpuError("matmul", "out of GPU memory");
 * console.log(error.name, error.message); // "GpuError" "matmul: out of GPU memory"
 * ```
 */
export class GpuError extends Error {
  /** Creates an error whose message names the op. */
  constructor(op: string, message: string) {
    checkArity("GpuError", arguments, 2);
    super(`${op}: ${message}`);
    this.name = "GpuError";
  }
}

/** How long a failed wait waits to learn whether the device was lost. */
const LOST_GRACE_MS = 1000;

/** Error scopes, the first error they caught, device loss and destruction of one device. */
export class DeviceHealth {
  readonly #device: GPUDevice;
  #pendingScopes: Promise<void>[] = [];
  #error: GpuError | null = null;
  #lost: string | null = null;
  readonly #lostSignal: Promise<string>;
  #destroyed = false;

  /** Watches `device` for loss from now on. */
  constructor(device: GPUDevice) {
    this.#device = device;
    this.#lostSignal = device.lost.then((info) => {
      this.#lost = info.message || info.reason || "unknown reason";
      return this.#lost;
    });
  }

  /** Throws if the device is lost, the runtime destroyed, or an earlier dispatch failed. */
  assertUsable(op: string): void {
    if (this.#lost !== null) {
      throw new GpuError(
        op,
        `the WebGPU device was lost (${this.#lost}); create a new backend with gpu()`,
      );
    }
    if (this.#destroyed) {
      throw new GpuError(op, "this GPU backend was destroyed; create a new one with gpu()");
    }
    const error = this.#error;
    if (error) {
      this.#error = null;
      throw error;
    }
  }

  /** False once the device is lost, the runtime destroyed, or an unthrown error is kept. */
  get healthy(): boolean {
    return this.#lost === null && !this.#destroyed && this.#error === null;
  }

  /** Whether buffers may still be kept for reuse: the device is neither lost nor destroyed. */
  get alive(): boolean {
    return this.#lost === null && !this.#destroyed;
  }

  /** Whether the device is lost (work submitted now is dropped). */
  get lost(): boolean {
    return this.#lost !== null;
  }

  /** Whether {@linkcode DeviceHealth.destroy} was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Marks the runtime destroyed: every later call throws. */
  destroy(): void {
    this.#destroyed = true;
  }

  /**
   * Runs `block` inside error scopes of `filters`; an error they catch is kept (the first
   * one), naming `op`, and `onError` runs.
   */
  scoped<T>(
    op: string,
    filters: GPUErrorFilter[],
    block: () => T,
    onError: () => void = () => {},
  ): T {
    filters.forEach((filter) => this.#device.pushErrorScope(filter));
    try {
      return block();
    } finally {
      const popped = filters.map(() => this.#device.popErrorScope());
      this.#pendingScopes.push(
        Promise.all(popped).then((errors) => {
          const index = errors.findIndex((e) => e !== null);
          if (index < 0) return;
          onError();
          if (this.#error) return;
          const kind = filters[filters.length - 1 - index] === "out-of-memory"
            ? "out of GPU memory"
            : "WebGPU validation error";
          this.#error = new GpuError(op, `${kind}: ${errors[index]!.message}`);
        }, () => {}),
      );
    }
  }

  /**
   * Settles when every scope opened so far has reported (taken now, so that scopes
   * opened while the caller waits belong to the next wait).
   */
  scopesSoFar(): Promise<void> {
    const scopes = this.#pendingScopes;
    this.#pendingScopes = [];
    return Promise.all(scopes).then(() => {});
  }

  /**
   * Waits for `work` (a buffer's mapping); if the device is lost first, or `work` fails
   * because it was, rejects with a `GpuError` naming `op` and the loss.
   */
  async survive(op: string, work: Promise<unknown>): Promise<void> {
    const lostError = () =>
      new GpuError(op, `the WebGPU device was lost (${this.#lost}) before the read finished`);
    const lost = this.#lostSignal.then(() => {
      throw lostError();
    });
    try {
      await Promise.race([work, lost]);
    } catch (error) {
      // A device destroyed underneath fails the map before its lost promise settles.
      if (this.#lost === null) await this.#lostWithin(LOST_GRACE_MS);
      if (this.#lost !== null) throw lostError();
      throw error;
    }
  }

  /** Waits for the queue's submitted work, or for the device's loss, whichever is first. */
  async idle(): Promise<void> {
    await Promise.race([this.#device.queue.onSubmittedWorkDone(), this.#lostSignal]);
  }

  /** Waits up to `ms` for the device's lost promise to settle. */
  async #lostWithin(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#lostSignal.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
