/**
 * @file What `dev.profile(fn)` returns (`ops/profile.ts`): every kernel the function ran,
 * in order, and the same grouped by name — calls, milliseconds, share of the total —
 * shown as a terminal table or written as Trace Event JSON, the format of Chromium's
 * `chrome://tracing` that Perfetto opens too (complete events, `ph: "X"`, with `ts` and
 * `dur` in microseconds). Modelled on TensorFlow.js's `tf.profile` (kernel names and
 * times) and jax-js's per-kernel timestamps; the report is plain data, made once.
 */
import type { KernelSpan } from "../kernels/kernel_timer.ts";
import { checkArity } from "./_validate.ts";

export type { KernelSpan };

/**
 * Where a profile's times come from:
 * - `"timestamp-query"`: the GPU's own timestamps at the beginning and end of each
 *   dispatch's pass;
 * - `"wall-clock estimate"`: the adapter lacks `timestamp-query`, so the whole profile's
 *   wall-clock (less what one wait for the device costs when idle) is split evenly
 *   among its dispatches — counts and names are exact, times are not;
 * - `"cpu wall-clock"`: the CPU backend, each op's reference timed as it runs.
 */
export type ProfileTiming = "timestamp-query" | "wall-clock estimate" | "cpu wall-clock";

/**
 * One kernel of a {@linkcode ProfileReport}: every dispatch of the same name together.
 *
 * @example
 * ```ts
 * import { gpu, type KernelProfile, relu } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using x = dev.tensor([-1, 2]);
 * const report = await dev.profile(() => relu(x).dispose());
 * const [kernel]: readonly KernelProfile[] = report.kernels;
 * console.log(kernel.name, kernel.calls, kernel.share); // "relu" 1 1
 * dev.destroy();
 * ```
 */
export interface KernelProfile {
  /** The op (`matmul`), or a compiled program's fused ops (`jit: matmul+add`). */
  readonly name: string;
  /** Dispatches of this kernel. */
  readonly calls: number;
  /** Milliseconds of all its dispatches together. */
  readonly ms: number;
  /** Its part of {@linkcode ProfileReport.totalMs}, from 0 to 1. */
  readonly share: number;
}

/**
 * Every kernel a profiled function ran, from {@linkcode GpuBackend.profile} or
 * {@linkcode CpuBackend.profile}.
 *
 * @example
 * ```ts
 * import { add, gpu, relu } from "@deno-gpu/kernels";
 * const dev = await gpu();
 * using x = dev.tensor([-1, 2, 3]);
 * const report = await dev.profile(() => {
 *   using y = add(x, x);
 *   relu(y).dispose();
 * });
 * console.log(report.kernels.map((k) => k.name).sort()); // ["add", "relu"]
 * console.log(report.table()); // one row per kernel, and the total
 * const trace = JSON.parse(report.chromeTrace()); // for Perfetto or chrome://tracing
 * console.log(trace.traceEvents.filter((e: { ph: string }) => e.ph === "X").length); // 2
 * dev.destroy();
 * ```
 */
export interface ProfileReport {
  /** Where the times come from; see {@linkcode ProfileTiming}. */
  readonly timing: ProfileTiming;
  /** Whether the per-kernel times are estimates (no `timestamp-query`). */
  readonly estimated: boolean;
  /** The backend's name: the adapter, or `cpu reference`. */
  readonly device: string;
  /** Every dispatch (on the CPU, every op) in the order it was encoded. */
  readonly dispatches: readonly KernelSpan[];
  /** The dispatches grouped by name, the most time first. */
  readonly kernels: readonly KernelProfile[];
  /** Milliseconds of all dispatches together: the sum of the kernels' `ms`. */
  readonly totalMs: number;
  /** Milliseconds from the start of the profile until its work was done, waits included. */
  readonly wallMs: number;
  /** The kernels as a table for the terminal, with the total and where times come from. */
  table(): string;
  /** Trace Event JSON: one complete event (`ph: "X"`) per dispatch, times in µs. */
  chromeTrace(): string;
}

/** Longest kernel name a table shows in full (a program kernel lists all its ops). */
const TABLE_NAME_WIDTH = 60;

/** A report of `dispatches` (with their times), measured as `timing` says. */
export function profileReport(
  timing: ProfileTiming,
  device: string,
  dispatches: readonly KernelSpan[],
  wallMs: number,
): ProfileReport {
  const totalMs = dispatches.reduce((sum, d) => sum + d.durationMs, 0);
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const d of dispatches) {
    const kernel = byName.get(d.name) ?? { calls: 0, ms: 0 };
    kernel.calls++;
    kernel.ms += d.durationMs;
    byName.set(d.name, kernel);
  }
  const kernels = [...byName].map(([name, { calls, ms }]) => ({
    name,
    calls,
    ms,
    share: totalMs > 0 ? ms / totalMs : 0,
  })).sort((a, b) => b.ms - a.ms || b.calls - a.calls);
  const report: ProfileReport = Object.freeze({
    timing,
    estimated: timing === "wall-clock estimate",
    device,
    dispatches: Object.freeze(dispatches.map((d) => Object.freeze({ ...d }))),
    kernels: Object.freeze(kernels.map((k) => Object.freeze(k))),
    totalMs,
    wallMs,
    table(): string {
      checkArity("table", arguments, 0);
      return formatTable(report);
    },
    chromeTrace(): string {
      checkArity("chromeTrace", arguments, 0);
      return chromeTrace(report);
    },
  });
  return report;
}

/** What each timing's table says about its numbers. */
const TIMING_NOTES: Record<ProfileTiming, { column: string; note: string }> = {
  "timestamp-query": {
    column: "GPU ms",
    note: "GPU time of each dispatch from timestamp-query",
  },
  "wall-clock estimate": {
    column: "~est. ms",
    note: "ESTIMATES: the adapter has no timestamp-query; the profile's wall-clock is split " +
      "evenly among its dispatches (names and calls are exact)",
  },
  "cpu wall-clock": { column: "CPU ms", note: "wall-clock of each op's CPU reference" },
};

function formatTable(report: ProfileReport): string {
  const { column, note } = TIMING_NOTES[report.timing];
  const calls = report.dispatches.length;
  const rows = [
    ...report.kernels.map((k) => [shorten(k.name), `${k.calls}`, fixed(k.ms), percent(k.share)]),
    ["total", `${calls}`, fixed(report.totalMs), percent(calls > 0 ? 1 : 0)],
  ];
  const header = ["kernel", "calls", column, "share"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ").trimEnd();
  return [
    line(header),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...rows.slice(0, -1).map(line),
    widths.map((w) => "─".repeat(w)).join("  "),
    line(rows[rows.length - 1]),
    `${note}; ${report.device}; ${fixed(report.wallMs)} ms wall-clock in all`,
  ].join("\n");
}

function shorten(name: string): string {
  return name.length <= TABLE_NAME_WIDTH ? name : `${name.slice(0, TABLE_NAME_WIDTH - 1)}…`;
}

function fixed(ms: number): string {
  return ms.toFixed(3);
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}

/**
 * Trace Event JSON of a report: a process named after the device, one thread for its
 * queue, and a complete event per dispatch. Estimated dispatches are laid end to end.
 */
function chromeTrace(report: ProfileReport): string {
  let at = 0;
  const events = report.dispatches.map((d, index) => {
    const startMs = Number.isFinite(d.startMs) ? d.startMs : at;
    at = startMs + d.durationMs;
    return {
      name: d.name,
      cat: "kernel",
      ph: "X",
      pid: 1,
      tid: 1,
      ts: startMs * 1000,
      dur: d.durationMs * 1000,
      args: { index, timing: report.timing },
    };
  });
  const queue = report.timing === "cpu wall-clock" ? "ops" : "queue";
  return JSON.stringify({
    traceEvents: [
      { name: "process_name", ph: "M", pid: 1, tid: 1, args: { name: report.device } },
      { name: "thread_name", ph: "M", pid: 1, tid: 1, args: { name: queue } },
      ...events,
    ],
    displayTimeUnit: "ms",
    otherData: { timing: report.timing, totalMs: report.totalMs, wallMs: report.wallMs },
  });
}
