/**
 * @file A small RGB canvas for the demos' PNG pictures: antialiased lines (solid or
 * dashed), filled circles and rectangles, text in the demos' bitmap font
 * (`_bitmap_font.ts`), and grey pictures pasted in; encoded as PNG by jimp.
 *
 * Shapes are drawn by coverage: a pixel's share of a line of width w is how much of it
 * lies within w/2 of the line, estimated from its centre's distance (1 inside, 0 a pixel
 * beyond, linear between), and each shape blends its colour once by its largest
 * coverage, so the joints of a polyline do not darken.
 */
import { Jimp } from "jimp";
import type { BitmapFont } from "./_bitmap_font.ts";

/** A CSS colour `#rrggbb`. */
export type Color = string;

type Point = readonly [number, number];

function rgb(color: Color): [number, number, number] {
  const v = parseInt(color.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Distance from p to the segment a–b. */
function segmentDistance([px, py]: Point, [ax, ay]: Point, [bx, by]: Point): number {
  const [dx, dy] = [bx - ax, by - ay];
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0
    ? 0
    : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Splits a polyline into the pieces a dash pattern `[on, off]` keeps. */
function dashes(points: readonly Point[], [on, off]: readonly [number, number]): Point[][] {
  const pieces: Point[][] = [];
  let phase = 0; // distance into the current on + off period
  let current: Point[] | null = [points[0]];
  for (let i = 1; i < points.length; i++) {
    let a = points[i - 1];
    const b = points[i];
    let remaining = Math.hypot(b[0] - a[0], b[1] - a[1]);
    while (remaining > 1e-9) {
      const step = Math.min(phase < on ? on - phase : on + off - phase, remaining);
      const t = step / remaining;
      a = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
      current?.push(a);
      phase += step;
      remaining -= step;
      if (current && phase >= on) {
        pieces.push(current);
        current = null;
      }
      if (phase >= on + off) {
        phase = 0;
        current = [a];
      }
    }
  }
  if (current && current.length > 1) pieces.push(current);
  return pieces;
}

/** An RGB picture to draw on. */
export class Raster {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Pixels, RGBA (alpha always 255), row-major. */
  readonly data: Uint8Array;

  /** A `width × height` picture filled with `background`. */
  constructor(width: number, height: number, background: Color = "#ffffff") {
    this.width = Math.ceil(width);
    this.height = Math.ceil(height);
    this.data = new Uint8Array(this.width * this.height * 4);
    const [r, g, b] = rgb(background);
    for (let i = 0; i < this.width * this.height; i++) this.data.set([r, g, b, 255], 4 * i);
  }

  /** Blends `color` onto pixel (x, y) with opacity `alpha` in [0, 1]. */
  #blend(x: number, y: number, [r, g, b]: readonly number[], alpha: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height || alpha <= 0) return;
    const i = 4 * (y * this.width + x), a = Math.min(1, alpha);
    this.data[i] = Math.round(this.data[i] + (r - this.data[i]) * a);
    this.data[i + 1] = Math.round(this.data[i + 1] + (g - this.data[i + 1]) * a);
    this.data[i + 2] = Math.round(this.data[i + 2] + (b - this.data[i + 2]) * a);
  }

  /**
   * Blends `color` by the coverage `cover(cx, cy)` of each pixel (centre cx, cy) in the
   * box [x0, x1] × [y0, y1].
   */
  #shade(
    [x0, y0, x1, y1]: readonly number[],
    color: Color,
    cover: (cx: number, cy: number) => number,
  ): void {
    const c = rgb(color);
    for (let y = Math.max(0, Math.floor(y0)); y <= Math.min(this.height - 1, Math.ceil(y1)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x <= Math.min(this.width - 1, Math.ceil(x1)); x++) {
        this.#blend(x, y, c, cover(x + 0.5, y + 0.5));
      }
    }
  }

  /**
   * Draws a polyline.
   *
   * @param points Its vertices, in pixels.
   * @param color Its colour.
   * @param width Its width in pixels.
   * @param dash `[on, off]` lengths for a dashed line.
   */
  polyline(points: readonly Point[], color: Color, width: number, dash?: [number, number]): void {
    if (points.length < 2) return;
    const pieces = dash ? dashes(points, dash) : [points];
    const pad = width / 2 + 1;
    for (const piece of pieces) {
      // Each pixel's coverage is its largest over the segments; only pixels near a
      // segment are visited, so a long curve costs its length, not its bounding box.
      const xs = piece.map((p) => p[0]), ys = piece.map((p) => p[1]);
      const left = Math.max(0, Math.floor(Math.min(...xs) - pad));
      const top = Math.max(0, Math.floor(Math.min(...ys) - pad));
      const right = Math.min(this.width - 1, Math.ceil(Math.max(...xs) + pad));
      const bottom = Math.min(this.height - 1, Math.ceil(Math.max(...ys) + pad));
      if (right < left || bottom < top) continue;
      const span = right - left + 1;
      const coverage = new Float32Array(span * (bottom - top + 1));
      for (let i = 1; i < piece.length; i++) {
        const [a, b] = [piece[i - 1], piece[i]];
        const y0 = Math.max(top, Math.floor(Math.min(a[1], b[1]) - pad));
        const y1 = Math.min(bottom, Math.ceil(Math.max(a[1], b[1]) + pad));
        const x0 = Math.max(left, Math.floor(Math.min(a[0], b[0]) - pad));
        const x1 = Math.min(right, Math.ceil(Math.max(a[0], b[0]) + pad));
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            const d = segmentDistance([x + 0.5, y + 0.5], a, b);
            const c = Math.max(0, Math.min(1, width / 2 + 0.5 - d));
            const k = (y - top) * span + (x - left);
            if (c > coverage[k]) coverage[k] = c;
          }
        }
      }
      this.#shade(
        [left, top, right, bottom],
        color,
        (cx, cy) => coverage[(cy - 0.5 - top) * span + (cx - 0.5 - left)],
      );
    }
  }

  /** Fills a circle of radius `r` centred on (x, y). */
  circle(x: number, y: number, r: number, color: Color): void {
    this.#shade(
      [x - r - 1, y - r - 1, x + r + 1, y + r + 1],
      color,
      (cx, cy) => Math.max(0, Math.min(1, r + 0.5 - Math.hypot(cx - x, cy - y))),
    );
  }

  /** Fills the rectangle with corner (x, y), pixel-aligned. */
  rect(x: number, y: number, width: number, height: number, color: Color): void {
    this.#shade([x, y, x + width - 1, y + height - 1], color, () => 1);
  }

  /**
   * Draws `text` in `font`.
   *
   * @param x Where the anchor is.
   * @param y The baseline.
   * @param text One line.
   * @param font The font and size.
   * @param color Its colour.
   * @param anchor Whether `x` is the text's start, middle or end.
   * @throws {RangeError} When the font lacks a character of `text`.
   */
  text(
    x: number,
    y: number,
    text: string,
    font: BitmapFont,
    color: Color = "#000000",
    anchor: "start" | "middle" | "end" = "start",
  ): void {
    const width = font.measure(text);
    let pen = anchor === "start" ? x : anchor === "middle" ? x - width / 2 : x - width;
    const c = rgb(color), baseline = Math.round(y);
    for (const char of text) {
      const g = font.glyph(char);
      const left = Math.round(pen) + g.x, top = baseline + g.y;
      for (let row = 0; row < g.height; row++) {
        for (let col = 0; col < g.width; col++) {
          const coverage = font.atlas[(g.atlasY + row) * font.atlasWidth + g.atlasX + col];
          this.#blend(left + col, top + row, c, coverage / 255);
        }
      }
      pen += g.advance;
    }
  }

  /** Pastes 8-bit grey pixels with their top-left corner at (x, y), rounded to a pixel. */
  grey(picture: { bytes: Uint8Array; width: number; height: number }, x: number, y: number): void {
    [x, y] = [Math.round(x), Math.round(y)];
    for (let row = 0; row < picture.height; row++) {
      for (let col = 0; col < picture.width; col++) {
        const v = picture.bytes[row * picture.width + col];
        this.#blend(x + col, y + row, [v, v, v], 1);
      }
    }
  }

  /**
   * The picture as PNG bytes, without alpha.
   *
   * @param kind `rgb`, or `grey` for a picture drawn in greys only (a third of the size).
   */
  async png(kind: "rgb" | "grey" = "rgb"): Promise<Uint8Array> {
    const image = Jimp.fromBitmap({ data: this.data, width: this.width, height: this.height });
    // colorType 0 is grey (pngjs averages R, G, B, which are equal in a grey picture), 2 RGB.
    const colorType = kind === "grey" ? 0 : 2;
    return new Uint8Array(await image.getBuffer("image/png", { colorType }));
  }
}
