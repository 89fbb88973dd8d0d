/**
 * @file What every Deno test file shares: the backends under test, and (re-exported from
 * `_numerics.ts`) fast-check settings, value generators and error bounds.
 *
 * The WebGPU backend is made once. Without an adapter, GPU tests are registered as
 * ignored (reported as such, never as passed), except under `CI=true`, where a missing
 * adapter fails the run. The adapter and driver stack are printed once, so a log says
 * what it ran on.
 */
import type fc from "fast-check";
import { cpu, gpu, type GpuBackend } from "../mod.ts";
import { CASES_SCALE } from "./_cases_scale.ts";
import { runs as runsOnce } from "./_numerics.ts";
import { NO_SHADER_F16 } from "./_properties.ts";

export * from "./_numerics.ts";

/** fast-check settings for `numRuns` cases (times `PROPERTY_CASES_SCALE`), seed printed on failure. */
export function runs<T = unknown>(numRuns: number): fc.Parameters<T> {
  return runsOnce(numRuns * CASES_SCALE);
}

const inCI = Deno.env.get("CI") === "true";

async function openGpu(options = {}): Promise<GpuBackend | null> {
  try {
    return await gpu(options);
  } catch (error) {
    if (inCI) throw new Error(`CI=true requires a WebGPU adapter: ${error}`);
    console.warn(`no WebGPU adapter; GPU tests are ignored: ${error}`);
    return null;
  }
}

/** The GPU backend under test, or null where there is no adapter (outside CI). */
export const dev: GpuBackend | null = await openGpu();

/**
 * A second GPU backend, on a device of its own, that folds dispatches at 7 workgroups
 * per dimension, so that the multi-dimensional dispatch path runs at small sizes (and
 * the fuzz tests have tensors of another device).
 */
export const folded: GpuBackend | null = dev
  ? await openGpu({ maxWorkgroupsPerDimension: 7 })
  : null;

if (dev) {
  // An error no scope catches (a bind group's creation: it comes back later as "BindGroup
  // … is invalid") is printed with its cause, so a failing run's log says which resource.
  for (const backend of [dev, folded]) {
    backend?.device.addEventListener("uncapturederror", (event: Event) => {
      console.error(
        `uncaptured WebGPU error on ${backend.name}: ${
          (event as GPUUncapturedErrorEvent).error.message
        }`,
      );
    });
  }
  const stack = Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default (Vulkan on Linux)";
  console.log(`WebGPU adapter: ${dev.name}; DENO_WEBGPU_BACKEND=${stack}`);
  // Each test file runs in its own isolate: free its device when the file is done,
  // rather than leaving dozens of devices to the process's exit.
  globalThis.addEventListener("unload", () => {
    folded?.destroy();
    dev.destroy();
  });
}

/** The CPU reference backend. */
export const ref = cpu();

/** Registers a test that needs the GPU; ignored (not passed) when there is none. */
export function gpuTest(name: string, fn: (dev: GpuBackend) => Promise<void> | void): void {
  Deno.test({
    name,
    ignore: dev === null,
    // Pending WebGPU error-scope promises may outlive a test by design.
    sanitizeOps: false,
    fn: () => fn(dev!),
  });
}

/** Whether the GPU under test stores float16 (its adapter has `shader-f16`). */
export const gpuHasFloat16: boolean = dev?.supports("float16") ?? false;

/**
 * Registers a test that needs float16 on the GPU: where the adapter has no shader-f16
 * (the GL stack), ignored — reported as ignored under a name that says why, never as
 * passed — and every other test runs.
 */
export function float16Test(name: string, fn: (dev: GpuBackend) => Promise<void> | void): void {
  const skipped = dev !== null && !gpuHasFloat16;
  Deno.test({
    name: skipped ? `${name} (${NO_SHADER_F16})` : name,
    ignore: !gpuHasFloat16,
    sanitizeOps: false,
    fn: () => fn(dev!),
  });
}

/** `promise`, or a rejection naming `what` after `ms`: a hang fails the test instead. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer!);
  }
}
