import assert from "node:assert/strict";
import { gpu, jit, matmul, type Tensor } from "../mod.ts";
import { GpuRuntime } from "../runtime.ts";
import {
  adapterClass,
  configureMatmul,
  IDLE_MS,
  MATMUL_VARIANTS,
  matmulTuning,
  matmulVariantFor,
  ruleVariant,
  shapeClass,
} from "../kernels/matmul.ts";
import {
  adapterKey,
  defaultStorage,
  driverStack,
  LIBRARY_VERSION,
  type TuningStorage,
  TuningStore,
} from "../kernels/matmul_tuning.ts";
import { gpuTest } from "./_harness.ts";

/** An in-memory Web Storage, as much of it as the store uses. */
class MemoryStorage implements TuningStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

/** Runs `fn` with `globalThis.localStorage` replaced by `storage` (or a throwing getter). */
async function withStorage<T>(
  storage: TuningStorage | "throws" | "absent",
  fn: () => Promise<T> | T,
): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, "localStorage");
  Object.defineProperty(
    globalThis,
    "localStorage",
    storage === "throws"
      ? {
        get: () => {
          throw new DOMException("denied", "SecurityError");
        },
        configurable: true,
      }
      : { value: storage === "absent" ? undefined : storage, configurable: true },
  );
  try {
    return await fn();
  } finally {
    if (original) Object.defineProperty(globalThis, "localStorage", original);
    else delete (globalThis as { localStorage?: unknown }).localStorage;
  }
}

const square = (s: number) => ({ m: s, k: s, n: s, transposeA: false, transposeB: false });
const llvmpipe = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
};
const h200 = {
  vendor: "nvidia",
  architecture: "hopper",
  device: "0x2335",
  description: "NVIDIA H200",
};

Deno.test("matmul tuning: the stored library version is deno.json's", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(LIBRARY_VERSION, config.version);
});

Deno.test("matmul tuning: a store keeps choices per adapter, merged, and ignores other versions", () => {
  const storage = new MemoryStorage();
  const key = adapterKey(llvmpipe, "deno/vulkan")!;
  const store = new TuningStore(storage, key);
  assert.equal(store.load().size, 0);
  assert.ok(store.save(new Map([["10/10/10/NN", "texture8x8"]])));
  assert.ok(store.save(new Map([["8/8/8/NN", "texture16x16"]])));
  assert.deepEqual(
    [...new TuningStore(storage, key).load()],
    [["10/10/10/NN", "texture8x8"], ["8/8/8/NN", "texture16x16"]],
  );
  // Another stack or adapter is another entry; another version's entry is not read.
  assert.equal(new TuningStore(storage, adapterKey(llvmpipe, "deno/gl")!).load().size, 0);
  assert.equal(new TuningStore(storage, adapterKey(h200, "deno/vulkan")!).load().size, 0);
  storage.setItem(
    key,
    JSON.stringify({ version: "0.0.1", choices: { "10/10/10/NN": "tiled8x8" } }),
  );
  assert.equal(store.load().size, 0);
});

Deno.test("matmul tuning: storage that is absent, refuses or holds garbage is never an error", async () => {
  assert.equal(await withStorage("throws", defaultStorage), null);
  assert.equal(await withStorage("absent", defaultStorage), null);
  const refusing: TuningStorage = {
    getItem: () => {
      throw new DOMException("no", "SecurityError");
    },
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
  };
  const key = adapterKey(llvmpipe, "web")!;
  assert.equal(new TuningStore(refusing, key).load().size, 0);
  assert.equal(new TuningStore(refusing, key).save(new Map([["a", "b"]])), false);
  const garbage = new MemoryStorage();
  for (const text of ["{not json", "null", "42", JSON.stringify({ version: LIBRARY_VERSION })]) {
    garbage.setItem(key, text);
    assert.equal(new TuningStore(garbage, key).load().size, 0, text);
  }
  garbage.setItem(key, JSON.stringify({ version: LIBRARY_VERSION, choices: { a: 1, b: "x" } }));
  assert.deepEqual([...new TuningStore(garbage, key).load()], [["b", "x"]]);
  // An adapter that says nothing about itself gets no entry.
  assert.equal(adapterKey(undefined, "web"), null);
  assert.equal(adapterKey({ vendor: "", description: "" }, "web"), null);
});

Deno.test("matmul tuning: the driver stack is read only where permitted, without a prompt", async () => {
  const env = Deno.env.get("DENO_WEBGPU_BACKEND");
  assert.equal(driverStack(), `deno/${env ?? "default"}`);
  // A process without --allow-env: no prompt, no error, an unknown stack.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", new URL("./_tuning_child.ts", import.meta.url).pathname, "stack"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_WEBGPU_BACKEND: "gl" },
  });
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), { stack: "deno/?" });
});

Deno.test("matmul tuning: adapters are classed as software or GPU from their info", () => {
  assert.equal(adapterClass(llvmpipe), "software");
  assert.equal(adapterClass({ vendor: "google", architecture: "swiftshader" }), "software");
  assert.equal(adapterClass({ description: "Microsoft Basic Render Driver" }), "software");
  assert.equal(adapterClass({ vendor: "x", isFallbackAdapter: true }), "software");
  assert.equal(adapterClass(h200), "gpu");
  assert.equal(adapterClass({ vendor: "apple", architecture: "metal-3" }), "gpu");
  assert.equal(adapterClass(undefined), "gpu");
});

gpuTest("matmul tuning: the rule picks by adapter class before any measurement", async (dev) => {
  const software = new GpuRuntime(dev.device);
  await configureMatmul(software, { tuning: "off", adapter: llvmpipe as GPUAdapterInfo });
  const gpuClass = new GpuRuntime(dev.device);
  await configureMatmul(gpuClass, { tuning: "off", adapter: h200 as GPUAdapterInfo });
  const name = (runtime: GpuRuntime, p: ReturnType<typeof square>) => ruleVariant(runtime, p).name;
  assert.equal(name(software, square(2048)), "texture16x16");
  assert.equal(name(software, square(1024)), "texture16x16");
  assert.equal(name(software, square(512)), "texture8x8");
  assert.equal(name(software, square(256)), "texture8x8");
  // Small, skinny and transposed products too: a stream of them is throughput-bound.
  assert.equal(name(software, square(64)), "texture8x8");
  assert.equal(name(software, { ...square(64), n: 256, transposeB: true }), "texture8x8");
  assert.equal(name(software, { ...square(256), k: 64, transposeA: true }), "texture8x8");
  // A narrow side (n or m ≤ 16): the narrow variant, either way round.
  assert.equal(
    name(software, { m: 12544, k: 25, n: 6, transposeA: false, transposeB: false }),
    "narrow",
  );
  assert.equal(
    name(software, { m: 10, k: 64, n: 256, transposeA: true, transposeB: false }),
    "narrow",
  );
  // On a GPU the rule keeps its choice there (the narrow variant is not measured on one
  // yet); the tuning compares it.
  assert.equal(
    name(gpuClass, { m: 12544, k: 25, n: 6, transposeA: false, transposeB: false }),
    "registers4x4",
  );
  assert.equal(name(gpuClass, square(64)), "registers4x4");
  assert.equal(name(software, { ...square(1), k: 4096 }), "splitK");
  assert.equal(name(gpuClass, square(4096)), "tiled8x8");
  assert.equal(name(gpuClass, square(2048)), "tiled8x8");
  assert.equal(name(gpuClass, square(1024)), "tiled4x4");
  assert.equal(name(gpuClass, square(512)), "tiled4x4");
  assert.equal(name(gpuClass, { ...square(2), k: 8192 }), "splitK");
  // With tuning off, the rule is what runs, and nothing is queued.
  assert.equal(matmulVariantFor(software, square(1024)).name, "texture16x16");
  software.destroy();
  gpuClass.destroy();
});

gpuTest(
  "matmul tuning: on a software adapter a small class's eager products compile cheaply first; jit's run the texture kernel at once",
  async (dev) => {
    const backend = await gpu({ device: dev.device, tuning: "off" });
    await configureMatmul(backend.runtime, { tuning: "off", adapter: llvmpipe as GPUAdapterInfo });
    // 2²³ flops a product: registers4x4 until the class has come to 2²⁷ (the 16th).
    const small = { m: 64, k: 256, n: 256, transposeA: false, transposeB: false };
    const names = Array.from({ length: 17 }, () => matmulVariantFor(backend.runtime, small).name);
    assert.deepEqual(names, [...Array(15).fill("registers4x4"), "texture8x8", "texture8x8"]);
    // A product of 2²⁴ flops or more is never cold, nor one narrower than registers4x4's
    // 32×32 tiles (the narrow variant's), nor one too tiny for the textures.
    assert.equal(matmulVariantFor(backend.runtime, square(256)).name, "texture8x8");
    const lenet = { m: 12544, k: 25, n: 6, transposeA: false, transposeB: false };
    assert.equal(matmulVariantFor(backend.runtime, lenet).name, "narrow");
    assert.equal(matmulVariantFor(backend.runtime, { ...square(1), k: 4096 }).name, "splitK");
    // Seen in the dispatches: one for registers4x4; three for the texture kernel, whose
    // jitted form packs both operands through the hooks before the product.
    using a = backend.tensor(new Float32Array(64 * 64).fill(0.5), [64, 64]);
    const dispatches = (f: () => Tensor) => {
      const before = backend.stats().dispatches;
      f().dispose();
      return backend.stats().dispatches - before;
    };
    const step = jit((x: Tensor) => matmul(x, x));
    assert.equal(dispatches(() => matmul(a, a)), 1);
    step(a).dispose();
    assert.equal(dispatches(() => step(a)), 3);
    using c = step(a);
    assert.ok((await c.read()).every((v) => v === 16));
    step.dispose();
    backend.destroy();
  },
);

gpuTest(
  "matmul tuning: background — the rule first, a measurement once idle, then the fastest, stored",
  async (dev) => {
    const storage = new MemoryStorage();
    await withStorage(storage, async () => {
      const backend = await gpu({ device: dev.device });
      const c = { m: 300, k: 512, n: 512, transposeA: false, transposeB: true };
      using a = backend.tensor(new Float32Array(c.m * c.k).fill(1), [c.m, c.k]);
      using b = backend.tensor(new Float32Array(c.n * c.k).fill(2), [c.n, c.k]);
      const start = backend.runtime.workCount;
      using first = matmul(a, b, { transposeB: true });
      // The call ran the rule's variant and nothing else: the measurement waits for idle.
      assert.equal(matmulVariantFor(backend.runtime, c).name, ruleVariant(backend.runtime, c).name);
      const ownWork = backend.runtime.workCount - start;
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 2));
      assert.equal(backend.runtime.workCount - start, ownWork, "no tuning work before idle");
      assert.equal((await first.read())[0], 1024);
      await matmulTuning(backend.runtime);
      const tuned = matmulVariantFor(backend.runtime, c);
      assert.ok(["texture8x8", "texture16x16", "registers4x4"].includes(tuned.name), tuned.name);
      // The same class (sides rounded up to powers of two) reuses the choice; it is stored.
      assert.equal(matmulVariantFor(backend.runtime, { ...c, m: 400, k: 500, n: 480 }), tuned);
      const [entry] = [...storage.items.values()].map((v) => JSON.parse(v));
      assert.deepEqual(entry, {
        version: LIBRARY_VERSION,
        choices: { [shapeClass(c)]: tuned.name },
      });
      backend.destroy();
    });
  },
);

gpuTest("matmul tuning: off measures and stores nothing, even when idle", async (dev) => {
  const storage = new MemoryStorage();
  await withStorage(storage, async () => {
    const backend = await gpu({ device: dev.device, tuning: "off" });
    using a = backend.tensor(new Float32Array(512 * 512), [512, 512]);
    using c = matmul(a, a);
    await c.read();
    const after = backend.runtime.workCount;
    await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_MS));
    await matmulTuning(backend.runtime);
    assert.equal(backend.runtime.workCount, after);
    assert.equal(storage.items.size, 0);
    assert.equal(matmulVariantFor(backend.runtime, square(512)).name, "texture8x8");
    backend.destroy();
  });
});

gpuTest("matmul tuning: eager measures the common shapes before gpu() resolves", async (dev) => {
  const storage = new MemoryStorage();
  await withStorage(storage, async () => {
    const backend = await gpu({ device: dev.device, tuning: "eager" });
    const [entry] = [...storage.items.values()].map((v) => JSON.parse(v));
    assert.deepEqual(
      Object.keys(entry.choices).sort(),
      [
        shapeClass(square(1024)),
        shapeClass(square(256)),
      ].sort(),
    );
    for (const name of Object.values(entry.choices)) assert.ok(MATMUL_VARIANTS.has(name as string));
    // A second backend on this adapter reads them instead of measuring again.
    const before = storage.items.get([...storage.items.keys()][0]);
    const again = await gpu({ device: dev.device, tuning: "eager" });
    assert.equal(storage.items.get([...storage.items.keys()][0]), before);
    assert.equal(
      matmulVariantFor(again.runtime, square(1024)).name,
      entry.choices[shapeClass(square(1024))],
    );
    backend.destroy();
    again.destroy();
  });
});

gpuTest("matmul tuning: dev.tune measures the given shapes; bad shapes name tune", async (dev) => {
  const storage = new MemoryStorage();
  await withStorage(storage, async () => {
    const backend = await gpu({ device: dev.device, tuning: "off" });
    const shape = { m: 200, k: 300, n: 100, transposeA: true };
    await backend.tune([shape]);
    const name = matmulVariantFor(backend.runtime, { ...shape, transposeB: false }).name;
    assert.ok(["texture8x8", "texture16x16", "registers4x4"].includes(name), name);
    for (
      const bad of [
        [{ m: 0, k: 1, n: 1 }],
        [{ m: 1.5, k: 1, n: 1 }],
        [{ m: 1, k: 1 }],
        [{ m: 1, k: 1, n: 1, transposeA: "yes" }],
        "shapes",
        [null],
      ]
    ) {
      await assert.rejects(
        backend.tune(bad as never),
        (e: unknown) =>
          (e instanceof TypeError || e instanceof RangeError) && /^tune: /.test(e.message),
      );
    }
    await assert.rejects(
      gpu({ device: dev.device, tuning: "always" as never }),
      (e: unknown) =>
        e instanceof TypeError &&
        /^gpu: expected tuning to be "off", "background" or "eager", got string "always"/.test(
          e.message,
        ),
    );
    backend.destroy();
  });
});

gpuTest("matmul tuning: a second process starts with what the first one measured", async () => {
  const location = `http://tuning-${crypto.randomUUID()}.test/`;
  const run = async (...args: string[]) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-env",
        "--no-lock",
        `--location=${location}`,
        new URL("./_tuning_child.ts", import.meta.url).pathname,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout));
  };
  const { tuned } = await run("tune", "512");
  assert.ok(MATMUL_VARIANTS.has(tuned));
  const second = await run("read", "512");
  // What the first process measured, and what it stored for 96³ (the rule would run
  // texture8x8 there), from the second's first product on.
  assert.deepEqual(second, { first: tuned, remembered: "registers8x8" });
});
