/**
 * @file safetensors, the format PyTorch, JAX and Hugging Face exchange weights in: 8 bytes
 * (a little-endian u64 N), N bytes of UTF-8 JSON — `{ "__metadata__"?: { string: string },
 * name: { "dtype", "shape", "data_offsets": [begin, end] } }`, offsets counted from the byte
 * after the header — then the tensors' raw little-endian bytes, which must cover the data
 * exactly, without gaps or overlaps.
 *
 * The writer reproduces the layout of Python's `safetensors` byte for byte: tensors ordered
 * by dtype alignment, then by name in UTF-8 byte order (code points, not JavaScript's UTF-16
 * order), compact JSON, and the header padded with spaces so the data starts at a multiple
 * of 8 bytes (`tests/fixtures/python.safetensors`, made by `scripts/safetensors_fixture.py`,
 * is the check). Python writes metadata in hash-map order; here it keeps the order given.
 *
 * The reader treats the bytes as hostile: every length, offset, dtype and shape is checked,
 * and the regions against each other, before any tensor is allocated; then all are. It is
 * stricter than Python's reader where Python's would guess: a key given twice (JSON allows
 * it; Python keeps the last), an unknown field in a tensor's entry, and trailing bytes no
 * tensor holds are errors. Zero-size tensors, which the library does not have, are refused.
 *
 * The library's types are the file's F32, F16, I32, U32 and BOOL (a byte, 0 or 1); the
 * format's other dtypes (BF16, F64, I8, …) are refused by name. Values are copied as bytes,
 * so NaN payloads and subnormals survive; like the backends' uploads, this assumes a
 * little-endian host, as every WebGPU host is.
 */
import { checkArity, checkBackend, checkOptions, checkTensors } from "./_validate.ts";
import { ALL_TYPES, type DType, type StorageArray } from "./dtype.ts";
import { type Backend, describe, formatShape, type Tensor } from "./tensor.ts";

const SAVE = "saveSafetensors";
const LOAD = "loadSafetensors";

/** The key of the header's metadata, which no tensor may have as its name. */
const METADATA_KEY = "__metadata__";

/** The dtypes of the format (safetensors 0.8); {@linkcode FILE_TYPES} are the library's. */
const DTYPES: ReadonlySet<string> = new Set([
  "BOOL",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F8_E4M3FNUZ",
  "F8_E5M2FNUZ",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "C64",
  "F64",
  "I64",
  "U64",
]);

/** An element type of the library as a file holds it. */
interface FileType {
  readonly dtype: DType;
  /** The format's name for it. */
  readonly name: string;
  /** Bytes a value takes in the file. */
  readonly bytes: number;
  /** The host array over a tensor's bytes. */
  readonly array: (bytes: ArrayBuffer) => StorageArray;
}

/**
 * The library's types in the file, in the order Python's writer places them (its `Dtype`
 * enum, descending: F32, U32, I32, F16, BOOL; names in code point order within one).
 */
const FILE_TYPES: readonly FileType[] = [
  { dtype: "float32", name: "F32", bytes: 4, array: (b) => new Float32Array(b) },
  { dtype: "uint32", name: "U32", bytes: 4, array: (b) => new Uint32Array(b) },
  { dtype: "int32", name: "I32", bytes: 4, array: (b) => new Int32Array(b) },
  { dtype: "float16", name: "F16", bytes: 2, array: (b) => new Float16Array(b) },
  { dtype: "bool", name: "BOOL", bytes: 1, array: (b) => new Uint8Array(b) },
];

/** The file's description of a tensor of `dtype`. */
const fileTypeOf = (dtype: DType): FileType => FILE_TYPES.find((t) => t.dtype === dtype)!;

/** The fields of a tensor's entry in the header, in the order Python writes them. */
const ENTRY_FIELDS = ["dtype", "shape", "data_offsets"];

/** Options of {@linkcode saveSafetensors}. */
export interface SaveSafetensorsOptions {
  /** Free-form text written as the header's `__metadata__` (string keys and values only). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes tensors in the safetensors format (float32 as F32, float16 F16, int32 I32, uint32
 * U32, bool BOOL), the bytes Python's `safetensors` writes for the same arrays: PyTorch
 * (`safetensors.torch.load`), JAX and NumPy read them.
 *
 * @param tensors Live tensors of one backend by name: non-empty names other than
 * `"__metadata__"`. Each is read once, all at the same time (one wait on WebGPU).
 * @param options `metadata`: strings by string keys, for the header's `__metadata__`.
 * @returns The file's bytes.
 * @example
 * ```ts
 * import { cpu, loadSafetensors, saveSafetensors } from "@deno-gpu/kernels";
 * const ref = cpu();
 * using w = ref.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
 * using b = ref.tensor([0.5, -0.5]);
 * const bytes = await saveSafetensors({ w, b }, { metadata: { epochs: "30" } });
 * console.log(bytes.length); // 184: 8 + a 144-byte header + 32 bytes of values
 * const loaded = loadSafetensors(ref, bytes);
 * console.log(loaded.w.shape, await loaded.w.read()); // [2, 3] Float32Array [1, 2, 3, 4, 5, 6]
 * Object.values(loaded).forEach((t) => t.dispose());
 * ```
 */
export async function saveSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  options?: SaveSafetensorsOptions,
): Promise<Uint8Array> {
  checkArity(SAVE, arguments, 2);
  if (!isRecord(tensors)) {
    throw new TypeError(
      `${SAVE}: expected tensors as an object of tensors by name, got ${describe(tensors)}`,
    );
  }
  const given = Object.keys(tensors);
  for (const name of given) checkName(SAVE, name);
  if (given.length > 0) {
    checkTensors(
      SAVE,
      Object.fromEntries(given.map((name) => [`tensors[${JSON.stringify(name)}]`, tensors[name]])),
      ALL_TYPES,
    );
  }
  // Python's order: by dtype (FILE_TYPES'), then by name in code points.
  const rank = (name: string) => FILE_TYPES.indexOf(fileTypeOf(tensors[name].dtype));
  const names = given.sort((a, b) => rank(a) - rank(b) || byCodePoints(a, b));
  const list = names.map((name) => tensors[name]);
  const metadata = checkMetadata(SAVE, checkOptions(SAVE, options, false, ["metadata"]).metadata);
  const values = await Promise.all(list.map((t) => t.read()));

  let offset = 0;
  const entries = names.map((name, i) => {
    const entry = {
      dtype: fileTypeOf(list[i].dtype).name,
      shape: list[i].shape,
      data_offsets: [offset, offset += values[i].byteLength],
    };
    return `${JSON.stringify(name)}:${JSON.stringify(entry)}`;
  });
  if (metadata) entries.unshift(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  const json = new TextEncoder().encode(`{${entries.join(",")}}`);
  // Spaces after the JSON, so that the data starts at a multiple of 8 bytes (as Python pads).
  const headerLength = json.length + (8 - json.length % 8) % 8;
  const bytes = new Uint8Array(8 + headerLength + offset).fill(
    0x20,
    8 + json.length,
    8 + headerLength,
  );
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  let at = 8 + headerLength;
  for (const v of values) {
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    at += v.byteLength;
  }
  return bytes;
}

/**
 * Reads a safetensors file (F32, F16, I32, U32 and BOOL tensors) into tensors of the
 * matching types on `backend`. Every byte of the file is checked before anything is
 * allocated: a truncated file, a header length past the end, a header that is not a JSON
 * object, a key given twice, offsets out of range, overlapping or leaving gaps, another
 * dtype, a BOOL byte other than 0 or 1, a type the backend cannot hold (F16 without
 * shader-f16), or a shape that does not match its bytes is a `TypeError` or `RangeError`
 * naming `loadSafetensors` and allocates nothing.
 *
 * @param backend Where the tensors go.
 * @param bytes The file, as from `Deno.readFile` or {@linkcode saveSafetensors}.
 * @returns A new tensor per name (the caller owns them); the metadata is checked, not returned.
 * @example
 * ```ts
 * import { cpu, loadSafetensors } from "@deno-gpu/kernels";
 * // A file as Python's safetensors writes it: { "x": F32 [2], data_offsets [0, 8] }.
 * const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
 * const bytes = new Uint8Array(8 + header.length + 8);
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
 * bytes.set(new TextEncoder().encode(header), 8);
 * new DataView(bytes.buffer).setFloat32(8 + header.length + 4, 2.5, true);
 * const { x } = loadSafetensors(cpu(), bytes);
 * console.log(x.shape, await x.read()); // [2] Float32Array [0, 2.5]
 * x.dispose();
 * ```
 */
export function loadSafetensors(backend: Backend, bytes: Uint8Array): Record<string, Tensor> {
  checkArity(LOAD, arguments, 2);
  const owner = checkBackend(LOAD, backend);
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `${LOAD}: expected the file's bytes as a Uint8Array, got ${describe(bytes)}`,
    );
  }
  const { entries, dataStart } = readLayout(bytes, owner.maxElements);
  for (const { name, type, begin, end } of entries) {
    if (!owner.supports(type.dtype)) {
      throw new TypeError(
        `${LOAD}: expected tensor ${JSON.stringify(name)} to have a type ${owner.name} ` +
          `holds, got ${type.name} (${type.dtype}: see backend.supports)`,
      );
    }
    if (type.dtype !== "bool") continue;
    const at = bytes.subarray(dataStart + begin, dataStart + end).findIndex((b) => b > 1);
    if (at >= 0) {
      throw new RangeError(
        `${LOAD}: expected tensor ${JSON.stringify(name)} (BOOL) to hold bytes 0 and 1, got ${
          bytes[dataStart + begin + at]
        } at element ${at}`,
      );
    }
  }
  const made: [string, Tensor][] = [];
  try {
    for (const { name, type, shape, begin, end } of entries) {
      const values = type.array(bytes.slice(dataStart + begin, dataStart + end).buffer);
      made.push([name, owner.tensor(values, shape)]);
    }
  } catch (error) {
    made.forEach(([, t]) => t.dispose());
    throw error;
  }
  // fromEntries defines properties, so a tensor named "__proto__" is a tensor, not a prototype.
  return Object.fromEntries(made);
}

/** One tensor of a checked file: its name, type, shape and byte range within the data. */
interface Entry {
  readonly name: string;
  readonly type: FileType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** Checks a whole file; returns its tensors and where their data starts. */
function readLayout(
  bytes: Uint8Array,
  maxElements: number,
): { entries: Entry[]; dataStart: number } {
  if (bytes.length < 8) {
    throw new RangeError(
      `${LOAD}: expected at least 8 bytes (the header's length), got a truncated file of ${bytes.length}`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(bytes.length - 8)) {
    throw new RangeError(
      `${LOAD}: expected a header length of at most ${
        bytes.length - 8
      } (the bytes after the length), got ${length}`,
    );
  }
  const dataStart = 8 + Number(length);
  const header = parseHeader(bytes.subarray(8, dataStart));
  const dataLength = bytes.length - dataStart;
  const entries = Object.entries(header).filter(([name]) => name !== METADATA_KEY).map((
    [name, entry],
  ) => checkEntry(name, entry, dataLength, maxElements));
  checkCoverage(entries, dataLength);
  return { entries, dataStart };
}

/** Decodes and parses the header: UTF-8, JSON, an object, each key once, string metadata. */
function parseHeader(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // fatal: invalid UTF-8 is an error; ignoreBOM: a byte-order mark stays, and JSON refuses it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new TypeError(`${LOAD}: expected the header to be UTF-8 text, got invalid UTF-8 bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`${LOAD}: expected the header to be JSON, got ${(error as Error).message}`);
  }
  if (!isRecord(header)) {
    throw new TypeError(
      `${LOAD}: expected the header to be a JSON object, got ${describe(header)}`,
    );
  }
  const twice = duplicateKey(text);
  if (twice !== undefined) {
    throw new TypeError(
      `${LOAD}: expected each key of the header once, got ${JSON.stringify(twice)} twice`,
    );
  }
  // Python's reader takes a null __metadata__ as none.
  if (header[METADATA_KEY] !== null) checkMetadata(LOAD, header[METADATA_KEY]);
  return header;
}

/** Checks one tensor's entry against the data's length and the backend's largest tensor. */
function checkEntry(name: string, entry: unknown, dataLength: number, maxElements: number): Entry {
  const what = `tensor ${JSON.stringify(name)}`;
  const fields = isRecord(entry) ? Object.keys(entry) : [];
  if (
    !isRecord(entry) || fields.length !== ENTRY_FIELDS.length ||
    !ENTRY_FIELDS.every((f) => fields.includes(f))
  ) {
    throw new TypeError(
      `${LOAD}: expected ${what} to be an object of ${ENTRY_FIELDS.join(", ")}, got ${
        isRecord(entry) ? `one with ${fields.join(", ") || "no fields"}` : describe(entry)
      }`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string" || !DTYPES.has(dtype)) {
    throw new TypeError(
      `${LOAD}: expected ${what} to have a safetensors dtype, got ${describe(dtype)}`,
    );
  }
  const type = FILE_TYPES.find((t) => t.name === dtype);
  if (!type) {
    throw new TypeError(
      `${LOAD}: expected ${what} to have one of the library's dtypes, ${
        FILE_TYPES.map((t) => t.name).join(", ")
      }, got ${dtype}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new RangeError(
      `${LOAD}: expected ${what}'s shape to be integers ≥ 1 (zero-size tensors are not supported), got ${
        JSON.stringify(shape)
      }`,
    );
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0 && o <= dataLength) ||
    offsets[0] > offsets[1]
  ) {
    throw new RangeError(
      `${LOAD}: expected ${what}'s data_offsets to be [begin, end] with 0 ≤ begin ≤ end ≤ ${dataLength} (the data's length), got ${
        JSON.stringify(offsets)
      }`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const size = shape.reduce((a: number, d: number) => a * d, 1);
  if (size * type.bytes !== end - begin) {
    throw new RangeError(
      `${LOAD}: expected ${what} of shape ${formatShape(shape)} to hold ${
        size * type.bytes
      } bytes (${dtype}), got data_offsets [${begin}, ${end}]: ${end - begin} bytes`,
    );
  }
  if (size > maxElements) {
    throw new RangeError(
      `${LOAD}: expected ${what} to have at most ${maxElements} elements (the backend's largest tensor), got ${size}`,
    );
  }
  return { name, type, shape, begin, end };
}

/** Checks that the tensors' byte ranges tile `[0, dataLength)`: no gap, no overlap. */
function checkCoverage(entries: readonly Entry[], dataLength: number): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin);
  let covered = 0;
  let previous: Entry | undefined;
  for (const entry of [...ordered, undefined]) {
    const begin = entry?.begin ?? dataLength;
    if (begin > covered) {
      throw new RangeError(
        `${LOAD}: expected the tensors' data to cover the ${dataLength} bytes after the header with no gap, got bytes [${covered}, ${begin}) that no tensor holds`,
      );
    }
    if (entry && begin < covered) {
      throw new RangeError(
        `${LOAD}: expected the tensors' data not to overlap, got ${
          JSON.stringify(previous!.name)
        } [${previous!.begin}, ${previous!.end}) and ${
          JSON.stringify(entry.name)
        } [${entry.begin}, ${entry.end})`,
      );
    }
    if (entry) [covered, previous] = [entry.end, entry];
  }
}

/**
 * The first key that some object of `json` (valid JSON) gives twice, or `undefined`.
 * `JSON.parse` keeps the last of them silently, so this reads the text itself: a string
 * followed by a colon is a key of the innermost open object.
 */
function duplicateKey(json: string): string | undefined {
  const open: (Set<string> | null)[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === "{" || c === "[") open.push(c === "{" ? new Set() : null);
    else if (c === "}" || c === "]") open.pop();
    else if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
      let next = end + 1;
      while (/\s/.test(json[next] ?? "")) next++;
      const keys = open.at(-1);
      if (keys && json[next] === ":") {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}

/** Checks a tensor's name for a file: a non-empty, well-formed string, not the metadata's key. */
function checkName(op: string, name: string): void {
  if (name === "" || name === METADATA_KEY || !isWellFormed(name)) {
    throw new TypeError(
      `${op}: expected tensor names to be non-empty Unicode text other than "${METADATA_KEY}", got ${
        JSON.stringify(name)
      }`,
    );
  }
}

/** Checks metadata: absent, or an object of strings by (well-formed) string keys. */
function checkMetadata(op: string, metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (!isRecord(metadata)) {
    throw new TypeError(
      `${op}: expected metadata to be an object of strings, got ${describe(metadata)}`,
    );
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string" || !isWellFormed(key) || !isWellFormed(value)) {
      throw new TypeError(
        `${op}: expected metadata to be an object of Unicode strings, got ${describe(value)} for ${
          JSON.stringify(key)
        }`,
      );
    }
  }
  return metadata as Record<string, string>;
}

/** Whether `value` is a plain object (an object literal or `Object.create(null)`). */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Orders strings by code point, as Rust (and so Python's safetensors) orders names. */
function byCodePoints(a: string, b: string): number {
  const [x, y] = [Array.from(a, (c) => c.codePointAt(0)!), Array.from(b, (c) => c.codePointAt(0)!)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * Whether `text` holds no lone surrogate, so that it survives UTF-8 and back unchanged
 * (ES2024's `String.prototype.isWellFormed`, written out for the ES2022 the browser build
 * targets).
 */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
