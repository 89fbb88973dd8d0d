/**
 * @file How the image demo times an op, on the command line and in the web page alike:
 * one warm-up call (which compiles the kernel on a GPU), then the median of a few
 * batches of calls, each batch ending with one wait for the device. The time of a bare
 * wait, measured beside each batch, is subtracted, so the figure is what one call costs
 * in a loop that does not wait (a wait costs ~11 ms in Deno whatever the work). On the
 * CPU reference the wait is nothing. Plain TypeScript: no Deno, no DOM.
 */

/** The time of one call, and of the wait left out of it. */
export interface OpTiming {
  /** Median over batches of (batch − bare wait) / calls, in milliseconds. */
  readonly perCallMs: number;
  /** Median time of a bare wait for the device, in milliseconds. */
  readonly waitMs: number;
  /** Batches timed. */
  readonly batches: number;
  /** Calls per batch. */
  readonly calls: number;
}

/** How many batches of how many calls. */
export interface TimingPlan {
  /** Batches timed after the warm-up (the median is taken over them). */
  readonly batches: number;
  /** Calls per batch. */
  readonly calls: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Times `call`.
 *
 * @param call One call of the op; it disposes what it made.
 * @param wait Resolves when the device has finished all work so far.
 * @param plan Batches and calls per batch.
 * @returns The median time per call, the wait left out, and the plan.
 */
export async function timeOp(
  call: () => void,
  wait: () => Promise<void>,
  plan: TimingPlan = { batches: 5, calls: 10 },
): Promise<OpTiming> {
  call();
  await wait();
  const perCall: number[] = [], waits: number[] = [];
  for (let b = 0; b < plan.batches; b++) {
    const start = performance.now();
    for (let i = 0; i < plan.calls; i++) call();
    await wait();
    const batch = performance.now() - start;
    const waitStart = performance.now();
    await wait();
    const bare = performance.now() - waitStart;
    waits.push(bare);
    perCall.push(Math.max(0, batch - bare) / plan.calls);
  }
  return { perCallMs: median(perCall), waitMs: median(waits), ...plan };
}

/** Milliseconds with three significant digits: `0.512 ms`, `12.3 ms`. */
export function formatMs(ms: number): string {
  return `${ms < 100 ? ms.toPrecision(3) : ms.toFixed(0)} ms`;
}

/**
 * What was measured, in one sentence.
 *
 * @param timing Any of the timings (they share the plan).
 * @param device `GPU` or `CPU`.
 */
export function describeTiming(timing: OpTiming, device: "GPU" | "CPU"): string {
  const base = `${device} time per call: the median of ${timing.batches} batches of ` +
    `${timing.calls} calls after a warm-up call`;
  return device === "CPU" ? `${base}.` : `${base}; each batch ends with one wait for the ` +
    `GPU, and the time of a bare wait (${formatMs(timing.waitMs)} here) is subtracted.`;
}
