/**
 * @file The browser test: the web demo and the property tests in headless Chromium, on
 * its WebGPU (Dawn, on SwiftShader without a GPU), a third implementation beside Deno's
 * two driver stacks. Run by `deno task test:browser` after `deno task build`; not named
 * `*_test.ts`, so `deno task test` (which runs once per Deno driver stack) leaves it out.
 *
 * It serves the repository on 127.0.0.1, drives Debian's `/usr/bin/chromium` with
 * playwright-core in a fresh profile, and checks the demo page: its pictures against the
 * CPU reference computed here in Deno (and the page's own comparison against it), its
 * timings (a warm-up, then medians), its controls (p, seed and channel recompute, and
 * the pictures change and still match; a bad value clears the pictures and a good one
 * brings them back), a picked picture's channels, and its grid (1, 2 and 4 columns at
 * 480, 900 and 1280 pixels), with screenshots at 480 and 1280 pixels in `out/web/`. Then
 * it runs every shared property (tests/_all_properties.ts) in the page, each for as many
 * random cases as Deno's tests run on their device, and matmul's for each kernel variant
 * pinned, and reports each by name. Without Chromium the test is ignored, except under
 * `CI=true`, where that is a failure.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chromium, type Page } from "playwright-core";
import { corr2d, cpu, dropout, randomKey } from "../../mod.ts";
import { serveDirectory } from "../../scripts/static_server.ts";
import { CASES_SCALE } from "../_cases_scale.ts";
import { assertBitwise, readFloat32 } from "../_numerics.ts";
import { assertCorr2dWithin } from "../_properties.ts";
import { PROPERTIES } from "../_all_properties.ts";
import { MATMUL_VARIANTS } from "../../kernels/matmul.ts";
import type { ProfileRun, PropertiesRun } from "./properties.ts";

const CHROMIUM = "/usr/bin/chromium";
/** The flags CI runs Chromium with: WebGPU on, nothing that reaches the network. */
const FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
/**
 * Random cases per property in the browser, as a multiple of the property's own count
 * (its `numRuns`, what Deno's tests run on their device): `PROPERTY_CASES_SCALE`, as for
 * Deno's tests. At 1 the whole `deno task test:browser` took 2 min 19 s on the 2-core CI
 * machine kind (the properties 1 min 27 s of it).
 */
const RUNS_SCALE = CASES_SCALE;
/** Widths of the screenshots, in CSS pixels: a phone and a laptop. */
const SCREENSHOT_WIDTHS = [480, 1280];

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const inCI = Deno.env.get("CI") === "true";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  const message = `${CHROMIUM} not found (apt-get install chromium)`;
  if (inCI) throw new Error(`CI=true requires Chromium for the browser test: ${message}`);
  console.warn(`${message}; the browser test is ignored`);
}

/** An op's time as the page hands it over. */
interface PageTiming {
  perCallMs: number;
  waitMs: number;
  batches: number;
  calls: number;
}

/** One of the demo's images as the page hands it over. */
interface PageImage {
  name: string;
  title: string;
  mapping: string;
  shape: [number, number];
  values: number[];
  gpu?: PageTiming;
  cpu?: PageTiming;
  difference?: { count: number; max: number };
}

/** The demo's run as the page hands it over. */
interface PageRun {
  adapter: string;
  picture: string;
  settings: { channel: string; p: number; seed: number };
  images: PageImage[];
}

/** Waits for the page's run number `run` to finish and returns it. */
async function demoRun(page: Page, run: number): Promise<PageRun> {
  await page.waitForSelector(
    `body[data-state=error], body[data-state=done][data-run="${run}"]`,
    { timeout: 120_000 },
  );
  const state = await page.getAttribute("body", "data-state");
  assert.equal(state, "done", `the page reports: ${await page.textContent("#status")}`);
  return await page.evaluate(() => {
    const demo = (globalThis as unknown as {
      demo: { images: { values: Float32Array; levels: Uint8Array }[] };
    }).demo;
    return {
      ...demo,
      images: demo.images.map(({ levels: _, ...image }) => ({
        ...image,
        values: Array.from(image.values),
      })),
    };
  }) as PageRun;
}

/** The values in which two arrays differ. */
function differences(a: Float32Array, b: Float32Array): number {
  return a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);
}

/**
 * Checks the demo's dropout and edge images against the CPU reference computed here, in
 * Deno, from the page's grey image: dropout bit for bit, the edges within their bound;
 * and the page's own comparison with its CPU reference agrees with this one.
 */
async function checkDemo(run: PageRun): Promise<void> {
  const [grey, dropped, vertical, horizontal] = run.images;
  const [h, w] = grey.shape;
  const x = Float32Array.from(grey.values);
  assert.ok(x.every((v) => v >= 0 && v <= 1), "grey levels in [0, 1]");
  using rx = cpu().tensor(x, [h, w]);
  using expected = dropout(rx, run.settings.p, randomKey(run.settings.seed));
  assertBitwise(Float32Array.from(dropped.values), await expected.read(), "page dropout");
  assert.deepEqual(vertical.shape, [h, w - 1]);
  assert.deepEqual(horizontal.shape, [h - 1, w]);
  const edge = Float32Array.of(1, -1);
  const v = Float32Array.from(vertical.values), hz = Float32Array.from(horizontal.values);
  await assertCorr2dWithin(v, x, [h, w], edge, [1, 2], "page corr2d [[1, −1]]");
  await assertCorr2dWithin(hz, x, [h, w], edge, [2, 1], "page corr2d [[1], [−1]]");
  using ke = cpu().tensor(edge, [1, 2]);
  using kt = cpu().tensor(edge, [2, 1]);
  using ve = corr2d(rx, ke);
  using he = corr2d(rx, kt);
  const ours = await Promise.all([expected, ve, he].map(readFloat32));
  [dropped, vertical, horizontal].forEach((image, i) => {
    const page = Float32Array.from(image.values);
    assert.equal(
      image.difference!.count,
      differences(page, ours[i]),
      `${image.name}: page's check`,
    );
    // Timed after a warm-up, as medians of 5 batches of 3 calls, on both.
    for (const timing of [image.gpu!, image.cpu!]) {
      assert.deepEqual([timing.batches, timing.calls], [5, 3]);
      assert.ok(Number.isFinite(timing.perCallMs) && timing.perCallMs >= 0, image.name);
    }
  });
}

/** How many columns the page's pictures are laid out in. */
async function columns(page: Page): Promise<number> {
  const lefts = await page.$$eval(
    "#images figure",
    (figures) => figures.map((f) => Math.round(f.getBoundingClientRect().left)),
  );
  assert.equal(lefts.length, 4, "four pictures");
  return new Set(lefts).size;
}

/** Sets a control the way a person does (type, then leave the field) and waits for run `run`. */
async function change(page: Page, selector: string, value: string): Promise<void> {
  if (selector === "#channel") await page.selectOption(selector, value);
  else {
    await page.fill(selector, value);
    await page.locator(selector).blur();
  }
}

/** A 24-bit BMP of `width × height` pixels from interleaved R, G, B values. */
function bmp(width: number, height: number, rgb: readonly number[]): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const bytes = new Uint8Array(54 + rowBytes * height);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]); // "BM"
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, 54, true); // pixel data offset
  view.setUint32(14, 40, true); // BITMAPINFOHEADER
  view.setInt32(18, width, true);
  view.setInt32(22, -height, true); // negative: rows top to bottom
  view.setUint16(26, 1, true); // planes
  view.setUint16(28, 24, true); // bits per pixel
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb.slice(3 * (y * width + x), 3 * (y * width + x) + 3);
      bytes.set([b, g, r], 54 + y * rowBytes + x * 3); // stored as B, G, R
    }
  }
  return bytes;
}

/** Opens `url`, recording uncaught page errors, console errors and failed requests. */
async function open(page: Page, url: string, problems: string[]): Promise<void> {
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  const response = await page.goto(url);
  assert.equal(response?.status(), 200, `${url} answered ${response?.status()}`);
}

Deno.test({
  name: "browser: the web demo and the property tests on Chromium's WebGPU",
  ignore: !hasChromium,
  async fn(t) {
    await using server = serveDirectory(root);
    const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    try {
      await t.step("the page: the cat, its grid at three widths, screenshots", async () => {
        const page = await browser.newPage();
        await page.setViewportSize({ width: 1280, height: 900 });
        const problems: string[] = [];
        await open(page, `${server.origin}/demos/web/`, problems);
        const run = await demoRun(page, 1);
        assert.deepEqual(run.images[0].shape, [300, 451], "the cat's size");
        assert.deepEqual(run.settings, { channel: "r", p: 0.2, seed: 0 });
        await checkDemo(run);
        const status = await page.textContent("#status");
        assert.match(
          status!,
          /GPU time per call: the median of 5 batches of 3 calls after a warm-up/,
        );
        assert.doesNotMatch(await page.content(), /shader compilation/);
        // Captions say what each picture is and how values map to grey.
        const captions = await page.$$eval(
          "figcaption",
          (c) => c.map((e) => (e as unknown as { innerText: string }).innerText),
        );
        assert.equal(
          captions[0],
          "grey image\nthe red channel\n451 × 300 pixels; 0 is black, 1 white\n" +
            "input: chelsea.png, decoded by the browser",
        );
        assert.match(
          captions[1],
          /^dropout\np = 0\.2, seed 0\n451 × 300 pixels; dropped pixels are 0 \(black\), kept ones ×1\.25, clipped at white\nGPU [\d.]+ ms · CPU reference [\d.]+ ms per call\n✓ the same values as the CPU reference$/,
        );
        assert.match(
          captions[2],
          /^vertical edges\ncorr2d with \[\[1, −1\]\]\n450 × 300 pixels; zero is mid-grey, −0\.\d+ black, \+0\.\d+ white\n/,
        );
        console.log(`adapter: ${run.adapter}`);
        for (const image of run.images.slice(1)) {
          console.log(
            `  ${image.name}: GPU ${image.gpu!.perCallMs.toFixed(3)} ms, CPU ` +
              `${image.cpu!.perCallMs.toFixed(3)} ms per call (bare wait ` +
              `${image.gpu!.waitMs.toFixed(2)} ms); differs from the CPU in ${
                image.difference!.count
              }`,
          );
        }
        await Deno.mkdir(`${root}/out/web`, { recursive: true });
        for (const [width, expected] of [[1280, 4], [900, 2], [480, 1]]) {
          await page.setViewportSize({ width, height: 900 });
          assert.equal(await columns(page), expected, `columns at ${width} px`);
          if (SCREENSHOT_WIDTHS.includes(width)) {
            const path = `out/web/page-${width}.png`;
            await page.screenshot({ path: `${root}/${path}`, fullPage: true });
            console.log(`screenshot: ${path}`);
          }
        }
        assert.deepEqual(problems, []);
        await page.close();
      });

      await t.step("the controls recompute, and the pictures still match", async () => {
        const page = await browser.newPage();
        await page.setViewportSize({ width: 1280, height: 900 });
        const problems: string[] = [];
        await open(page, `${server.origin}/demos/web/`, problems);
        let last = await demoRun(page, 1);
        const canvas = (name: string) =>
          page.$eval(
            `figure[data-name=${name}] canvas`,
            (c) => (c as unknown as { toDataURL(): string }).toDataURL(),
          );
        let picture = await canvas("dropout");
        let count = 1;
        for (
          const [selector, value, setting] of [
            ["#p", "0.5", { p: 0.5 }],
            ["#seed", "7", { seed: 7 }],
            ["#channel", "g", { channel: "g" }],
            ["#channel", "luma", { channel: "luma" }],
          ] as const
        ) {
          await change(page, selector, value);
          const run = await demoRun(page, ++count);
          assert.deepEqual(run.settings, { ...last.settings, ...setting }, `${selector} ${value}`);
          await checkDemo(run);
          const dropped = (r: PageRun) => r.images[1].values;
          assert.notDeepEqual(dropped(run), dropped(last), `${selector} ${value} changed dropout`);
          const now = await canvas("dropout");
          assert.notEqual(now, picture, `${selector} ${value} redrew the dropout picture`);
          if (selector === "#channel") {
            assert.notDeepEqual(run.images[0].values, last.images[0].values, "another grey image");
          }
          [last, picture] = [run, now];
        }

        // A bad p: an error, and no picture left from the run before; a good one: back.
        await change(page, "#p", "1.5");
        await page.waitForSelector("body[data-state=error]");
        assert.match(
          (await page.textContent("#status"))!,
          /p: expected a probability in \[0, 1\], got "1\.5"/,
        );
        assert.equal(await page.$$eval("#images figure", (f) => f.length), 0, "stale pictures");
        assert.equal(await page.evaluate(() => "demo" in globalThis), false);
        await change(page, "#p", "0.25");
        await checkDemo(await demoRun(page, ++count));

        // A picture the user picks: a 7 × 5 BMP whose channels are known exactly.
        const rgb = Array.from({ length: 35 * 3 }, (_, i) => (i * 37 + 11) % 256);
        await page.setInputFiles("#picture", {
          name: "picked.bmp",
          mimeType: "image/bmp",
          buffer: Buffer.from(bmp(7, 5, rgb)),
        });
        const weights: Record<string, number[]> = {
          luma: [0.299, 0.587, 0.114],
          r: [1, 0, 0],
          g: [0, 1, 0],
          b: [0, 0, 1],
        };
        let channel = "luma";
        for (const next of ["luma", "r", "g", "b"]) {
          if (next !== channel) await change(page, "#channel", channel = next);
          const picked = await demoRun(page, ++count);
          assert.equal(picked.picture, "picked.bmp");
          assert.deepEqual(picked.images[0].shape, [5, 7], "the picked picture's size");
          const expected = Float32Array.from(
            { length: 35 },
            (_, i) => weights[channel].reduce((s, wc, c) => s + wc * rgb[3 * i + c], 0) / 255,
          );
          const grey = Float32Array.from(picked.images[0].values);
          grey.forEach((v, i) =>
            assert.ok(Math.abs(v - expected[i]) <= 1e-6, `${channel} ${i}: ${v} vs ${expected[i]}`)
          );
          if (channel !== "luma") assertBitwise(grey, expected, `channel ${channel}`);
          await checkDemo(picked);
        }
        assert.deepEqual(problems, []);
        await page.close();
      });

      await t.step("dev.profile: the ops by name, with the browser's timestamps", async () => {
        const page = await browser.newPage();
        const problems: string[] = [];
        await open(page, `${server.origin}/tests/browser/`, problems);
        await page.waitForFunction(() => "runProfile" in globalThis, null, { timeout: 30_000 });
        const result = await page.evaluate(() =>
          (globalThis as unknown as { runProfile: () => Promise<ProfileRun> }).runProfile()
        );
        console.log(`  profile on ${result.adapter}: ${result.timing}`, result.dispatches);
        const k = result.matmulDispatches;
        // The product, after at most one packing kernel per operand (narrow packs one).
        assert.ok(k >= 1 && k <= 3, `a matmul is one to three dispatches, got ${k}`);
        const names = [...Array(k).fill("matmul"), "add", "relu"];
        assert.deepEqual(result.dispatches.map(([name]) => name), names);
        assert.equal(result.timing, result.offered ? "timestamp-query" : "wall-clock estimate");
        // Chromium may quantize timestamps (to 100 µs without its flag), so 0 is possible.
        for (const [name, ms] of result.dispatches) assert.ok(ms >= 0, `${name}: ${ms} ms`);
        assert.equal(result.traceEvents, k + 2);
        assert.deepEqual(problems, []);
        await page.close();
      });

      await t.step(
        `every shared property, ${RUNS_SCALE}× its cases, and matmul's per variant`,
        async () => {
          const page = await browser.newPage();
          const problems: string[] = [];
          await open(page, `${server.origin}/tests/browser/`, problems);
          await page.waitForFunction(() => "runProperties" in globalThis, null, {
            timeout: 30_000,
          });
          const seed = Math.floor(Math.random() * 2 ** 31);
          console.log(`fast-check seed ${seed}`);
          const result = await page.evaluate(
            ([runsScale, seed]) =>
              (globalThis as unknown as {
                runProperties: (scale: number, s: number) => Promise<PropertiesRun>;
              }).runProperties(runsScale, seed),
            [RUNS_SCALE, seed],
          );
          for (const r of result.reports) {
            console.log(
              r.skipped
                ? `  ${r.name}: ignored (${r.skipped})`
                : `  ${r.name}: ${r.numRuns} cases in ${(r.ms / 1000).toFixed(1)} s`,
            );
          }
          const failures = result.reports.filter((r) => r.error !== null);
          assert.equal(
            failures.length,
            0,
            failures.map((r) => `${r.name}\n${r.error}`).join("\n\n"),
          );
          assert.equal(
            result.reports.length,
            PROPERTIES.length + MATMUL_VARIANTS.size,
            "a report for each property and for each matmul variant",
          );
          assert.deepEqual(
            result.reports.slice(0, PROPERTIES.length).map((r) => [r.name, r.numRuns]),
            // A float16 property is skipped (0 cases, said so) where Chromium's adapter
            // has no shader-f16.
            PROPERTIES.map((p, i) => [
              p.name,
              result.reports[i].skipped && p.needs ? 0 : Math.ceil(p.numRuns * RUNS_SCALE),
            ]),
            "each property, in order, for its cases",
          );
          assert.deepEqual(problems, []);
          await page.close();
        },
      );
    } finally {
      await browser.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
