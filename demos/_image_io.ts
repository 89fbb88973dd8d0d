/**
 * @file Pictures in and out for the image demo: opening a PNG, JPEG (both with jimp) or
 * NumPy `.npy` file, taking one channel as float32 intensities (`_grey_mapping.ts`),
 * and encoding 8-bit grey PNGs and the captioned panel.
 *
 * A picture's format is found from its first bytes, not its name, and its size is
 * known before its values are read: a `.npy` array is refused by its header alone, so
 * an array too large for the GPU is never read into memory. Every problem with a file
 * is an {@linkcode InputError} whose message names the file and what was expected.
 */
import { Jimp } from "jimp";
import { Buffer } from "node:buffer";
import { decodeNpyData, isNpy, type NpyHeader, parseNpyHeader } from "./_npy.ts";
import { DemoFailure } from "./args.ts";
import { type Channel, channelWeights, extractChannel } from "./_grey_mapping.ts";
import { type BitmapFont, type FontSize, loadFont } from "./_bitmap_font.ts";
import { Raster } from "./_raster.ts";

/** A problem with the input file: reported without a stack, exit status 1. */
export class InputError extends DemoFailure {
  /** Creates an error with a message for the user. */
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** A picture whose size is known; its values are read by {@linkcode Picture.channel}. */
export interface Picture {
  /** The path it was opened from. */
  readonly path: string;
  /** Format and layout, for the progress line: `PNG` or `npy uint8 (300, 451, 3)`. */
  readonly description: string;
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** Channels per pixel: 3 for PNG and JPEG (red, green, blue; alpha is ignored). */
  readonly channels: number;
  /**
   * Checks that the picture has channel `choice`, and returns a function that reads it,
   * row-major, as float32: 8-bit values divided by 255, float32 values as they are.
   * `luma` weighs R, G, B as BT.601; a picture with fewer than three channels is its
   * own luma.
   *
   * @throws {InputError} When the picture lacks that channel.
   */
  select(choice: Channel): () => Promise<Float32Array>;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
/** Bytes read to recognise a file and parse a `.npy` header. */
const PREFIX_BYTES = 4096;

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** Reads up to `length` bytes at `offset`, fewer only at the end of the file. */
async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

/** Weights of channel `choice` in a pixel of `channels` ({@linkcode channelWeights}). */
function weightsOf(choice: Channel, channels: number, path: string): number[] {
  const weights = channelWeights(choice, channels);
  if (!weights) {
    throw new InputError(
      `--channel ${choice}: ${path} has ${channels} channel${channels === 1 ? "" : "s"}; ` +
        `choose r${channels === 2 ? ", g" : ""} or luma`,
    );
  }
  return weights;
}

async function openWithJimp(path: string, bytes: Uint8Array, format: string): Promise<Picture> {
  let image;
  try {
    image = await Jimp.read(bytes.buffer as ArrayBuffer);
  } catch (error) {
    throw new InputError(`${path}: could not decode it as ${format}: ${(error as Error).message}`);
  }
  const { width, height, data } = image.bitmap;
  return {
    path,
    description: format,
    height,
    width,
    channels: 3,
    select: (choice) => {
      const weights = weightsOf(choice, 3, path);
      // jimp decodes to RGBA: a stride of 4.
      return () => Promise.resolve(extractChannel(data, width * height, 4, weights, 255));
    },
  };
}

function openNpy(path: string, header: NpyHeader): Picture {
  const { shape, dtype } = header;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new InputError(
      `${path}: expected a .npy array of shape (H, W) or (H, W, C), got (${shape.join(", ")})`,
    );
  }
  const [height, width, channels = 1] = shape;
  return {
    path,
    description: `npy ${dtype} (${shape.join(", ")})`,
    height,
    width,
    channels,
    select: (choice) => {
      const weights = weightsOf(choice, channels, path);
      return () => readChannel(path, header, weights);
    },
  };
}

/** Reads a `.npy` picture's data and combines its channels with `weights`. */
async function readChannel(
  path: string,
  header: NpyHeader,
  weights: readonly number[],
): Promise<Float32Array> {
  const [height, width, channels = 1] = header.shape;
  using file = await Deno.open(path);
  let values;
  try {
    values = decodeNpyData(header, await readAt(file, header.dataOffset, header.dataLength));
  } catch (error) {
    throw new InputError(`${path}: ${(error as Error).message}`);
  }
  const out = extractChannel(
    values,
    height * width,
    channels,
    weights,
    header.dtype === "uint8" ? 255 : 1,
  );
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new InputError(
      `${path}: expected finite values, got ${out[bad]} at row ${Math.floor(bad / width)}, ` +
        `column ${bad % width}`,
    );
  }
  return out;
}

/**
 * Opens a picture: a PNG or JPEG (decoded at once) or a `.npy` array (only its header
 * is read here).
 *
 * @param path The file.
 * @returns The picture, with its size.
 * @throws {InputError} When the file is missing, unreadable, not one of these formats,
 * or malformed.
 */
export async function openPicture(path: string): Promise<Picture> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new InputError(`${path}: no such file`);
    throw new InputError(`${path}: cannot be read: ${(error as Error).message}`);
  }
  using _ = file;
  const { isFile, size } = await file.stat();
  if (!isFile) throw new InputError(`${path}: expected a file, got a directory or device`);
  const prefix = await readAt(file, 0, PREFIX_BYTES);
  if (startsWith(prefix, PNG_MAGIC) || startsWith(prefix, JPEG_MAGIC)) {
    const format = startsWith(prefix, PNG_MAGIC) ? "PNG" : "JPEG";
    return openWithJimp(path, await readAt(file, 0, size), format);
  }
  if (isNpy(prefix)) {
    let header;
    try {
      header = parseNpyHeader(prefix);
    } catch (error) {
      throw new InputError(`${path}: ${(error as Error).message}`);
    }
    return openNpy(path, header);
  }
  throw new InputError(
    `${path}: not a picture: expected a PNG, JPEG or NumPy .npy file, and its first bytes ` +
      "match none of them",
  );
}

/** 8-bit grey pixels, row-major. */
export interface GreyPicture {
  /** One byte per pixel. */
  readonly bytes: Uint8Array;
  /** Columns. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
}

function toJimp({ bytes, width, height }: GreyPicture) {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < bytes.length; i++) {
    rgba.fill(bytes[i], 4 * i, 4 * i + 3);
    rgba[4 * i + 3] = 255;
  }
  return Jimp.fromBitmap({ data: rgba, width, height });
}

/**
 * Encodes an 8-bit grey PNG.
 *
 * @param picture The pixels.
 * @returns The PNG file's bytes.
 */
export async function encodeGreyPng(picture: GreyPicture): Promise<Uint8Array> {
  // colorType 0: a one-channel grey PNG (pngjs averages R, G, B, which are equal here).
  const png = await toJimp(picture).getBuffer("image/png", { colorType: 0 });
  return new Uint8Array(png);
}

const MARGIN = 16;
const CAPTION_GAP = 8;
/** Baseline to baseline, by font size. */
const LINE: Record<FontSize, number> = { 14: 18, 11: 15 };

/** `text` broken at spaces into lines no wider than `width` (a longer word keeps its line). */
function wrap(text: string, font: BitmapFont, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && font.measure(`${last} ${word}`) <= width) {
      lines[lines.length - 1] = `${last} ${word}`;
    } else lines.push(word);
  }
  return lines;
}

/**
 * Encodes pictures in a grid of `columns`, each with its caption under it, on white, in
 * the demos' font (`_bitmap_font.ts`), as a grey PNG. Captions are wrapped to the width
 * of the widest picture.
 *
 * @param cells The pictures and their captions: a title (drawn larger) and notes, in
 * reading order.
 * @param columns Pictures per row.
 * @returns The PNG file's bytes.
 */
export async function encodePanel(
  cells: readonly (GreyPicture & { caption: readonly string[] })[],
  columns: number,
): Promise<Uint8Array> {
  const fonts = [await loadFont(14), await loadFont(11)];
  const pictureWidth = Math.max(...cells.map((c) => c.width));
  const captions = cells.map((c) =>
    c.caption.flatMap((text, i) => {
      const font = fonts[i === 0 ? 0 : 1];
      return wrap(text, font, pictureWidth).map((line) => ({ line, font }));
    })
  );
  const cellWidth = Math.ceil(
    Math.max(pictureWidth, ...captions.flat().map(({ line, font }) => font.measure(line))),
  );
  const captionHeight = Math.max(
    ...captions.map((lines) => lines.reduce((h, { font }) => h + LINE[font.size], 0)),
  );
  const pictureHeight = Math.max(...cells.map((c) => c.height));
  const cellHeight = pictureHeight + CAPTION_GAP + captionHeight;
  const rows = Math.ceil(cells.length / columns);
  const panel = new Raster(
    MARGIN + columns * (cellWidth + MARGIN),
    MARGIN + rows * (cellHeight + MARGIN),
  );
  cells.forEach((cell, i) => {
    const x = MARGIN + (i % columns) * (cellWidth + MARGIN);
    const y = MARGIN + Math.floor(i / columns) * (cellHeight + MARGIN);
    panel.grey(cell, x, y);
    let baseline = y + pictureHeight + CAPTION_GAP;
    for (const { line, font } of captions[i]) {
      baseline += LINE[font.size];
      panel.text(x, baseline - 4, line, font, font === fonts[0] ? "#000000" : "#444444");
    }
  });
  return await panel.png("grey");
}
