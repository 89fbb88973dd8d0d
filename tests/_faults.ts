/**
 * @file Faults on demand, for the tests of what the library does when WebGPU fails. A
 * real out-of-memory needs more memory than a shared machine should give up, and a real
 * invalid kernel needs a bug, so a device wrapped here reports them when asked: the next
 * buffer the runtime creates inside an out-of-memory scope fails (its scope pops a
 * `GPUOutOfMemoryError`), or the pipelines whose label matches are compiled from WGSL
 * that does not parse. Everything else goes to the real device, so the runtime's error
 * scopes, labels and bookkeeping are the real ones.
 */

/** A device that fails when a test asks it to, and the switches. */
export interface FaultyDevice {
  /** Pass this to `gpu({ device })`. */
  readonly device: GPUDevice;
  /** The next out-of-memory scope that catches nothing reports a simulated out-of-memory. */
  failNextBuffer(): void;
  /** Pipelines whose label (the op they serve) matches are made from invalid WGSL. */
  breakPipelines(label: RegExp): void;
}

/** Wraps `target` so that it fails on demand (the device itself is left as it is). */
export function faultyDevice(target: GPUDevice): FaultyDevice {
  let failBuffer = false;
  let broken: RegExp | null = null;
  const scopes: GPUErrorFilter[] = [];
  const device = new Proxy(target, {
    get(_, prop) {
      if (prop === "pushErrorScope") {
        return (filter: GPUErrorFilter) => {
          scopes.push(filter);
          target.pushErrorScope(filter);
        };
      }
      if (prop === "popErrorScope") {
        return (): Promise<GPUError | null> => {
          const filter = scopes.pop();
          return target.popErrorScope().then((e) => {
            if (!failBuffer || e || filter !== "out-of-memory") return e;
            failBuffer = false;
            return new GPUOutOfMemoryError("simulated: the adapter has no memory left");
          });
        };
      }
      if (prop === "createComputePipeline") {
        return (descriptor: GPUComputePipelineDescriptor) => {
          if (!broken?.test(descriptor.label ?? "")) {
            return target.createComputePipeline(descriptor);
          }
          const module = target.createShaderModule({ code: "this is not WGSL" });
          return target.createComputePipeline({
            ...descriptor,
            compute: { ...descriptor.compute, module },
          });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    device,
    failNextBuffer: () => failBuffer = true,
    breakPipelines: (label) => broken = label,
  };
}
