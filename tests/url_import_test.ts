/**
 * @file The library works from a URL import alone: the repository is served over HTTP on
 * 127.0.0.1, and a script in a temporary folder with no `deno.json` (so no import map and
 * no lock file) imports `http://127.0.0.1:PORT/mod.ts` with nothing but
 * `--allow-import` and runs each of the five ops on the GPU, checking the values. A core
 * module that needed an import-map name, an `npm:` package or a file read would fail here.
 * A second script imports the testing entry point (`testing.ts`) the same way and runs
 * `checkKernel`: its one npm package, fast-check, comes by its full `npm:` specifier, from
 * a copy of the local npm cache (so the test needs no registry), and nothing else does.
 */
import assert from "node:assert/strict";
import { serveDirectory } from "../scripts/static_server.ts";
import { dev } from "./_harness.ts";

/** The user's script: small cases whose float32 results are exact, so `===` is right. */
const USER_SCRIPT = (url: string) => `
import { corr2d, dropout, gpu, l2Penalty, matmul, randomKey, sgdStep } from "${url}";

const dev = await gpu();
const same = (name, actual, expected) => {
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new Error(name + ": got [" + actual + "], expected [" + expected + "]");
  }
  console.log("ok " + name);
};
using a = dev.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
using b = dev.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
using c = matmul(a, b);
same("matmul", await c.read(), [58, 64, 139, 154]);
using w = dev.tensor([3, 4, 12]);
using penalty = l2Penalty(w);
same("l2Penalty", await penalty.read(), [84.5]);
using p = dev.tensor([1, -2]);
using g = dev.tensor([4, 4]);
using next = sgdStep(p, g, { lr: 0.5, batchSize: 2, weightDecay: 1 });
same("sgdStep", await next.read(), [-0.5, -2]);
using ones = dev.tensor(new Float32Array(4096).fill(1));
using dropped = dropout(ones, 0.5, randomKey(7));
const y = await dropped.read();
const kept = y.filter((v) => v === 2).length;
const zeros = y.filter((v) => v === 0).length;
same("dropout values are 0 or 2", [kept + zeros], [4096]);
if (Math.abs(kept - 2048) > 6 * 32) throw new Error("dropout kept " + kept + " of 4096");
console.log("dropout kept " + kept);
using image = dev.tensor([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0], [4, 4]);
using edge = dev.tensor([1, -1], [1, 2]);
using edges = corr2d(image, edge);
same("corr2d", await edges.read(), [0, 0, 0, -1, 0, 1, -1, 0, 1, 0, 0, 0]);
dev.destroy();
`;

/** The user's script for the testing entry point: a passing check, then a failing one. */
const TESTING_SCRIPT = (origin: string) => `
import { add, gpu } from "${origin}/mod.ts";
import { bounds, checkKernel, floatTensor } from "${origin}/testing.ts";
import fc from "npm:fast-check@4.3.0";

const dev = await gpu();
const check = (reference) => checkKernel({
  name: "add",
  backend: dev,
  inputs: { x: floatTensor(fc.tuple(fc.integer({ min: 1, max: 100 }))), y: floatTensor([1]) },
  run: (_, { x, y }) => add(x, y),
  reference,
  bound: ({ exact }) => bounds.U * Math.abs(exact),
  numRuns: 20,
});
await check(({ x, y }) => Array.from(x.data, (v) => v + y.data[0]));
console.log("ok checkKernel");
const report = await check(({ x, y }) => Array.from(x.data, (v) => v + y.data[0] + 1)).then(
  () => "the wrong reference passed",
  (e) => e.message,
);
console.log(report.split("\\n").slice(0, 2).join("\\n"));
dev.destroy();
`;

/**
 * Runs `script` (given the server's origin) as `main.js` of a project with no
 * `deno.json`, the repository served over HTTP, and a fresh module cache into which
 * `npmPackages` are copied from the local npm cache; returns its output and its log.
 */
async function runFromUrl(
  script: (origin: string) => string,
  npmPackages: readonly string[] = [],
): Promise<{ out: string; err: string }> {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  await using server = serveDirectory(root);
  const project = await Deno.makeTempDir({ prefix: "url_import_" });
  try {
    await Deno.writeTextFile(`${project}/main.js`, script(server.origin));
    for (const name of npmPackages) {
      const registry = "registry.npmjs.org";
      const to = `${project}/deno_dir/npm/${registry}/${name}`;
      await Deno.mkdir(to, { recursive: true });
      await copyTree(`${await npmCache()}/${registry}/${name}`, to);
    }
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-import=${new URL(server.origin).host}`, "main.js"],
      cwd: project,
      // A fresh module cache: every module really comes over HTTP.
      env: { DENO_DIR: `${project}/deno_dir`, NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
    const out = new TextDecoder().decode(stdout), err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `the script failed (exit ${code}):\n${out}\n${err}`);
    return { out, err };
  } finally {
    await Deno.remove(project, { recursive: true });
  }
}

/** The local npm cache's folder (`deno info`'s `npmCache`). */
async function npmCache(): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(stdout)).npmCache;
}

/** Copies the files below `from` into `to`, which exists. */
async function copyTree(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) {
      await Deno.mkdir(`${to}/${entry.name}`);
      await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test({
  name: "url import: a project with no deno.json runs the five ops from http://127.0.0.1/mod.ts",
  ignore: dev === null,
  async fn() {
    const { out } = await runFromUrl((origin) => USER_SCRIPT(`${origin}/mod.ts`));
    for (const op of ["matmul", "l2Penalty", "sgdStep", "dropout values are 0 or 2", "corr2d"]) {
      assert.match(out, new RegExp(`^ok ${op}$`, "m"), out);
    }
  },
});

Deno.test({
  name:
    "url import: checkKernel from http://127.0.0.1/testing.ts passes add, and fails a wrong reference with a shrunk case",
  ignore: dev === null,
  async fn() {
    const { out, err } = await runFromUrl(TESTING_SCRIPT, ["fast-check", "pure-rand"]);
    const lines = out.trim().split("\n");
    assert.equal(lines[0], "ok checkKernel", out);
    assert.match(lines[1], /^add: failed after \d+ cases?, shrunk \d+ times? to$/, out);
    // Shrunk to one element of unit values from seed 0 (every sum is off by 1).
    assert.match(
      lines[2],
      /^ {2}counterexample: \{"x":shape \[1\], unit values of seed 0: \[[^\]]+\],"y":shape \[1\], unit values of seed 0: \[[^\]]+\]\}$/,
      out,
    );
    assert.match(err, /Download http:\/\/127\.0\.0\.1:\d+\/testing\/check_kernel\.ts/, err);
    assert.doesNotMatch(err, /registry\.npmjs\.org/, "fast-check came from the copied cache");
  },
});
