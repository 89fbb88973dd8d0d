/**
 * @file `jit`: compiled execution beside eager execution
 * (docs/architecture.md#compiled-beside-eager and
 * docs/architecture.md#oracle-independent-of-the-compiler). A
 * jitted function is recorded into a graph of the library's own op definitions
 * (`recorder.ts`), fused (`fusion.ts`), lowered to generated kernels (`lower.ts`) and
 * compiled into a program whose memory, pipelines and bind groups are made once
 * (`program.ts`); later calls replay it.
 *
 * Record and match, as Burn's fusion does, rather than trace once: JavaScript has no
 * operator overloading, so `f` computes with its number arguments in plain JS, and a
 * value computed from an earlier call's numbers must never be baked into a program. So
 * a call whose numbers (and random keys, whose words are numbers) differ from the last
 * call's runs `f` again in recording mode — cheap: JavaScript only, no GPU work —,
 * looks its graph up by static key, and replays the matching program with the new
 * runtime values. A call with the same numbers as the last one replays at once without
 * running `f`: then only tensors changed, and tensors are bound per call. A new
 * structure, shape or backend is a new signature; every program compiled stays cached
 * (`traces` counts them).
 */
import { LruCache } from "../kernels/lru_cache.ts";
import type { DeviceArray, GpuRuntime } from "../kernels/runtime.ts";
import { detachArray, GpuBackend, GpuTensor } from "../ops/gpu_backend.ts";
import { recordWith } from "../ops/_trace.ts";
import { checkArity, checkOptions, checkTensor } from "../ops/_validate.ts";
import { scope } from "../ops/scope.ts";
import { type Backend, describe, type Tensor } from "../ops/tensor.ts";
import { flattenArguments, flattenResult, rebuildResult, replaceTensors } from "./arguments.ts";
import { planInPlace } from "./donation.ts";
import { planFusion } from "./fusion.ts";
import type { FusionPlan } from "./fusion_plan.ts";
import { type Graph, liveNodes, staticKey } from "./graph.ts";
import { objectIds } from "./object_ids.ts";
import { fitsOneProgram, lower, PROGRAM_WORK } from "./lower.ts";
import { Program } from "./program.ts";
import { GraphRecorder } from "./recorder.ts";

/**
 * Options of {@linkcode jit}.
 *
 * @example
 * ```ts
 * import { gpu, jit, type JitOptions, sgdStep, type Tensor } from "@deno-gpu/kernels";
 * const options: JitOptions = { donate: [0] }; // w's buffer may hold the result
 * const step = jit((w: Tensor, g: Tensor, lr: number) => sgdStep(w, g, { lr }), options);
 * const dev = await gpu();
 * let w = dev.tensor([1, 2]);
 * using g = dev.tensor([1, 1]);
 * w = step(w, g, 0.5); // the old w is disposed by the call
 * console.log(await w.read()); // Float32Array [0.5, 1.5]
 * w.dispose();
 * step.dispose();
 * dev.destroy();
 * ```
 */
export interface JitOptions {
  /**
   * Positional arguments whose tensors the call may reuse for its results; they are
   * disposed by the call (using one afterwards is a `TypeError`, as for any disposed
   * tensor).
   */
  readonly donate?: readonly number[];
  /**
   * How the program is cut into kernels: `"auto"` (the default) runs a small program —
   * up to 131,072 values computed, reduced or multiplied, its buffers within the
   * device's storage bindings — as one kernel of one workgroup, and a larger one as
   * fused kernels; `"program"` runs any program that fits as one kernel; `"fused"`
   * always runs fused kernels (elementwise chains, broadcasts and gathers inlined into
   * their readers, reductions and matmuls with what feeds and follows them); `"ops"`
   * replays one kernel per op, exactly the eager kernels.
   */
  readonly kernels?: KernelGranularity;
}

/** How {@linkcode jit} cuts a program into kernels (see {@linkcode JitOptions.kernels}). */
export type KernelGranularity = "auto" | "program" | "fused" | "ops";

const GRANULARITIES: readonly KernelGranularity[] = ["auto", "program", "fused", "ops"];

/** A function compiled by {@linkcode jit}. */
export interface Jitted<A extends unknown[], R> {
  /** Calls the compiled function: the same results as `f`. */
  (...args: A): R;
  /**
   * How many programs were compiled and ran so far (one per signature and static
   * structure; one compiled again because its storage failed, or because it was
   * forgotten, counts again).
   */
  readonly traces: number;
  /**
   * How many compiled programs it holds now: at most {@linkcode PROGRAMS_PER_SIGNATURE}
   * for each of the last {@linkcode JIT_SIGNATURES} signatures it was called with, the
   * least recently used forgotten (and its buffers freed) first.
   */
  readonly programs: number;
  /** Frees every compiled program's buffers; later calls compile again. */
  dispose(): void;
}

/**
 * Signatures (backend, nesting and shapes of the arguments) a jitted function keeps
 * programs for. A training step meets a few — its batches, a smaller last batch, an
 * evaluation batch — and 16 keeps those with room to spare; each program holds its
 * intermediates' GPU buffers, so a function called with ever new shapes must forget.
 */
export const JIT_SIGNATURES = 16;

/**
 * Programs one signature keeps, by static structure: a new one comes when `f` takes
 * another branch in JavaScript on a runtime number (a schedule's phase, a flag); 8
 * covers the branches a step takes in turn.
 */
export const PROGRAMS_PER_SIGNATURE = 8;

/** What a signature remembers: its programs by static key, and the last call. */
interface SignatureCache {
  /** The runtime its programs run on (flushed before one is freed). */
  readonly runtime: GpuRuntime;
  readonly programs: LruCache<string, Program>;
  last: {
    readonly numbers: readonly number[];
    readonly graph: Graph;
    readonly key: string;
    readonly program: Program;
    readonly result: unknown;
  } | null;
}

/** A signature's cache on `runtime`, freeing each program it forgets. */
function signatureCache(runtime: GpuRuntime): SignatureCache {
  const cache: SignatureCache = {
    runtime,
    programs: new LruCache(PROGRAMS_PER_SIGNATURE, (program) => free(cache, program)),
    last: null,
  };
  return cache;
}

/** A number identifying a backend, for the signature cache's keys. */
const backendId: (backend: object) => number = objectIds();

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/**
 * Compiles `f`, a function built from the library's ops, into a program that runs its
 * whole computation as a few fused GPU kernels and replays them on every call:
 * elementwise chains and broadcasts fuse into one kernel, a reduction or a matmul with
 * what feeds it and what follows it, a row gather into its reader's indexing; a small
 * program runs as one kernel (see {@linkcode JitOptions.kernels}). On the CPU backend it
 * runs `f` as is (bit-identical to calling `f`).
 *
 * Rules: arguments are tensors, numbers, random keys, and arrays or plain objects of
 * those; results are tensors, or arrays or plain objects of tensors, which the caller
 * owns. Numbers and keys are runtime values — a new learning rate or key replays the
 * compiled program (running `f` again, cheaply, to see what changed) — and `f` may
 * compute with them in JavaScript. A new nesting, shape or backend compiles again.
 * Tensors `f` closes over are read by reference at each call and must stay alive; pass
 * tensors that change as arguments. `f` must be synchronous and pure (no `read()`), and
 * may call `valueAndGrad`, `grad` and `scope`.
 *
 * @param f The function to compile.
 * @param options `donate` and `kernels`, see {@linkcode JitOptions}.
 * @returns The compiled function, with `traces` and `dispose()`.
 * @example
 * ```ts
 * import { gpu, jit, mul, sum, type Tensor } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * const norm2 = jit((x: Tensor) => sum(mul(x, x)));
 * using x = dev.tensor([3, 4]);
 * using n = norm2(x);
 * console.log(await n.read(), norm2.traces); // Float32Array [25] 1
 * norm2.dispose();
 * dev.destroy();
 * ```
 */
export function jit<A extends unknown[], R>(
  f: (...args: A) => R,
  options?: JitOptions,
): Jitted<A, R> {
  checkArity("jit", arguments, 2);
  if (typeof f !== "function") {
    throw new TypeError(`jit: expected a function, got ${describe(f)}`);
  }
  const o = checkOptions("jit", options, false, ["donate", "kernels"]);
  const donate = new Set<number>();
  if (o.donate !== undefined) {
    if (!Array.isArray(o.donate)) {
      throw new TypeError(
        `jit: expected donate to be an array of argument positions, got ${describe(o.donate)}`,
      );
    }
    for (const i of o.donate) {
      if (!Number.isInteger(i) || i < 0) {
        throw new RangeError(
          `jit: expected donate to hold argument positions (integers ≥ 0), got ${describe(i)}`,
        );
      }
      donate.add(i);
    }
  }
  const kernels = (o.kernels === undefined ? "auto" : o.kernels) as KernelGranularity;
  if (!GRANULARITIES.includes(kernels)) {
    throw new TypeError(
      `jit: expected kernels to be one of ${GRANULARITIES.map((g) => `"${g}"`).join(", ")}, got ${
        describe(o.kernels)
      }`,
    );
  }
  const signatures = new LruCache<string, SignatureCache>(JIT_SIGNATURES, (cache) => {
    for (const program of cache.programs.values()) free(cache, program);
  });
  let traces = 0;

  const call = (...args: A): R => {
    const flat = flattenArguments(args);
    flat.tensors.forEach((t, i) => checkTensor("jit", `tensor argument ${i}`, t));
    const backend = commonBackend(flat.tensors);
    if (!(backend instanceof GpuBackend)) {
      // Eagerly, as f; its intermediates are freed as a compiled program's never exist.
      const result = scope(() => f(...args));
      flattenResult(result);
      disposeDonated(flat.tensors, flat.positions, donate, result);
      return result;
    }
    const key = `${backendId(backend)}|${flat.structure}`;
    const cache = signatures.getOrCreate(key, () => signatureCache(backend.runtime));
    const arrays = flat.tensors.map((t) => (t as GpuTensor).array);
    let last = cache.last;
    // A program whose storage failed (out of GPU memory) is freed: this call compiles again.
    if (last?.program.failed) {
      discard(cache, last.key);
      last = null;
    }
    let recapture = false;
    let fresh = false;
    if (!last || !sameNumbers(last.numbers, flat.numbers)) {
      const recorded = record(backend, f, args, flat.tensors);
      const staticPart = staticKey(recorded.graph);
      let program = cache.programs.get(staticPart);
      if (program?.failed) {
        discard(cache, staticPart);
        program = undefined;
      }
      if (!program) {
        const donated = new Set(
          flat.tensors.flatMap((_, i) => (donate.has(flat.positions[i]) ? [i] : [])),
        );
        const aliased = new Set(
          flat.tensors.flatMap((
            t,
            i,
          ) => (flat.tensors.indexOf(t) !== i || flat.tensors.lastIndexOf(t) !== i ? [i] : [])),
        );
        program = compile(backend, recorded.graph, kernels, donated, aliased);
        cache.programs.set(staticPart, program);
        fresh = true;
      }
      last = cache.last = { numbers: flat.numbers, key: staticPart, program, ...recorded };
      recapture = true;
    }
    const externals = new Map<number, DeviceArray>();
    last.graph.nodes.forEach((node, id) => {
      if (node.kind !== "external") return;
      const t = checkTensor("jit", "a tensor f closes over", node.tensor) as GpuTensor;
      if (flat.tensors.some((a, i) => a === t && donate.has(flat.positions[i]))) {
        throw new TypeError(
          "jit: expected f not to close over a tensor it is also given as a donated argument",
        );
      }
      externals.set(id, t.array);
    });
    let outputs: DeviceArray[];
    try {
      outputs = last.program.run({ graph: last.graph, arguments: arrays, externals }, recapture);
    } catch (error) {
      // A program whose first run failed (its kernels could not be made) is freed, not kept.
      if (fresh) discard(cache, last.key);
      throw error;
    }
    if (fresh) traces++;
    // Results written over donated arguments take their buffers over.
    for (const leaf of last.program.donatedInPlace) detachArray(flat.tensors[leaf] as GpuTensor);
    const nodes = last.graph.outputs.map((id) => last!.graph.nodes[id]);
    const result = rebuildResult(
      last.result,
      (i) => new GpuTensor(backend, outputs[i], nodes[i].shape, nodes[i].dtype),
    );
    disposeDonated(flat.tensors, flat.positions, donate, result);
    return result as R;
  };
  Object.defineProperty(call, "traces", { get: () => traces });
  Object.defineProperty(call, "programs", {
    get: () => [...signatures.values()].reduce((n, cache) => n + cache.programs.size, 0),
  });
  Object.defineProperty(call, "dispose", {
    value: function dispose() {
      checkArity("jit.dispose", arguments, 0);
      for (const cache of signatures.values()) {
        for (const program of cache.programs.values()) free(cache, program);
      }
      signatures.clear();
    },
  });
  return call as Jitted<A, R>;
}

/** Frees the compiled program under static key `key` and forgets it. */
function discard(cache: SignatureCache, key: string): void {
  const program = cache.programs.get(key);
  if (!program) return;
  cache.programs.delete(key);
  free(cache, program);
}

/**
 * Frees a program the cache no longer holds. The runtime submits first: commands
 * encoded by earlier calls may still use the program's textures, which are destroyed.
 */
function free(cache: SignatureCache, program: Program): void {
  cache.runtime.flush();
  program.dispose();
  if (cache.last?.program === program) cache.last = null;
}

/** The one backend of the tensor arguments (undefined when there are none). */
function commonBackend(tensors: readonly Tensor[]): Backend | undefined {
  const backend = tensors[0]?.backend;
  for (const t of tensors) {
    if (t.backend !== backend) {
      throw new TypeError(
        `jit: expected every tensor argument on one backend, got ${backend!.kind} (${
          backend!.name
        }) and ${t.backend.kind} (${t.backend.name})`,
      );
    }
  }
  return backend;
}

/** Records one call of `f` on `backend` into a graph, with the result's structure. */
function record<A extends unknown[], R>(
  backend: GpuBackend,
  f: (...args: A) => R,
  args: A,
  tensors: readonly Tensor[],
): { graph: Graph; result: unknown } {
  const recorder = new GraphRecorder(backend);
  const symbols = tensors.map((t, leaf) => recorder.argument(leaf, t.shape, t.dtype));
  const traced = replaceTensors(args, (i) => symbols[i]) as A;
  const result = recordWith(recorder, () => f(...traced)) as unknown;
  if (result instanceof Promise) {
    throw new TypeError(
      "jit: expected f to be synchronous, got a function that returned a promise",
    );
  }
  const { structure, tensors: returned } = flattenResult(result);
  const outputs = returned.map((t) => recorder.nodeOf(t));
  return { graph: { nodes: recorder.nodes, outputs, resultStructure: structure }, result };
}

/**
 * Plans, lowers and compiles a recorded graph; `donated` and `aliased` are the tensor
 * leaves given in donated positions and those given more than once. One program kernel
 * replaces fused kernels (under `"auto"`) only where they would be more than one step; it runs
 * matmuls as its own loops, where fused kernels run the tuned matmul variant with hooks.
 */
function compile(
  backend: GpuBackend,
  graph: Graph,
  kernels: KernelGranularity,
  donated: ReadonlySet<number>,
  aliased: ReadonlySet<number>,
): Program {
  const live = liveNodes(graph);
  const fusion = planFusion(graph, live, {
    fuse: kernels !== "ops",
    maxStorageBuffers: backend.device.limits.maxStorageBuffersPerShaderStage,
  });
  const build = (fusion: FusionPlan, oneProgram: boolean) => {
    const inPlace = kernels === "ops"
      ? new Map<number, number>()
      : planInPlace(graph, fusion, donated, aliased);
    const steps = lower(graph, fusion, inPlace);
    return { fusion, inPlace, steps, oneProgram };
  };
  let chosen = build(fusion, false);
  // A fused step may be several dispatches (a texture-fed matmul packs its operands
  // first), so "program" asks for one kernel even where the fused plan is one step.
  if (kernels === "program" || (kernels === "auto" && chosen.steps.length > 1)) {
    const whole = build(fusion, true);
    const maxWork = kernels === "auto" ? PROGRAM_WORK : Infinity;
    if (fitsOneProgram(graph, whole.steps, backend.device, maxWork)) chosen = whole;
  }
  return new Program(
    backend.runtime,
    graph,
    chosen.fusion,
    chosen.steps,
    chosen.inPlace,
    chosen.oneProgram,
  );
}

/** Disposes the tensors of donated positional arguments (not those returned). */
function disposeDonated(
  tensors: readonly Tensor[],
  positions: readonly number[],
  donate: ReadonlySet<number>,
  result: unknown,
): void {
  if (donate.size === 0) return;
  const returned = new Set(flattenResult(result).tensors);
  tensors.forEach((t, i) => {
    if (donate.has(positions[i]) && !returned.has(t)) t.dispose();
  });
}
