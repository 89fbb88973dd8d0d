/**
 * @file Running a function under the profiler: `dev.profile(fn)` on either backend
 * checks its argument, refuses a profile inside another on the same backend, runs `fn`
 * (sync or async) with the backend recording what it runs, and returns a
 * {@linkcode ProfileReport}. What a backend records is its own: the GPU backend sets a
 * `KernelTimer` on its runtime (`kernels/kernel_timer.ts`: a timed pass per dispatch),
 * the CPU backend times each op's reference as it runs ({@linkcode cpuOpTimes}). When
 * `fn` throws, the recording is stopped and freed and the error passes through: no
 * report, nothing kept.
 */
import { type KernelSpan, KernelTimer } from "../kernels/kernel_timer.ts";
import type { GpuRuntime } from "../kernels/runtime.ts";
import { type ProfileReport, profileReport, type ProfileTiming } from "./profile_report.ts";
import { describe } from "./tensor.ts";

/** A recording in progress, as a backend starts it. */
interface Recording {
  readonly timing: ProfileTiming;
  /** Stops recording and resolves with what was run, once the work is done. */
  finish(): Promise<KernelSpan[]>;
  /** Stops recording and frees what it holds (`fn` threw). */
  abandon(): void;
}

/** Backends (by identity) with a profile in progress. */
const profiling = new WeakSet<object>();

/**
 * Runs `fn` while `start`'s recording runs, and reports it; the shared part of both
 * backends' `profile`. Rejects with a `TypeError` naming `profile` when `fn` is not a
 * function or a profile of `backend` is already running.
 */
export async function runProfiled(
  backend: { readonly name: string },
  fn: unknown,
  start: () => Promise<Recording>,
): Promise<ProfileReport> {
  if (typeof fn !== "function") {
    throw new TypeError(`profile: expected a function to profile, got ${describe(fn)}`);
  }
  if (profiling.has(backend)) {
    throw new TypeError(
      "profile: expected no profile in progress on this backend, got a call inside another's function",
    );
  }
  profiling.add(backend);
  try {
    const recording = await start();
    const started = performance.now();
    try {
      await fn();
    } catch (error) {
      recording.abandon();
      throw error;
    }
    const spans = await recording.finish();
    return profileReport(recording.timing, backend.name, spans, performance.now() - started);
  } finally {
    profiling.delete(backend);
  }
}

/**
 * The GPU backend's recording: earlier work is finished first, then every dispatch is
 * named and (with `timestamp-query`) timed by a {@linkcode KernelTimer}. Without
 * timestamps, the wall-clock from the start to the end of the work, less one idle wait
 * measured before it, is split evenly among the dispatches and marked as an estimate.
 */
export async function gpuRecording(runtime: GpuRuntime): Promise<Recording> {
  await runtime.sync("profile");
  const timer = new KernelTimer(runtime.device);
  let idleWaitMs = 0;
  if (!timer.timestamps) {
    const before = performance.now();
    await runtime.sync("profile");
    idleWaitMs = performance.now() - before;
  }
  runtime.setTimer(timer);
  const started = performance.now();
  return {
    timing: timer.timestamps ? "timestamp-query" : "wall-clock estimate",
    async finish() {
      runtime.setTimer(null);
      try {
        await runtime.sync("profile");
      } catch (error) {
        timer.discard();
        throw error;
      }
      const wallMs = Math.max(0, performance.now() - started - idleWaitMs);
      const spans = await timer.spans();
      if (timer.timestamps) return spans;
      const each = spans.length > 0 ? wallMs / spans.length : 0;
      return spans.map((s, i) => ({ name: s.name, startMs: i * each, durationMs: each }));
    },
    abandon() {
      runtime.setTimer(null);
      timer.discard();
    },
  };
}

/** The ops timed by the CPU backend while a profile runs on it; null otherwise. */
let cpuSpans: KernelSpan[] | null = null;

/**
 * Where the CPU backend records each op while a profile runs (null when none does: an
 * op then checks only this).
 */
export function cpuOpTimes(): KernelSpan[] | null {
  return cpuSpans;
}

/** The CPU backend's recording: each op's reference timed with `performance.now()`. */
export function cpuRecording(): Promise<Recording> {
  const spans: KernelSpan[] = [];
  const origin = performance.now();
  cpuSpans = spans;
  const stop = () => {
    if (cpuSpans === spans) cpuSpans = null;
  };
  return Promise.resolve({
    timing: "cpu wall-clock",
    finish() {
      stop();
      return Promise.resolve(spans.map((s) => ({ ...s, startMs: s.startMs - origin })));
    },
    abandon: stop,
  });
}
