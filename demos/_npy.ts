/**
 * @file NumPy's `.npy` format, the part the image demo needs: reading uint8 or float32
 * arrays in C order, and writing float32 arrays, so that results can be checked with
 * `numpy.load`. Reading is split into the header and the data, so that a caller can
 * refuse an array by its shape before reading (and allocating) its values.
 *
 * Format (numpy/lib/format.py): the magic `\x93NUMPY`, a major and a minor version byte,
 * the header length (2 bytes little-endian in version 1, 4 bytes in versions 2 and 3),
 * then an ASCII (version 3: UTF-8) Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (300, 451), }`, padded with spaces
 * and a newline so that the data starts at a multiple of 64 bytes. Values are read and
 * written in the platform's byte order, little-endian on every platform Deno runs on.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGNMENT = 64;

/** Element types the reader accepts, by their NumPy `descr`. */
const DTYPES: Record<string, NpyDtype> = { "|u1": "uint8", "<u1": "uint8", "<f4": "float32" };

/** An element type the reader accepts. */
export type NpyDtype = "uint8" | "float32";

/** What a `.npy` header says. */
export interface NpyHeader {
  /** The element type. */
  readonly dtype: NpyDtype;
  /** The dimensions, C (row-major) order. */
  readonly shape: readonly number[];
  /** Byte offset of the first element. */
  readonly dataOffset: number;
  /** Bytes of data the shape and type call for. */
  readonly dataLength: number;
}

/** Whether `bytes` start with the `.npy` magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parses a `.npy` header.
 *
 * @param bytes The start of the file, at least up to the end of the header.
 * @returns The element type, shape and where the data lies.
 * @throws {Error} When the bytes are not a `.npy` header of a C-order uint8 or float32
 * array; the message says what was found.
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  if (!isNpy(bytes)) throw new Error("not a .npy file (no \\x93NUMPY magic)");
  const major = bytes[6];
  if (major < 1 || major > 3) {
    throw new Error(`expected .npy format version 1, 2 or 3, got ${major}.${bytes[7]}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw new Error("truncated .npy header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = prefix + headerLength;
  if (bytes.length < dataOffset) throw new Error("truncated .npy header");
  const decoder = new TextDecoder(major === 3 ? "utf-8" : "latin1");
  const header = decoder.decode(bytes.subarray(prefix, dataOffset));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`malformed .npy header: ${header.trim()}`);
  }
  const dtype = DTYPES[descr];
  if (!dtype) {
    throw new Error(
      `expected a .npy array of uint8 ('|u1') or little-endian float32 ('<f4'), got '${descr}'`,
    );
  }
  if (fortran === "True") {
    throw new Error(
      "expected a C-order .npy array, got fortran_order True (save np.ascontiguousarray(a))",
    );
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`malformed .npy shape (${shapeText})`);
  }
  const itemSize = dtype === "uint8" ? 1 : 4;
  const dataLength = shape.reduce((a, b) => a * b, 1) * itemSize;
  return { dtype, shape, dataOffset, dataLength };
}

/**
 * Decodes the data that follows a header.
 *
 * @param header From {@linkcode parseNpyHeader}.
 * @param data The bytes after the header: exactly `header.dataLength` of them.
 * @returns The values, as the header's element type.
 * @throws {Error} When the byte count differs from what the shape calls for.
 */
export function decodeNpyData(header: NpyHeader, data: Uint8Array): Uint8Array | Float32Array {
  if (data.length !== header.dataLength) {
    throw new Error(
      `expected ${header.dataLength} bytes of data for ${header.dtype} shape ` +
        `(${header.shape.join(", ")}), got ${data.length}`,
    );
  }
  const copy = data.slice(); // aligned, and detached from the caller's buffer
  return header.dtype === "uint8" ? copy : new Float32Array(copy.buffer);
}

/**
 * Reads a whole `.npy` file held in memory.
 *
 * @param bytes The file's contents.
 * @returns The header and the values.
 */
export function decodeNpy(
  bytes: Uint8Array,
): { header: NpyHeader; values: Uint8Array | Float32Array } {
  const header = parseNpyHeader(bytes);
  return { header, values: decodeNpyData(header, bytes.subarray(header.dataOffset)) };
}

/**
 * The header of a version 1.0 `.npy` file of float32 values (`'<f4'`, C order): the data
 * follows it directly.
 *
 * @param shape The dimensions.
 * @returns The header's bytes, a multiple of 64 long.
 */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + dict.length + 1; // prefix, dict, newline
  const text = dict + " ".repeat((ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT) + "\n";
  const out = new Uint8Array(10 + text.length);
  out.set(MAGIC);
  out.set([1, 0], 6);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/**
 * Encodes a float32 array as a version 1.0 `.npy` file (`'<f4'`, C order).
 *
 * @param values Row-major values; as many as the shape calls for.
 * @param shape The dimensions.
 * @returns The file's bytes.
 */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== values.length) {
    throw new RangeError(
      `encodeNpy: expected ${size} values for shape [${shape.join(", ")}], got ${values.length}`,
    );
  }
  const header = npyHeader(shape);
  const out = new Uint8Array(header.length + values.byteLength);
  out.set(header);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), header.length);
  return out;
}
