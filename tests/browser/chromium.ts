/**
 * @file The browser test: the web demo and the property tests in headless Chromium, on
 * its WebGPU (Dawn, on SwiftShader without a GPU), a third implementation beside Deno's
 * two driver stacks. Run by `deno task test:browser` after `deno task build`; not named
 * `*_test.ts`, so `deno task test` (which runs once per Deno driver stack) leaves it out.
 *
 * It serves the repository on 127.0.0.1, drives Debian's `/usr/bin/chromium` with
 * playwright-core in a fresh profile, checks the demo's images against the CPU reference
 * computed here in Deno, saves a screenshot to `out/web/screenshot.png`, and runs every
 * op's property for a few hundred random cases in the page, and matmul's for each kernel
 * variant pinned. Without Chromium the test is
 * ignored, except under `CI=true`, where that is a failure.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { chromium, type Page } from "playwright-core";
import { cpu, dropout, randomKey } from "../../mod.ts";
import { serveDirectory } from "../../scripts/static_server.ts";
import { assertBitwise } from "../_numerics.ts";
import { assertCorr2dWithin, OP_PROPERTIES } from "../_properties.ts";
import { MATMUL_VARIANTS } from "../../kernels/matmul.ts";
import type { PropertiesRun } from "./properties.ts";

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
/** Random cases per op in the browser. */
const RUNS_PER_OP = 300;
const SCREENSHOT = "out/web/screenshot.png";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const inCI = Deno.env.get("CI") === "true";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  const message = `${CHROMIUM} not found (apt-get install chromium)`;
  if (inCI) throw new Error(`CI=true requires Chromium for the browser test: ${message}`);
  console.warn(`${message}; the browser test is ignored`);
}

/** The demo's images as the page hands them over. */
interface PageImage {
  title: string;
  shape: [number, number];
  values: number[];
  firstMs?: number;
  medianMs?: number;
}

/** The demo's run as the page hands it over. */
interface PageRun {
  adapter: string;
  images: PageImage[];
}

/** Waits for the demo page to finish on the picture `name` and returns its run. */
async function demoRun(page: Page, name: string): Promise<PageRun> {
  await page.waitForSelector(
    `body[data-state=error], body[data-state=done][data-picture=${JSON.stringify(name)}]`,
    { timeout: 60_000 },
  );
  const state = await page.getAttribute("body", "data-state");
  assert.equal(state, "done", `the page reports: ${await page.textContent("#status")}`);
  return await page.evaluate(() => {
    const demo = (globalThis as unknown as {
      demo: { adapter: string; images: { values: Float32Array }[] };
    }).demo;
    return {
      adapter: demo.adapter,
      images: demo.images.map((image) => ({ ...image, values: Array.from(image.values) })),
    };
  }) as PageRun;
}

/**
 * Checks the demo's dropout and edge images against the CPU reference computed here, in
 * Deno, from the page's grey image: dropout bit for bit, the edges within their bound.
 */
async function checkDemo(run: PageRun): Promise<void> {
  const [grey, dropped, vertical, horizontal] = run.images;
  const [h, w] = grey.shape;
  const x = Float32Array.from(grey.values);
  assert.ok(x.every((v) => v >= 0 && v <= 1), "grey levels in [0, 1]");
  using rx = cpu().tensor(x, [h, w]);
  using expected = dropout(rx, 0.2, randomKey(0));
  assertBitwise(Float32Array.from(dropped.values), await expected.read(), "page dropout");
  assert.deepEqual(vertical.shape, [h, w - 1]);
  assert.deepEqual(horizontal.shape, [h - 1, w]);
  const edge = Float32Array.of(1, -1);
  const v = Float32Array.from(vertical.values), hz = Float32Array.from(horizontal.values);
  await assertCorr2dWithin(v, x, [h, w], edge, [1, 2], "page corr2d [[1, −1]]");
  await assertCorr2dWithin(hz, x, [h, w], edge, [2, 1], "page corr2d [[1], [−1]]");
}

/** A 24-bit BMP of `width × height` pixels with the given red values (green = blue = 0). */
function bmp(width: number, height: number, red: readonly number[]): Uint8Array {
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
    for (let x = 0; x < width; x++) bytes[54 + y * rowBytes + x * 3 + 2] = red[y * width + x];
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
      viewport: { width: 980, height: 760 },
    });
    try {
      await t.step(
        "the demo's images, of the cat and of a picked picture, match the CPU reference",
        async () => {
          const page = await browser.newPage();
          const problems: string[] = [];
          await open(page, `${server.origin}/demos/web/`, problems);
          const run = await demoRun(page, "chelsea.png");
          await Deno.mkdir(`${root}/out/web`, { recursive: true });
          await page.screenshot({ path: `${root}/${SCREENSHOT}`, fullPage: true });
          assert.deepEqual(run.images[0].shape, [300, 451], "the cat's size");
          await checkDemo(run);
          console.log(`adapter: ${run.adapter}; screenshot: ${SCREENSHOT}`);
          for (const image of run.images.slice(1)) {
            console.log(
              `  ${image.title}: median ${image.medianMs!.toFixed(2)} ms, first ` +
                `${image.firstMs!.toFixed(1)} ms`,
            );
          }
          assert.deepEqual(problems, []);

          // A picture the user picks: a 7 × 5 BMP whose red channel is known exactly.
          const red = Array.from({ length: 35 }, (_, i) => (i * 37 + 11) % 256);
          await page.setInputFiles("#picture", {
            name: "picked.bmp",
            mimeType: "image/bmp",
            buffer: Buffer.from(bmp(7, 5, red)),
          });
          const picked = await demoRun(page, "picked.bmp");
          assert.deepEqual(picked.images[0].shape, [5, 7], "the picked picture's size");
          assertBitwise(
            Float32Array.from(picked.images[0].values),
            Float32Array.from(red, (r) => r / 255),
            "grey channel of the picked picture",
          );
          await checkDemo(picked);
          assert.deepEqual(problems, []);
          await page.close();
        },
      );

      await t.step(
        `every op's property, ${RUNS_PER_OP} cases each, and matmul's per variant`,
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
            ([numRuns, seed]) =>
              (globalThis as unknown as {
                runProperties: (n: number, s: number) => Promise<PropertiesRun>;
              }).runProperties(numRuns, seed),
            [RUNS_PER_OP, seed],
          );
          for (const r of result.reports) {
            console.log(`  ${r.name}: ${r.numRuns} cases in ${(r.ms / 1000).toFixed(1)} s`);
          }
          const failures = result.reports.filter((r) => r.error !== null);
          assert.equal(
            failures.length,
            0,
            failures.map((r) => `${r.name}\n${r.error}`).join("\n\n"),
          );
          assert.equal(
            result.reports.length,
            OP_PROPERTIES.length + MATMUL_VARIANTS.size,
            "a report for each op and for each matmul variant",
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
