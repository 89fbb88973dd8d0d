/**
 * @file End-to-end tests of `deno task demo:image`, run in-process through its `main`:
 * a generated picture with known edges (a bright rectangle on a dark ground) gives
 * edges exactly on the rectangle's borders and a fair dropout; GPU and CPU agree bit
 * for bit; every kind of bad input gets a clear error in the demos' shared style, a
 * non-zero exit and no output, the output directory before anything else.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Jimp } from "jimp";
import { main } from "../demos/image.ts";
import { encodeGreyPng } from "../demos/_image_io.ts";
import { decodeNpy, encodeNpy, npyHeader } from "../demos/_npy.ts";
import { dropout, randomKey } from "../mod.ts";
import { assertBitwise, dev, gpuTest, ref } from "./_harness.ts";
import { captureIo } from "./_demo_io.ts";

const H = 24, W = 32;
/** The rectangle: rows TOP..BOTTOM and columns LEFT..RIGHT, inclusive. */
const TOP = 6, BOTTOM = 15, LEFT = 9, RIGHT = 22;
const GROUND = 30, BRIGHT = 200;

/** The test picture as 8-bit grey, row-major. */
function rectangle(): Uint8Array {
  return Uint8Array.from(
    { length: H * W },
    (_, i) => {
      const y = Math.floor(i / W), x = i % W;
      return y >= TOP && y <= BOTTOM && x >= LEFT && x <= RIGHT ? BRIGHT : GROUND;
    },
  );
}

interface Run {
  code: number;
  log: string;
  error: string;
}

async function runDemo(args: string[]): Promise<Run> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, log: io.lines.join("\n"), error: io.errors.join("\n") };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "image-demo-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readNpy(path: string): Promise<{ shape: readonly number[]; values: Float32Array }> {
  const { header, values } = decodeNpy(await Deno.readFile(path));
  assert.ok(values instanceof Float32Array, `${path} holds float32`);
  return { shape: header.shape, values };
}

async function pngSize(path: string): Promise<[number, number]> {
  const image = await Jimp.read((await Deno.readFile(path)).buffer as ArrayBuffer);
  return [image.bitmap.width, image.bitmap.height];
}

/** Positions (row, column) of non-zero values in a row-major [rows, cols] array. */
function nonZero(values: Float32Array, cols: number): string[] {
  const out: string[] = [];
  values.forEach((v, i) => v !== 0 && out.push(`${Math.floor(i / cols)},${i % cols}`));
  return out;
}

function positions(rows: number[], cols: number[]): string[] {
  return rows.flatMap((y) => cols.map((x) => `${y},${x}`));
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

gpuTest("image demo: edges exactly on the rectangle's borders, fair dropout", async () => {
  await withTempDir(async (dir) => {
    const input = join(dir, "rectangle.png");
    await Deno.writeFile(input, await encodeGreyPng({ bytes: rectangle(), width: W, height: H }));
    const out = join(dir, "out");
    const p = 0.2;
    const seed = 7;
    const run = await runDemo([
      "--input",
      input,
      "--out",
      out,
      "--npy",
      "--p",
      `${p}`,
      "--seed",
      `${seed}`,
    ]);
    assert.equal(run.code, 0, run.error);
    assert.match(run.log, new RegExp(`loaded .*rectangle.png: PNG, ${W} × ${H} pixels`));
    // Timed once: a heading that says what was measured, then one line per op.
    assert.match(
      run.log,
      /GPU time per call: the median of 5 batches of 10 calls after a warm-up call; each batch ends with one wait for the GPU, and the time of a bare wait \([\d.]+ ms here\) is subtracted\.\n {2}dropout +p = 0\.2, seed = 7 +[\d.]+ ms\n {2}vertical .* [\d.]+ ms\n {2}horizontal .* [\d.]+ ms\n/,
    );
    assert.equal(run.log.match(/ ms$/gm)?.length, 3, "one time per op, printed once");
    assert.match(run.log, /wrote .*gray.png, dropout.png, vertical.png, horizontal.png, panel.png/);
    const entries = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(entries, ["out", "rectangle.png"], "no staging directory is left behind");

    const gray = await readNpy(join(out, "gray.npy"));
    assert.deepEqual(gray.shape, [H, W]);
    const bytes = rectangle();
    gray.values.forEach((v, i) => assert.equal(v, Math.fround(bytes[i] / 255), `gray ${i}`));
    const g = (y: number, x: number) => gray.values[y * W + x];

    // [[1, -1]]: out[y][x] = g[y][x] − g[y][x+1], on the left and right borders only.
    const vertical = await readNpy(join(out, "vertical.npy"));
    assert.deepEqual(vertical.shape, [H, W - 1]);
    assert.deepEqual(
      nonZero(vertical.values, W - 1).sort(),
      positions(range(TOP, BOTTOM), [LEFT - 1, RIGHT]).sort(),
    );
    for (const y of range(TOP, BOTTOM)) {
      for (const x of [LEFT - 1, RIGHT]) {
        assert.equal(vertical.values[y * (W - 1) + x], Math.fround(g(y, x) - g(y, x + 1)));
      }
      assert.ok(vertical.values[y * (W - 1) + LEFT - 1] < 0, "dark to bright is negative");
    }

    // [[1], [-1]]: out[y][x] = g[y][x] − g[y+1][x], on the top and bottom borders only.
    const horizontal = await readNpy(join(out, "horizontal.npy"));
    assert.deepEqual(horizontal.shape, [H - 1, W]);
    assert.deepEqual(
      nonZero(horizontal.values, W).sort(),
      positions([TOP - 1, BOTTOM], range(LEFT, RIGHT)).sort(),
    );
    for (const x of range(LEFT, RIGHT)) {
      for (const y of [TOP - 1, BOTTOM]) {
        assert.equal(horizontal.values[y * W + x], Math.fround(g(y, x) - g(y + 1, x)));
      }
    }

    // Every input pixel is non-zero: each output is 0 (dropped) or x·fround(1/(1 − p)).
    const dropped = await readNpy(join(out, "dropout.npy"));
    const scale = Math.fround(1 / (1 - p));
    let kept = 0;
    dropped.values.forEach((v, i) => {
      if (v === 0) return;
      kept++;
      assert.equal(v, Math.fround(gray.values[i] * scale), `dropout ${i}`);
    });
    const n = H * W, sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(kept - n * (1 - p)) <= 4 * sd, `kept ${kept} of ${n} at p = ${p}`);
    // The mask is the one of randomKey(--seed).
    using x = ref.tensor(gray.values, [H, W]);
    using expected = dropout(x, p, randomKey(seed));
    assertBitwise(dropped.values, await expected.read(), "dropout with --seed");

    // The pictures: sizes, and the signed mapping (zero mid-grey, ±max black/white).
    assert.deepEqual(await pngSize(join(out, "gray.png")), [W, H]);
    assert.deepEqual(await pngSize(join(out, "dropout.png")), [W, H]);
    assert.deepEqual(await pngSize(join(out, "vertical.png")), [W - 1, H]);
    assert.deepEqual(await pngSize(join(out, "horizontal.png")), [W, H - 1]);
    // The panel: 2 × 2 pictures, each with two caption lines under it.
    const [panelWidth, panelHeight] = await pngSize(join(out, "panel.png"));
    assert.ok(
      panelWidth >= 2 * W + 3 * 16 && panelHeight >= 2 * (H + 2 * 18) + 3 * 16,
      `panel ${panelWidth} × ${panelHeight}`,
    );
    const edges = await Jimp.read((await Deno.readFile(join(out, "vertical.png"))).buffer);
    const grey = (x: number, y: number) => edges.bitmap.data[4 * (y * (W - 1) + x)];
    assert.equal(grey(0, 0), 128);
    assert.equal(grey(LEFT - 1, TOP), 0);
    assert.equal(grey(RIGHT, TOP), 255);
  });
});

gpuTest("image demo: GPU and CPU reference give bit-identical results", async () => {
  await withTempDir(async (dir) => {
    // A float32 picture of noise, so that every pixel and every edge differs.
    const [h, w] = [37, 53];
    let s = 12345;
    const noise = Float32Array.from(
      { length: h * w },
      () => (s = (s * 48271) % 0x7fffffff) / 2 ** 31,
    );
    const input = join(dir, "noise.npy");
    await Deno.writeFile(input, encodeNpy(noise, [h, w]));
    const common = ["--input", input, "--npy", "--p", "0.35", "--seed", "99"];
    const onGpu = await runDemo([...common, "--out", join(dir, "gpu")]);
    const onCpu = await runDemo([...common, "--out", join(dir, "cpu"), "--backend", "cpu"]);
    assert.equal(onGpu.code, 0, onGpu.error);
    assert.equal(onCpu.code, 0, onCpu.error);
    assert.match(
      onCpu.log,
      /CPU time per call: the median of 5 batches of 10 calls after a warm-up call\.\n/,
    );
    for (const name of ["gray", "dropout", "vertical", "horizontal"]) {
      const g = await readNpy(join(dir, "gpu", `${name}.npy`));
      const c = await readNpy(join(dir, "cpu", `${name}.npy`));
      assert.deepEqual(g.shape, c.shape);
      // One subtraction (corr2d with ±1) or one multiply (dropout): correctly rounded on both.
      assertBitwise(g.values, c.values, name);
    }
    assertBitwise((await readNpy(join(dir, "cpu", "gray.npy"))).values, noise, "gray is the input");
  });
});

gpuTest(
  "image demo: bit-reproducible from --seed, run to run; another seed, another mask",
  async () => {
    await withTempDir(async (dir) => {
      const runs = [["a", "7"], ["b", "7"], ["c", "8"]] as const;
      for (const [name, seed] of runs) {
        const run = await runDemo(["--npy", "--seed", seed, "--out", join(dir, name)]);
        assert.equal(run.code, 0, run.error);
      }
      for (
        const file of ["gray.npy", "dropout.npy", "vertical.npy", "horizontal.npy", "panel.png"]
      ) {
        const [a, b] = [
          await Deno.readFile(join(dir, "a", file)),
          await Deno.readFile(join(dir, "b", file)),
        ];
        assert.deepEqual(a, b, `${file} differs between two runs with --seed 7`);
      }
      const [a, c] = [
        await readNpy(join(dir, "a", "dropout.npy")),
        await readNpy(join(dir, "c", "dropout.npy")),
      ];
      assert.ok(a.values.some((v, i) => v !== c.values[i]), "--seed 8 gave the mask of --seed 7");
    });
  },
);

gpuTest(
  "image demo: with no --input it writes the five pictures of the cat, and learn.json",
  async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, "out");
      const run = await runDemo(["--out", out]);
      assert.equal(run.code, 0, run.error);
      assert.match(run.log, /loaded .*chelsea.png: PNG, 451 × 300 pixels/);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort(),
        ["dropout.png", "gray.png", "horizontal.png", "learn.json", "panel.png", "vertical.png"],
      );
      // d2l's 10 steps, the loss scaled to d2l's 42 outputs: it falls at every step (its
      // [1, 1] part); the [1, −1] part of the kernel moves slowly on a photograph
      // (demos/_learn_kernel.ts), so no closeness to [1, −1] is claimed here.
      const learn: LearnJson = JSON.parse(await Deno.readTextFile(join(out, "learn.json")));
      assert.equal(learn.lossScale, 42 / (450 * 300));
      assert.equal(learn.steps.length, 10);
      assert.ok(learn.steps.every((s, i) => i === 0 || s.loss < learn.steps[i - 1].loss));
      assert.deepEqual(await pngSize(join(out, "vertical.png")), [450, 300]);
      assert.deepEqual(await pngSize(join(out, "horizontal.png")), [451, 299]);
    });
  },
);

Deno.test("image demo: JPEG input, and --channel picks a channel of a .npy", async () => {
  await withTempDir(async (dir) => {
    const jpeg = join(dir, "rectangle.jpg");
    const grey = rectangle();
    const image = Jimp.fromBitmap({
      data: Uint8Array.from({ length: H * W * 4 }, (_, i) => i % 4 === 3 ? 255 : grey[i >> 2]),
      width: W,
      height: H,
    });
    await Deno.writeFile(jpeg, new Uint8Array(await image.getBuffer("image/jpeg")));
    const run = await runDemo(["--input", jpeg, "--out", join(dir, "jpeg"), "--backend", "cpu"]);
    assert.equal(run.code, 0, run.error);
    assert.match(run.log, new RegExp(`JPEG, ${W} × ${H} pixels`));
    assert.deepEqual(await pngSize(join(dir, "jpeg", "vertical.png")), [W - 1, H]);

    // A 2 × 3 × 3 uint8 array whose channels are 10·i + c.
    const rgb = Uint8Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
    const dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 3), }".padEnd(117);
    // Version 1.0; a header of 118 (0x76) bytes, so that the data starts at byte 128.
    const header = [0x93, ...new TextEncoder().encode(`NUMPY\x01\x00\x76\x00${dict}\n`)];
    const input = join(dir, "rgb.npy");
    await Deno.writeFile(input, new Uint8Array([...header, ...rgb]));
    for (const [channel, weights] of [["g", [0, 1, 0]], ["luma", [0.299, 0.587, 0.114]]] as const) {
      const out = join(dir, channel);
      const r = await runDemo([
        "--input",
        input,
        "--channel",
        channel,
        "--out",
        out,
        "--npy",
        "--backend",
        "cpu",
      ]);
      assert.equal(r.code, 0, r.error);
      const gray = await readNpy(join(out, "gray.npy"));
      assert.deepEqual(gray.shape, [2, 3]);
      gray.values.forEach((v, i) => {
        const expected = weights.reduce<number>((sum, wc, c) => sum + wc * rgb[3 * i + c], 0) / 255;
        assert.ok(Math.abs(v - expected) <= 1e-6 * expected, `${channel} pixel ${i}: ${v}`);
      });
    }
  });
});

/** Asserts a run failed with `code` and a message matching `message`, and wrote nothing. */
async function assertRefused(
  dir: string,
  args: string[],
  code: number,
  message: RegExp,
): Promise<void> {
  const out = join(dir, "out");
  const before = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  const run = await runDemo([...args, "--out", out]);
  assert.equal(run.code, code, `exit status for ${args.join(" ")}: ${run.error}`);
  assert.match(run.error, message);
  assert.match(run.error, /^demo:image: /);
  const hint = /\nRun "deno task demo:image --help" for the options\.$/;
  if (code === 2) assert.match(run.error, hint, "a usage error ends with the hint");
  else assert.doesNotMatch(run.error, hint, "a problem with the input is not a usage error");
  const after = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  assert.deepEqual(after, before, "nothing was written");
}

Deno.test("image demo: bad input gets a clear error, a non-zero exit and no output", async (t) => {
  await withTempDir(async (dir) => {
    const file = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(join(dir, name), bytes);
      return join(dir, name);
    };
    const png = async (name: string, width: number, height: number) =>
      file(name, await encodeGreyPng({ bytes: new Uint8Array(width * height), width, height }));

    await t.step(
      "a missing file",
      () => assertRefused(dir, ["--input", join(dir, "nope.png")], 1, /nope.png: no such file/),
    );
    await t.step(
      "a file that is not a picture",
      async () =>
        assertRefused(
          dir,
          ["--input", await file("notes.png", new TextEncoder().encode("hello"))],
          1,
          /notes.png: not a picture: expected a PNG, JPEG or NumPy .npy/,
        ),
    );
    await t.step(
      "a PNG that does not decode",
      async () =>
        assertRefused(
          dir,
          [
            "--input",
            await file(
              "broken.png",
              new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
            ),
          ],
          1,
          /broken.png: could not decode it as PNG/,
        ),
    );
    await t.step(
      "a picture 1 pixel wide",
      async () =>
        assertRefused(
          dir,
          ["--input", await png("narrow.png", 1, 5)],
          1,
          /1 × 5 pixels; the edge kernels .* need at least 2 × 2/,
        ),
    );
    await t.step(
      "a picture 1 pixel high",
      async () => assertRefused(dir, ["--input", await png("low.png", 5, 1)], 1, /5 × 1 pixels/),
    );
    await t.step(
      "a .npy of the wrong rank",
      async () =>
        assertRefused(
          dir,
          ["--input", await file("flat.npy", encodeNpy(new Float32Array(4), [4]))],
          1,
          /expected a .npy array of shape \(H, W\) or \(H, W, C\), got \(4\)/,
        ),
    );
    await t.step(
      "a .npy with a NaN",
      async () =>
        assertRefused(
          dir,
          ["--input", await file("nan.npy", encodeNpy(new Float32Array([0, NaN, 0, 0]), [2, 2]))],
          1,
          /expected finite values, got NaN at row 0, column 1/,
        ),
    );
    await t.step(
      "a .npy shorter than its shape",
      async () =>
        assertRefused(
          dir,
          ["--input", await file("short.npy", encodeNpy(new Float32Array(4), [2, 2]).slice(0, -1))],
          1,
          /expected 16 bytes of data .* got 15/,
        ),
    );
    await t.step(
      "a channel the picture lacks",
      async () =>
        assertRefused(
          dir,
          [
            "--input",
            await file("grey.npy", encodeNpy(new Float32Array(4), [2, 2])),
            "--channel",
            "b",
          ],
          1,
          /--channel b: .*grey.npy has 1 channel/,
        ),
    );
    for (const p of ["1.5", "-0.1", "abc", "", "NaN"]) {
      await t.step(
        `--p ${JSON.stringify(p)}`,
        () =>
          assertRefused(
            dir,
            [`--p=${p}`],
            2,
            new RegExp(`--p: expected a probability in \\[0, 1\\], got ${JSON.stringify(p)}`),
          ),
      );
    }
    await t.step(
      "--p with no value",
      () => assertRefused(dir, ["--p"], 2, /--p: expected a value, got the option --out/),
    );
    await t.step(
      "an unknown option",
      () =>
        assertRefused(
          dir,
          ["--frobnicate", "3"],
          2,
          /--frobnicate: expected one of --input, --channel, .*, got an unknown option/,
        ),
    );
    await t.step(
      "a stray argument",
      () =>
        assertRefused(
          dir,
          ["cat.png"],
          2,
          /expected options of the form --name value or --name=value, got "cat.png"/,
        ),
    );
    await t.step(
      "an unknown channel",
      () =>
        assertRefused(
          dir,
          ["--channel", "alpha"],
          2,
          /--channel: expected one of r, g, b, luma, got "alpha"/,
        ),
    );
    await t.step(
      "a seed out of range",
      () =>
        assertRefused(dir, ["--seed", "-1"], 2, /--seed: expected an integer in \[0, 4294967295\]/),
    );
    await t.step(
      "an unknown backend",
      () =>
        assertRefused(dir, ["--backend", "tpu"], 2, /--backend: expected gpu or cpu, got "tpu"/),
    );
    await t.step("--out naming a file, or a folder under a file: refused first", async () => {
      const target = await file("taken", new Uint8Array(1));
      // A missing input too: the output directory is checked before the picture is opened.
      for (
        const [out, message] of [
          [target, /--out: expected a directory, got ".*taken", an existing file/],
          [join(target, "sub"), /--out: expected a directory, got ".*taken\/sub", under the file/],
        ] as const
      ) {
        const run = await runDemo(["--out", out, "--input", join(dir, "missing.png")]);
        assert.equal(run.code, 2, run.error);
        assert.match(run.error, message);
        assert.doesNotMatch(run.error, /missing\.png/);
      }
      assert.deepEqual(await Deno.readFile(target), new Uint8Array(1));
    });
    await t.step({
      name: "--out where nothing can be written (/proc): refused before any work",
      ignore: Deno.build.os !== "linux",
      fn: async () => {
        const run = await runDemo(["--out", "/proc/image-demo-out", "--input", "missing.png"]);
        assert.equal(run.code, 2, run.error);
        assert.match(
          run.error,
          // Refused by the write check, or by Deno's permissions (/proc needs --allow-all).
          /^demo:image: --out: expected a directory it can write to, got "\/proc\/image-demo-out"/,
        );
      },
    });
    await t.step("--help prints the mapping and writes nothing", async () => {
      const run = await runDemo(["--help", "--out", join(dir, "out")]);
      assert.equal(run.code, 0);
      assert.match(run.log, /zero is mid-grey/);
      assert.match(run.log, /--p P +dropout probability/);
      await assert.rejects(() => Deno.stat(join(dir, "out")), Deno.errors.NotFound);
    });
  });
});

gpuTest("image demo: a picture larger than one storage binding is refused unread", async () => {
  await withTempDir(async (dir) => {
    // A sparse .npy file just over the limit: refused by its header, its data never read.
    const width = Math.ceil((dev!.runtime.maxElements + 1) / 2);
    const header = npyHeader([2, width]);
    const path = join(dir, "huge.npy");
    await Deno.writeFile(path, header);
    await Deno.truncate(path, header.length + 4 * 2 * width);
    await assertRefused(
      dir,
      ["--input", path],
      1,
      /huge.npy: the picture has \d+ pixels \(\d+ × 2\); .* holds at most \d+ float32 values in one storage binding/,
    );
  });
});

/** learn.json as the demo writes it. */
interface LearnJson {
  lr: number;
  lossScale: number;
  initial: [number, number];
  steps: { iteration: number; loss: number; kernel: [number, number] }[];
  learned: [number, number];
  distance: number;
}

for (const backend of ["gpu", "cpu"] as const) {
  const test = backend === "gpu" ? gpuTest : Deno.test;
  test(`image demo: learns [[1, -1]] back from d2l's 6×8 picture (${backend})`, async () => {
    await withTempDir(async (dir) => {
      // d2l §7.2: X = ones(6, 8), X[:, 2:6] = 0; its edges have 42 values, so the loss's
      // scale is 1 and the run is d2l's (rate 3e-2). From this seed's start 10 steps
      // reach 0.067 of [1, −1] (the [1, 1] component shrinks by |1 − 2·0.03·30| = 0.8 a
      // step, 30 the curvature's larger eigenvalue); 20 reach 0.05.
      const picture = Float32Array.from(
        { length: 48 },
        (_, i) => (i % 8 >= 2 && i % 8 < 6 ? 0 : 1),
      );
      const input = join(dir, "d2l.npy");
      await Deno.writeFile(input, encodeNpy(picture, [6, 8]));
      const out = join(dir, "out");
      const args = ["--input", input, "--out", out, "--learn-iterations", "20"];
      const run = await runDemo([...args, "--backend", backend]);
      assert.equal(run.code, 0, run.error);
      const json: LearnJson = JSON.parse(await Deno.readTextFile(join(out, "learn.json")));
      assert.equal(json.lossScale, 1);
      assert.equal(json.lr, 0.03);
      assert.deepEqual(
        json.steps.map((s) => s.iteration),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      // The first loss, Σ(X ⋆ k₀ − Y)² in float64 from the start the JSON reports.
      const [a, b] = json.initial;
      let loss = 0;
      for (let r = 0; r < 6; r++) {
        for (let c = 0; c < 7; c++) {
          const [x0, x1] = [picture[r * 8 + c], picture[r * 8 + c + 1]];
          loss += (a * x0 + b * x1 - (x0 - x1)) ** 2;
        }
      }
      assert.ok(
        Math.abs(json.steps[0].loss - loss) <= 1e-5 * loss,
        `${json.steps[0].loss} vs ${loss}`,
      );
      assert.ok(
        json.steps.every((s, i) => i === 0 || s.loss < json.steps[i - 1].loss),
        "the loss falls",
      );
      assert.deepEqual(json.learned, json.steps[19].kernel);
      assert.ok(
        Math.abs(json.learned[0] - 1) <= 0.05 && Math.abs(json.learned[1] + 1) <= 0.05,
        `learned ${json.learned}`,
      );
      assert.match(run.log, /step {2}20 {2}loss +[\d.e-]+ {2}kernel \[ +1\.0\d+, +-0\.9\d+\]/);
    });
  });
}
