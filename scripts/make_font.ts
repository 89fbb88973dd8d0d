/**
 * @file `deno run -A scripts/make_font.ts`: makes the bitmap font the demos draw text in
 * on PNG pictures (`demos/fonts/`), so that a PNG shows the same glyphs as its SVG twin
 * (λ, ‖w‖, 10⁻², −), which jimp's bundled ASCII fonts cannot.
 *
 * Chromium (the browser test's, through playwright-core) draws each glyph of DejaVu
 * Sans, the SVG's first font family, on a canvas at each size; the coverage of every
 * glyph is packed into one grey atlas per size (white is ink) and its placement and
 * advance go into `dejavu-sans.json`. The atlases are committed: the demos need neither
 * Chromium nor the font installed. Run it again only to add glyphs or sizes.
 */
import { chromium } from "playwright-core";
import { Jimp } from "jimp";

/** Pixel sizes made: the SVG's 11 px (ticks, labels) and 14 px (titles, captions). */
const SIZES = [11, 14];
/** Every glyph the demos may draw: printable ASCII, Greek, and the math they write. */
const CHARACTERS = [
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
  ..."αβγδεζηθικλμνξοπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
  ..."‖−±×·÷≤≥≈≠∞√∑∂∇→←↑↓…–—‘’“”°µ½¼¾²³¹⁰⁴⁵⁶⁷⁸⁹⁻⁺ⁿ⊛∈ℝé",
].join("");
const FAMILY = "DejaVu Sans";
const OUT = new URL("../demos/fonts/", import.meta.url);

/** One glyph as drawn by the page: its ink box relative to the pen and its coverage. */
interface DrawnGlyph {
  char: string;
  advance: number;
  x: number;
  y: number;
  width: number;
  height: number;
  coverage: number[];
}

/** The part of a browser's 2-D canvas context used here (Deno's types have none). */
interface Context2D {
  font: string;
  fillStyle: string;
  fillRect(x: number, y: number, width: number, height: number): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): {
    width: number;
    fontBoundingBoxAscent: number;
    fontBoundingBoxDescent: number;
  };
  getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray };
}

/** Runs in the page: draws each character alone and crops it to its ink. */
function drawGlyphs(
  [family, size, characters]: [string, number, string],
): { ascent: number; descent: number; glyphs: DrawnGlyph[] } {
  const side = size * 3, pen = size, baseline = Math.round(size * 2);
  const canvas = new OffscreenCanvas(side, side);
  const context = (canvas as unknown as {
    getContext(kind: "2d", options: { willReadFrequently: boolean }): Context2D;
  }).getContext("2d", { willReadFrequently: true });
  context.font = `${size}px "${family}"`;
  const line = context.measureText("Hg");
  const glyphs = [...characters].map((char) => {
    context.fillStyle = "black";
    context.fillRect(0, 0, side, side);
    context.fillStyle = "white";
    context.fillText(char, pen, baseline);
    const { data } = context.getImageData(0, 0, side, side);
    let [left, top, right, bottom] = [side, side, -1, -1];
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        if (data[4 * (y * side + x)] > 0) {
          [left, top] = [Math.min(left, x), Math.min(top, y)];
          [right, bottom] = [Math.max(right, x), Math.max(bottom, y)];
        }
      }
    }
    const advance = context.measureText(char).width;
    if (right < 0) return { char, advance, x: 0, y: 0, width: 0, height: 0, coverage: [] };
    const width = right - left + 1, height = bottom - top + 1;
    const coverage = [];
    for (let y = top; y <= bottom; y++) {
      for (let x = left; x <= right; x++) coverage.push(data[4 * (y * side + x)]);
    }
    return { char, advance, x: left - pen, y: top - baseline, width, height, coverage };
  });
  return {
    ascent: line.fontBoundingBoxAscent,
    descent: line.fontBoundingBoxDescent,
    glyphs,
  };
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const metrics: Record<string, unknown> = {};
try {
  const page = await browser.newPage();
  await page.setContent("<!doctype html><title>font</title>");
  for (const size of SIZES) {
    const drawn = await page.evaluate(drawGlyphs, [FAMILY, size, CHARACTERS] as [
      string,
      number,
      string,
    ]);
    // Shelf packing: glyphs in rows of at most 512 pixels, one pixel apart.
    const atlasWidth = 512;
    let [x, y, rowHeight] = [0, 0, 0];
    const placed = drawn.glyphs.map((g) => {
      if (x + g.width > atlasWidth) [x, y, rowHeight] = [0, y + rowHeight + 1, 0];
      const at = { ...g, atlasX: x, atlasY: y };
      x += g.width + 1;
      rowHeight = Math.max(rowHeight, g.height);
      return at;
    });
    const atlasHeight = y + rowHeight;
    const atlas = new Jimp({ width: atlasWidth, height: atlasHeight, color: 0x000000ff });
    for (const g of placed) {
      g.coverage.forEach((c, i) => {
        const px = g.atlasX + (i % g.width), py = g.atlasY + Math.floor(i / g.width);
        atlas.bitmap.data.fill(c, 4 * (py * atlasWidth + px), 4 * (py * atlasWidth + px) + 3);
      });
    }
    const file = `dejavu-sans-${size}.png`;
    await Deno.writeFile(
      new URL(file, OUT),
      new Uint8Array(await atlas.getBuffer("image/png", { colorType: 0 })),
    );
    metrics[size] = {
      atlas: file,
      ascent: drawn.ascent,
      descent: drawn.descent,
      // char: [atlas x, atlas y, width, height, x from the pen, y from the baseline, advance]
      glyphs: Object.fromEntries(
        placed.map((g) => [g.char, [
          g.atlasX,
          g.atlasY,
          g.width,
          g.height,
          g.x,
          g.y,
          Math.round(g.advance * 1000) / 1000,
        ]]),
      ),
    };
    console.log(`${file}: ${placed.length} glyphs, ${atlasWidth} × ${atlasHeight}`);
  }
} finally {
  await browser.close();
}
const json = new URL("dejavu-sans.json", OUT);
await Deno.writeTextFile(json, JSON.stringify({ family: FAMILY, sizes: metrics }) + "\n");
// In the layout `deno fmt` keeps, so that `deno task check` passes on what this writes.
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", json.pathname] }).output();
