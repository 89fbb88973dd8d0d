/**
 * @file Measuring which matmul variant is fastest for a shape on the adapter in use.
 *
 * Each candidate runs a scratch product of the shape (each side capped, so that a
 * measurement stays short on a slow adapter: `maxSide`), timed from submit to
 * completion on the queue. In Deno every wait costs ~11 ms whatever the work, which
 * would swamp a product that a fast GPU runs in 1 ms (on an NVIDIA H200 the old
 * autotune, timing one 1024³ product per wait, ranked `registers8x8` at 1,443 GFLOP/s
 * above `texture8x8` at 1,862), so the cost of an empty wait is measured first and
 * subtracted, and each measurement repeats the product until the work takes several
 * times that cost. Each candidate's pipelines are compiled first by a small product of
 * the same alignment, untimed.
 *
 * A measurement is valid only if nothing else was encoded on the runtime while it ran
 * (the caller's work would share the queue and mislead it): the measurer waits for the
 * queue to drain first, and reports `null` (try again later) when other work came in.
 */
import type { MatmulParams, MatmulVariant } from "./_matmul_shared.ts";
import type { DeviceArray, GpuRuntime } from "./runtime.ts";

/** Each timed batch lasts at least this many times an empty wait. */
const WAITS_PER_BATCH = 6;
/** At most this many products per timed batch. */
const MAX_REPS = 64;

/** Raised inside a measurement when other work reached the runtime during it. */
class Interrupted extends Error {}

/** The scratch shape measured for `params`: one matrix, each side at most `maxSide`. */
export function scratchShape(params: MatmulParams, maxSide: number): MatmulParams {
  return {
    m: Math.min(params.m, maxSide),
    k: Math.min(params.k, maxSide),
    n: Math.min(params.n, maxSide),
    transposeA: params.transposeA,
    transposeB: params.transposeB,
  };
}

/**
 * A small shape with the same residues mod 64 as `params` (so the same pipelines:
 * vec4 paths and texture copies depend on them), to compile a variant untimed.
 */
function warmUpShape(params: MatmulParams): MatmulParams {
  const small = (d: number) => d <= 128 ? d : 64 + d % 64;
  return { ...params, m: small(params.m), k: small(params.k), n: small(params.n) };
}

/**
 * The fastest of `candidates` on a scratch product of shape `scratch`, with the
 * milliseconds per product of each; null where the runtime became unusable or other
 * work interleaved (measure again later).
 */
export async function fastestVariant(
  runtime: GpuRuntime,
  scratch: MatmulParams,
  candidates: readonly MatmulVariant[],
): Promise<{ best: MatmulVariant; ms: Map<string, number> } | null> {
  if (candidates.length === 0 || !runtime.healthy) return null;
  // Let the caller's work finish first, so it does not count as the candidates'.
  await runtime.device.queue.onSubmittedWorkDone();
  if (!runtime.healthy) return null;
  const arrays: DeviceArray[] = [];
  try {
    const a = runtime.allocate("matmul", scratch.m * scratch.k);
    arrays.push(a);
    const b = runtime.allocate("matmul", scratch.k * scratch.n);
    arrays.push(b);
    const c = runtime.allocate("matmul", scratch.m * scratch.n);
    arrays.push(c);
    runtime.clear("matmul", a);
    runtime.clear("matmul", b);
    runtime.flush();
    // The work count after our own last step: any other change is someone else's work.
    let mark = runtime.workCount;
    /** Milliseconds from submit to completion of `reps` products (0: just the wait). */
    const batch = async (variant: MatmulVariant | null, reps: number, shape = scratch) => {
      if (!runtime.healthy || runtime.workCount !== mark) throw new Interrupted();
      const start = performance.now();
      for (let i = 0; i < reps; i++) variant?.encode(runtime, [a, b], c, shape);
      runtime.flush();
      mark = runtime.workCount;
      await runtime.device.queue.onSubmittedWorkDone();
      if (runtime.workCount !== mark) throw new Interrupted();
      return performance.now() - start;
    };
    const wait = Math.min(await batch(null, 0), await batch(null, 0));
    const perProduct = async (variant: MatmulVariant) => {
      const once = await batch(variant, 1);
      const reps = Math.min(
        MAX_REPS,
        Math.max(1, Math.ceil((WAITS_PER_BATCH * wait) / Math.max(once - wait, 1e-3))),
      );
      const total = reps === 1 ? once : await batch(variant, reps);
      return Math.max(total - wait, 1e-3) / reps;
    };
    const ms = new Map<string, number>();
    for (const variant of candidates) {
      await batch(variant, 1, warmUpShape(scratch));
      ms.set(variant.name, await perProduct(variant));
    }
    // The two fastest once more: a single slow batch must not decide.
    const ranked = [...candidates].sort((x, y) => ms.get(x.name)! - ms.get(y.name)!);
    for (const variant of ranked.slice(0, 2)) {
      ms.set(variant.name, Math.min(ms.get(variant.name)!, await perProduct(variant)));
    }
    const best = ranked.slice(0, 2).sort((x, y) => ms.get(x.name)! - ms.get(y.name)!)[0];
    return { best, ms };
  } catch (error) {
    if (error instanceof Interrupted || !runtime.healthy) return null;
    throw error;
  } finally {
    for (const array of arrays) runtime.release(array);
  }
}
