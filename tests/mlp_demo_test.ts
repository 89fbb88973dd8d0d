/**
 * The MLP demo: its default settings reach more than 95% test accuracy with dropout on
 * the GPU, its outputs (table, mlp.json, mlp.svg, mlp.png) have the promised shape, its
 * options fail as the other demos' do, and the GPU and the reference agree — one step
 * within the forward error bound of the network, three epochs within a stated bound. The
 * weights it saves (model.safetensors), evaluated by `--load`, give the counts it reported.
 * With `--dtype float16` the model takes half the bytes and learns as float32 does.
 */
import assert from "node:assert/strict";
import { main } from "../demos/mlp.ts";
import {
  initParams,
  makeOptimizer,
  makeTrainStep,
  MLP_DEFAULTS,
  type MlpParams,
  PARAM_NAMES,
  paramShapes,
  readDigits,
  runStudy,
  splitDigits,
  startRun,
  STUDY_RUNS,
} from "../demos/mlp_study.ts";
import { reductionRoundings } from "../kernels/reduce_kernel.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  type Backend,
  dropout,
  foldIn,
  loadSafetensors,
  randomKey,
  saveSafetensors,
} from "../mod.ts";
import {
  expUlps,
  float16Test,
  gamma,
  gpuTest,
  MIN_NORMAL,
  readFloat32,
  ref,
  U,
  ulp,
} from "./_harness.ts";
import { captureIo } from "./_demo_io.ts";

interface MlpJson {
  adapter: string;
  backend: string;
  runs: Array<{
    name: string;
    dropout: [number, number];
    epochs: number[];
    trainLoss: number[];
    trainAccuracy: number[];
    testAccuracy: number[];
    seconds: number;
  }>;
}

async function runDemo(args: string[]): Promise<{ json: MlpJson; lines: string[] }> {
  const out = await Deno.makeTempDir();
  try {
    const io = captureIo();
    const code = await main([...args, "--out", out], io);
    assert.equal(code, 0, io.errors.join("\n"));
    const json = JSON.parse(await Deno.readTextFile(`${out}/mlp.json`)) as MlpJson;
    const png = await Deno.readFile(`${out}/mlp.png`);
    assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
    const svg = await Deno.readTextFile(`${out}/mlp.svg`);
    assert.match(svg, /^<svg /);
    assert.match(svg, /training loss/);
    assert.match(svg, /test error = 1 − test accuracy/);
    assert.equal((svg.match(/<polyline/g) ?? []).length >= 4, true);
    return { json, lines: io.lines };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

function checkJson(json: MlpJson, epochs: number, backend: string) {
  assert.equal(typeof json.adapter, "string");
  assert.equal(json.backend, backend);
  assert.deepEqual(json.runs.map((r) => [r.name, r.dropout]), [
    ["dropout", [0.2, 0.5]],
    ["no dropout", [0, 0]],
  ]);
  for (const r of json.runs) {
    assert.deepEqual(r.epochs, Array.from({ length: epochs }, (_, i) => i + 1));
    for (const series of [r.trainLoss, r.trainAccuracy, r.testAccuracy]) {
      assert.equal(series.length, epochs);
      assert.ok(series.every((v) => Number.isFinite(v) && v >= 0));
    }
    assert.ok([...r.trainAccuracy, ...r.testAccuracy].every((a) => a <= 1));
    // Accuracies are counts of 1,437 and 360 images.
    r.trainAccuracy.forEach((a) => assert.ok(Math.abs(a * 1437 - Math.round(a * 1437)) < 1e-6));
    r.testAccuracy.forEach((a) => assert.ok(Math.abs(a * 360 - Math.round(a * 360)) < 1e-6));
    assert.ok(r.seconds > 0);
  }
}

gpuTest(
  "demo:mlp on its defaults: more than 95% test accuracy with dropout, on the GPU",
  async () => {
    const { json, lines } = await runDemo([]);
    checkJson(json, MLP_DEFAULTS.epochs, "webgpu");
    const [withDropout, without] = json.runs;
    assert.ok(
      withDropout.testAccuracy.at(-1)! > 0.95,
      `test accuracy with dropout ${withDropout.testAccuracy.at(-1)}`,
    );
    // Both learn: the loss falls by more than 10× from the first epoch, both fit the
    // training images, and the run without dropout fits them at least as tightly.
    for (const r of json.runs) {
      assert.ok(r.trainLoss.at(-1)! < r.trainLoss[0] / 10, `${r.name}: ${r.trainLoss}`);
      assert.ok(r.trainAccuracy.at(-1)! > 0.97, `${r.name}: ${r.trainAccuracy.at(-1)}`);
    }
    assert.ok(without.trainLoss.at(-1)! < withDropout.trainLoss.at(-1)!);
    assert.ok(
      lines.some((l) => /^dropout: epoch 30\/30 {2}loss \S+ {2}train \S+% {2}test \S+%$/.test(l)),
    );
    assert.ok(
      lines.some((l) => /^no dropout +0, 0 +\S+ +\S+% +\S+% +\S+% +\S+$/.test(l)),
      "table row",
    );
  },
);

gpuTest(
  "demo:mlp: three epochs on the GPU and on the reference agree within the stated bound",
  async (dev) => {
    // Same seed, so the same split, batches and dropout masks (Philox, bit-identical); the
    // initial weights (Box–Muller) and every op differ by rounding only. Over these 66
    // steps the network is on its initial plateau (loss ≈ ln 10, gradients ≈ 10⁻²), where
    // a step moves the weights by lr·g ≈ 5·10⁻³ and their float32 roundings differ by a
    // few ulps: the losses stay within 10⁻⁴ relative (measured 10⁻⁷) and the counts of
    // right answers within 2 images of 1,437 and of 360 (measured: identical).
    const settings = { ...MLP_DEFAULTS, epochs: 3 };
    const digits = await readDigits();
    const results = [];
    for (const backend of [dev, ref] as Backend[]) {
      const data = splitDigits(digits, backend, settings);
      for (const spec of STUDY_RUNS) results.push(await runStudy(data, spec, settings));
      data.dispose();
    }
    for (let k = 0; k < 2; k++) {
      const [gpu, cpu] = [results[k], results[k + 2]];
      for (let e = 0; e < 3; e++) {
        const what = `${gpu.name}, epoch ${e + 1}`;
        assert.ok(
          Math.abs(gpu.trainLoss[e] - cpu.trainLoss[e]) <= 1e-4 * cpu.trainLoss[e],
          `${what}: loss ${gpu.trainLoss[e]} vs ${cpu.trainLoss[e]}`,
        );
        assert.ok(Math.abs(gpu.trainAccuracy[e] - cpu.trainAccuracy[e]) * 1437 <= 2 + 1e-9, what);
        assert.ok(Math.abs(gpu.testAccuracy[e] - cpu.testAccuracy[e]) * 360 <= 2 + 1e-9, what);
      }
    }
  },
);

/**
 * A bound on |computed − exact| of the first step's loss on `backend` (the GPU's; its exp
 * holds the reference's too): the three layers' matmuls
 * (γ(k)·|A||B| each, the previous layer's error carried through |W|: ReLU and the
 * dropout mask do not enlarge it, the dropout scale multiplies it), the bias additions
 * and the dropout scaling (one rounding each), then the cross-entropy of those logits:
 * moved by at most twice the largest logit error per row, plus its own rounding (as
 * tests/softmax_test.ts bounds logSoftmax), plus the batch mean's tree.
 */
function lossBound(
  backend: Backend,
  params: Record<string, Float32Array>,
  X: Float32Array,
  labels: Float32Array,
  masks: [Float32Array, Float32Array],
  scales: [number, number],
): { loss: number; bound: number } {
  const n = labels.length;
  const layer = (
    input: Float64Array,
    inputError: Float64Array,
    w: Float32Array,
    b: Float32Array,
    k: number,
  ) => {
    const out = b.length;
    const a = new Float64Array(n * out), e = new Float64Array(n * out);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < out; j++) {
        let s = 0, abs = 0, carried = 0;
        for (let p = 0; p < k; p++) {
          const x = input[i * k + p], wv = w[j * k + p];
          s += x * wv;
          abs += Math.abs(x * wv);
          carried += inputError[i * k + p] * Math.abs(wv);
        }
        a[i * out + j] = s + b[j];
        const matmul = carried + gamma(k) * abs;
        e[i * out + j] = matmul + U * (Math.abs(s + b[j]) + matmul) + MIN_NORMAL;
      }
    }
    return { a, e };
  };
  const activate = (
    { a, e }: { a: Float64Array; e: Float64Array },
    mask: Float32Array,
    scale: number,
  ) => ({
    h: a.map((v, i) => (mask[i] ? Math.max(v, 0) * scale : 0)),
    e: e.map((v, i) => (mask[i] ? scale * v + U * scale * (Math.abs(a[i]) + v) : 0)),
  });
  const x64 = Float64Array.from(X);
  const l1 = activate(
    layer(x64, new Float64Array(x64.length), params.w1, params.b1, 64),
    masks[0],
    scales[0],
  );
  const l2 = activate(layer(l1.h, l1.e, params.w2, params.b2, 256), masks[1], scales[1]);
  const { a: z, e: ez } = layer(l2.h, l2.e, params.w3, params.b3, 256);
  let loss = 0, bound = 0, picked = 0;
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * 10, i * 10 + 10), m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m)), S = e.reduce((a, b) => a + b, 0);
    const alpha = row.map((v, j) =>
      Math.exp(v - m + U * Math.abs(v - m)) - e[j] + expUlps(v - m, backend) * ulp(e[j]) +
      MIN_NORMAL
    );
    const A = alpha.reduce((a, b) => a + b, 0);
    const sigma = A + gamma(reductionRoundings(10, n)) * (S + A), lambda = sigma / (S - sigma);
    const L = Math.log(S);
    const logError = lambda + (S >= 0.5 && S <= 2 ? 2 ** -21 : 3 * ulp(Math.abs(L) + lambda));
    const y = labels[i], ls = row[y] - m - L;
    loss -= ls / n;
    picked += Math.abs(ls) / n;
    const own = U * Math.abs(row[y] - m) + logError + U * (Math.abs(ls) + logError);
    bound += (2 * Math.max(...ez.subarray(i * 10, i * 10 + 10)) + own) / n;
  }
  return { loss, bound: bound + gamma(treeSumRoundings(n) + 2) * picked + n * MIN_NORMAL };
}

gpuTest(
  "demo:mlp: one training step's loss on the GPU and the reference within the network's forward bound",
  async (dev) => {
    const settings = MLP_DEFAULTS;
    const digits = await readDigits();
    // The reference's initial weights, copied to the GPU: both steps start from the same.
    const start = initParams(ref, { ...settings, initStd: 0.2 });
    const values = Object.fromEntries(
      await Promise.all(PARAM_NAMES.map(async (n) => [n, await readFloat32(start[n])] as const)),
    );
    const rows = Array.from({ length: settings.batchSize }, (_, i) => (37 * i + 5) % digits.count);
    const X = Float32Array.from(
      rows.flatMap((r) => [...digits.images.subarray(r * 64, (r + 1) * 64)]),
    );
    const labels = Float32Array.from(rows.map((r) => digits.labels[r]));
    const key = randomKey(11);
    const losses: number[] = [];
    for (const backend of [dev, ref] as Backend[]) {
      const params = Object.fromEntries(
        PARAM_NAMES.map((n) => [n, backend.tensor(values[n], start[n].shape)]),
      ) as MlpParams;
      const optimizer = makeOptimizer(settings);
      const step = makeTrainStep(settings, optimizer, [0.2, 0.5]);
      using x = backend.tensor(X, [rows.length, 64]);
      using y = backend.tensor(labels);
      const out = step(params, optimizer.init(params), x, y, key);
      losses.push((await out.loss.read())[0]);
      [...Object.values(params), ...Object.values(out.params), out.loss].forEach((t) =>
        t.dispose()
      );
    }
    // The dropout masks the step drew: element i of layer l's mask depends only on
    // (foldIn(key, l), i), so dropping from ones shows it.
    const masks = await Promise.all(([0, 1] as const).map(async (layer) => {
      using ones = ref.ones([rows.length, settings.hidden[layer]]);
      using kept = dropout(ones, [0.2, 0.5][layer], foldIn(key, layer));
      return (await kept.read()).map((v) => (v !== 0 ? 1 : 0));
    })) as [Float32Array, Float32Array];
    const { loss, bound } = lossBound(
      dev,
      values,
      X,
      labels,
      masks,
      [Math.fround(1 / 0.8), Math.fround(1 / 0.5)],
    );
    for (const [k, got] of losses.entries()) {
      assert.ok(
        Math.abs(got - loss) <= bound,
        `${["GPU", "reference"][k]} loss ${got}, float64 ${loss}, bound ${bound}`,
      );
    }
    // Worst-case (γ(k) per dot product): about 0.5% of the loss here, while a wrong dropout
    // scale or bias moves it by more than 10%.
    assert.ok(bound < 0.01 * loss, `the bound ${bound} is meaningful`);
    Object.values(start).forEach((t) => t.dispose());
  },
);

gpuTest(
  "demo:mlp saves the dropout run's weights, and --load evaluates them to the same counts",
  async () => {
    // Four epochs at lr 1 leave the initial plateau (about 40% right, where chance is 10%),
    // so the counts depend on every layer's weights.
    const out = await Deno.makeTempDir();
    try {
      const io = captureIo();
      assert.equal(await main(["--epochs", "4", "--lr", "1", "--out", out], io), 0);
      const json = JSON.parse(await Deno.readTextFile(`${out}/mlp.json`)) as MlpJson;
      const run = json.runs[0];
      assert.equal(run.name, "dropout");
      const model = `${out}/model.safetensors`;
      assert.ok(io.lines.includes(`wrote ${model}`), io.lines.join("\n"));
      const saved = loadSafetensors(ref, await Deno.readFile(model));
      const shapes = paramShapes(MLP_DEFAULTS);
      assert.deepEqual(Object.keys(saved).sort(), Object.keys(shapes).sort());
      for (const [name, t] of Object.entries(saved)) {
        assert.deepEqual(t.shape, shapes[name as keyof typeof shapes], name);
        t.dispose();
      }
      const loadIo = captureIo();
      assert.equal(await main(["--load", model], loadIo), 0, loadIo.errors.join("\n"));
      const [train, test] = [...loadIo.lines.at(-1)!.matchAll(/\((\d+) of (\d+)\)/g)].map((m) =>
        Number(m[1])
      );
      assert.equal(train, Math.round(run.trainAccuracy.at(-1)! * 1437), loadIo.lines.at(-1));
      assert.equal(test, Math.round(run.testAccuracy.at(-1)! * 360), loadIo.lines.at(-1));
      assert.ok(test > 0.3 * 360, `off the plateau: ${test} of 360`);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
);

gpuTest("demo:mlp --profile writes one jitted step's trace and prints its kernels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const io = captureIo();
    const file = `${dir}/step.json`;
    assert.equal(await main(["--profile", file], io), 0, io.errors.join("\n"));
    const trace = JSON.parse(await Deno.readTextFile(file));
    const kernels = trace.traceEvents.filter((e: { ph: string }) => e.ph === "X");
    assert.ok(kernels.length > 0);
    // Every kernel of a jitted step is one of the compiled program's, named as such.
    for (const e of kernels) assert.match(e.name, /^jit: /);
    assert.ok(kernels.some((e: { name: string }) => e.name.includes("matmul")));
    const total = io.lines.find((line) => line.startsWith("total"));
    assert.equal(Number(total?.split(/\s+/)[1]), kernels.length, io.lines.join("\n"));
    assert.ok(
      io.lines.includes(
        `wrote ${file} (Trace Event JSON: open it in Perfetto or chrome://tracing)`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo:mlp --load: a file it cannot use exits with status 1 and says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using w = ref.tensor([1, 2, 3]);
    await Deno.writeFile(`${dir}/other.safetensors`, await saveSafetensors({ w }));
    await Deno.writeFile(`${dir}/broken.safetensors`, new Uint8Array(12));
    const live = ref.liveTensors;
    for (
      const [file, message] of [
        ["missing.safetensors", /^demo:mlp: --load: cannot read ".*missing\.safetensors": /],
        [
          "broken.safetensors",
          /^demo:mlp: --load ".*": loadSafetensors: expected the header to be JSON, /,
        ],
        [
          "other.safetensors",
          /: expected the tensors w1 \[256, 64\], b1 \[256\], .*, got w \[3\]$/,
        ],
      ] as const
    ) {
      const io = captureIo();
      assert.equal(await main(["--load", `${dir}/${file}`, "--backend", "cpu"], io), 1, file);
      assert.match(io.errors.join("\n"), message);
      assert.equal(ref.liveTensors, live, `${file}: the loaded tensors are freed`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo:mlp: bad options exit with status 2 and name the option", async () => {
  for (
    const [args, message] of [
      [["--epochs", "0"], /^demo:mlp: --epochs: expected an integer in \[1, \d+\], got "0"/],
      [["--lr", "-1"], /^demo:mlp: --lr: expected a finite number > 0, got "-1"/],
      [["--batch-size", "2000"], /^demo:mlp: --batch-size: expected an integer in \[1, 1437\]/],
      [["--backend", "tpu"], /^demo:mlp: --backend: expected gpu or cpu, got "tpu"/],
      [
        ["--load", "model.safetensors", "--epochs", "3"],
        /^demo:mlp: --epochs: expected no value with --load, which trains nothing, got "3"/,
      ],
      [
        ["--load", "model.safetensors", "--allow-divergence"],
        /^demo:mlp: --allow-divergence: expected no --load, which trains nothing, got both/,
      ],
      [
        ["--profile", "step.json", "--epochs", "3"],
        /^demo:mlp: --epochs: expected no value with --profile, which runs a few steps, got "3"/,
      ],
      [
        ["--profile", "step.json", "--load", "model.safetensors"],
        /^demo:mlp: --profile: expected no --load beside it \(one of the two\), got both/,
      ],
      [["--dtype", "int32"], /^demo:mlp: --dtype: expected float32 or float16, got "int32"/],
      [
        ["--load", "model.safetensors", "--dtype", "float16"],
        /^demo:mlp: --dtype: expected no value with --load, which trains nothing, got "float16"/,
      ],
      [
        ["--dropout", "0.5"],
        /^demo:mlp: --dropout: expected one of --epochs, .* got an unknown option/,
      ],
    ] as const
  ) {
    const io = captureIo();
    assert.equal(await main([...args], io), 2, args.join(" "));
    assert.match(io.errors.join("\n"), message);
    assert.match(io.errors.join("\n"), /\nRun "deno task demo:mlp --help" for the options\.$/);
    assert.deepEqual(io.lines, [], "nothing printed before the error");
  }
  // The output directory is checked before any training: a file is refused at once.
  const file = await Deno.makeTempFile();
  try {
    const io = captureIo();
    const started = performance.now();
    assert.equal(await main(["--out", file], io), 2);
    assert.match(io.errors.join("\n"), /^demo:mlp: --out: expected /);
    assert.ok(performance.now() - started < 1000, "refused before training");
  } finally {
    await Deno.remove(file);
  }
  const io = captureIo();
  assert.equal(await main(["--help"], io), 0);
  assert.match(io.lines.join("\n"), /--batch-size N/);
  assert.match(io.lines.join("\n"), /--load FILE/);
  assert.match(io.lines.join("\n"), /--profile FILE/);
  assert.match(io.lines.join("\n"), /--dtype T/);
});

float16Test(
  "demo:mlp --dtype float16: the model takes half the bytes and learns as float32 does",
  async (dev) => {
    const digits = await readDigits();
    const accuracy: Record<string, number> = {};
    const bytes: Record<string, number> = {};
    // Five epochs of the run without dropout: past the initial plateau (test accuracy
    // ≈ 30% at epoch 5, measured 29.7% in float32 and 30.0% in float16).
    for (const dtype of ["float32", "float16"] as const) {
      const settings = { ...MLP_DEFAULTS, epochs: 5, dtype };
      const data = splitDigits(digits, dev, settings);
      try {
        assert.equal(data.train.X.dtype, dtype);
        const before = dev.memory().liveBytes;
        const run = startRun(data, STUDY_RUNS[1], settings);
        bytes[dtype] = dev.memory().liveBytes - before;
        assert.deepEqual(PARAM_NAMES.map((n) => run.params[n].dtype), PARAM_NAMES.map(() => dtype));
        run.dispose();
        const result = await runStudy(data, STUDY_RUNS[1], settings);
        accuracy[dtype] = result.testAccuracy.at(-1)!;
      } finally {
        data.dispose();
      }
    }
    // 85,002 parameters: 340,008 bytes in float32; the pool rounds each of the six
    // buffers up to 256 bytes, so float16's is half of that within 6 · 256.
    assert.ok(bytes.float32 >= 4 * 85_002, `${bytes.float32}`);
    assert.ok(Math.abs(bytes.float16 - bytes.float32 / 2) <= 6 * 256, JSON.stringify(bytes));
    // The target: float16's test accuracy within 1 point of float32's.
    assert.ok(Math.abs(accuracy.float16 - accuracy.float32) <= 0.01, JSON.stringify(accuracy));
  },
);
