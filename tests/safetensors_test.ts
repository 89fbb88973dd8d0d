/**
 * @file safetensors: files made by Python's `safetensors` (`tests/fixtures/python.safetensors`
 * and `python_types.safetensors`, one tensor of each type, written by `python3
 * scripts/safetensors_fixture.py` with safetensors 0.8.0) load with their values bit for bit
 * on both backends, and `saveSafetensors` writes the same tensors to the same bytes — so what
 * we write, Python reads; any tensors round-trip bit for bit; and each kind of hostile file
 * is refused with an error naming `loadSafetensors`, allocating nothing.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, loadSafetensors, saveSafetensors, type StorageArray } from "../mod.ts";
import { dev, gpuTest, ref, runs } from "./_harness.ts";

const FIXTURE = await Deno.readFile(new URL("./fixtures/python.safetensors", import.meta.url));

/** The fixture's tensors as `scripts/safetensors_fixture.py` makes them: shape and float32 bits. */
const FIXTURE_TENSORS: Record<string, { shape: number[]; bits: number[] }> = {
  "10": { shape: [1], bits: [0x41200000] },
  "9": { shape: [1], bits: [0x41100000] },
  bias: { shape: [3], bits: [0x7fc00000, 0x7f800000, 0xff800000] },
  step: { shape: [], bits: [0x40e00000] },
  // 1.5, −2, 0, −0, the largest float32, the smallest subnormal.
  weight: { shape: [2, 3], bits: [0x3fc00000, 0xc0000000, 0, 0x80000000, 0x7f7fffff, 1] },
  "zｗ": { shape: [1], bits: [0x3dcccccd] },
  "z😀": { shape: [1], bits: [0x3e800000] },
};

const bitsOf = (values: StorageArray) => [...new Uint32Array(values.slice().buffer)];

const TYPES_FIXTURE = await Deno.readFile(
  new URL("./fixtures/python_types.safetensors", import.meta.url),
);

/** The second fixture's tensors, as the script makes them: shape and the host array's values. */
const TYPED_TENSORS: Record<string, { shape: number[]; values: StorageArray }> = {
  a_bool: { shape: [3], values: Uint8Array.of(1, 0, 1) },
  // 1.5, −0, the largest float16, the smallest subnormal, Infinity, NumPy's NaN.
  b_f16: {
    shape: [6],
    values: new Float16Array(Uint16Array.of(0x3e00, 0x8000, 0x7bff, 1, 0x7c00, 0x7e00).buffer),
  },
  c_i32: { shape: [2, 2], values: Int32Array.of(-(2 ** 31), -1, 0, 2 ** 31 - 1) },
  d_u32: { shape: [3], values: Uint32Array.of(0, 2 ** 32 - 1, 7) },
  e_f32: { shape: [1], values: Float32Array.of(0.5) },
};

/** A host array's bytes. */
const bytesOf = (
  values: StorageArray,
) => [...new Uint8Array(values.buffer, values.byteOffset, values.byteLength)];

/** Tests `fn` on the reference, and on the GPU where there is one. */
function onBothBackends(name: string, fn: (backend: Backend) => Promise<void>): void {
  Deno.test(`${name}, on the CPU reference`, () => fn(ref));
  gpuTest(`${name}, on WebGPU`, (dev) => fn(dev));
}

onBothBackends("a file written by Python's safetensors loads bit for bit", async (backend) => {
  const loaded = loadSafetensors(backend, FIXTURE);
  assert.deepEqual(Object.keys(loaded).sort(), Object.keys(FIXTURE_TENSORS).sort());
  for (const [name, { shape, bits }] of Object.entries(FIXTURE_TENSORS)) {
    assert.deepEqual(loaded[name].shape, shape, name);
    assert.equal(loaded[name].backend, backend);
    assert.deepEqual(bitsOf(await loaded[name].read()), bits, name);
  }
  Object.values(loaded).forEach((t) => t.dispose());
});

onBothBackends("saveSafetensors writes Python's bytes for the same tensors", async (backend) => {
  // Made in another order than Python's, which sorts by name in code points.
  const tensors = Object.fromEntries(
    Object.entries(FIXTURE_TENSORS).reverse().map(([name, { shape, bits }]) => [
      name,
      backend.tensor(new Float32Array(Uint32Array.from(bits).buffer), shape),
    ]),
  );
  const bytes = await saveSafetensors(tensors, { metadata: { format: "np" } });
  assert.deepEqual(bytes, FIXTURE);
  Object.values(tensors).forEach((t) => t.dispose());
});

Deno.test("no tensors: the bytes Python writes for an empty dict, loaded as {}", async () => {
  // python3 -c 'from safetensors.numpy import save; print(list(save({})))'
  const python = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];
  assert.deepEqual([...await saveSafetensors({})], python);
  assert.deepEqual(loadSafetensors(ref, Uint8Array.from(python)), {});
});

/** Names as arbitrary as the format allows, "__proto__" and "constructor" among them. */
const tensorName = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }),
  fc.constantFrom("__proto__", "constructor", "0", "10", "a.b/c", 'q"\\\n'),
).filter((n) => n !== "__metadata__");

const namedTensors = fc.dictionary(
  tensorName,
  fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      // Any 32 bits: NaN payloads and subnormals included.
      bits: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), {
        minLength: shape.reduce((a, b) => a * b, 1),
        maxLength: shape.reduce((a, b) => a * b, 1),
      }),
    })
  ),
  { maxKeys: 5, noNullPrototype: true },
);

onBothBackends("any tensors round-trip bit for bit, with their metadata", async (backend) => {
  await fc.assert(
    fc.asyncProperty(
      namedTensors,
      fc.dictionary(fc.string(), fc.string(), { noNullPrototype: true }),
      async (named, metadata) => {
        const entries = Object.entries(named);
        const tensors = Object.fromEntries(entries.map(([name, { shape, bits }]) => [
          name,
          backend.tensor(new Float32Array(Uint32Array.from(bits).buffer), shape),
        ]));
        const bytes = await saveSafetensors(tensors, { metadata });
        Object.values(tensors).forEach((t) => t.dispose());
        const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        assert.equal((8 + headerLength) % 8, 0, "the data starts at a multiple of 8");
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
        assert.deepEqual(header.__metadata__, metadata);
        const loaded = loadSafetensors(backend, bytes);
        assert.deepEqual(Object.keys(loaded).sort(), entries.map(([n]) => n).sort());
        for (const [name, { shape, bits }] of entries) {
          assert.ok(Object.hasOwn(loaded, name), name);
          assert.deepEqual(loaded[name].shape, shape, name);
          assert.deepEqual(bitsOf(await loaded[name].read()), bits, name);
        }
        Object.values(loaded).forEach((t) => t.dispose());
      },
    ),
    runs(backend.kind === "cpu" ? 100 : 20),
  );
});

/** A file of `header` (bytes, JSON text, or a value to stringify) and `data` bytes (or a count of zeros). */
function file(header: unknown, data: Uint8Array | number = 0): Uint8Array {
  const json = header instanceof Uint8Array
    ? header
    : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const values = typeof data === "number" ? new Uint8Array(data) : data;
  const bytes = new Uint8Array(8 + json.length + values.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(values, 8 + json.length);
  return bytes;
}

/** A tensor's entry in a header. */
const entry = (shape: unknown, offsets: unknown, dtype: unknown = "F32") => ({
  dtype,
  shape,
  data_offsets: offsets,
});

/** A file whose 8-byte length says `length`, followed by `rest`. */
function withLength(length: bigint, rest: number): Uint8Array {
  const bytes = new Uint8Array(8 + rest);
  new DataView(bytes.buffer).setBigUint64(0, length, true);
  return bytes;
}

const VALID = file({ a: entry([2], [0, 8]), b: entry([], [8, 12]) }, 12);

/** Each kind of hostile file, by name: the bytes and what the error must say. */
const HOSTILE: [string, Uint8Array, RegExp][] = [
  ["empty", new Uint8Array(0), /at least 8 bytes .*got a truncated file of 0/],
  ["truncated in the length", VALID.subarray(0, 5), /at least 8 bytes .*of 5$/],
  ["truncated in the header", VALID.subarray(0, 30), /header length of at most 22 .*got \d+$/],
  ["truncated in the data", VALID.subarray(0, VALID.length - 1), /"b"'s data_offsets .* ≤ 11 /],
  ["a header length one past the end", withLength(9n, 8), /at most 8 .*got 9$/],
  ["a header length near 2^53", withLength(2n ** 53n - 1n, 8), /got 9007199254740991$/],
  ["a header length of 2^64 − 1", withLength(2n ** 64n - 1n, 8), /got 18446744073709551615$/],
  ["a header that is not UTF-8", file(new Uint8Array([123, 0xff, 125])), /UTF-8 text/],
  ["a header that is not JSON", file("{a: 1}"), /to be JSON, got /],
  ["a byte-order mark before the JSON", file("\ufeff{}"), /to be JSON, got /],
  ["a header that is a JSON array", file("[]"), /a JSON object, got an array$/],
  ["a header that is JSON null", file("null"), /a JSON object, got null$/],
  ["a header that is a JSON number", file("8"), /a JSON object, got number 8$/],
  [
    "a tensor named twice",
    file(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":' +
        '{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
      4,
    ),
    /each key of the header once, got "a" twice$/,
  ],
  [
    "a field given twice",
    file('{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}', 4),
    /got "shape" twice$/,
  ],
  ["metadata that is not strings", file({ __metadata__: { n: 1 } }), /got number 1 for "n"$/],
  ["metadata that is an array", file({ __metadata__: ["x"] }), /object of strings, got an array$/],
  ["an entry that is not an object", file({ a: 4 }), /"a" to be an object .*got number 4$/],
  [
    "an entry missing a field",
    file({ a: { dtype: "F32", shape: [1] } }, 4),
    /got one with dtype, shape$/,
  ],
  [
    "an entry with an unknown field",
    file({ a: { ...entry([1], [0, 4]), byteorder: "big" } }, 4),
    /got one with dtype, shape, data_offsets, byteorder$/,
  ],
  [
    "an unknown dtype",
    file({ a: entry([1], [0, 4], "Q8") }, 4),
    /safetensors dtype, got string "Q8"/,
  ],
  ["a dtype that is not a string", file({ a: entry([1], [0, 4], 32) }, 4), /got number 32$/],
  [
    "dtype BF16",
    file({ h: entry([2], [0, 4], "BF16") }, 4),
    /"h" to have one of the library's dtypes, F32, U32, I32, F16, BOOL, got BF16$/,
  ],
  ["dtype F64", file({ d: entry([1], [0, 8], "F64") }, 8), /dtypes, .*got F64$/],
  ["F16 bytes of F32", file({ h: entry([2], [0, 8], "F16") }, 8), /hold 4 bytes \(F16\)/],
  [
    "a BOOL byte of 2",
    file({ b: entry([3], [0, 3], "BOOL") }, new Uint8Array([1, 0, 2])),
    /"b" \(BOOL\) to hold bytes 0 and 1, got 2 at element 2$/,
  ],
  ["offsets past the data", file({ a: entry([2], [0, 8]) }, 4), /≤ 4 .*got \[0,8\]$/],
  ["offsets reversed", file({ a: entry([1], [4, 0]) }, 4), /got \[4,0\]$/],
  ["a negative offset", file({ a: entry([1], [-4, 0]) }, 4), /got \[-4,0\]$/],
  ["a fractional offset", file({ a: entry([1], [0.5, 4.5]) }, 5), /got \[0.5,4.5\]$/],
  [
    "an offset past 2^53",
    file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e20]}}', 4),
    /got \[0,100000000000000000000\]$/,
  ],
  ["one offset", file({ a: entry([1], [4]) }, 4), /got \[4\]$/],
  [
    "overlapping data",
    file({ a: entry([2], [0, 8]), b: entry([2], [4, 12]) }, 12),
    /not to overlap, got "a" \[0, 8\) and "b" \[4, 12\)$/,
  ],
  [
    "the same data twice",
    file({ a: entry([1], [0, 4]), b: entry([1], [0, 4]) }, 4),
    /not to overlap/,
  ],
  [
    "a gap between tensors",
    file({ a: entry([1], [0, 4]), b: entry([1], [8, 12]) }, 12),
    /\[4, 8\) that no tensor holds$/,
  ],
  ["a gap before the first", file({ a: entry([1], [4, 8]) }, 8), /\[0, 4\) that no tensor holds$/],
  ["bytes after the last", file({ a: entry([1], [0, 4]) }, 8), /\[4, 8\) that no tensor holds$/],
  ["bytes and no tensor", file({}, 4), /\[0, 4\) that no tensor holds$/],
  [
    "a shape with too many values",
    file({ a: entry([3], [0, 8]) }, 8),
    /shape \[3\] to hold 12 bytes .*: 8 bytes$/,
  ],
  ["a shape with too few values", file({ a: entry([1], [0, 8]) }, 8), /to hold 4 bytes/],
  ["a huge shape", file({ a: entry([2 ** 40, 2 ** 40], [0, 4]) }, 4), /to hold \S+ bytes/],
  ["a negative dimension", file({ a: entry([-2], [0, 8]) }, 8), /integers ≥ 1 .*got \[-2\]$/],
  ["a fractional dimension", file({ a: entry([1.5], [0, 6]) }, 6), /got \[1.5\]$/],
  ["a zero dimension", file({ a: entry([2, 0], [0, 0]) }), /zero-size tensors .*got \[2,0\]$/],
  ["a dimension that is a string", file({ a: entry(["2"], [0, 8]) }, 8), /got \["2"\]$/],
  ["a shape that is not an array", file({ a: entry(2, [0, 8]) }, 8), /got 2$/],
];

onBothBackends("every type in a file of Python's loads bit for bit, and saves to its bytes", async (
  backend,
) => {
  if (!backend.supports("float16")) {
    // This adapter has no shader-f16: the file's F16 tensor is refused, the file with it.
    const before = counters();
    assert.throws(
      () => loadSafetensors(backend, TYPES_FIXTURE),
      (e: unknown) => e instanceof TypeError && /"b_f16" .*got F16 \(float16/.test(e.message),
    );
    assert.deepEqual(counters(), before, "a refused file allocates nothing");
    return;
  }
  const loaded = loadSafetensors(backend, TYPES_FIXTURE);
  assert.deepEqual(Object.keys(loaded).sort(), Object.keys(TYPED_TENSORS));
  for (const [name, { shape, values }] of Object.entries(TYPED_TENSORS)) {
    const got = await loaded[name].read();
    assert.deepEqual(loaded[name].shape, shape, name);
    assert.equal(got.constructor, values.constructor, `${name}: ${loaded[name].dtype}`);
    assert.deepEqual(bytesOf(got), bytesOf(values), name);
  }
  Object.values(loaded).forEach((t) => t.dispose());
  // Made in name order, which is not Python's (by dtype first).
  const tensors = Object.fromEntries(
    Object.entries(TYPED_TENSORS).map(([name, { shape, values }]) => [
      name,
      backend.tensor(values, shape),
    ]),
  );
  assert.deepEqual(await saveSafetensors(tensors), TYPES_FIXTURE);
  Object.values(tensors).forEach((t) => t.dispose());
});

/** Live tensors, buffers and GPU work on the backends a load could touch. */
function counters(): unknown[] {
  return [ref.liveTensors, dev?.memory(), dev?.runtime.workCount];
}

onBothBackends("hostile files are refused by name, before anything is allocated", (backend) => {
  for (const [what, bytes, message] of HOSTILE) {
    const before = counters();
    let error: unknown;
    try {
      loadSafetensors(backend, bytes);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof TypeError || error instanceof RangeError, `${what}: ${error}`);
    assert.match((error as Error).message, /^loadSafetensors: expected /, what);
    assert.match((error as Error).message, message, what);
    assert.deepEqual(counters(), before, `${what}: something was allocated`);
  }
  // The valid file they are made from loads.
  const loaded = loadSafetensors(backend, VALID);
  assert.deepEqual(Object.keys(loaded), ["a", "b"]);
  Object.values(loaded).forEach((t) => t.dispose());
  return Promise.resolve();
});

Deno.test("files from other writers load: no padding, data at any alignment, null metadata", async () => {
  // An unpadded 53-byte header puts the data at an odd offset, in an odd subarray.
  const header = '{"__metadata__":null,"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const inner = file(header, new Uint8Array(new Float32Array([1.25, -3]).buffer));
  const outer = new Uint8Array(inner.length + 3);
  outer.set(inner, 3);
  const { x } = loadSafetensors(ref, outer.subarray(3));
  assert.deepEqual([...await x.read()], [1.25, -3]);
  x.dispose();
});

Deno.test("saveSafetensors refuses what a file cannot hold, naming itself, reading nothing", async () => {
  using w = ref.tensor([1, 2, 3]);
  const disposed = ref.tensor([1]);
  disposed.dispose();
  const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
    ["an empty name", () => saveSafetensors({ "": w }), /non-empty Unicode text .*got ""$/],
    ["the metadata's key", () => saveSafetensors({ __metadata__: w }), /got "__metadata__"$/],
    ["a lone surrogate", () => saveSafetensors({ "\ud800": w }), /got "\\ud800"$/],
    ["a disposed tensor", () => saveSafetensors({ w, disposed }), /"disposed"\] to be a live/],
    ["not a tensor", () => saveSafetensors({ w: [1, 2] as never }), /\["w"\] to be a tensor/],
    ["an array of tensors", () => saveSafetensors([w] as never), /an object of tensors by name/],
    [
      "metadata of numbers",
      () => saveSafetensors({ w }, { metadata: { n: 1 as never } }),
      /got number 1 for "n"$/,
    ],
    [
      "an unknown option",
      () => saveSafetensors({ w }, { meta: {} } as never),
      /unknown option "meta"$/,
    ],
  ];
  using g = dev?.tensor([1]);
  if (g) {
    cases.push([
      "two backends",
      () => saveSafetensors({ g, w }),
      /same backend, got webgpu .* and cpu/,
    ]);
  }
  const reads = dev?.stats().reads;
  for (const [what, call, message] of cases) {
    await assert.rejects(call, (error: Error) => {
      assert.ok(error instanceof TypeError, `${what}: ${error}`);
      assert.match(error.message, /^saveSafetensors: expected /, what);
      assert.match(error.message, message, what);
      return true;
    });
  }
  assert.equal(dev?.stats().reads, reads, "no tensor was read");
});
