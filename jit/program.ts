/**
 * @file A compiled program: the steps of one graph, its memory planned once, its
 * kernels captured once into prepared dispatches (pipelines and bind groups made once),
 * and a replay that encodes them into the runtime's shared pass. Modelled on CubeCL's
 * replay list and tinygrad's TinyJit.
 *
 * Storage: arguments, externals and outputs change from call to call ("slots": an
 * argument's buffer is the tensor's, an output's is taken from the pool); every other
 * stored value — intermediates, constants, the kernels' temporaries — lives in buffers
 * the program owns, intermediates sharing buffers where their lifetimes do not overlap.
 * A bind group that reads slots is cached by the slots' buffers (a few per dispatch:
 * a training loop's buffers alternate among a few), so a steady loop makes none.
 *
 * Runtime values: every dispatch's uniform block lives at its own offset of one uniform
 * buffer; uploads (row indices, constants) in their own buffers. A call whose values
 * differ from the last one's stages the new bytes with one write and copies inside the
 * command stream (`GpuRuntime.stage`), so calls encoded back to back each see their own;
 * a call with the same values stages nothing. Nothing waits for the GPU.
 */
import {
  type DType,
  type HostWords,
  hostWords,
  type StorageArray,
  storageBytes,
} from "../kernels/dtype.ts";
import type { CapturedCommand } from "../kernels/capture.ts";
import { CaptureResources } from "../kernels/capture.ts";
import { type DeviceArray, type GpuRuntime, MAX_UNIFORM_BYTES } from "../kernels/runtime.ts";
import type { FusionPlan } from "./fusion_plan.ts";
import type { Graph, GraphNode } from "./graph.ts";
import { objectIds } from "./object_ids.ts";
import { runAsOneProgram, type Step } from "./lower.ts";

/** A resource of a prepared command: a per-call slot, or fixed storage of the program. */
type Resource =
  | { readonly kind: "slot"; readonly slot: number; readonly byteLength: number }
  | { readonly kind: "fixed"; readonly resource: DeviceArray | GPUTextureView };

type Prepared =
  | {
    readonly kind: "dispatch";
    readonly op: string;
    readonly key: string;
    readonly pipeline: GPUComputePipeline;
    readonly workgroups: number;
    readonly uniformOffset: number;
    readonly uniformSize: number;
    readonly resources: readonly Resource[];
    /** Bind groups by the buffers of their slots ("" when there are none). */
    readonly groups: Map<string, GPUBindGroup>;
  }
  | {
    readonly kind: "copy";
    readonly op: string;
    readonly from: Resource;
    readonly to: Resource;
    readonly offset: number;
  }
  | { readonly kind: "clear"; readonly op: string; readonly array: Resource }
  | {
    readonly kind: "copyToTexture";
    readonly op: string;
    readonly from: Resource;
    readonly texture: GPUTexture;
    readonly bytesPerRow: number;
    readonly size: [number, number];
  }
  | { readonly kind: "upload"; readonly op: string; readonly array: DeviceArray };

/**
 * Bind groups kept per dispatch, as a multiple of the calls one submit gathers. A loop's
 * per-call buffers come from the pool, which takes released buffers back at each submit:
 * between two submits each call gets another buffer, and the same ones come round again
 * after the submit. So a dispatch meets about as many combinations as calls fit in one
 * submit; twice that leaves room for the pool's order. (With room for only half of them,
 * the decay study made a bind group every other step, ~12 µs each in Deno.)
 */
const GROUPS_PER_SUBMIT = 2;

/** A number identifying a buffer, for the bind-group cache's keys. */
const bufferId: (buffer: GPUBuffer) => number = objectIds();

/** The per-call storage of one call: argument, external and output buffers. */
export interface CallStorage {
  /** The recording whose runtime values the call uses. */
  readonly graph: Graph;
  /** Buffers of the argument tensor leaves, by leaf. */
  readonly arguments: readonly DeviceArray[];
  /** Buffers of the recording's external tensors, by node id. */
  readonly externals: ReadonlyMap<number, DeviceArray>;
}

/** A graph compiled for one device: steps, planned memory, prepared dispatches. */
export class Program {
  readonly #runtime: GpuRuntime;
  readonly #steps: readonly Step[];
  readonly #plan: FusionPlan;
  readonly #graph: Graph;
  readonly #resources = new CaptureResources();
  /** Program-owned storage of intermediates and constants, by node. */
  readonly #owned = new Map<number, DeviceArray>();
  /** Distinct buffers behind {@linkcode Program.#owned} (intermediates share). */
  readonly #ownedBuffers: DeviceArray[] = [];
  /** Output position → node written there by a kernel (or copied, when -1 in `#copied`). */
  readonly #outputNodes: readonly number[];
  /** Output positions filled by a copy of a node (an argument, a constant, a repeat). */
  readonly #copies: readonly number[];
  /** Nodes that are outputs written by kernels: node → output position. */
  readonly #outputOf = new Map<number, number>();
  /** The label of the step that writes each node (`jit: matmul+add`), for errors. */
  readonly #labelOf: ReadonlyMap<number, string>;
  readonly #externalIds: readonly number[];
  #prepared: Prepared[] = [];
  #uniforms: GPUBuffer | null = null;
  #uniformStride = 256;
  #aliases = "";
  /** What was staged last: uniform bytes, upload data, constants' values. */
  #stagedUniforms: Uint8Array | null = null;
  readonly #stagedUploads = new Map<number, HostWords>();
  readonly #stagedConstants = new Map<number, StorageArray>();
  /** The last capture, described for comparison with the next. */
  #described: Described[] | null = null;
  #disposed = false;

  /** Results written over donated arguments: result node → argument node. */
  readonly #inPlace: ReadonlyMap<number, number>;
  /** Whether the steps run as one program kernel (`jit/lower.ts`, `runAsOneProgram`). */
  readonly #oneProgram: boolean;

  constructor(
    runtime: GpuRuntime,
    graph: Graph,
    plan: FusionPlan,
    steps: readonly Step[],
    inPlace: ReadonlyMap<number, number> = new Map(),
    oneProgram = false,
  ) {
    this.#runtime = runtime;
    this.#oneProgram = oneProgram;
    this.#inPlace = inPlace;
    this.#graph = graph;
    this.#plan = plan;
    this.#steps = steps;
    this.#labelOf = new Map(steps.map((s) => [s.writes, s.label]));
    const written = new Set(steps.map((s) => s.writes));
    const copies: number[] = [];
    graph.outputs.forEach((id, position) => {
      if (written.has(id) && !this.#outputOf.has(id)) this.#outputOf.set(id, position);
      else copies.push(position);
    });
    this.#outputNodes = graph.outputs;
    this.#copies = copies;
    this.#externalIds = graph.nodes.flatMap((n, id) => (n.kind === "external" ? [id] : []));
    this.#planMemory();
  }

  /** The argument leaves whose buffers results take over (the caller hands them on). */
  get donatedInPlace(): number[] {
    return [...this.#inPlace.values()].map((id) =>
      (this.#graph.nodes[id] as { leaf: number }).leaf
    );
  }

  /** Buffers this program holds: intermediates, constants and kernel temporaries. */
  get buffers(): number {
    return this.#ownedBuffers.length + this.#resources.buffers;
  }

  /**
   * Whether creating some of the program's storage failed (out of GPU memory, reported
   * by then as an error of the call or read that followed): it cannot run again.
   */
  get failed(): boolean {
    const runtime = this.#runtime;
    const lost = (arrays: readonly DeviceArray[]) => arrays.some((a) => runtime.failed(a.buffer));
    return lost(this.#ownedBuffers) || lost(this.#resources.temporaries) ||
      (this.#uniforms !== null && runtime.failed(this.#uniforms));
  }

  /** Intermediates share buffers when their lifetimes do not overlap; constants own theirs. */
  #planMemory(): void {
    const graph = this.#graph;
    const kernelOf = new Map(this.#steps.map((s, k) => [s.writes, k]));
    // Last kernel that reads each stored node.
    const lastRead = new Map<number, number>();
    this.#plan.kernels.forEach((kernel, k) => kernel.reads.forEach((id) => lastRead.set(id, k)));
    // Buffers are shared only by values of one type: a program kernel binds a buffer once,
    // as one element type.
    const free: Array<DeviceArray & { dtype: DType }> = [];
    const release: Array<[number, DeviceArray & { dtype: DType }]> = [];
    this.#steps.forEach((step, k) => {
      for (let i = release.length - 1; i >= 0; i--) {
        if (release[i][0] < k) free.push(...release.splice(i, 1).map(([, a]) => a));
      }
      const id = step.writes;
      if (this.#outputOf.has(id)) return;
      const dtype = graph.nodes[id].dtype;
      const bytes = storageBytes(size(graph.nodes[id]), dtype);
      const fit = free.findIndex((a) => a.buffer.size >= bytes && a.dtype === dtype);
      const array = fit >= 0
        ? { buffer: free.splice(fit, 1)[0].buffer, byteLength: bytes }
        : this.#allocate(step.label, size(graph.nodes[id]), dtype);
      this.#owned.set(id, array);
      release.push([lastRead.get(id) ?? kernelOf.get(id)!, { ...array, dtype }]);
    });
    graph.nodes.forEach((node, id) => {
      if (node.kind === "constant" && this.#plan.live.has(id)) {
        this.#owned.set(id, this.#allocate("jit", node.values.length, node.dtype));
      }
    });
  }

  #allocate(op: string, elements: number, dtype: DType): DeviceArray {
    const array = this.#runtime.allocate(op, elements, dtype);
    this.#ownedBuffers.push(array);
    return array;
  }

  /**
   * Runs the program for one call: stages what changed, encodes every dispatch, and
   * returns the output buffers (owned by the caller). With `recapture`, the kernels are
   * captured again from `call.graph` first (its runtime values differ from the last).
   */
  run(call: CallStorage, recapture: boolean): DeviceArray[] {
    const runtime = this.#runtime;
    const taken = new Set<number>();
    const outputs = this.#outputNodes.map((id, position) => {
      const argument = this.#inPlace.get(id);
      if (argument === undefined || this.#outputOf.get(id) !== position) {
        const node = call.graph.nodes[id];
        return runtime.allocate(this.#labelOf.get(id) ?? "jit", size(node), node.dtype);
      }
      taken.add(position);
      return call.arguments[(call.graph.nodes[argument] as { leaf: number }).leaf];
    });
    try {
      const slots = [
        ...call.arguments,
        ...this.#externalIds.map((id) => call.externals.get(id)!),
        ...outputs,
      ];
      const aliases = slots.map((a) => slots.findIndex((b) => b.buffer === a.buffer)).join(",");
      if (recapture || this.#prepared.length === 0 || aliases !== this.#aliases) {
        const commands = this.#capture(call, outputs);
        const described = describeCommands(commands, slots);
        const same = aliases === this.#aliases && this.#described !== null &&
          sameDescriptions(this.#described, described);
        if (!same) this.#prepare(commands, described);
        this.#described = described;
        this.#aliases = aliases;
        this.#stage(call.graph, commands);
      }
      this.#encode(slots);
      for (const position of this.#copies) {
        const id = this.#outputNodes[position];
        runtime.copy("jit", this.#arrayOf(id, call, outputs), outputs[position]);
      }
      return outputs;
    } catch (error) {
      outputs.forEach((o, position) => taken.has(position) || runtime.release(o));
      throw error;
    }
  }

  /** Storage of a node for this call. */
  #arrayOf(id: number, call: CallStorage, outputs: readonly DeviceArray[]): DeviceArray {
    const node: GraphNode = call.graph.nodes[id];
    if (node.kind === "argument") return call.arguments[node.leaf];
    if (node.kind === "external") return call.externals.get(id)!;
    const position = this.#outputOf.get(id);
    if (position !== undefined) return outputs[position];
    const owned = this.#owned.get(id);
    if (!owned) throw new Error(`jit: node ${id} has no storage`);
    return owned;
  }

  #capture(call: CallStorage, outputs: DeviceArray[]): CapturedCommand[] {
    const env = { graph: call.graph, array: (id: number) => this.#arrayOf(id, call, outputs) };
    return this.#runtime.capture(this.#resources, () => {
      if (this.#oneProgram) runAsOneProgram(this.#runtime, this.#steps, env);
      else for (const step of this.#steps) step.run(this.#runtime, env);
    });
  }

  /** Pipelines, uniform offsets and bind-group caches of the captured commands. */
  #prepare(commands: readonly CapturedCommand[], described: readonly Described[]): void {
    const runtime = this.#runtime;
    const alignment = runtime.device.limits.minUniformBufferOffsetAlignment;
    const dispatches = commands.filter((c) => c.kind === "dispatch").length;
    this.#uniformStride = Math.ceil(MAX_UNIFORM_BYTES / alignment) * alignment;
    const bytes = Math.max(1, dispatches) * this.#uniformStride;
    if (!this.#uniforms || this.#uniforms.size < bytes) {
      if (this.#uniforms) runtime.releaseUniforms(this.#uniforms);
      this.#uniforms = runtime.allocateUniforms("jit", bytes);
    }
    this.#stagedUniforms = null;
    this.#stagedUploads.clear();
    let d = 0;
    this.#prepared = commands.map((c, i): Prepared => {
      const r = described[i].resources;
      switch (c.kind) {
        case "dispatch": {
          const op = underJit(c.dispatch.op);
          return {
            kind: "dispatch",
            op,
            key: c.dispatch.key,
            pipeline: runtime.pipeline({ ...c.dispatch, op }),
            workgroups: c.dispatch.workgroups,
            uniformOffset: this.#uniformStride * d++,
            uniformSize: Math.max(16, c.dispatch.uniforms.byteLength),
            resources: r,
            groups: new Map(),
          };
        }
        case "copy":
          return { kind: "copy", op: underJit(c.op), from: r[0], to: r[1], offset: c.offset };
        case "clear":
          return { kind: "clear", op: underJit(c.op), array: r[0] };
        case "copyToTexture":
          return {
            kind: "copyToTexture",
            op: underJit(c.op),
            from: r[0],
            texture: c.texture,
            bytesPerRow: c.bytesPerRow,
            size: [...c.size],
          };
        case "upload":
          return { kind: "upload", op: c.op, array: c.array };
      }
    });
  }

  /** Stages uniform bytes, uploads and constants that differ from what was staged last. */
  #stage(graph: Graph, commands: readonly CapturedCommand[]): void {
    const writes: { target: GPUBuffer; offset: number; data: Uint8Array<ArrayBuffer> }[] = [];
    const uniforms = new Uint8Array(this.#uniforms!.size);
    let d = 0;
    commands.forEach((c, i) => {
      if (c.kind === "dispatch") {
        uniforms.set(new Uint8Array(c.dispatch.uniforms), this.#uniformStride * d++);
      } else if (c.kind === "upload" && !equalValues(this.#stagedUploads.get(i), c.data)) {
        writes.push({ target: c.array.buffer, offset: 0, data: bytesOf(c.data) });
        this.#stagedUploads.set(i, c.data);
      }
    });
    if (!this.#stagedUniforms || !equalBytes(this.#stagedUniforms, uniforms)) {
      writes.push({ target: this.#uniforms!, offset: 0, data: uniforms });
      this.#stagedUniforms = uniforms;
    }
    graph.nodes.forEach((node, id) => {
      if (node.kind !== "constant" || !this.#owned.has(id)) return;
      if (equalValues(this.#stagedConstants.get(id), node.values)) return;
      const data = bytesOf(hostWords(node.values));
      writes.push({ target: this.#owned.get(id)!.buffer, offset: 0, data });
      this.#stagedConstants.set(id, node.values);
    });
    this.#runtime.stage("jit", writes);
  }

  /** Encodes the prepared commands with this call's slots. */
  #encode(slots: readonly DeviceArray[]): void {
    const runtime = this.#runtime;
    const bound = (r: Resource): DeviceArray | GPUTextureView =>
      r.kind === "fixed" ? r.resource : { buffer: slots[r.slot].buffer, byteLength: r.byteLength };
    for (const p of this.#prepared) {
      switch (p.kind) {
        case "dispatch": {
          const key = p.resources.map((
            r,
          ) => (r.kind === "slot" ? bufferId(slots[r.slot].buffer) : "")).join(",");
          let group = p.groups.get(key);
          if (!group) {
            group = runtime.bindGroup(
              p.op,
              p.pipeline,
              { buffer: this.#uniforms!, offset: p.uniformOffset, size: p.uniformSize },
              p.resources.map(bound),
            );
            if (p.groups.size >= GROUPS_PER_SUBMIT * runtime.dispatchesPerSubmit) {
              p.groups.delete(p.groups.keys().next().value!);
            }
            p.groups.set(key, group);
          }
          runtime.encodePrepared(p.op, p.pipeline, group, p.workgroups);
          break;
        }
        case "copy":
          runtime.copy(p.op, bound(p.from) as DeviceArray, bound(p.to) as DeviceArray, p.offset);
          break;
        case "clear":
          runtime.clear(p.op, bound(p.array) as DeviceArray);
          break;
        case "copyToTexture":
          runtime.copyToTexture(
            p.op,
            bound(p.from) as DeviceArray,
            p.texture,
            p.bytesPerRow,
            p.size,
          );
          break;
        case "upload":
          break;
      }
    }
  }

  /** Frees the program's buffers and textures. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const array of this.#ownedBuffers) this.#runtime.release(array);
    this.#resources.dispose();
    if (this.#uniforms) this.#runtime.releaseUniforms(this.#uniforms);
  }
}

/**
 * An op's name as a program's errors give it: an op's own kernel (`matmul`) becomes
 * `jit: matmul`, like the generated kernels' labels (`jit: sum+sgdStep`).
 */
function underJit(op: string): string {
  return op === "jit" || op.startsWith("jit: ") ? op : `jit: ${op}`;
}

function size(node: GraphNode): number {
  return node.shape.reduce((a, b) => a * b, 1);
}

function bytesOf(values: HostWords): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values.slice().buffer);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function equalValues(a: ArrayBufferView | undefined, b: ArrayBufferView): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  return equalBytes(
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** A captured command without its values: what must match for prepared state to stay valid. */
interface Described {
  readonly kind: CapturedCommand["kind"];
  /** Pipeline key and workgroups of a dispatch, offset of a copy, length of an upload. */
  readonly shape: string;
  readonly resources: readonly Resource[];
}

/** Describes captured commands, resources classified as per-call slots or fixed storage. */
function describeCommands(
  commands: readonly CapturedCommand[],
  slots: readonly DeviceArray[],
): Described[] {
  const slotOf = new Map<GPUBuffer, number>();
  slots.forEach((a, i) => {
    if (!slotOf.has(a.buffer)) slotOf.set(a.buffer, i);
  });
  const classify = (r: DeviceArray | GPUTextureView): Resource => {
    if (r instanceof GPUTextureView) return { kind: "fixed", resource: r };
    const slot = slotOf.get(r.buffer);
    return slot === undefined
      ? { kind: "fixed", resource: r }
      : { kind: "slot", slot, byteLength: r.byteLength };
  };
  return commands.map((c): Described => {
    switch (c.kind) {
      case "dispatch":
        return {
          kind: c.kind,
          shape: `${c.dispatch.key}|${c.dispatch.workgroups}|${c.dispatch.uniforms.byteLength}`,
          resources: c.dispatch.buffers.map(classify),
        };
      case "copy":
        return {
          kind: c.kind,
          shape: `${c.offset}`,
          resources: [classify(c.from), classify(c.to)],
        };
      case "clear":
        return { kind: c.kind, shape: "", resources: [classify(c.array)] };
      case "copyToTexture":
        return {
          kind: c.kind,
          shape: `${c.bytesPerRow}/${c.size}`,
          resources: [classify(c.from), { kind: "fixed", resource: c.texture.createView() }],
        };
      case "upload":
        return { kind: c.kind, shape: `${c.data.length}`, resources: [classify(c.array)] };
    }
  });
}

/**
 * Whether two captures issued the same commands on the same storage, values aside (a
 * texture view is made anew by each capture of the same texture: views match views).
 */
function sameDescriptions(a: readonly Described[], b: readonly Described[]): boolean {
  const same = (x: Resource, y: Resource): boolean => {
    if (x.kind === "slot" || y.kind === "slot") {
      return x.kind === "slot" && y.kind === "slot" && x.slot === y.slot &&
        x.byteLength === y.byteLength;
    }
    const [r, s] = [x.resource, y.resource];
    if (r instanceof GPUTextureView || s instanceof GPUTextureView) {
      return r instanceof GPUTextureView && s instanceof GPUTextureView;
    }
    return r.buffer === s.buffer && r.byteLength === s.byteLength;
  };
  return a.length === b.length &&
    a.every((c, i) =>
      c.kind === b[i].kind && c.shape === b[i].shape &&
      c.resources.length === b[i].resources.length &&
      c.resources.every((r, j) => same(r, b[i].resources[j]))
    );
}
