/**
 * @file `dev.profile(fn)`: the report names every kernel an eager sequence and a jitted
 * step ran, with the right call counts (checked against the runtime's own dispatch
 * counter); with `timestamp-query` every dispatch has a positive GPU time and the times
 * sum to the total; a device without the feature gives estimates, marked so; the Trace
 * Event JSON has the fields Perfetto reads; a throwing function, a nested profile and a
 * non-function leave nothing behind; profiling off changes nothing the runtime counts.
 */
import assert from "node:assert/strict";
import {
  add,
  gpu,
  type GpuBackend,
  jit,
  matmul,
  type ProfileReport,
  relu,
  sgdStep,
  sum,
  type Tensor,
} from "../mod.ts";
import { TIMED_DISPATCHES_PER_RESOLVE } from "../kernels/kernel_timer.ts";
import { gpuTest, ref } from "./_harness.ts";

/** Calls of each kernel of a report, by name. */
function callsOf(report: ProfileReport): Record<string, number> {
  return Object.fromEntries(report.kernels.map((k) => [k.name, k.calls]));
}

/**
 * Dispatches one `matmul(a, a)` takes on `dev`, as the adapter's rule picks its variant:
 * the product, after a packing kernel for each operand a texture-fed variant packs (none
 * to two: narrow copies its long operand and packs the narrow one).
 */
function matmulDispatches(dev: GpuBackend, a: Tensor): number {
  const before = dev.stats().dispatches;
  matmul(a, a).dispose();
  return dev.stats().dispatches - before;
}

/** The names an eager sequence's dispatches carry, `k` of them matmul's. */
function sequenceNames(k: number): string[] {
  return [...Array(k).fill("matmul"), "add", "relu", "relu"];
}

/** An eager sequence: matmul, add, relu twice. */
function eagerSequence(a: Tensor): void {
  using c = matmul(a, a);
  using d = add(c, a);
  relu(d).dispose();
  relu(d).dispose();
}

/** Checks what every report must hold, whatever its timing. */
function assertConsistent(report: ProfileReport): void {
  const calls = report.kernels.reduce((n, k) => n + k.calls, 0);
  assert.equal(calls, report.dispatches.length);
  const sumMs = report.kernels.reduce((s, k) => s + k.ms, 0);
  // Two float64 sums of the same ≤ 1,000 non-negative terms in different orders differ
  // by at most 2·1,000·2⁻⁵³ of the total (γ(n) bound for each): 1e-12 relative is ample.
  assert.ok(Math.abs(sumMs - report.totalMs) <= 1e-12 * report.totalMs, "kernels sum to total");
  if (report.totalMs > 0) {
    const shares = report.kernels.reduce((s, k) => s + k.share, 0);
    assert.ok(Math.abs(shares - 1) <= 1e-12, `shares sum to ${shares}`);
  }
  for (let i = 1; i < report.kernels.length; i++) {
    assert.ok(report.kernels[i - 1].ms >= report.kernels[i].ms, "kernels sorted by time");
  }
}

gpuTest("profile: gpu() requests timestamp-query where the adapter offers it", async (dev) => {
  const adapter = await navigator.gpu.requestAdapter();
  assert.equal(
    dev.device.features.has("timestamp-query"),
    adapter!.features.has("timestamp-query"),
  );
});

gpuTest("profile: an eager sequence's ops by name, with their calls", async (dev) => {
  using a = dev.tensor([1, -2, 3, 4], [2, 2]);
  const k = matmulDispatches(dev, a);
  const before = dev.stats().dispatches;
  const report = await dev.profile(() => eagerSequence(a));
  assert.deepEqual(callsOf(report), { matmul: k, add: 1, relu: 2 });
  assert.deepEqual(report.dispatches.map((d) => d.name), sequenceNames(k));
  assert.equal(dev.stats().dispatches - before, k + 3);
  assert.equal(report.device, dev.name);
  assertConsistent(report);
});

gpuTest("profile: a jitted step's kernels, named as its errors name them", async (dev) => {
  using x = dev.tensor(new Float32Array(64).map((_, i) => i / 64 - 0.5), [8, 8]);
  using w = dev.tensor(new Float32Array(64).fill(0.25), [8, 8]);
  // Fused ops (the "fused" granularity keeps one kernel per fusion group).
  const step = jit((w: Tensor, x: Tensor) => {
    const g = relu(matmul(x, w));
    return { w: sgdStep(w, g, { lr: 0.1 }), loss: sum(g) };
  }, { kernels: "fused" });
  const first = step(w, x); // traced and compiled outside the profile
  first.w.dispose();
  first.loss.dispose();
  const before = dev.stats().dispatches;
  const report = await dev.profile(async () => {
    for (let i = 0; i < 3; i++) {
      const { w: next, loss } = step(w, x);
      await loss.read();
      next.dispose();
      loss.dispose();
    }
  });
  const dispatched = dev.stats().dispatches - before;
  assert.equal(report.dispatches.length, dispatched);
  assert.ok(report.kernels.length >= 1);
  for (const kernel of report.kernels) {
    assert.match(kernel.name, /^jit: /);
    assert.equal(kernel.calls % 3, 0, `${kernel.name} ran once per step`);
  }
  assert.ok(report.kernels.some((k) => k.name.includes("matmul")), "the matmul kernel is named");
  assertConsistent(report);
});

gpuTest("profile: with timestamp-query every dispatch's GPU time is positive", async (dev) => {
  const timestamps = dev.device.features.has("timestamp-query");
  using a = dev.tensor(new Float32Array(32 * 32).fill(0.5), [32, 32]);
  // More dispatches than the query set holds, so it is resolved and reused mid-batch.
  const n = TIMED_DISPATCHES_PER_RESOLVE + 44;
  const report = await dev.profile(() => {
    for (let i = 0; i < n; i++) relu(a).dispose();
  });
  assert.equal(report.timing, timestamps ? "timestamp-query" : "wall-clock estimate");
  assert.equal(report.estimated, !timestamps);
  assert.deepEqual(callsOf(report), { relu: n });
  assertConsistent(report);
  if (!timestamps) return;
  let end = 0;
  for (const d of report.dispatches) {
    assert.ok(d.durationMs > 0, `${d.name} took ${d.durationMs} ms`);
    // One queue runs the passes in order: each starts after the previous has ended.
    assert.ok(d.startMs >= end, `a dispatch starts at ${d.startMs} ms, before ${end} ms`);
    end = d.startMs + d.durationMs;
  }
  assert.ok(report.totalMs <= end, "the GPU times fit between the first start and the last end");
  assert.match(report.table(), /GPU ms[\s\S]*timestamp-query/);
});

gpuTest("profile: a device without timestamp-query gives estimates, marked so", async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice(); // no features: as an adopted device may be
  const plain = await gpu({ device, tuning: "off" });
  try {
    using a = plain.tensor([1, -2, 3, 4], [2, 2]);
    const k = matmulDispatches(plain, a);
    const report = await plain.profile(() => eagerSequence(a));
    assert.equal(report.timing, "wall-clock estimate");
    assert.ok(report.estimated);
    assert.deepEqual(callsOf(report), { matmul: k, add: 1, relu: 2 });
    const each = report.dispatches[0].durationMs;
    assert.ok(report.dispatches.every((d) => d.durationMs === each), "an even split");
    assertConsistent(report);
    assert.match(report.table(), /~est\. ms[\s\S]*ESTIMATES: the adapter has no timestamp-query/);
    assert.equal(JSON.parse(report.chromeTrace()).otherData.timing, "wall-clock estimate");
  } finally {
    plain.destroy();
    device.destroy();
  }
});

gpuTest(
  "profile: chromeTrace is Trace Event JSON with a complete event per dispatch",
  async (dev) => {
    using a = dev.tensor([1, -2, 3, 4], [2, 2]);
    const k = matmulDispatches(dev, a);
    const report = await dev.profile(() => eagerSequence(a));
    const trace = JSON.parse(report.chromeTrace());
    assert.ok(Array.isArray(trace.traceEvents));
    assert.equal(trace.displayTimeUnit, "ms");
    const complete = trace.traceEvents.filter((e: { ph: string }) => e.ph === "X");
    assert.deepEqual(complete.map((e: { name: string }) => e.name), sequenceNames(k));
    complete.forEach((e: Record<string, unknown>, i: number) => {
      assert.equal(e.cat, "kernel");
      assert.equal(e.pid, 1);
      assert.equal(e.tid, 1);
      assert.equal(typeof e.ts, "number");
      assert.ok(Number.isFinite(e.ts) && (e.ts as number) >= 0);
      // µs: the report's milliseconds times 1,000.
      assert.equal(e.dur, report.dispatches[i].durationMs * 1000);
      assert.deepEqual(e.args, { index: i, timing: report.timing });
    });
    // The methods need no receiver: passed around alone, they give the same.
    const { table, chromeTrace } = report;
    assert.equal(chromeTrace(), report.chromeTrace());
    assert.equal(table(), report.table());
    const names = trace.traceEvents.filter((e: { ph: string }) => e.ph === "M");
    assert.deepEqual(names.map((e: { args: { name: string } }) => e.args.name), [
      dev.name,
      "queue",
    ]);
  },
);

gpuTest("profile: a throwing function rejects with its error and leaves nothing", async (dev) => {
  using a = dev.tensor([1, 2, 3]);
  const start = dev.memory();
  const boom = new Error("boom");
  for (let i = 0; i < 20; i++) {
    await assert.rejects(
      dev.profile(() => {
        relu(a).dispose();
        throw boom;
      }),
      (error) => error === boom,
    );
    await dev.profile(() => relu(a).dispose());
  }
  await dev.sync();
  const end = dev.memory();
  assert.equal(end.liveTensors, start.liveTensors);
  assert.equal(end.liveBuffers, start.liveBuffers);
  assert.equal(end.liveBytes, start.liveBytes);
  // The pool takes back what relu used; it does not grow with the number of profiles.
  assert.ok(end.pooledBuffers <= start.pooledBuffers + 2, `${end.pooledBuffers} pooled`);
});

gpuTest("profile: a profile inside another is refused; the outer one completes", async (dev) => {
  using a = dev.tensor([1, 2, 3]);
  let inner: unknown;
  const outer = await dev.profile(async () => {
    relu(a).dispose();
    inner = await dev.profile(() => {}).catch((error) => error);
  });
  assert.ok(inner instanceof TypeError);
  assert.match((inner as Error).message, /^profile: expected no profile in progress/);
  assert.deepEqual(callsOf(outer), { relu: 1 });
  // And the backend can be profiled again afterwards.
  assert.deepEqual(callsOf(await dev.profile(() => relu(a).dispose())), { relu: 1 });
});

gpuTest("profile: a non-function is a TypeError naming profile, on both backends", async (dev) => {
  for (const backend of [dev, ref]) {
    for (const value of [undefined, null, 1, "f", {}, [() => {}]]) {
      await assert.rejects(
        (backend.profile as (fn: unknown) => Promise<ProfileReport>)(value),
        (error) =>
          error instanceof TypeError && /^profile: expected a function/.test(error.message),
      );
    }
  }
});

gpuTest("profile: profiling off leaves the runtime's counts as they were", async (dev) => {
  using a = dev.tensor([1, -2, 3, 4], [2, 2]);
  const counts = async (run: (a: Tensor) => Promise<unknown> | void) => {
    await dev.sync();
    const before = dev.stats();
    const wrote = dev.runtime.workCount;
    await run(a);
    await dev.sync();
    const after = dev.stats();
    return {
      dispatches: after.dispatches - before.dispatches,
      submits: after.submits - before.submits,
      work: dev.runtime.workCount - wrote,
    };
  };
  const off = await counts(eagerSequence);
  const on = await counts((a) => dev.profile(() => eagerSequence(a)));
  const offAgain = await counts(eagerSequence);
  assert.deepEqual(offAgain, off, "after a profile, the same work counts the same");
  assert.equal(on.dispatches, off.dispatches, "profiling adds no dispatches");
  assert.equal(on.work, off.work, "profiling takes no storage from the pools");
});

Deno.test("profile: the CPU backend times each op's reference", async () => {
  using a = ref.tensor([1, -2, 3, 4], [2, 2]);
  const report = await ref.profile(() => eagerSequence(a));
  assert.equal(report.timing, "cpu wall-clock");
  assert.equal(report.estimated, false);
  assert.deepEqual(report.dispatches.map((d) => d.name), ["matmul", "add", "relu", "relu"]);
  assert.ok(report.dispatches.every((d) => d.durationMs >= 0 && d.startMs >= 0));
  assertConsistent(report);
  assert.match(report.table(), /CPU ms[\s\S]*total +4/);
  assert.equal(JSON.parse(report.chromeTrace()).traceEvents[1].args.name, "ops");
});
