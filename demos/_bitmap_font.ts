/**
 * @file The bitmap font of the demos' PNG pictures: DejaVu Sans at 11 and 14 pixels,
 * drawn once by `scripts/make_font.ts` into `fonts/` (licence: `fonts/LICENSE.md`). It
 * has the glyphs the SVG pictures use (λ, ‖, −, superscripts, Greek), so a PNG says
 * what its SVG twin says; a character it lacks is an error, never a silent substitute.
 */
import { Jimp } from "jimp";

/** The sizes the font was drawn at, in pixels. */
export type FontSize = 11 | 14;

/** One glyph: where its coverage is in the atlas, where it sits from the pen, its advance. */
export interface Glyph {
  /** Left of the glyph in the atlas. */
  readonly atlasX: number;
  /** Top of the glyph in the atlas. */
  readonly atlasY: number;
  /** Width of its ink box (0 for a space). */
  readonly width: number;
  /** Height of its ink box. */
  readonly height: number;
  /** Left of the ink box, from the pen. */
  readonly x: number;
  /** Top of the ink box, from the baseline (negative: above it). */
  readonly y: number;
  /** How far the pen moves after it, in pixels (fractional). */
  readonly advance: number;
}

/** The font at one size. */
export interface BitmapFont {
  /** Its size in pixels. */
  readonly size: FontSize;
  /** Height above the baseline of the tallest glyphs. */
  readonly ascent: number;
  /** Coverage of every glyph (0 none … 255 full), row-major, `atlasWidth` wide. */
  readonly atlas: Uint8Array;
  /** Width of the atlas. */
  readonly atlasWidth: number;
  /**
   * The glyph of one character.
   *
   * @throws {RangeError} When the font lacks it.
   */
  glyph(char: string): Glyph;
  /** Width of `text` in pixels: the sum of its advances. */
  measure(text: string): number;
}

interface FontFile {
  family: string;
  sizes: Record<string, {
    atlas: string;
    ascent: number;
    glyphs: Record<string, [number, number, number, number, number, number, number]>;
  }>;
}

const FONTS = new URL("fonts/", import.meta.url);
const loaded = new Map<FontSize, Promise<BitmapFont>>();

async function load(size: FontSize): Promise<BitmapFont> {
  const file = JSON.parse(
    await Deno.readTextFile(new URL("dejavu-sans.json", FONTS)),
  ) as FontFile;
  const metrics = file.sizes[size];
  const image = await Jimp.read(
    (await Deno.readFile(new URL(metrics.atlas, FONTS))).buffer as ArrayBuffer,
  );
  const { width, height, data } = image.bitmap;
  const atlas = new Uint8Array(width * height);
  for (let i = 0; i < atlas.length; i++) atlas[i] = data[4 * i];
  const glyphs = new Map(
    Object.entries(metrics.glyphs).map(([char, [atlasX, atlasY, w, h, x, y, advance]]) => [
      char,
      { atlasX, atlasY, width: w, height: h, x, y, advance },
    ]),
  );
  const glyph = (char: string): Glyph => {
    const g = glyphs.get(char);
    if (!g) {
      const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      throw new RangeError(
        `${file.family} ${size}px has no glyph for "${char}" (U+${code}); ` +
          "add it to scripts/make_font.ts and run that again",
      );
    }
    return g;
  };
  return {
    size,
    ascent: metrics.ascent,
    atlas,
    atlasWidth: width,
    glyph,
    measure: (text) => [...text].reduce((w, char) => w + glyph(char).advance, 0),
  };
}

/**
 * The demos' font at `size`, loaded once per process.
 *
 * @param size 11 or 14 pixels.
 * @returns The font.
 */
export function loadFont(size: FontSize): Promise<BitmapFont> {
  let font = loaded.get(size);
  if (!font) loaded.set(size, font = load(size));
  return font;
}
