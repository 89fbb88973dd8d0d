/**
 * @file Timing every dispatch on the GPU while a profile runs (`dev.profile`, see
 * `ops/profile.ts`). The live batch (`kernels/encoder.ts`) normally keeps one compute
 * pass open across its dispatches, and `timestampWrites` belong to a pass: so while a
 * {@linkcode KernelTimer} is set, each dispatch gets a pass of its own whose beginning
 * and end write two timestamps, and the timer remembers the dispatch's label (the op, or
 * `jit: …` for a compiled program's kernels). When profiling is off the batch holds no
 * timer: it checks one field per dispatch and makes no query set and no extra pass
 * (docs/architecture.md#profiling-off-costs-nothing).
 *
 * The query set is of bounded size ({@linkcode TIMED_DISPATCHES_PER_RESOLVE} pairs) and
 * reused: when it is full, and before every submit, its used queries are resolved into
 * one resolve buffer and copied from there into a small mappable buffer of their own, in
 * the command stream, so nothing waits while the profiled function runs. The copies are
 * read once, after it ends ({@linkcode KernelTimer.spans}). Without `timestamp-query`
 * (an adapter that does not offer it, or a device adopted without it) the timer only
 * counts and names the dispatches, and a profile's times are estimates.
 */

/** Dispatches timed between two resolves of the query set: 512 queries, 4 KiB resolved. */
export const TIMED_DISPATCHES_PER_RESOLVE = 256;

/** One dispatch as the timer saw it: its label and, with timestamps, when it ran. */
export interface KernelSpan {
  /** The op the dispatch served (`matmul`), or the fused ops of a program (`jit: …`). */
  readonly name: string;
  /** Milliseconds from the first timed dispatch's start; NaN without timestamps. */
  readonly startMs: number;
  /** Milliseconds on the GPU (end − beginning of its pass, ≥ 0); NaN without timestamps. */
  readonly durationMs: number;
}

/**
 * Names every dispatch encoded while it is set on a runtime
 * (`GpuRuntime.setTimer`) and, where the device has `timestamp-query`, times it
 * on the GPU. `dev.profile(fn)` is the usual way to use it; a timer of one's own times a
 * block of work — kernels of one's own included — without the report.
 *
 * @example
 * ```ts
 * import { gpu, relu } from "@deno-gpu/kernels";
 * import { KernelTimer } from "@deno-gpu/kernels/runtime";
 * const dev = await gpu();
 * using x = dev.tensor([-1, 2]);
 * const timer = new KernelTimer(dev.device);
 * dev.runtime.setTimer(timer);
 * relu(x).dispose();
 * dev.runtime.setTimer(null); // submits the work, its timestamps resolved
 * await dev.sync();
 * const [span] = await timer.spans(); // frees the timer's query set and buffers
 * console.log(span.name, span.durationMs >= 0); // "relu" true (false without timestamp-query: NaN)
 * dev.destroy();
 * ```
 */
export class KernelTimer {
  readonly #device: GPUDevice;
  /** Null when the device lacks `timestamp-query`. */
  readonly #queries: GPUQuerySet | null;
  readonly #resolveBuffer: GPUBuffer | null;
  /** Mappable copies of resolved timestamps, each with how many dispatches it holds. */
  readonly #copies: Array<{ buffer: GPUBuffer; dispatches: number }> = [];
  readonly #names: string[] = [];
  /** Dispatches written into the query set since it was last resolved. */
  #pending = 0;

  /** A timer for `device`, with timestamps when it has the `timestamp-query` feature. */
  constructor(device: GPUDevice) {
    this.#device = device;
    const timestamps = device.features.has("timestamp-query");
    this.#queries = timestamps
      ? device.createQuerySet({ type: "timestamp", count: 2 * TIMED_DISPATCHES_PER_RESOLVE })
      : null;
    this.#resolveBuffer = timestamps
      ? device.createBuffer({
        label: "profile timestamps",
        size: 16 * TIMED_DISPATCHES_PER_RESOLVE,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      })
      : null;
  }

  /** Whether the dispatches are timed by the GPU's timestamps. */
  get timestamps(): boolean {
    return this.#queries !== null;
  }

  /** Dispatches seen so far. */
  get dispatches(): number {
    return this.#names.length;
  }

  /**
   * The descriptor of the compute pass for one dispatch of `op`, begun by the caller on
   * `encoder` (no pass may be open on it: a full query set is resolved first).
   */
  pass(op: string, encoder: GPUCommandEncoder): GPUComputePassDescriptor {
    this.#names.push(op);
    if (!this.#queries) return { label: op };
    if (this.#pending === TIMED_DISPATCHES_PER_RESOLVE) this.resolve(encoder);
    const first = 2 * this.#pending++;
    return {
      label: op,
      timestampWrites: {
        querySet: this.#queries,
        beginningOfPassWriteIndex: first,
        endOfPassWriteIndex: first + 1,
      },
    };
  }

  /**
   * Resolves the queries written since the last resolve and copies them aside, at the
   * end of `encoder` (no pass open on it): before a submit, or when the set is full.
   */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.#queries || this.#pending === 0) return;
    const bytes = 16 * this.#pending;
    const copy = this.#device.createBuffer({
      label: "profile timestamps, mappable",
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.resolveQuerySet(this.#queries, 0, 2 * this.#pending, this.#resolveBuffer!, 0);
    encoder.copyBufferToBuffer(this.#resolveBuffer!, 0, copy, 0, bytes);
    this.#copies.push({ buffer: copy, dispatches: this.#pending });
    this.#pending = 0;
  }

  /**
   * Every dispatch seen, in order, with its GPU time where there are timestamps; reads
   * the resolved copies (all work must be submitted: the caller flushes first), then
   * frees what the timer made. A negative difference (timestamps may be unordered on
   * some implementations) counts as 0.
   */
  async spans(): Promise<KernelSpan[]> {
    try {
      if (!this.#queries) {
        return this.#names.map((name) => ({ name, startMs: NaN, durationMs: NaN }));
      }
      const stamps: bigint[] = [];
      for (const { buffer, dispatches } of this.#copies) {
        await buffer.mapAsync(GPUMapMode.READ, 0, 16 * dispatches);
        stamps.push(...new BigUint64Array(buffer.getMappedRange(0, 16 * dispatches)));
        buffer.unmap();
      }
      const origin = stamps.reduce((a, b) => (b < a ? b : a), stamps[0] ?? 0n);
      return this.#names.map((name, i) => {
        const [begin, end] = [stamps[2 * i], stamps[2 * i + 1]];
        return {
          name,
          startMs: Number(begin - origin) / 1e6,
          durationMs: end > begin ? Number(end - begin) / 1e6 : 0,
        };
      });
    } finally {
      this.discard();
    }
  }

  /** Frees the query set and the buffers, without reading them (a profile that failed). */
  discard(): void {
    this.#queries?.destroy();
    this.#resolveBuffer?.destroy();
    for (const { buffer } of this.#copies) buffer.destroy();
    this.#copies.length = 0;
  }
}
