/**
 * The decay demo end to end (short settings, both backends), its option errors, and
 * the study's qualitative result on its full settings.
 */
import assert from "node:assert/strict";
import { type Io, main } from "../demos/decay.ts";
import { makeStudyData, runStudy, STUDY_DEFAULTS } from "../demos/decay_study.ts";
import { gpuTest, ref } from "./_harness.ts";
import { type Backend, GpuBackend } from "../mod.ts";

function capture(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [], errors: string[] = [];
  return {
    lines,
    errors,
    interactive: false,
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    progress: () => {},
  };
}

interface DecayJson {
  adapter: string;
  runs: Array<{
    name: string;
    variant: string;
    lambda: number;
    lr: number;
    epochs: number[];
    train: number[];
    test: number[];
    wNorm: number;
    seconds: number;
  }>;
}

async function runDemo(backend: "gpu" | "cpu"): Promise<DecayJson> {
  const out = await Deno.makeTempDir();
  try {
    const io = capture();
    const code = await main(["--epochs", "10", "--backend", backend, "--out", out], io);
    assert.equal(code, 0, io.errors.join("\n"));
    assert.ok(
      io.lines.some((l) => /^scratch λ=15: epoch 10\/10 {2}train \S+ {2}test \S+$/.test(l)),
      "progress line",
    );
    assert.ok(io.lines.some((l) => /^concise wd=-2 +\S+ +\S+ +\S+ +\S+$/.test(l)), "table row");
    const json = JSON.parse(await Deno.readTextFile(`${out}/decay.json`)) as DecayJson;
    const png = await Deno.readFile(`${out}/decay.png`);
    assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
    const svg = await Deno.readTextFile(`${out}/decay.svg`);
    assert.match(svg, /^<svg [^>]*width="920"/);
    assert.equal((svg.match(/<polyline/g) ?? []).length > 8, true);
    assert.match(svg, /concise, weight decay = -2/);
    return json;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function checkShape(json: DecayJson) {
  assert.equal(typeof json.adapter, "string");
  assert.deepEqual(json.runs.map((r) => [r.name, r.variant, r.lambda]), [
    ["scratch λ=0", "scratch", 0],
    ["scratch λ=15", "scratch", 15],
    ["concise wd=0", "concise", 0],
    ["concise wd=-2", "concise", -2],
  ]);
  for (const r of json.runs) {
    assert.deepEqual(r.epochs, [5, 10]);
    assert.equal(r.lr, 0.005);
    assert.equal(r.train.length, 2);
    assert.equal(r.test.length, 2);
    assert.ok(
      [...r.train, ...r.test, r.wNorm, r.seconds].every((v) => Number.isFinite(v) && v >= 0),
    );
  }
}

gpuTest(
  "demo:decay: short run on the GPU writes the JSON, SVG and PNG; agrees with the CPU run",
  async () => {
    const gpuJson = await runDemo("gpu");
    checkShape(gpuJson);
    const cpuJson = await runDemo("cpu");
    checkShape(cpuJson);
    assert.equal(cpuJson.adapter, "cpu reference");
    // Same data, same steps; float32 rounding differs in order only.
    gpuJson.runs.forEach((r, i) => {
      const c = cpuJson.runs[i];
      [...r.train, ...r.test, r.wNorm].forEach((v, j) => {
        const w = [...c.train, ...c.test, c.wNorm][j];
        assert.ok(Math.abs(v - w) <= 1e-3 * Math.abs(w) + 1e-6, `${r.name}: ${v} vs ${w}`);
      });
    });
  },
);

Deno.test("demo:decay: bad options exit 2 naming the option and what it accepts", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--epochs", "0"], /--epochs: expected an integer in \[1, \d+\], got "0"/],
    [["--epochs", "2.5"], /--epochs: expected an integer/],
    [["--lr", "-1"], /--lr: expected a finite number > 0, got "-1"/],
    [["--lr", "abc"], /--lr: expected a finite number > 0, got "abc"/],
    [["--seed", "-3"], /--seed: expected an integer in \[0, 4294967295\]/],
    [
      ["--runs", "scratch:abc"],
      /--runs: expected comma-separated variant:λ pairs .* got "scratch:abc"/,
    ],
    [["--runs", "other:1"], /--runs: .* got "other:1"/],
    [["--backend", "tpu"], /--backend: expected gpu or cpu, got "tpu"/],
    [["--colour"], /unknown option --colour; the options are --epochs, --lr/],
    [["--epochs"], /--epochs: expected a value/],
  ];
  for (const [args, message] of cases) {
    const io = capture();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.errors.join("\n"), message);
  }
  const io = capture();
  assert.equal(await main(["--help"], io), 0);
  assert.match(io.lines.join("\n"), /Usage: deno task demo:decay/);
});

/** ‖(I − Xᵀ(XXᵀ)⁻¹X)v‖: the part of v that the rows of X cannot reach, in float64. */
function nullSpaceNorm(X: Float32Array, n: number, d: number, v: readonly number[]): number {
  const gram = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += X[i * d + k] * X[j * d + k];
      return s;
    }));
  const rhs = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += X[i * d + k] * v[k];
    return s;
  });
  // Solve gram·a = rhs by Gaussian elimination with partial pivoting.
  for (let c = 0; c < n; c++) {
    const p = gram.slice(c).reduce(
      (best, row, i) => Math.abs(row[c]) > Math.abs(gram[best][c]) ? c + i : best,
      c,
    );
    [gram[c], gram[p]] = [gram[p], gram[c]];
    [rhs[c], rhs[p]] = [rhs[p], rhs[c]];
    for (let r = c + 1; r < n; r++) {
      const f = gram[r][c] / gram[c][c];
      for (let k = c; k < n; k++) gram[r][k] -= f * gram[c][k];
      rhs[r] -= f * rhs[c];
    }
  }
  const a = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = rhs[r];
    for (let k = r + 1; k < n; k++) s -= gram[r][k] * a[k];
    a[r] = s / gram[r][r];
  }
  let norm2 = 0;
  for (let k = 0; k < d; k++) {
    let projected = 0;
    for (let i = 0; i < n; i++) projected += X[i * d + k] * a[i];
    norm2 += (v[k] - projected) ** 2;
  }
  return Math.sqrt(norm2);
}

async function checkStudy(backend: Backend) {
  const settings = STUDY_DEFAULTS;
  const data = makeStudyData(backend, settings);
  const X = await data.train.X.read();
  const runs = [];
  // Live buffers at every evaluation: constant from epoch 5 to 150 if every step frees
  // its intermediates.
  const live = () => backend instanceof GpuBackend ? backend.memory().liveBuffers : ref.liveTensors;
  const before = live();
  for (
    const spec of [
      { variant: "scratch", lambda: 0 },
      { variant: "scratch", lambda: 15 },
      { variant: "concise", lambda: -2 },
    ] as const
  ) {
    const counts: number[] = [];
    runs.push(await runStudy(data, spec, settings, () => counts.push(live())));
    assert.equal(counts.length, 30);
    assert.ok(
      counts.every((c) => c === counts[0]),
      `live buffers during ${spec.variant}: ${counts}`,
    );
    assert.equal(live(), before, "a run left tensors behind");
  }
  data.dispose();
  const [none, fifteen, anti] = runs;
  // Without decay: the train loss falls by orders of magnitude, the test loss stays high,
  // ‖w‖ stays near the norm of the 180 directions the 20 points cannot reach (≈ √180).
  assert.ok(
    none.train.at(-1)! < none.train[0] * 1e-6,
    `train ${none.train[0]} → ${none.train.at(-1)}`,
  );
  assert.ok(none.test.at(-1)! > 10, `test ${none.test.at(-1)}`);
  assert.ok(Math.abs(none.wNorm - Math.sqrt(180)) < 0.1 * Math.sqrt(180), `‖w‖ ${none.wNorm}`);
  const untouched = nullSpaceNorm(X, settings.nTrain, settings.numInputs, none.wInitial);
  assert.ok(
    Math.abs(nullSpaceNorm(X, settings.nTrain, settings.numInputs, none.w) - untouched) <
      1e-3 * untouched,
  );
  // λ = 15: test loss at least 1000× lower than without decay; ‖w‖ below 0.1.
  assert.ok(
    fifteen.test.at(-1)! * 1000 <= none.test.at(-1)!,
    `test ${fifteen.test.at(-1)} vs ${none.test.at(-1)}`,
  );
  assert.ok(fifteen.wNorm < 0.1, `‖w‖ ${fifteen.wNorm}`);
  // wd = −2: in those 180 directions w grows by (1 + 2·lr) every step.
  const steps = settings.epochs * Math.ceil(settings.nTrain / settings.batchSize);
  const growth = nullSpaceNorm(X, settings.nTrain, settings.numInputs, anti.w) /
    nullSpaceNorm(X, settings.nTrain, settings.numInputs, anti.wInitial);
  const expected = (1 + 2 * settings.lr) ** steps;
  assert.ok(Math.abs(growth / expected - 1) < 1e-3, `growth ${growth}, expected ${expected}`);
}

gpuTest("the study on its full settings shows the contrast of weight decay (GPU)", async (gpu) => {
  await checkStudy(gpu);
});

Deno.test("the study on its full settings shows the contrast of weight decay (CPU reference)", () =>
  checkStudy(ref));
