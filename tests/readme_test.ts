/**
 * @file The README's TypeScript examples run as a reader runs them (`deno run`, no
 * permissions, from the repository root) and print what their comments say: the front
 * door stays true.
 */
import assert from "node:assert/strict";
import { gpuTest } from "./_harness.ts";

const root = new URL("../", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

/** Runs `code` as a module read from standard input in the repository root. */
async function runExample(code: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const { code: status, stdout, stderr } = await child.output();
  const [out, err] = [stdout, stderr].map((b) => new TextDecoder().decode(b));
  assert.equal(status, 0, `the example exited ${status}:\n${err}`);
  return out;
}

Deno.test(
  "README: five examples, the ops, a jitted training loop, saving weights, profiling, testing a kernel",
  () => {
    assert.equal(examples.length, 5);
  },
);

gpuTest("README: the first example prints the values its comments give", async () => {
  const lines = (await runExample(examples[0])).trim().split("\n");
  assert.equal(lines[0], "[ 2, 2 ] Float32Array(4) [ 14, 32, 32, 77 ]");
  assert.equal(lines[1], "Float32Array(1) [ 49 ]");
  // "the same six values twice": the GPU's and the reference's dropout.
  const [onGpu, onCpu] = lines[2].split(/ (?=Float32Array)/);
  assert.equal(onGpu, onCpu);
  assert.match(onGpu, /^Float32Array\(6\) \[/);
});

/** The numbers inside the brackets of a printed line, in order. */
const bracketed = (line: string) =>
  [...line.matchAll(/\[([^\]]*)\]/g)].flatMap((m) => m[1].split(",").map(Number));

gpuTest(
  "README: the jit example learns y = 2x₁ − 3x₂ + 1 with one trace, then one dispatch a step",
  async () => {
    const lines = (await runExample(examples[1])).trim().split("\n");
    assert.match(lines[0], /^1 Float32Array\(1\) \[/, "one trace, then the loss");
    const [loss] = bracketed(lines[0]);
    assert.ok(loss >= 0 && loss < 1e-10, `the loss near 0: ${lines[0]}`);
    const learned = bracketed(lines[1]);
    assert.equal(learned.length, 3, lines[1]);
    [2, -3, 1].forEach((v, i) => assert.ok(Math.abs(learned[i] - v) < 1e-5, lines[1]));
    assert.equal(lines[2], "1 2", "one dispatch for the step of 4 rows, the second trace");
  },
);

gpuTest("README: the safetensors example saves from the GPU and loads on the CPU", async () => {
  const lines = (await runExample(examples[2])).trim().split("\n");
  assert.deepEqual(lines, ["184", "[ 2, 3 ] Float32Array(2) [ 0.5, -0.5 ]"]);
});

gpuTest(
  "README: the profiling example names the eager op and the jitted step's kernels",
  async () => {
    const lines = (await runExample(examples[3])).trim().split("\n");
    // The matmul kernel is one dispatch, or three where its variant packs the operands.
    const [, k] = lines[0].match(
      /^\[ "jit: matmul\+add\+relu ×(1|3)", "jit: sum ×1", "relu ×1" \]$/,
    )!;
    assert.match(lines[1], /^kernel +calls +(GPU|~est\.) ms +share$/);
    const total = new RegExp(`^total +${Number(k) + 2} +\\d+\\.\\d{3} +100\\.0%$`);
    assert.match(lines.find((l) => l.startsWith("total"))!, total);
    assert.equal(lines.at(-1), String(Number(k) + 4));
  },
);

gpuTest("README: a custom WGSL kernel passes checkKernel's 100 cases", async () => {
  const lines = (await runExample(examples[4])).trim().split("\n");
  assert.deepEqual(lines, ["affine: 100 cases agree"]);
});
